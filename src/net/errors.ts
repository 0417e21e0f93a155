// What the transport refuses or cannot get, as one error type with one wording, whichever client
// met it; `netApiError` turns it into the ApiError the step prints (service, operation, status).
import { ApiError } from '../errors.ts';

export type NetFailure =
  /** a 3xx answer: never followed */
  | 'redirect'
  /** no answer (headers and body) within the request timeout */
  | 'timeout'
  /** the connection failed: refused, reset, DNS, TLS */
  | 'unreachable'
  /** the body is over the size cap */
  | 'too-large'
  /** the request would carry a credential to another origin than the one it belongs to */
  | 'foreign-origin'
  /** the request would carry a credential or a Secret over plain HTTP */
  | 'plain-http';

export class NetError extends Error {
  override name = 'NetError';
  readonly failure: NetFailure;
  /** the HTTP status, when there was an answer */
  readonly status: number | undefined;
  /** whether sending the same request again may help (timeouts and connection failures) */
  readonly transient: boolean;
  constructor(failure: NetFailure, message: string, status?: number) {
    super(message);
    this.failure = failure;
    this.status = status;
    this.transient = failure === 'timeout' || failure === 'unreachable';
  }
}

/** The origin a URL names, for messages ("https://host:port"); never its path or query. */
export function originOf(url: string | URL, base?: string | URL): string | undefined {
  try {
    const u = new URL(url, base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : `${u.protocol}//${u.host}`;
  } catch {
    return undefined;
  }
}

export function redirected(status: number, location: string | null | undefined, requestUrl: string | URL): NetError {
  const target = location ? originOf(location, requestUrl) : undefined;
  const to = target ? ` to ${target}` : location ? ' to an invalid Location' : ' without a Location';
  return new NetError('redirect', `the answer is a redirect${to}; the action never follows redirects, so nothing was sent there`, status);
}

export function plainHttp(url: string | URL): NetError {
  return new NetError(
    'plain-http',
    `${originOf(url) ?? String(url)} is plain HTTP; the action sends credentials and Secrets only over HTTPS, so nothing was sent`,
  );
}

export function foreignOrigin(url: string | URL, allowed: string): NetError {
  return new NetError('foreign-origin', `the answer pointed at ${originOf(url) ?? 'an invalid URL'}, not at ${allowed}; the request was not sent`);
}

export function timedOut(ms: number): NetError {
  return new NetError('timeout', `no answer within ${ms} ms (timed out)`);
}

export function tooLarge(message: string): NetError {
  return new NetError('too-large', message);
}

/**
 * A failed fetch or undici request as a NetError: a timeout (ours: the request's deadline), or the
 * connection's error code (ECONNREFUSED, ECONNRESET, a TLS code), never a stack.
 */
export function transportFailure(err: unknown, host: string, timeoutMs: number, signal?: AbortSignal | null): NetError {
  if (err instanceof NetError) return err;
  const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || (e?.name === 'AbortError' && !signal?.aborted)) return timedOut(timeoutMs);
  const code = e?.cause?.code ?? e?.code;
  const detail = code && /^[A-Z0-9_]+$/.test(code) ? code : 'connection failed';
  return new NetError('unreachable', `${host} is unreachable (${detail})`);
}

/** The ApiError the step prints for a NetError met during `operation`; keeps what failed, for callers that tell apart. */
export class NetApiError extends ApiError {
  readonly failure: NetFailure;
  /** a timeout or a connection failure (the server may just be down), not an answer */
  readonly transient: boolean;
  /** what went wrong, without the service and operation ("no answer within 1500 ms (timed out)") */
  readonly detail: string;
  constructor(service: string, operation: string, e: NetError, note?: string) {
    const detail = `${e.message}${note ? ` (${note})` : ''}`;
    super({ service, operation, status: e.status, message: detail, transport: e.failure });
    this.detail = detail;
    this.failure = e.failure;
    this.transient = e.transient;
  }
}

export function netApiError(service: string, operation: string, e: NetError, note?: string): NetApiError {
  return new NetApiError(service, operation, e, note);
}
