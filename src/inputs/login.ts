// The sign-in section: environment (the cloud), creds, client-id, tenant-id, client-secret,
// subscription-id and audience -> the cloud, the login strategy, its tenant and subscription.
import { InputError } from '../errors.ts';
import { parseCloud } from '../clouds.ts';
import type { AzureLogin, Cloud } from '../settings.ts';
import { GUID, GUID_FORM, clip, guid, noControl, optional, type GetInput } from './fields.ts';

export interface LoginSection {
  cloud: Cloud;
  login: AzureLogin;
  /** tenant of the login, when known */
  tenantId?: string;
  subscriptionId?: string;
}

interface CredsJson {
  clientId: string;
  clientSecret?: string;
  tenantId: string;
  subscriptionId?: string;
}

function parseCreds(raw: string): CredsJson {
  const accepted = 'a JSON object with clientId, clientSecret, tenantId and subscriptionId (as azure/login takes it)';
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new InputError('creds', 'is not valid JSON', accepted);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError('creds', 'is not a JSON object', accepted);
  const o = json as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' && (o[k] as string).trim() !== '' ? (o[k] as string).trim() : undefined);
  const clientId = str('clientId');
  const tenantId = str('tenantId');
  if (!clientId || !GUID.test(clientId)) throw new InputError('creds', 'clientId is missing or not a GUID', accepted);
  if (!tenantId || !GUID.test(tenantId)) throw new InputError('creds', 'tenantId is missing or not a GUID', accepted);
  const subscriptionId = str('subscriptionId');
  if (subscriptionId !== undefined && !GUID.test(subscriptionId)) throw new InputError('creds', 'subscriptionId is not a GUID', accepted);
  return {
    clientId: clientId.toLowerCase(),
    tenantId: tenantId.toLowerCase(),
    clientSecret: str('clientSecret'),
    subscriptionId: subscriptionId?.toLowerCase(),
  };
}

/** Login and cloud come first: the cloud decides which registry suffix is valid. */
export function readLogin(get: GetInput): LoginSection {
  const cloud = parseCloud(get('environment'));

  const credsRaw = optional(get, 'creds');
  let clientId = guid(get, 'client-id');
  let tenantId = optional(get, 'tenant-id');
  if (tenantId !== undefined && !GUID.test(tenantId) && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(tenantId)) {
    throw new InputError('tenant-id', `'${clip(tenantId)}' is not a tenant`, `${GUID_FORM}, or a domain such as contoso.onmicrosoft.com`);
  }
  tenantId = tenantId?.toLowerCase();
  let clientSecret = optional(get, 'client-secret');
  let subscriptionId = guid(get, 'subscription-id');
  const audience = optional(get, 'audience') ?? 'api://AzureADTokenExchange';
  noControl('audience', audience);

  if (credsRaw !== undefined) {
    if (clientId || clientSecret) {
      throw new InputError(
        'creds',
        'is given together with client-id or client-secret',
        'either creds, or client-id/tenant-id (with client-secret or OIDC)',
      );
    }
    const creds = parseCreds(credsRaw);
    clientId = creds.clientId;
    tenantId = creds.tenantId;
    clientSecret = creds.clientSecret;
    subscriptionId = subscriptionId ?? creds.subscriptionId;
  }
  let login: AzureLogin;
  if (clientId && tenantId) {
    login = clientSecret ? { kind: 'secret', clientId, tenantId, clientSecret } : { kind: 'oidc', clientId, tenantId, audience };
  } else if (clientId || clientSecret) {
    throw new InputError(clientId ? 'tenant-id' : 'client-id', 'is required with client-id/client-secret', GUID_FORM);
  } else {
    login = { kind: 'default' };
  }
  return { cloud, login, tenantId: login.kind === 'default' ? tenantId : login.tenantId, subscriptionId };
}
