// Asks a registry whether it accepts a username and password, the way docker login does: the
// `/v2/` challenge, then Basic auth, or the Bearer realm's token endpoint (ACR's /oauth2/token).
// Node's built-in fetch is enough here; no registry SDK covers a plain credential check.
// Every request has a timeout (requestTimeoutMs(), the ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS knob),
// bodies are never read (only statuses and headers matter), and the credential is sent only to
// the registry's own host: a Bearer realm elsewhere is refused, never followed. Network errors,
// timeouts, 429 and 5xx are retried a few times before the check reports the registry unreachable.
import { discardBody, requestTimeoutMs } from './net-limits.ts';
import { withRetry } from './retry.ts';

export type CheckOutcome = { ok: true } | { ok: false; reason: string };

const hostOf = (u: string) => u.toLowerCase().replace(/:\d+$/, '');

export async function checkRegistryCredential(
  loginServer: string,
  username: string,
  password: string,
  opts: { timeoutMs?: number; scope?: string } = {},
): Promise<CheckOutcome> {
  const base = `https://${loginServer}`;
  const timeoutMs = opts.timeoutMs ?? requestTimeoutMs();
  const timeout = () => AbortSignal.timeout(timeoutMs);
  /** fetch with bounded retries of transient failures; the last answer or error */
  const ask = (url: string | URL, init: RequestInit = {}): Promise<Response> =>
    withRetry(
      async () => {
        const res = await fetch(url, { ...init, signal: timeout() });
        if (res.status === 429 || res.status >= 500) {
          await discardBody(res);
          throw Object.assign(new Error(`HTTP ${res.status}`), { response: res });
        }
        return res;
      },
      { attempts: 3, baseMs: 500, retryable: () => true },
    ).catch((e: Error & { response?: Response }) => {
      if (e.response) return e.response;
      throw e;
    });
  const why = (e: unknown) => {
    const err = e as Error & { cause?: { code?: string } };
    return err.name === 'TimeoutError' || err.name === 'AbortError' ? `timed out after ${timeoutMs} ms` : (err.cause?.code ?? err.message);
  };
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  let challenge: Response;
  try {
    challenge = await ask(`${base}/v2/`);
  } catch (e) {
    return { ok: false, reason: `registry ${loginServer} is unreachable (${why(e)})` };
  }
  await discardBody(challenge);
  if (challenge.status === 200) return { ok: true };
  const failing = (r: Response) => r.status === 429 || r.status >= 500;
  const verdict = (r: Response): CheckOutcome =>
    r.ok
      ? { ok: true }
      : {
          ok: false,
          reason: failing(r)
            ? `registry ${loginServer} answered HTTP ${r.status} (after retries); the credential could not be checked`
            : `registry ${loginServer} rejected the credential (HTTP ${r.status})`,
        };
  if (failing(challenge)) return verdict(challenge);
  const header = challenge.headers.get('www-authenticate') ?? '';
  if (/^bearer/i.test(header)) {
    const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1].toLowerCase(), m[2]]));
    if (!params.realm) return { ok: false, reason: `registry ${loginServer} sent a Bearer challenge without a realm` };
    let url: URL;
    try {
      url = new URL(params.realm);
    } catch {
      return { ok: false, reason: `registry ${loginServer} sent a Bearer challenge with an invalid realm` };
    }
    if (url.protocol !== 'https:' || hostOf(url.host) !== hostOf(loginServer)) {
      return {
        ok: false,
        reason: `registry ${loginServer} asked for the credential at ${url.protocol}//${url.host}, not at its own host over https; it was not sent`,
      };
    }
    if (params.service) url.searchParams.set('service', params.service);
    if (opts.scope) url.searchParams.set('scope', opts.scope);
    const res = await ask(url, { headers: { authorization: basic } }).catch((e: Error) => e);
    if (res instanceof Error) return { ok: false, reason: `token endpoint ${url.host} is unreachable (${why(res)})` };
    await discardBody(res);
    return verdict(res);
  }
  const res = await ask(`${base}/v2/`, { headers: { authorization: basic } }).catch((e: Error) => e);
  if (res instanceof Error) return { ok: false, reason: `registry ${loginServer} is unreachable (${why(res)})` };
  await discardBody(res);
  return verdict(res);
}
