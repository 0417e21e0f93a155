// GitHub's OIDC token: what @actions/core's getIDToken does, over the same @actions/http-client.
// Restated here (a dozen lines) because importing core's OIDC client makes the bundle load the
// HTTP client, and undici with it, at the start of every path; in its own module it loads only
// when OIDC sign-in asks for a token.
import { HttpClient } from '@actions/http-client';
import { BearerCredentialHandler } from '@actions/http-client/lib/auth';
import { requestTimeoutMs } from './net-limits.ts';
import { withRetry } from './retry.ts';

export async function getIDToken(audience: string, setSecret: (v: string) => void): Promise<string> {
  const url = process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const runtimeToken = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !runtimeToken) throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN env variable');
  const client = new HttpClient('actions/oidc-client', [new BearerCredentialHandler(runtimeToken)], {
    allowRetries: true,
    maxRetries: 10,
    // the client's own default is 3 minutes of silence; ours is the action's per-request timeout
    socketTimeout: requestTimeoutMs(),
  });
  // The client retries error statuses itself; a timeout or a reset (no status) is retried here.
  const res = await withRetry(() => client.getJson<{ value?: string }>(`${url}&audience=${encodeURIComponent(audience)}`), {
    attempts: 3,
    baseMs: 500,
    retryable: (e) => (e as { statusCode?: number }).statusCode === undefined,
  }).catch((e: Error & { statusCode?: number }) => {
    throw new Error(`Failed to get ID Token. Error Code: ${e.statusCode ?? '?'}. Error Message: ${e.message}`);
  });
  const token = res.result?.value;
  if (!token) throw new Error('Response json body do not have ID Token field');
  setSecret(token);
  return token;
}
