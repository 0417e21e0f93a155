// Limits every outbound request keeps: one deadline per request over its headers and its body (so
// a hung endpoint ends in a retry and then a clean failure, never a hung step), and a cap on the
// size of a response body read into memory (so a hostile or broken server cannot exhaust the heap).
// No SDK import: the Azure pipeline, the Kubernetes transport and the fetch clients all use it.

/** Per-request timeout when ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS is not set. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * The per-request timeout in ms: how long one HTTP request (headers and body) may take before it is
 * abandoned and, where the call is retryable, retried. Environment knob
 * ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS (whole milliseconds, clamped to 100..600000; default 30000),
 * beside ACR_KUBE_AUTH_PRINCIPAL_RETRY_BUDGET_MS / _BASE_MS: the fault-injection tests shorten it
 * so that a permanent stall fails within seconds instead of minutes. Read at request time.
 */
export function requestTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  const v = env.ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS?.trim();
  if (!v || !/^\d{1,7}$/.test(v)) return DEFAULT_REQUEST_TIMEOUT_MS;
  return Math.min(600_000, Math.max(100, Number(v)));
}

/**
 * The largest response body read into memory: 16 MiB. ARM, Graph, Kubernetes and ACR answers the
 * action asks for are kilobytes (a page of a list is at most a few hundred kilobytes).
 */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** A response body over MAX_RESPONSE_BYTES: reading stopped there. */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
  constructor(limit = MAX_RESPONSE_BYTES) {
    super(`the response body is larger than ${Math.round(limit / 1024 / 1024)} MiB; it was not read`);
  }
}

/** Reads a stream up to `limit` bytes; over it, stops reading (the stream is cancelled) and throws ResponseTooLargeError. */
export async function readCapped(stream: AsyncIterable<Uint8Array> | null | undefined, limit = MAX_RESPONSE_BYTES): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  // A WHATWG ReadableStream (fetch) or a Node stream (undici's request): both iterate, and leaving
  // the loop early cancels or destroys the stream.
  for await (const value of stream) {
    size += value.byteLength;
    if (size > limit) throw new ResponseTooLargeError(limit);
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Whether a declared Content-Length is already over the cap (the body is then not read at all). */
export function declaredTooLarge(contentLength: string | null | undefined, limit = MAX_RESPONSE_BYTES): boolean {
  const n = Number(contentLength);
  return contentLength != null && contentLength !== '' && Number.isFinite(n) && n > limit;
}
