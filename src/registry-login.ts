// Asks a registry whether it accepts a username and password, the way docker login does: the
// `/v2/` challenge, then Basic auth, or the Bearer realm's token endpoint (ACR's /oauth2/token).
// No registry SDK covers a plain credential check: the requests go through src/net/http.ts (HTTPS
// only, no redirects, timeouts, capped Retry-After); bodies are never read (only statuses and
// headers matter), and the credential is sent only to the registry's own host: a Bearer realm
// elsewhere is refused, never followed. A registry that cannot be reached is a reason; an answer
// no registry gives (a redirect) is an ApiError.
import { NetApiError } from './net/errors.ts';
import { send, type HttpAnswer, type HttpRequest } from './net/http.ts';

export type CheckOutcome = { ok: true } | { ok: false; reason: string };

export const REGISTRY_SERVICE = 'registry';

const hostOf = (u: string) => u.toLowerCase().replace(/:\d+$/, '');

export async function checkRegistryCredential(
  loginServer: string,
  username: string,
  password: string,
  opts: { timeoutMs?: number; scope?: string; trace?: (line: string) => void } = {},
): Promise<CheckOutcome> {
  const base = `https://${loginServer}`;
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const ask = async (url: URL, operation: string, authorization?: string): Promise<HttpAnswer | { unreachable: string }> => {
    const req: HttpRequest = { service: REGISTRY_SERVICE, operation, method: 'GET', url, headers: authorization ? { authorization } : {} };
    try {
      return await send(req, { timeoutMs: opts.timeoutMs, trace: opts.trace, discardBody: true });
    } catch (e) {
      if (e instanceof NetApiError && e.transient) return { unreachable: e.detail };
      throw e;
    }
  };
  const verdict = (r: HttpAnswer): CheckOutcome =>
    r.status >= 200 && r.status < 300
      ? { ok: true }
      : {
          ok: false,
          reason: r.gaveUp
            ? `registry ${loginServer} answered HTTP ${r.status} (${r.gaveUp}); the credential could not be checked: run the step again in a few minutes`
            : `registry ${loginServer} rejected the credential (HTTP ${r.status})`,
        };

  const challenge = await ask(new URL(`${base}/v2/`), `/v2/ challenge (${loginServer})`);
  if ('unreachable' in challenge)
    return {
      ok: false,
      reason: `could not reach registry ${loginServer} (${challenge.unreachable}), so the credential was not checked: check that the runner can reach it`,
    };
  if (challenge.status === 200) return { ok: true };
  if (challenge.gaveUp) return verdict(challenge);
  const header = challenge.headers.get('www-authenticate') ?? '';
  if (/^bearer/i.test(header)) {
    const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1].toLowerCase(), m[2]]));
    if (!params.realm)
      return {
        ok: false,
        reason: `registry ${loginServer} sent a Bearer challenge without a realm, which no registry does: check the registry input`,
      };
    let url: URL;
    try {
      url = new URL(params.realm);
    } catch {
      return {
        ok: false,
        reason: `registry ${loginServer} sent a Bearer challenge with an invalid realm, which no registry does: check the registry input`,
      };
    }
    if (url.protocol !== 'https:' || hostOf(url.host) !== hostOf(loginServer)) {
      return {
        ok: false,
        reason: `registry ${loginServer} asked for the credential at ${url.protocol}//${url.host}, not at its own host over https; it was not sent: check the registry input and any proxy in between`,
      };
    }
    if (params.service) url.searchParams.set('service', params.service);
    if (opts.scope) url.searchParams.set('scope', opts.scope);
    const res = await ask(url, `token request (${url.host})`, basic);
    if ('unreachable' in res)
      return {
        ok: false,
        reason: `could not reach token endpoint ${url.host} (${res.unreachable}), so the credential was not checked: check that the runner can reach it`,
      };
    return verdict(res);
  }
  const res = await ask(new URL(`${base}/v2/`), `login (${loginServer})`, basic);
  if ('unreachable' in res)
    return {
      ok: false,
      reason: `could not reach registry ${loginServer} (${res.unreachable}), so the credential was not checked: check that the runner can reach it`,
    };
  return verdict(res);
}
