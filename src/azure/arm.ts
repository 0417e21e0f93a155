// Shared plumbing for the @azure/arm-* clients: endpoint and scopes from the cloud, our own retry
// policy budget, a per-request timeout, debug tracing (method, path, status, duration; never
// bodies or headers), and the mapping of RestError into ApiError at the client boundary.
import { RestError, createDefaultHttpClient } from '@azure/core-rest-pipeline';
import type { HttpClient, PipelinePolicy } from '@azure/core-rest-pipeline';
import { ApiError } from '../errors.ts';
import { MAX_RESPONSE_BYTES, ResponseTooLargeError, requestTimeoutMs } from '../net-limits.ts';
import type { AzureSession } from './types.ts';

/** RestError code of a request that got no answer within requestTimeoutMs() (a code the SDK retry policies retry). */
const TIMED_OUT = 'ETIMEDOUT';
const TOO_LARGE = 'RESPONSE_TOO_LARGE';

/** origin -> the last transport failure of a request to it ("timed out after 1500 ms", "ECONNRESET"). */
const transportFailures = new Map<string, string>();

/**
 * The last transport failure of a request to `url`'s origin, for messages of SDKs that drop it
 * (MSAL reports any of them as `network_error`).
 */
export function lastTransportFailure(url: string): string | undefined {
  return transportFailures.get(originOf(url));
}

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
};
const noteFailure = (url: string, what: string) => void transportFailures.set(originOf(url), what);

/**
 * The HttpClient under every Azure call (ARM SDK clients, Graph, @azure/identity's token
 * requests). The SDKs' own client sets no timeout unless asked and reads any body whole, so:
 *   - every request gets requestTimeoutMs() (headers and body), and a request that times out is
 *     rethrown as a RestError with code ETIMEDOUT, which the pipelines' retry policies retry (the
 *     SDK's AbortError is not retried: a stalled endpoint would fail at once, or never time out);
 *   - a body over MAX_RESPONSE_BYTES stops being read and fails the call (not retried);
 *   - the last failure per origin is noted for lastTransportFailure().
 */
export function guardedHttpClient(inner: HttpClient = createDefaultHttpClient(), limit = MAX_RESPONSE_BYTES): HttpClient {
  return {
    async sendRequest(request) {
      if (!request.timeout) request.timeout = requestTimeoutMs();
      let tooLarge = false;
      const progress = request.onDownloadProgress;
      request.onDownloadProgress = (p) => {
        if (p.loadedBytes > limit) {
          tooLarge = true;
          throw new ResponseTooLargeError(limit);
        }
        progress?.(p);
      };
      try {
        const res = await inner.sendRequest(request);
        const type = res.headers.get('content-type');
        if (type && !/json/i.test(type) && res.bodyAsText) noteFailure(request.url, `HTTP ${res.status} with ${type.split(';')[0]}, not JSON`);
        else transportFailures.delete(originOf(request.url));
        return res;
      } catch (e) {
        if (tooLarge) {
          const message = new ResponseTooLargeError(limit).message;
          noteFailure(request.url, message);
          throw new RestError(message, { code: TOO_LARGE, request });
        }
        if ((e as Error)?.name === 'AbortError' && !request.abortSignal?.aborted) {
          noteFailure(request.url, `timed out after ${request.timeout} ms`);
          throw new RestError(`no answer within ${request.timeout} ms (timed out)`, { code: TIMED_OUT, request });
        }
        const code = (e as { code?: string })?.code;
        if (code && code !== 'PARSE_ERROR') noteFailure(request.url, code);
        throw e;
      } finally {
        request.onDownloadProgress = progress;
      }
    },
  };
}

export function tracePolicy(session: AzureSession, service: string): PipelinePolicy {
  return {
    name: 'acrKubeAuthTrace',
    async sendRequest(request, next) {
      if (!request.timeout) request.timeout = requestTimeoutMs();
      const started = Date.now();
      const path = new URL(request.url).pathname;
      try {
        const res = await next(request);
        session.trace(`${service} ${request.method} ${path} -> ${res.status} (${Date.now() - started} ms)`);
        return res;
      } catch (e) {
        session.trace(`${service} ${request.method} ${path} -> ${(e as { code?: string }).code ?? 'error'} (${Date.now() - started} ms)`);
        throw e;
      }
    },
  };
}

/**
 * ARM tokens go to ARM only: a request whose URL is not on the cloud's resource manager (a hostile
 * `nextLink`, or an `Azure-AsyncOperation` / `Location` header of a long-running operation that
 * points elsewhere) fails instead of carrying the bearer token to another host.
 */
export function armOriginPolicy(resourceManager: string): PipelinePolicy {
  const origin = new URL(resourceManager).origin;
  return {
    name: 'acrKubeAuthArmOrigin',
    async sendRequest(request, next) {
      let target: string;
      try {
        target = new URL(request.url).origin;
      } catch {
        target = '';
      }
      if (target !== origin) {
        throw new RestError(`the answer pointed at ${target || 'an invalid URL'}, not at ${origin}; the request was not sent`, {
          code: 'ForeignUrl',
          request,
        });
      }
      return next(request);
    },
  };
}

/**
 * A TokenCredential for SDK clients that goes through the session: one cached, masked token per
 * audience and tenant shared by every client (`tenantId` pins a tenant, e.g. the registry's).
 */
export function sessionCredential(session: AzureSession, tenantId?: string) {
  return {
    async getToken(scopes: string | string[], options?: { tenantId?: string }) {
      const scope = Array.isArray(scopes) ? scopes[0] : scopes;
      const token = await session.token(scope, options?.tenantId ?? tenantId);
      // the session refreshes ahead of expiry; let the SDK ask again every few minutes
      return { token, expiresOnTimestamp: Date.now() + 5 * 60_000 };
    },
  };
}

/** Options for any @azure/arm-* client constructor. */
/** One HTTP client (one keep-alive connection pool) for every ARM SDK client of a session. */
const httpClients = new WeakMap<AzureSession, HttpClient>();
function sharedHttpClient(session: AzureSession): HttpClient {
  let c = httpClients.get(session);
  if (!c) httpClients.set(session, (c = guardedHttpClient()));
  return c;
}

export function armClientOptions(session: AzureSession) {
  return {
    endpoint: session.cloud.resourceManager,
    httpClient: sharedHttpClient(session),
    credentialScopes: [`${session.cloud.armAudience}.default`],
    retryOptions: { maxRetries: 5, retryDelayInMs: 500, maxRetryDelayInMs: 10_000 },
    additionalPolicies: [
      { policy: armOriginPolicy(session.cloud.resourceManager), position: 'perRetry' as const },
      { policy: tracePolicy(session, 'ARM'), position: 'perRetry' as const },
    ],
    userAgentOptions: { userAgentPrefix: 'acr-kube-auth' },
  };
}

interface RestErrorLike {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  details?: unknown;
  response?: { bodyAsText?: string | null };
}

/** Parses ARM's `{ error: { code, message } }` from a RestError. */
export function restErrorInfo(e: unknown): { status?: number; code?: string; message: string } {
  const r = e as RestErrorLike;
  let code = r?.code;
  let message = r?.message ?? String(e);
  const body = r?.response?.bodyAsText;
  if (code === 'PARSE_ERROR') {
    // the SDK's message quotes the body; say what is wrong instead
    return {
      status: r?.statusCode,
      code: 'InvalidResponse',
      message: `the response${r?.statusCode ? ` (HTTP ${r.statusCode})` : ''} is not valid JSON`,
    };
  }
  if (code === TIMED_OUT || code === TOO_LARGE || code === 'ForeignUrl') return { status: r?.statusCode, message };
  if (body) {
    try {
      const j = JSON.parse(body) as { error?: { code?: string; message?: string }; code?: string; message?: string };
      const inner = j.error ?? j;
      if (inner.code) code = inner.code;
      if (inner.message) message = inner.message;
    } catch {
      // not JSON: keep the SDK's message (never a whole body)
    }
  }
  if (message.length > 600) message = `${message.slice(0, 600)}...`;
  return { status: r?.statusCode, code, message: message.replace(/\s*\r?\n\s*/g, ' ') };
}

/** Runs one SDK call; any failure becomes an ApiError naming the service and operation. */
export async function armCall<T>(
  service: string,
  operation: string,
  fn: () => Promise<T>,
  hint?: (info: { status?: number; code?: string }) => string | undefined,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if ((e as Error)?.name === 'AuthError') throw e;
    const info = restErrorInfo(e);
    if (info.status === undefined && (e as Error)?.name === 'AbortError') info.message = 'timed out';
    throw new ApiError({ service, operation, status: info.status, code: info.code, message: info.message, hint: hint?.(info) });
  }
}
