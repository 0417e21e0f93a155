// Asks a registry whether it accepts a username and password, the way docker login does: the
// `/v2/` challenge, then Basic auth, or the Bearer realm's token endpoint (ACR's /oauth2/token).
// No registry SDK covers a plain credential check: the requests go through src/net/http.ts (HTTPS
// only, no redirects, timeouts, capped Retry-After); bodies are never read (only statuses and
// headers matter), and the credential is sent only to the registry's own host: a Bearer realm
// elsewhere is refused, never followed. A registry that cannot be reached is a reason; an answer
// no registry gives (a redirect) is an ApiError.
import { NetApiError } from './net/errors.ts';
import { send, type HttpAnswer, type HttpRequest } from './net/http.ts';

/** What a credential check asks for when it names no repository (ACR requires a scope): the catalog, as Azure CLI does. */
export const CHECK_SCOPE = 'registry:catalog:*';

/** A credential check's answer; `rejected`: the registry refused the credential itself (401/403), not that it could not be asked. */
export type CheckOutcome = { ok: true } | { ok: false; reason: string; rejected?: boolean };

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
      : r.gaveUp
        ? {
            ok: false,
            reason: `registry ${loginServer} answered HTTP ${r.status} (${r.gaveUp}); the credential could not be checked: run the step again in a few minutes`,
          }
        : { ok: false, rejected: r.status === 401 || r.status === 403, reason: `registry ${loginServer} rejected the credential (HTTP ${r.status})` };

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
    // ACR's token service (its realm: /oauth2/token on the registry's own host) requires a scope by
    // its spec (data-plane-2021-07-01); docker login sends none, and other registries' token
    // servers treat it as optional (the distribution token spec): only ACR's is given one unasked.
    const scope = opts.scope ?? params.scope ?? (url.pathname === '/oauth2/token' ? CHECK_SCOPE : undefined);
    if (scope) url.searchParams.set('scope', scope);
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

/**
 * How long a new credential may take before the registry accepts it, when
 * ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS is not set: 90 s. A new ACR token password can take up to
 * about a minute to work on real ACR (issue #14; no Microsoft page held here gives the figure), so
 * the window leaves a margin over that.
 */
export const DEFAULT_PROPAGATION_MS = 90_000;

/** The propagation window in ms: ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS (whole ms, 0..600000; 0: never wait), else 90000. */
export function propagationWindowMs(env: Record<string, string | undefined>): number {
  const v = env.ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS?.trim();
  if (!v || !/^\d{1,7}$/.test(v)) return DEFAULT_PROPAGATION_MS;
  return Math.min(600_000, Number(v));
}

export interface PropagationOptions {
  /** what the credential is, for the log line: e.g. "password1 of token kube-pull-web" */
  what: string;
  /**
   * when the credential was made (epoch ms), or how to find out: asked only once the registry has
   * refused it; undefined: not known to be new, so a refusal stands at once
   */
  createdAt: number | undefined | (() => Promise<number | undefined>);
  /** the propagation window (propagationWindowMs) */
  windowMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** the one line saying that it waits and why (the runner's info) */
  onWait: (line: string) => void;
}

/**
 * A credential check that allows for propagation: when the registry refuses (401/403) a credential
 * made less than `windowMs` ago, it is asked again, with growing pauses (1 s, 2 s, … at most 5 s),
 * until it accepts or the window since the credential was made has passed; one line says so before
 * the first pause. A credential older than the window, or not known to be new, that the registry
 * refuses fails at once; so does every other failure (an unreachable registry, a missing pull grant).
 * For any check that meets a credential made moments ago: verify here, and image pulls (src/verify/).
 */
export async function awaitPropagation(check: () => Promise<CheckOutcome>, opts: PropagationOptions): Promise<CheckOutcome> {
  let outcome = await check();
  if (outcome.ok || !outcome.rejected || opts.windowMs <= 0) return outcome;
  const created = typeof opts.createdAt === 'function' ? await opts.createdAt() : opts.createdAt;
  if (created === undefined || Number.isNaN(created)) return outcome;
  const deadline = created + opts.windowMs;
  const age = () => Math.max(0, Math.round((opts.now() - created) / 1000));
  if (opts.now() >= deadline) return outcome;
  opts.onWait(
    `${opts.what} was created ${age()} s ago and the registry refuses it so far: a new ACR token password can take up to about a minute to work. ` +
      `Asking again until ${new Date(deadline).toISOString()} (at most ${Math.ceil((deadline - opts.now()) / 1000)} s more).`,
  );
  for (let attempt = 1; !outcome.ok && outcome.rejected; attempt++) {
    const left = deadline - opts.now();
    if (left <= 0) break;
    await opts.sleep(Math.min(left, 1000 * Math.min(attempt, 5)));
    outcome = await check();
  }
  if (outcome.ok || !outcome.rejected) return outcome;
  return {
    ...outcome,
    reason: `${outcome.reason}, still ${age()} s after ${opts.what} was created (a new password works within about a minute: one refused after that is wrong, or was replaced)`,
  };
}
