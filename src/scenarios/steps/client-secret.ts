// An app's client secrets, for every scenario that adds or judges one (the AKS service-principal
// method's create-secret and verify, credential-type service-principal): a new secret in the app's
// home tenant, and what the existing ones look like. Pure but for createClientSecret's two calls.
import type { GraphClient, GraphPasswordCredential, NewClientSecret } from '../../azure/types.ts';

/** The display name of secrets this action creates. */
export function secretDisplayName(now: Date): string {
  return `acr-kube-auth ${now.toISOString().slice(0, 10)}`;
}

/**
 * Adds a new client secret to `appId`'s app registration in its home tenant (found through the
 * service principal's appOwnerOrganizationId in `tenantId`, else `tenantId` itself), valid for
 * `lifetimeMs` from `now`. Existing secrets are left alone. The value is masked by the client.
 */
export async function createClientSecret(
  graph: Pick<GraphClient, 'servicePrincipal' | 'addPassword'>,
  opts: { appId: string; tenantId?: string; homeTenantId?: string; lifetimeMs: number; now: Date; displayName?: string },
): Promise<NewClientSecret> {
  let home = opts.homeTenantId;
  if (!home) {
    const sp = await graph.servicePrincipal(opts.appId, opts.tenantId);
    home = sp?.appOwnerOrganizationId ?? opts.tenantId;
  }
  const endDateTime = new Date(opts.now.getTime() + opts.lifetimeMs).toISOString();
  const created = await graph.addPassword(opts.appId, { displayName: opts.displayName ?? secretDisplayName(opts.now), endDateTime }, home);
  return { ...created, tenantId: home };
}

/** Passwords sorted newest first (by start, then end date). Pure. */
export function newestFirst(creds: readonly GraphPasswordCredential[]): GraphPasswordCredential[] {
  const t = (s: string | null | undefined) => (s ? Date.parse(s) || 0 : 0);
  return [...creds].sort((a, b) => t(b.startDateTime) - t(a.startDateTime) || t(b.endDateTime) - t(a.endDateTime));
}

/** One summary line about an app's client secrets, e.g. "2 other client secrets remain: 1 expired (…), 1 valid until …". Pure. */
export function describeSecrets(creds: readonly GraphPasswordCredential[], now: Date, exceptKeyId?: string): string {
  const others = creds.filter((c) => !exceptKeyId || c.keyId.toLowerCase() !== exceptKeyId.toLowerCase());
  const label = exceptKeyId ? 'other client secret' : 'client secret';
  if (!others.length) return `no ${label}s remain`;
  const parts = newestFirst(others).map((c) => {
    const end = c.endDateTime ? Date.parse(c.endDateTime) : NaN;
    const name = c.displayName ? `'${c.displayName}'` : c.hint ? `'${c.hint}…'` : c.keyId;
    if (Number.isNaN(end)) return `${name} (no expiry date)`;
    return end <= now.getTime() ? `${name} expired ${c.endDateTime}` : `${name} expires ${c.endDateTime}`;
  });
  return `${others.length} ${label}${others.length === 1 ? '' : 's'} ${others.length === 1 ? 'remains' : 'remain'} (left alone): ${parts.join('; ')}`;
}

export interface SecretCheck {
  ok: boolean;
  detail: string;
  problem?: string;
}

/** Verify: has the app's newest client secret (by start date) expired? Pure. */
export function checkNewestSecret(appId: string, creds: readonly GraphPasswordCredential[], now: Date): SecretCheck {
  const newest = newestFirst(creds)[0];
  if (!newest) {
    return {
      ok: false,
      detail: `app ${appId} has no client secrets`,
      problem: `app ${appId} has no client secret, so the cluster cannot sign in as it: run with create-secret: true and reset-cluster-credentials: true`,
    };
  }
  const name = newest.displayName ? `'${newest.displayName}' (${newest.keyId})` : newest.keyId;
  const end = newest.endDateTime ? Date.parse(newest.endDateTime) : NaN;
  if (Number.isNaN(end)) return { ok: true, detail: `newest client secret ${name} of app ${appId} has no expiry date` };
  if (end <= now.getTime()) {
    return {
      ok: false,
      detail: `newest client secret ${name} of app ${appId} expired ${newest.endDateTime}`,
      problem: `the newest client secret ${name} of app ${appId} expired on ${newest.endDateTime}: the cluster can no longer sign in with it; run with create-secret: true and reset-cluster-credentials: true`,
    };
  }
  return { ok: true, detail: `newest client secret ${name} of app ${appId} expires ${newest.endDateTime}` };
}
