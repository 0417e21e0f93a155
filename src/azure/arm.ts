// Shared plumbing for the @azure/arm-* clients: endpoint and scopes from the cloud, our own retry
// policy budget, a per-request timeout, debug tracing (method, path, status, duration; never
// bodies or headers), and the mapping of RestError into ApiError at the client boundary.
import { createDefaultHttpClient } from '@azure/core-rest-pipeline';
import type { HttpClient, PipelinePolicy } from '@azure/core-rest-pipeline';
import { ApiError } from '../errors.ts';
import type { AzureSession } from './types.ts';

export const REQUEST_TIMEOUT_MS = 30_000;

export function tracePolicy(session: AzureSession, service: string): PipelinePolicy {
  return {
    name: 'acrKubeAuthTrace',
    async sendRequest(request, next) {
      if (!request.timeout) request.timeout = REQUEST_TIMEOUT_MS;
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
  if (!c) httpClients.set(session, (c = createDefaultHttpClient()));
  return c;
}

export function armClientOptions(session: AzureSession) {
  return {
    endpoint: session.cloud.resourceManager,
    httpClient: sharedHttpClient(session),
    credentialScopes: [`${session.cloud.armAudience}.default`],
    retryOptions: { maxRetries: 5, retryDelayInMs: 500, maxRetryDelayInMs: 10_000 },
    additionalPolicies: [{ policy: tracePolicy(session, 'ARM'), position: 'perRetry' as const }],
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
