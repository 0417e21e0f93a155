// The ARM side of src/net/azure.ts: every ARM client of a session (the modular AKS and ACR
// contexts, the @azure-rest/core-client role-assignment and subscription clients) is made with
// armClientOptions() and handed to armClient(), which puts the transport rules on its pipeline:
// no redirects, capped Retry-After, timeouts, size caps, ARM tokens to ARM's origin only.
import { createRestError, getClient, type Client, type PathUncheckedResponse } from '@azure-rest/core-client';
import type { Pipeline } from '@azure/core-rest-pipeline';
import {
  INVALID,
  azureCall,
  azureHttpClient,
  jsonObjectPolicy,
  lastTransportFailure,
  operationWithin,
  restErrorInfo,
  useNetPolicies,
} from '../net/azure.ts';
import type { AzureSession } from './types.ts';

export { lastTransportFailure, restErrorInfo };

/** Runs one ARM SDK call; any failure becomes an ApiError naming the service and operation. */
export const armCall = azureCall;

/**
 * Runs one long-running ARM call (a modular SDK function given the options it passes on) to its
 * end within `budgetMs` (src/net/azure.ts operationWithin); any failure becomes an ApiError.
 */
export function armOperation<T>(
  service: string,
  operation: string,
  start: Parameters<typeof operationWithin<T>>[1],
  opts: { intervalMs: number; budgetMs: number; hint?: Parameters<typeof azureCall>[3] },
): Promise<T> {
  return azureCall(service, operation, () => operationWithin({ service, operation }, start, opts), opts.hint);
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

/** Options for any ARM client constructor (modular context or getClient): endpoint, scopes, the guarded HttpClient. */
export function armClientOptions(session: AzureSession) {
  return {
    endpoint: session.cloud.resourceManager,
    httpClient: azureHttpClient(),
    credentials: { scopes: [`${session.cloud.armAudience}.default`] },
    userAgentOptions: { userAgentPrefix: 'acr-kube-auth' },
  };
}

/** Puts the transport rules on an ARM client's pipeline (src/net/azure.ts useNetPolicies), and ARM's "a JSON object or nothing"; returns the client. */
export function armClient<C extends { pipeline: Pipeline }>(session: AzureSession, client: C): C {
  useNetPolicies(client.pipeline, { service: 'ARM', origin: session.cloud.resourceManager, trace: (line) => session.trace(line) });
  client.pipeline.addPolicy(jsonObjectPolicy(), { afterPhase: 'Sign' });
  return client;
}

/** An @azure-rest/core-client ARM client with tokens from `tenantId` (default: the login's). */
export function armRestClient(session: AzureSession, tenantId?: string): Client {
  return armClient(session, getClient(session.cloud.resourceManager, sessionCredential(session, tenantId), armClientOptions(session)));
}

/** The body of an answer with one of the expected statuses, as the modular SDKs check it; a RestError otherwise. */
export function armBody<T>(res: PathUncheckedResponse, statuses: string[]): T {
  if (!statuses.includes(res.status)) throw createRestError(res);
  if (res.status !== '204' && (typeof res.body !== 'object' || res.body === null || Array.isArray(res.body))) {
    throw Object.assign(createRestError(`the response (HTTP ${res.status}) is not a JSON object`, res), { code: INVALID });
  }
  return res.body as T;
}

/**
 * Every item of a pageable ARM list: `value`, then `nextLink` (absolute; the origin policy keeps it
 * on ARM). A page whose `value` is not a list is an unexpected answer, not an empty page.
 */
export async function armPages<T>(client: Client, first: () => PromiseLike<PathUncheckedResponse>, maxPages = 100): Promise<T[]> {
  const out: T[] = [];
  let res = await first();
  for (let pages = 0; ; pages++) {
    const page = armBody<{ value?: unknown; nextLink?: unknown }>(res, ['200']);
    if (page.value !== undefined && !Array.isArray(page.value))
      throw Object.assign(createRestError('the list answer has no `value` array', res), { code: INVALID });
    out.push(...((page.value as T[] | undefined) ?? []));
    if (!page.nextLink || typeof page.nextLink !== 'string') return out;
    if (pages + 1 >= maxPages)
      throw Object.assign(new Error(`the list did not end after ${maxPages} pages (nextLink kept coming)`), { code: INVALID });
    res = await client.pathUnchecked(page.nextLink).get();
  }
}
