// ACR's data-plane token service (https://<login server>/oauth2/...): exchange an Entra access
// token for an ACR refresh token, and ask the registry whether a username and password work.
// Shaped on shared/azure-api/acr-dataplane (AAD-OAuth.md, Token-BasicAuth.md) and the
// data-plane-2021-07-01 spec. Node's fetch is enough; no SDK covers these calls.
import { ApiError } from '../errors.ts';
import { withRetry } from '../retry.ts';
import type { CheckOutcome } from '../registry-check.ts';
import { ResponseTooLargeError, requestTimeoutMs, responseText } from '../net-limits.ts';
import { jwtClaims } from '../jwt.ts';

/** The username that tells ACR the password is an ACR refresh token. */
export const REFRESH_TOKEN_USERNAME = '00000000-0000-0000-0000-000000000000';

export interface DataPlaneOptions {
  /** debug tracing (method, path, status, duration; never bodies or headers) */
  trace?: (line: string) => void;
  /** per request, headers and body (default: requestTimeoutMs(), the ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS knob) */
  timeoutMs?: number;
  /** attempts in all for transient failures (network, 429, 5xx) */
  attempts?: number;
}

class Transient extends Error {
  readonly retryAfterMs: number | undefined;
  /** the last HTTP status, when there was an answer */
  readonly status: number | undefined;
  constructor(message: string, retryAfterMs?: number, status?: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
    this.status = status;
  }
}

function retryAfter(res: Response): number | undefined {
  const h = res.headers.get('retry-after');
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return s * 1000;
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/** One request with a timeout; network errors, 429 and 5xx are retried (bounded). */
async function send(url: URL, init: RequestInit, opts: DataPlaneOptions): Promise<{ status: number; text: string }> {
  return withRetry(
    async () => {
      const started = Date.now();
      const timeoutMs = opts.timeoutMs ?? requestTimeoutMs();
      let res: Response;
      let text: string;
      try {
        // the timeout covers the body too: fetch's signal aborts a body that stalls
        res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
        text = await responseText(res);
      } catch (e) {
        if (e instanceof ResponseTooLargeError) throw e; // not transient: the same answer again
        const err = e as Error & { cause?: { code?: string; message?: string } };
        const detail =
          err.name === 'TimeoutError' || err.name === 'AbortError'
            ? `timed out after ${timeoutMs} ms`
            : (err.cause?.code ?? err.cause?.message ?? err.message);
        opts.trace?.(`ACR ${init.method ?? 'GET'} ${url.host}${url.pathname} -> ${detail} (${Date.now() - started} ms)`);
        throw new Transient(`${url.host} is unreachable (${detail})`);
      }
      opts.trace?.(`ACR ${init.method ?? 'GET'} ${url.host}${url.pathname} -> ${res.status} (${Date.now() - started} ms)`);
      if (res.status === 429 || res.status >= 500) throw new Transient(`${url.host} answered HTTP ${res.status}`, retryAfter(res), res.status);
      return { status: res.status, text };
    },
    {
      attempts: opts.attempts ?? 4,
      baseMs: 400,
      maxDelayMs: 8000,
      budgetMs: 60_000,
      retryable: (e) => (e instanceof Transient ? (e.retryAfterMs ?? true) : false),
    },
  );
}

/** The registry's error text: `{errors:[{code,message}]}` or `{error, error_description}`, never a whole body. */
function errorText(text: string): string {
  try {
    const j = JSON.parse(text) as {
      errors?: { code?: string; message?: string }[];
      error?: string | { code?: string; message?: string };
      error_description?: string;
      message?: string;
    };
    const first = j.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(': ');
    if (typeof j.error === 'string') return [j.error, j.error_description].filter(Boolean).join(': ');
    if (j.error && typeof j.error === 'object') return [j.error.code, j.error.message].filter(Boolean).join(': ');
    if (j.message) return j.message;
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/**
 * POST /oauth2/exchange: an Entra access token (with `tenant`) for an ACR refresh token.
 * The refresh token is the password for username 00000000-0000-0000-0000-000000000000.
 */
export async function exchangeRefreshToken(loginServer: string, tenantId: string, accessToken: string, opts: DataPlaneOptions = {}): Promise<string> {
  const url = new URL(`https://${loginServer}/oauth2/exchange`);
  const body = new URLSearchParams({ grant_type: 'access_token', service: loginServer, tenant: tenantId, access_token: accessToken });
  let res: { status: number; text: string };
  try {
    res = await send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() }, opts);
  } catch (e) {
    throw new ApiError({
      service: 'ACR',
      operation: `token exchange (${loginServer})`,
      status: (e as Transient).status,
      message: (e as Error).message,
    });
  }
  if (res.status !== 200) {
    const hint =
      res.status === 401 || res.status === 403
        ? `The registry did not accept the Entra token of the signed-in identity in tenant ${tenantId}. Check that the identity can read the registry (a pull role such as AcrPull) and that the registry allows Entra authentication.`
        : undefined;
    throw new ApiError({
      service: 'ACR',
      operation: `token exchange (${loginServer})`,
      status: res.status,
      message: errorText(res.text) || 'no refresh token',
      hint,
    });
  }
  let refresh: unknown;
  try {
    refresh = (JSON.parse(res.text) as { refresh_token?: unknown }).refresh_token;
  } catch {
    refresh = undefined;
  }
  if (typeof refresh !== 'string' || !refresh) {
    throw new ApiError({
      service: 'ACR',
      operation: `token exchange (${loginServer})`,
      status: res.status,
      message: 'the answer carried no refresh_token',
    });
  }
  return refresh;
}

/**
 * Asks ACR's token service whether it accepts a credential, as docker login does against ACR:
 * `POST /oauth2/token` with grant_type=refresh_token for the null-GUID user (an ACR refresh
 * token), else `GET /oauth2/token` with Basic auth (tokens, service principals, the admin user).
 * With a `repository`, the access token must also grant pull on it.
 */
export async function checkAcrCredential(
  loginServer: string,
  username: string,
  password: string,
  opts: DataPlaneOptions & { repository?: string } = {},
): Promise<CheckOutcome> {
  const url = new URL(`https://${loginServer}/oauth2/token`);
  const scope = opts.repository ? `repository:${opts.repository}:pull` : undefined;
  let res: { status: number; text: string };
  try {
    if (username === REFRESH_TOKEN_USERNAME) {
      const body = new URLSearchParams({ grant_type: 'refresh_token', service: loginServer, refresh_token: password });
      if (scope) body.set('scope', scope);
      res = await send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() }, opts);
    } else {
      url.searchParams.set('service', loginServer);
      if (scope) url.searchParams.set('scope', scope);
      const basic = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
      res = await send(url, { method: 'GET', headers: { authorization: `Basic ${basic}` } }, opts);
    }
  } catch (e) {
    return { ok: false, reason: `could not ask registry ${loginServer} about the credential: ${(e as Error).message}` };
  }
  if (res.status === 401 || res.status === 403) {
    const why = errorText(res.text);
    return { ok: false, reason: `registry ${loginServer} rejected the credential for user ${username} (HTTP ${res.status}${why ? `: ${why}` : ''})` };
  }
  if (res.status !== 200)
    return { ok: false, reason: `registry ${loginServer} answered HTTP ${res.status} when asked about the credential for user ${username}` };
  if (scope) {
    let access: unknown;
    try {
      const token = (JSON.parse(res.text) as { access_token?: string }).access_token;
      access = token ? jwtClaims(token)?.access : undefined;
    } catch {
      access = undefined;
    }
    if (Array.isArray(access)) {
      const grants = access.some(
        (a: { type?: string; name?: string; actions?: string[] }) =>
          a?.type === 'repository' && a.name === opts.repository && (a.actions ?? []).some((x) => x === 'pull' || x === '*'),
      );
      if (!grants)
        return { ok: false, reason: `registry ${loginServer} accepted the credential for user ${username} but grants no pull on ${opts.repository}` };
    }
  }
  return { ok: true };
}
