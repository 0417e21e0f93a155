// GitHub's OIDC token: what @actions/core's getIDToken does (GET ACTIONS_ID_TOKEN_REQUEST_URL with
// `&audience=`, the runtime token as a bearer, `{ value }` back), through src/net/http.ts like
// every other request of the action: HTTPS only, no redirects (the runtime token must not follow
// one), the action's timeout and size cap, capped Retry-After. Restated (a dozen lines) rather than
// core's OIDC client, which follows redirects and sends with its own retry rules.
import { ApiError } from './errors.ts';
import { send, unexpectedAnswer, type HttpRequest } from './net/http.ts';

export const GITHUB_OIDC_SERVICE = 'GitHub OIDC';

export async function getIDToken(audience: string, setSecret: (v: string) => void): Promise<string> {
  const raw = process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const runtimeToken = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!raw || !runtimeToken) throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN env variable');
  let url: URL;
  try {
    url = new URL(`${raw}&audience=${encodeURIComponent(audience)}`);
  } catch {
    throw new Error('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
  }
  const req: HttpRequest = {
    service: GITHUB_OIDC_SERVICE,
    operation: `token request (${url.host})`,
    method: 'GET',
    url,
    headers: { authorization: `Bearer ${runtimeToken}`, accept: 'application/json' },
  };
  const res = await send(req);
  if (res.status !== 200) {
    let message = `HTTP ${res.status}`;
    try {
      const j = JSON.parse(res.text) as { message?: unknown };
      if (typeof j?.message === 'string') message = j.message.slice(0, 300);
    } catch {
      // not JSON: the status says it
    }
    const hint =
      res.status === 401 || res.status === 403
        ? "GitHub refused the job's runtime token: check that the job has `permissions: id-token: write` (a pull request from a fork gets no token)."
        : undefined;
    throw new ApiError({ ...req, status: res.status, message: res.gaveUp ? `${message} (${res.gaveUp})` : message, hint });
  }
  let token: unknown;
  try {
    token = (JSON.parse(res.text) as { value?: unknown } | null)?.value;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || !token) throw unexpectedAnswer(req, res, 'a JSON object with the token in `value`', 'the answer carried no token');
  setSecret(token);
  return token;
}
