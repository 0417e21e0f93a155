// The client of ACR's token service (https://<login server>/oauth2/...): exchange an Entra access
// token for an ACR refresh token, and ask the registry whether a username and password work.
// Shaped on shared/azure-api/acr-dataplane (AAD-OAuth.md, Token-BasicAuth.md) and the
// data-plane-2021-07-01 spec. No SDK covers these calls: they go through src/net/http.ts (HTTPS
// only, no redirects, timeouts, size cap, capped Retry-After).
import { ApiError } from '../errors.ts';
import { send, unexpectedAnswer, type HttpAnswer, type HttpRequest } from '../net/http.ts';
import { NetApiError } from '../net/errors.ts';
import { jwtClaims } from '../jwt.ts';
import { CHECK_SCOPE, type CheckOutcome } from '../registry-login.ts';

/** The username that tells ACR the password is an ACR refresh token. */
export const REFRESH_TOKEN_USERNAME = '00000000-0000-0000-0000-000000000000';

export const ACR_TOKEN_SERVICE = 'ACR';

export interface DataPlaneOptions {
  /** debug tracing (method, path, status, duration; never bodies or headers) */
  trace?: (line: string) => void;
  /** per request, headers and body (default: requestTimeoutMs(), the ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS knob) */
  timeoutMs?: number;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The registry's error text: `{errors:[{code,message}]}` or `{error, error_description}`, never a whole body. */
function errorText(text: string): string {
  try {
    const j = JSON.parse(text) as {
      errors?: { code?: string; message?: string }[];
      error?: string | { code?: string; message?: string };
      error_description?: string;
      message?: string;
    };
    const first = Array.isArray(j?.errors) ? j.errors[0] : undefined;
    if (first) return [first.code, first.message].filter((x) => typeof x === 'string').join(': ');
    if (typeof j?.error === 'string') return [j.error, j.error_description].filter((x) => typeof x === 'string').join(': ');
    if (j?.error && typeof j.error === 'object') return [j.error.code, j.error.message].filter((x) => typeof x === 'string').join(': ');
    if (typeof j?.message === 'string') return j.message;
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** A string field of a JSON object body, or undefined (not JSON, not an object, not a string). */
function field(text: string, name: string): string | undefined {
  try {
    const j = JSON.parse(text) as Record<string, unknown> | null;
    const v = j && typeof j === 'object' && !Array.isArray(j) ? j[name] : undefined;
    return typeof v === 'string' && v ? v : undefined;
  } catch {
    return undefined;
  }
}

/** What to do when the registry refused the Entra token at /oauth2/exchange (401/403). Pure. */
export function exchangeRefusedHint(loginServer: string, tenantId: string, audience: string | undefined): string {
  const name = loginServer.split('.')[0];
  const arm = audience !== undefined && !/^https:\/\/containerregistry\.azure\.net\/?$/i.test(audience);
  return (
    `The registry did not accept the Entra token${audience ? ` (audience ${audience})` : ''} of the signed-in identity in tenant ${tenantId}. ` +
    'Check that the identity holds a pull role on the registry (AcrPull, or Container Registry Repository Reader on an ABAC registry), ' +
    `in the registry's own tenant (registry-tenant-id when it is not the login's)` +
    (arm
      ? `, and that the registry accepts ARM-audience tokens: \`az acr config authentication-as-arm show -r ${name}\` (disabled: only tokens for https://containerregistry.azure.net are accepted).`
      : '.')
  );
}

/**
 * POST /oauth2/exchange: an Entra access token (with `tenant`) for an ACR refresh token.
 * The refresh token is the password for username 00000000-0000-0000-0000-000000000000.
 */
export async function exchangeRefreshToken(loginServer: string, tenantId: string, accessToken: string, opts: DataPlaneOptions = {}): Promise<string> {
  const req: HttpRequest = {
    service: ACR_TOKEN_SERVICE,
    operation: `token exchange (${loginServer})`,
    method: 'POST',
    url: new URL(`https://${loginServer}/oauth2/exchange`),
    headers: FORM,
    body: new URLSearchParams({ grant_type: 'access_token', service: loginServer, tenant: tenantId, access_token: accessToken }).toString(),
  };
  const res = await send(req, opts);
  if (res.status !== 200) {
    const aud = jwtClaims(accessToken)?.aud;
    const audience = typeof aud === 'string' ? aud : undefined;
    const hint = res.status === 401 || res.status === 403 ? exchangeRefusedHint(loginServer, tenantId, audience) : undefined;
    const why = errorText(res.text) || 'no refresh token';
    throw new ApiError({ ...req, status: res.status, message: res.gaveUp ? `${why} (${res.gaveUp})` : why, hint });
  }
  const refresh = field(res.text, 'refresh_token');
  if (!refresh) throw unexpectedAnswer(req, res, 'a JSON object with a refresh_token', 'the answer carried no refresh_token');
  return refresh;
}

/**
 * Asks ACR's token service whether it accepts a credential, as docker login does against ACR:
 * `POST /oauth2/token` with grant_type=refresh_token for the null-GUID user (an ACR refresh
 * token), else `GET /oauth2/token` with Basic auth (tokens, service principals, the admin user),
 * always with a `scope`: ACR's data-plane spec (data-plane-2021-07-01:
 * Authentication_GetAcrAccessTokenFromLogin, Authentication_ExchangeAcrRefreshTokenForAcrAccessToken)
 * requires it. Without a repository it is CHECK_SCOPE, the catalog, as Azure CLI asks when it
 * names none (acr/_docker_utils.py: "catalog only has * as permission, even for a read
 * operation"); a credential that may not list the catalog still gets a token, with no access. With a `repository`, the access token
 * must also grant pull on it. A registry that cannot be reached is a reason; an answer no registry
 * gives (a redirect, an oversized body) an ApiError. A 401/403 is `rejected`: the caller may wait
 * for a password that is still propagating (awaitPropagation in src/registry-login.ts).
 */
export async function checkAcrCredential(
  loginServer: string,
  username: string,
  password: string,
  opts: DataPlaneOptions & { repository?: string } = {},
): Promise<CheckOutcome> {
  const url = new URL(`https://${loginServer}/oauth2/token`);
  const scope = opts.repository ? `repository:${opts.repository}:pull` : CHECK_SCOPE;
  const operation = `credential check (${loginServer})`;
  let req: HttpRequest;
  if (username === REFRESH_TOKEN_USERNAME) {
    const body = new URLSearchParams({ grant_type: 'refresh_token', service: loginServer, scope, refresh_token: password });
    req = { service: ACR_TOKEN_SERVICE, operation, method: 'POST', url, headers: FORM, body: body.toString() };
  } else {
    url.searchParams.set('service', loginServer);
    url.searchParams.set('scope', scope);
    const basic = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
    req = { service: ACR_TOKEN_SERVICE, operation, method: 'GET', url, headers: { authorization: `Basic ${basic}` } };
  }
  let res: HttpAnswer;
  try {
    res = await send(req, opts);
  } catch (e) {
    if (e instanceof NetApiError && e.transient)
      return { ok: false, reason: `could not ask registry ${loginServer} about the credential: ${e.detail}` };
    throw e;
  }
  if (res.status === 401 || res.status === 403) {
    const why = errorText(res.text);
    return {
      ok: false,
      rejected: true,
      reason: `registry ${loginServer} rejected the credential for user ${username} (HTTP ${res.status}${why ? `: ${why}` : ''})`,
    };
  }
  if (res.status !== 200)
    return {
      ok: false,
      reason: `registry ${loginServer} answered HTTP ${res.status} when asked about the credential for user ${username}${res.gaveUp ? ` (${res.gaveUp})` : ''}`,
    };
  if (opts.repository) {
    const token = field(res.text, 'access_token');
    const access = token ? jwtClaims(token)?.access : undefined;
    if (Array.isArray(access)) {
      const grants = access.some(
        (a: { type?: unknown; name?: unknown; actions?: unknown }) =>
          a?.type === 'repository' && a.name === opts.repository && Array.isArray(a.actions) && a.actions.some((x) => x === 'pull' || x === '*'),
      );
      if (!grants)
        return { ok: false, reason: `registry ${loginServer} accepted the credential for user ${username} but grants no pull on ${opts.repository}` };
    }
  }
  return { ok: true };
}
