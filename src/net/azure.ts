// The transport rules (src/net/retry.ts, errors.ts, limits.ts) as @azure/core-rest-pipeline parts,
// for every Azure call: the ARM clients (the modular AKS and ACR APIs and the @azure-rest/core-client
// role-assignment and subscription clients), Graph, and @azure/identity's token requests.
//   - azureHttpClient(): the HttpClient under every pipeline. Sets the per-request timeout (headers
//     and body), stops reading a body at MAX_RESPONSE_BYTES, refuses plain HTTP, and turns every
//     3xx into an error naming where it pointed (core-rest-pipeline's redirectPolicy would follow
//     307 and 308 with the body; it is removed too, so nothing above ever sees a 3xx).
//   - useNetPolicies(pipeline): replaces the SDK's retry policy (which sleeps as long as Retry-After
//     asks) with ours, adds the origin check (credentials only to the service's own origin) and the
//     debug trace. identityOptions() does the same through options, for @azure/identity.
//   - azureCall() / restErrorInfo(): the one mapping of what a pipeline throws into ApiError.
//   - operationWithin(): one overall time budget for a long-running operation's polling.
import {
  RestError,
  bearerTokenAuthenticationPolicyName,
  createDefaultHttpClient,
  redirectPolicyName,
  type HttpClient,
  type Pipeline,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { ApiError } from '../errors.ts';
import { MAX_RESPONSE_BYTES, ResponseTooLargeError, requestTimeoutMs } from './limits.ts';
import { retryAfterMs, retrying, seconds } from './retry.ts';
import { foreignOrigin, originOf, plainHttp, redirected, timedOut, type NetError, type NetFailure } from './errors.ts';

/** RestError codes of what the transport refused or gave up on (ETIMEDOUT: the retry policy retries it). */
const CODE: Record<NetFailure | 'gave-up', string> = {
  timeout: 'ETIMEDOUT',
  'too-large': 'RESPONSE_TOO_LARGE',
  redirect: 'Redirect',
  'foreign-origin': 'ForeignUrl',
  'plain-http': 'PlainHttp',
  unreachable: 'ECONNREFUSED',
  'gave-up': 'RetriesExhausted',
};
/** RestError code of an answer of the wrong shape (a list without `value`, a body that is not an object). */
export const INVALID = 'InvalidResponse';
const OURS = new Set([CODE.timeout, CODE['too-large'], CODE.redirect, CODE['foreign-origin'], CODE['plain-http'], CODE['gave-up']]);
/** Transport error codes worth another attempt (those core-rest-pipeline's own retry retries, and a few more). */
const TRANSIENT = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'REQUEST_SEND_ERROR',
]);

function restError(e: NetError, request: PipelineRequest, response?: PipelineResponse): RestError {
  return new RestError(e.message, { code: CODE[e.failure], statusCode: e.status, request, response });
}

// ------------------------------------------------------------------------------ failures by origin

/** origin -> the last transport failure of a request to it ("no answer within 1500 ms", "ECONNRESET"). */
const transportFailures = new Map<string, string>();

/**
 * The last transport failure of a request to `url`'s origin, for messages of SDKs that drop it
 * (MSAL reports any of them as `network_error`).
 */
export function lastTransportFailure(url: string): string | undefined {
  return transportFailures.get(originOf(url) ?? '');
}
const noteFailure = (url: string, what: string) => void transportFailures.set(originOf(url) ?? '', what);

// ------------------------------------------------------------------------------ the HttpClient

let shared: HttpClient | undefined;

/** One guarded HttpClient (one keep-alive connection pool) for every Azure pipeline of the run. */
export function azureHttpClient(): HttpClient {
  return (shared ??= guardedHttpClient());
}

/**
 * The HttpClient under every Azure call. The SDKs' own client sets no timeout unless asked, reads
 * any body whole and hands 3xx answers to a policy that follows them, so:
 *   - a plain-HTTP URL is refused before anything is sent;
 *   - every request gets requestTimeoutMs() (headers and body); a timeout becomes a RestError with
 *     code ETIMEDOUT, which the retry policy retries (the SDK's AbortError would not be);
 *   - a body over `limit` stops being read and fails the call (not retried);
 *   - any 3xx is an error naming the host it pointed to: nothing is sent there;
 *   - the last failure per origin is noted for lastTransportFailure().
 */
export function guardedHttpClient(inner: HttpClient = createDefaultHttpClient(), limit = MAX_RESPONSE_BYTES): HttpClient {
  return {
    async sendRequest(request) {
      if (!/^https:/i.test(request.url)) throw restError(plainHttp(request.url), request);
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
        if (res.status >= 300 && res.status < 400) {
          const e = redirected(res.status, res.headers.get('location'), request.url);
          noteFailure(request.url, `HTTP ${res.status}: ${e.message}`);
          throw restError(e, request, res);
        }
        const type = res.headers.get('content-type');
        if (type && !/json/i.test(type) && res.bodyAsText) noteFailure(request.url, `HTTP ${res.status} with ${type.split(';')[0]}, not JSON`);
        else transportFailures.delete(originOf(request.url) ?? '');
        return res;
      } catch (e) {
        if (tooLarge) {
          const message = new ResponseTooLargeError(limit).message;
          noteFailure(request.url, message);
          throw new RestError(message, { code: CODE['too-large'], request });
        }
        if ((e as Error)?.name === 'AbortError' && !request.abortSignal?.aborted) {
          const t = timedOut(request.timeout);
          noteFailure(request.url, t.message);
          throw restError(t, request);
        }
        const code = (e as { code?: string })?.code;
        if (code && code !== 'PARSE_ERROR' && !OURS.has(code)) noteFailure(request.url, code);
        throw e;
      } finally {
        request.onDownloadProgress = progress;
      }
    },
  };
}

// ------------------------------------------------------------------------------ policies

export interface NetPolicyOptions {
  /** for traces and messages: "ARM", "Graph", "Entra ID" */
  service: string;
  /** the one origin this pipeline's requests (and so its credentials) may go to */
  origin: string;
  /** debug tracing: method, path, status, duration (never bodies or headers) */
  trace?: (line: string) => void;
}

/**
 * Retries as src/net/retry.ts says: transport failures and 408/429/5xx, Retry-After capped, all
 * attempts within the request budget. When the retries end on a retryable status, the answer
 * becomes a RestError (code RetriesExhausted) whose message says what was tried and the wait the
 * server asked for; the status and the body stay on it for the error mapping.
 */
export function retryPolicy(opts: Pick<NetPolicyOptions, 'service'>): PipelinePolicy {
  return {
    name: 'acrKubeAuthRetry',
    async sendRequest(request, next) {
      const { answer: res, gaveUp } = await retrying(() => next(request), {
        status: (r) => r.status,
        retryAfterMs: (r) => retryAfterMs((h) => r.headers.get(h)),
        transient: (e) => e instanceof RestError && !!e.code && TRANSIENT.has(e.code),
        exhausted: (e, note) => {
          const err = e as RestError;
          noteFailure(request.url, `${lastTransportFailure(request.url) ?? err.code}, ${note}`);
          err.message = `${err.message} (${note})`;
          return err;
        },
        signal: request.abortSignal,
      });
      if (!gaveUp) return res;
      const message = `${opts.service} answered HTTP ${res.status} ${gaveUp}`;
      noteFailure(request.url, message);
      throw new RestError(message, { code: CODE['gave-up'], statusCode: res.status, request, response: res });
    },
  };
}

/** Credentials only to their own origin: a request elsewhere (a nextLink, an LRO header, a token endpoint) fails unsent. */
export function originPolicy(opts: Pick<NetPolicyOptions, 'origin'>): PipelinePolicy {
  const allowed = originOf(opts.origin) ?? opts.origin;
  return {
    name: 'acrKubeAuthOrigin',
    async sendRequest(request, next) {
      if (originOf(request.url) !== allowed) throw restError(foreignOrigin(request.url, allowed), request);
      return next(request);
    },
  };
}

export function tracePolicy(opts: NetPolicyOptions): PipelinePolicy {
  return {
    name: 'acrKubeAuthTrace',
    async sendRequest(request, next) {
      const started = Date.now();
      const path = new URL(request.url).pathname;
      try {
        const res = await next(request);
        opts.trace?.(`${opts.service} ${request.method} ${path} -> ${res.status} (${Date.now() - started} ms)`);
        return res;
      } catch (e) {
        opts.trace?.(`${opts.service} ${request.method} ${path} -> ${(e as { code?: string }).code ?? 'error'} (${Date.now() - started} ms)`);
        throw e;
      }
    },
  };
}

/**
 * ARM answers with a JSON object or nothing: every response body the specs define for the
 * operations the action calls (shared/azure-api/specs: resources, list pages, operation statuses,
 * ErrorResponse) is an object. A body that parses as JSON but is `null`, a list or a scalar fails
 * here, with its status, before an SDK reads fields off it.
 */
export function jsonObjectPolicy(): PipelinePolicy {
  return {
    name: 'acrKubeAuthJsonObject',
    async sendRequest(request, next) {
      const res = await next(request);
      const text = res.bodyAsText?.trim();
      if (!text || !/^[[\d"ntf-]/.test(text)) return res; // empty, an object, or not JSON (the SDK says so)
      let kind: string;
      try {
        const v: unknown = JSON.parse(text);
        kind = v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? '' : `a ${typeof v}`;
      } catch {
        return res;
      }
      if (!kind) return res;
      throw new RestError(`the answer (HTTP ${res.status}) is ${kind}, not the JSON object the service sends`, {
        code: INVALID,
        statusCode: res.status,
        request,
        response: res,
      });
    },
  };
}

/**
 * Puts the transport rules on a pipeline the action holds (a client's `pipeline`, or one it built):
 * the SDK's redirect and retry policies out, ours in. The origin check runs before the bearer
 * token policy, so a foreign or plain-HTTP URL is refused before a token is even asked for.
 */
export function useNetPolicies(pipeline: Pipeline, opts: NetPolicyOptions): Pipeline {
  pipeline.removePolicy({ name: redirectPolicyName });
  pipeline.removePolicy({ phase: 'Retry' });
  pipeline.addPolicy(originPolicy(opts), { beforePolicies: [bearerTokenAuthenticationPolicyName] });
  pipeline.addPolicy(retryPolicy(opts));
  pipeline.addPolicy(tracePolicy(opts), { afterPhase: 'Sign' });
  return pipeline;
}

/** Options for an SDK client whose pipeline the action does not hold (@azure/identity's credentials): the same rules. */
export function netClientOptions(opts: NetPolicyOptions) {
  return {
    httpClient: azureHttpClient(),
    retryOptions: { maxRetries: 0 },
    redirectOptions: { maxRetries: 0 },
    additionalPolicies: [
      { policy: originPolicy(opts), position: 'perCall' as const },
      { policy: retryPolicy(opts), position: 'perCall' as const },
      { policy: tracePolicy(opts), position: 'perRetry' as const },
    ],
    userAgentOptions: { userAgentPrefix: 'acr-kube-auth' },
  };
}

// ------------------------------------------------------------------------------ long-running operations

/** The longest the action waits for one long-running operation when not told otherwise. */
export const OPERATION_BUDGET_MS = 30 * 60_000;

/**
 * The overall budget of one long-running operation, in ms: `defaultMs`, or the
 * ACR_KUBE_AUTH_OPERATION_BUDGET_MS knob (whole milliseconds, 1000..3600000), which the tests use
 * to see an operation that never ends fail within seconds.
 */
export function operationBudgetMs(defaultMs = OPERATION_BUDGET_MS, env: Record<string, string | undefined> = process.env): number {
  const v = env.ACR_KUBE_AUTH_OPERATION_BUDGET_MS?.trim();
  if (!v || !/^\d{1,7}$/.test(v)) return defaultMs;
  return Math.min(3_600_000, Math.max(1000, Number(v)));
}

/** What a modular SDK's long-running call returns, as far as the action uses it. */
interface Poller<T> {
  pollUntilDone(options?: { abortSignal?: AbortSignal }): Promise<T>;
}

/**
 * Starts a long-running operation and polls it to the end within `budgetMs`: the SDK's poller
 * waits as each poll's Retry-After asks (ARM allows 10 s to 10 min) or `intervalMs` without one,
 * and the budget's signal ends the wait and any poll in flight. Past the budget: an ApiError.
 */
export async function operationWithin<T>(
  where: { service: string; operation: string },
  start: (options: { abortSignal: AbortSignal; updateIntervalInMs: number }) => Poller<T>,
  opts: { intervalMs: number; budgetMs?: number },
): Promise<T> {
  const budgetMs = opts.budgetMs ?? operationBudgetMs();
  const signal = AbortSignal.timeout(budgetMs);
  try {
    return await start({ abortSignal: signal, updateIntervalInMs: opts.intervalMs }).pollUntilDone({ abortSignal: signal });
  } catch (e) {
    if (!signal.aborted) throw e;
    throw new ApiError({
      ...where,
      code: 'OperationTimedOut',
      message: `the operation was still running after ${seconds(budgetMs)}, the most the action waits for one operation; Azure may still complete it.`,
      hint: 'Check the resource in the Azure portal, then run the step again.',
    });
  }
}

// ------------------------------------------------------------------------------ error mapping

interface RestErrorLike {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  response?: { bodyAsText?: string | null };
}

/** The service's `{ error: { code, message } }` (ARM, Graph) or `{ code, message }` from a body, if any. */
function bodyError(body: string | null | undefined): { code?: string; message?: string } {
  if (!body) return {};
  try {
    const j = JSON.parse(body) as { error?: unknown; code?: unknown; message?: unknown } | null;
    const inner = (j && typeof j === 'object' && j.error && typeof j.error === 'object' ? j.error : j) as {
      code?: unknown;
      message?: unknown;
    } | null;
    if (!inner || typeof inner !== 'object') return {};
    return {
      code: typeof inner.code === 'string' ? inner.code : undefined,
      message: typeof inner.message === 'string' ? inner.message : undefined,
    };
  } catch {
    return {}; // not JSON: never print a whole body
  }
}

const clip = (s: string) => (s.length > 600 ? `${s.slice(0, 600)}...` : s).replace(/\s*\r?\n\s*/g, ' ');

/** What a RestError (or anything a pipeline threw) says: status, the service's error code, one line of message; how the transport failed, when it did. */
export function restErrorInfo(e: unknown): { status?: number; code?: string; message: string; transport?: NetFailure } {
  const r = e as RestErrorLike;
  const status = r?.statusCode;
  const transport = (Object.keys(CODE) as (NetFailure | 'gave-up')[]).find((k) => k !== 'gave-up' && CODE[k] === r?.code) as NetFailure | undefined;
  if (r?.code === 'PARSE_ERROR') {
    // the SDK's message quotes the body; say what is wrong instead
    return { status, code: INVALID, message: `the response${status ? ` (HTTP ${status})` : ''} is not valid JSON` };
  }
  if (r?.code && OURS.has(r.code) && r.code !== CODE['gave-up']) return { status, message: r.message ?? String(e), transport };
  if (r?.code === INVALID) return { status, code: INVALID, message: clip(r.message ?? 'the answer is not of the documented shape') };
  const fromBody = bodyError(r?.response?.bodyAsText);
  if (r?.code === CODE['gave-up']) {
    // "ARM answered HTTP 429 after 3 attempts in 40 s; the server asked to wait 3600 s ..."
    const note = (r.message ?? '').replace(/^.*? answered HTTP \d+ /, '');
    return { status, code: fromBody.code, message: clip(`${fromBody.message ?? `HTTP ${status}`} (${note})`) };
  }
  if (e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError) {
    // a TypeError or similar from an SDK reading an answer it did not expect: never its text
    return { status, code: INVALID, message: 'the answer is not of the shape the service documents for this operation' };
  }
  const unanswered = status === undefined && !!r?.code && TRANSIENT.has(r.code) ? (transport ?? 'unreachable') : transport;
  return { status, code: fromBody.code ?? r?.code, message: clip(fromBody.message ?? r?.message ?? String(e)), transport: unanswered };
}

/** Runs one SDK call; any failure becomes an ApiError naming the service and operation. */
export async function azureCall<T>(
  service: string,
  operation: string,
  fn: () => Promise<T>,
  hint?: (info: { status?: number; code?: string; message?: string }) => string | undefined,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if ((e as Error)?.name === 'AuthError') throw e;
    const info = restErrorInfo(e);
    if (info.status === undefined && (e as Error)?.name === 'AbortError') info.message = 'timed out';
    throw new ApiError({
      service,
      operation,
      status: info.status,
      code: info.code,
      message: info.message,
      hint: hint?.(info),
      transport: info.transport,
    });
  }
}
