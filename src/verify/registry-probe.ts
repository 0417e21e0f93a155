// Proves that a username and password pull one image, the way a container runtime pulls it (the
// distribution spec's token flow, docs/spec/auth/token.md; ACR's in acr-dataplane/AAD-OAuth.md and
// Token-BasicAuth.md):
//   1. GET /v2/ without credentials: 200 (an open registry), or 401 with a challenge: `Bearer
//      realm=...,service=...` (ACR) or `Basic realm=...` (a registry with htpasswd);
//   2. Bearer: ask the realm for `scope=repository:<repo>:pull` (POST grant_type=refresh_token for
//      ACR refresh tokens, the null-GUID user; else GET with Basic auth), and read the access
//      token's `access` claim: ACR issues a token even when the scope map or the ABAC condition
//      does not cover the repository, with no pull in it;
//   3. HEAD /v2/<repo>/manifests/<tag or digest> with the token (or Basic), accepting the Docker v2
//      and OCI manifests and indexes (what containerd and docker send): 200 with
//      Docker-Content-Digest proves the tag exists and is readable; 404 that it does not.
// No registry SDK does this flow with a plain credential: the requests go through src/net/http.ts
// (HTTPS only, no redirects, timeouts, capped Retry-After), and the credential goes only to the
// registry's own host over HTTPS (a realm elsewhere is refused, never asked). The steps are pure
// functions (challenge, token request, grants, verdicts) around one injectable `send`, so the
// token-flow logic is tested in process.
import { jwtClaims } from '../jwt.ts';
import { NetApiError } from '../net/errors.ts';
import { send as netSend, type HttpAnswer, type HttpOptions, type HttpRequest } from '../net/http.ts';
import { REFRESH_TOKEN_USERNAME } from '../azure/acr-token.ts';

export const PROBE_SERVICE = 'registry';

/** What a runtime accepts for a manifest (containerd's remotes/docker resolver sends these four). */
export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

export type ProbeFailure = 'unreachable' | 'denied' | 'rejected' | 'not-covered' | 'not-found' | 'unexpected';

export type ProbeOutcome = { ok: true; digest?: string; mediaType?: string } | { ok: false; failure: ProbeFailure; reason: string };

export interface Challenge {
  scheme: 'bearer' | 'basic';
  realm?: string;
  service?: string;
}

/** The WWW-Authenticate challenge of a /v2/ answer (RFC 7235 auth-params, quoted values). Pure. */
export function parseChallenge(header: string | null | undefined): Challenge | undefined {
  const h = (header ?? '').trim();
  const m = /^(bearer|basic)\b/i.exec(h);
  if (!m) return undefined;
  const params = Object.fromEntries([...h.matchAll(/(\w+)="([^"]*)"/g)].map((p) => [p[1].toLowerCase(), p[2]]));
  return { scheme: m[1].toLowerCase() as Challenge['scheme'], realm: params.realm, service: params.service };
}

const hostOf = (u: string) => u.toLowerCase().replace(/:\d+$/, '');

/**
 * The token request for a Bearer challenge, or why the credential is not sent (a realm that is not
 * https on the registry's own host). Pure.
 */
export function tokenRequest(
  loginServer: string,
  challenge: Challenge,
  username: string,
  password: string,
  repository: string,
): { request: HttpRequest } | { refused: string } {
  if (!challenge.realm) return { refused: `registry ${loginServer} sent a Bearer challenge without a realm` };
  let url: URL;
  try {
    url = new URL(challenge.realm);
  } catch {
    return { refused: `registry ${loginServer} sent a Bearer challenge with an invalid realm` };
  }
  if (url.protocol !== 'https:' || hostOf(url.host) !== hostOf(loginServer)) {
    return {
      refused: `registry ${loginServer} asked for the credential at ${url.protocol}//${url.host}, not at its own host over https; it was not sent`,
    };
  }
  const scope = `repository:${repository}:pull`;
  const service = challenge.service ?? loginServer;
  const operation = `token request for ${repository} (${url.host})`;
  if (username === REFRESH_TOKEN_USERNAME) {
    const body = new URLSearchParams({ grant_type: 'refresh_token', service, scope, refresh_token: password }).toString();
    return {
      request: {
        service: PROBE_SERVICE,
        operation,
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      },
    };
  }
  url.searchParams.set('service', service);
  url.searchParams.set('scope', scope);
  return { request: { service: PROBE_SERVICE, operation, method: 'GET', url, headers: { authorization: basicAuth(username, password) } } };
}

export const basicAuth = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;

/**
 * Does the access token grant pull on `repository`? `undefined` when the token is not a JWT with
 * an `access` claim (a registry that does not say: the manifest request decides). Pure.
 */
export function grantsPull(accessToken: string, repository: string): boolean | undefined {
  const access = jwtClaims(accessToken)?.access;
  if (!Array.isArray(access)) return undefined;
  return access.some(
    (a: { type?: unknown; name?: unknown; actions?: unknown }) =>
      a?.type === 'repository' && a.name === repository && Array.isArray(a.actions) && a.actions.some((x) => x === 'pull' || x === '*'),
  );
}

/** The registry's error text from an answer: `{errors:[{code,message}]}`, never a whole body. Pure. */
export function registryError(text: string): string | undefined {
  try {
    const j = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[]; error?: unknown; error_description?: unknown };
    const first = Array.isArray(j?.errors) ? j.errors[0] : undefined;
    if (first) return [first.code, first.message].filter((x) => typeof x === 'string' && x).join(': ') || undefined;
    if (typeof j?.error === 'string') return [j.error, j.error_description].filter((x) => typeof x === 'string' && x).join(': ');
  } catch {
    // not JSON
  }
  return undefined;
}

export interface ProbeOptions extends Pick<HttpOptions, 'trace' | 'timeoutMs'> {
  /** the one way requests go out (default: src/net/http.ts send); tests hand in a fake registry */
  send?: (req: HttpRequest, opts: HttpOptions) => Promise<HttpAnswer>;
}

type Asked = HttpAnswer | { unreachable: string };

/**
 * Proves `username`/`password` pull `repository` at `reference` (a tag or a digest) from
 * `loginServer`. Never throws for what a registry answers or for a registry that cannot be reached;
 * only for what the transport refuses outright (a redirect, an oversized body).
 */
export async function probeImage(
  loginServer: string,
  credential: { username: string; password: string } | undefined,
  repository: string,
  reference: string,
  opts: ProbeOptions = {},
): Promise<ProbeOutcome> {
  const send = opts.send ?? netSend;
  const ask = async (req: HttpRequest, discardBody = false): Promise<Asked> => {
    try {
      return await send(req, { trace: opts.trace, timeoutMs: opts.timeoutMs, discardBody });
    } catch (e) {
      if (e instanceof NetApiError && e.transient) return { unreachable: e.detail };
      throw e;
    }
  };
  const base = `https://${loginServer}`;
  const image = `${repository}${reference.includes(':') ? '@' : ':'}${reference}`;
  const gaveUp = (r: HttpAnswer, what: string): ProbeOutcome => ({
    ok: false,
    failure: 'unreachable',
    reason: `registry ${loginServer} answered HTTP ${r.status} to the ${what} (${r.gaveUp}); ${image} could not be proven`,
  });
  const denied = (r: HttpAnswer, what: string): ProbeOutcome => ({
    ok: false,
    failure: 'denied',
    reason: `registry ${loginServer} refused the ${what} (HTTP 403${registryError(r.text) ? `: ${registryError(r.text)}` : ''}): its network rules do not let this runner in`,
  });

  const v2 = await ask({ service: PROBE_SERVICE, operation: `/v2/ challenge (${loginServer})`, method: 'GET', url: new URL(`${base}/v2/`) });
  if ('unreachable' in v2) return { ok: false, failure: 'unreachable', reason: `could not reach registry ${loginServer}: ${v2.unreachable}` };
  if (v2.gaveUp) return gaveUp(v2, '/v2/ challenge');
  if (v2.status === 403) return denied(v2, '/v2/ challenge');

  let authorization: string | undefined;
  if (v2.status === 401) {
    const challenge = parseChallenge(v2.headers.get('www-authenticate'));
    if (!challenge)
      return { ok: false, failure: 'unexpected', reason: `registry ${loginServer} answered 401 to /v2/ without a Bearer or Basic challenge` };
    if (!credential) return { ok: false, failure: 'rejected', reason: `registry ${loginServer} needs a credential, and none is given` };
    if (challenge.scheme === 'basic') authorization = basicAuth(credential.username, credential.password);
    else {
      const t = tokenRequest(loginServer, challenge, credential.username, credential.password, repository);
      if ('refused' in t) return { ok: false, failure: 'unexpected', reason: t.refused };
      const res = await ask(t.request);
      if ('unreachable' in res)
        return { ok: false, failure: 'unreachable', reason: `could not reach the token endpoint of ${loginServer}: ${res.unreachable}` };
      if (res.gaveUp) return gaveUp(res, 'token request');
      if (res.status === 403) return denied(res, 'token request');
      if (res.status === 401)
        return {
          ok: false,
          failure: 'rejected',
          reason: `registry ${loginServer} rejected the credential for user ${credential.username} (HTTP 401${registryError(res.text) ? `: ${registryError(res.text)}` : ''})`,
        };
      let token: string | undefined;
      try {
        const j = JSON.parse(res.text) as { access_token?: unknown; token?: unknown };
        token = typeof j.access_token === 'string' ? j.access_token : typeof j.token === 'string' ? j.token : undefined;
      } catch {
        token = undefined;
      }
      if (res.status !== 200 || !token)
        return {
          ok: false,
          failure: 'unexpected',
          reason: `registry ${loginServer} answered HTTP ${res.status} to the token request, without an access token`,
        };
      if (grantsPull(token, repository) === false) {
        return {
          ok: false,
          failure: 'not-covered',
          reason: `registry ${loginServer} accepted the credential for user ${credential.username} but its access token grants no pull on ${repository}: the token's scope map, or the principal's role and ABAC condition, does not cover that repository`,
        };
      }
      authorization = `Bearer ${token}`;
    }
  } else if (v2.status !== 200) {
    return { ok: false, failure: 'unexpected', reason: `registry ${loginServer} answered HTTP ${v2.status} to /v2/` };
  }

  const head = await ask(
    {
      service: PROBE_SERVICE,
      operation: `manifest of ${image} (${loginServer})`,
      method: 'HEAD',
      url: new URL(`${base}/v2/${repository}/manifests/${reference}`),
      headers: { accept: MANIFEST_ACCEPT, ...(authorization ? { authorization } : {}) },
    },
    true,
  );
  if ('unreachable' in head) return { ok: false, failure: 'unreachable', reason: `could not reach registry ${loginServer}: ${head.unreachable}` };
  if (head.gaveUp) return gaveUp(head, 'manifest request');
  if (head.status === 404)
    return {
      ok: false,
      failure: 'not-found',
      reason: `${loginServer}/${image} does not exist (HTTP 404 for its manifest): the ${reference.includes(':') ? 'digest' : 'tag'} is not in ${repository}`,
    };
  if (head.status === 401 || head.status === 403)
    return {
      ok: false,
      failure: head.status === 403 ? 'denied' : 'not-covered',
      reason: `registry ${loginServer} refused the manifest of ${image} (HTTP ${head.status}) for user ${credential?.username ?? '(anonymous)'}`,
    };
  if (head.status !== 200)
    return { ok: false, failure: 'unexpected', reason: `registry ${loginServer} answered HTTP ${head.status} for the manifest of ${image}` };
  const digest = head.headers.get('docker-content-digest') ?? undefined;
  if (reference.includes(':') && digest && digest !== reference)
    return {
      ok: false,
      failure: 'unexpected',
      reason: `registry ${loginServer} answered the manifest of ${image} with another digest (${digest.slice(0, 80)})`,
    };
  const mediaType = head.headers.get('content-type')?.split(';')[0] ?? undefined;
  return { ok: true, ...(digest && /^sha(256|512):[a-f0-9]+$/.test(digest) ? { digest } : {}), ...(mediaType ? { mediaType } : {}) };
}
