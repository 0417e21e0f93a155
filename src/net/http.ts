// The action's own HTTP client for the calls no SDK makes: the ACR token service (/oauth2/exchange,
// /oauth2/token), the registry credential check (/v2/) and GitHub's OIDC token. Node's fetch,
// under the transport rules every client keeps:
//   - HTTPS only: every one of these requests carries a credential (nothing is sent otherwise);
//   - redirects are never followed (`redirect: 'manual'`): a 3xx is an error naming where it pointed;
//   - one deadline per attempt over headers and body (requestTimeoutMs(), the
//     ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS knob), and the body read up to MAX_RESPONSE_BYTES;
//   - transport failures, 408, 429 and 5xx retried as src/net/retry.ts says (Retry-After capped).
// Every failure is an ApiError naming the service and the operation.
import { ApiError } from '../errors.ts';
import { MAX_RESPONSE_BYTES, declaredTooLarge, readCapped, requestTimeoutMs, ResponseTooLargeError } from './limits.ts';
import { retryAfterMs, retrying } from './retry.ts';
import { NetError, netApiError, plainHttp, redirected, tooLarge, transportFailure } from './errors.ts';

export interface HttpRequest {
  /** for messages and traces: "ACR", "GitHub OIDC", "registry" */
  service: string;
  /** for messages: "token exchange (myreg.azurecr.io)" */
  operation: string;
  method: 'GET' | 'POST' | 'HEAD';
  url: URL;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** the body as text ('' when the caller asked not to read it) */
  text: string;
  /**
   * Set when the answer is a retryable failure (429, 5xx) that retries did not get past: what was
   * tried, and the wait the server asked for (for the caller's message).
   */
  gaveUp?: string;
}

export interface HttpOptions {
  /** debug tracing: method, host, path, status, duration (never bodies, headers or the query) */
  trace?: (line: string) => void;
  /** per attempt, headers and body (default: requestTimeoutMs()) */
  timeoutMs?: number;
  /** only the status and headers matter: the body is dropped unread */
  discardBody?: boolean;
}

/** Sends one request under the transport rules; the answer (any status but 3xx), or an ApiError. */
export async function send(req: HttpRequest, opts: HttpOptions = {}): Promise<HttpAnswer> {
  const { service, operation, url } = req;
  if (url.protocol !== 'https:') throw netApiError(service, operation, plainHttp(url));
  const timeoutMs = opts.timeoutMs ?? requestTimeoutMs();
  const once = async (): Promise<HttpAnswer> => {
    const started = Date.now();
    const trace = (what: string | number) =>
      opts.trace?.(`${service} ${req.method} ${url.host}${url.pathname} -> ${what} (${Date.now() - started} ms)`);
    let answer: HttpAnswer;
    try {
      answer = await attempt(req, timeoutMs, opts.discardBody ?? false);
    } catch (e) {
      const failure = e instanceof ResponseTooLargeError ? tooLarge(e.message) : transportFailure(e, url.host, timeoutMs);
      trace(failure.failure);
      throw failure;
    }
    trace(answer.status);
    if (answer.status >= 300 && answer.status < 400) throw redirected(answer.status, answer.headers.get('location'), url);
    return answer;
  };
  try {
    const { answer, gaveUp } = await retrying(once, {
      status: (a) => a.status,
      retryAfterMs: (a) => retryAfterMs((h) => a.headers.get(h)),
      transient: (e) => e instanceof NetError && e.transient,
      exhausted: (e, note) => netApiError(service, operation, e as NetError, note),
    });
    return gaveUp ? { ...answer, gaveUp } : answer;
  } catch (e) {
    throw e instanceof NetError ? netApiError(service, operation, e) : e;
  }
}

async function attempt(req: HttpRequest, timeoutMs: number, discard: boolean): Promise<HttpAnswer> {
  // The signal covers the body too: fetch's body stream aborts when it fires.
  const res = await fetch(req.url, {
    method: req.method,
    headers: req.headers,
    body: req.body,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (discard || (res.status >= 300 && res.status < 400)) {
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status, headers: res.headers, text: '' };
  }
  if (declaredTooLarge(res.headers.get('content-length'))) {
    await res.body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(MAX_RESPONSE_BYTES);
  }
  const text = (await readCapped(res.body)).toString('utf8');
  return { status: res.status, headers: res.headers, text };
}

/** An ApiError for an answer the caller did not expect: names the status and what was expected. */
export function unexpectedAnswer(req: Pick<HttpRequest, 'service' | 'operation'>, answer: HttpAnswer, expected: string, detail?: string): ApiError {
  return new ApiError({
    service: req.service,
    operation: req.operation,
    status: answer.status,
    message: `${detail ? `${detail}; ` : ''}expected ${expected}${answer.gaveUp ? ` (${answer.gaveUp})` : ''}`,
  });
}
