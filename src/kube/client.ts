// KubeClient over @kubernetes/client-node (loaded only on the pull-secret path). Every call has a
// timeout and transient failures (429, 5xx, resets) are retried; errors become ApiError.
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, ApiException } from '@kubernetes/client-node';
import type { ConfigurationOptions, ObservableMiddleware, RequestContext } from '@kubernetes/client-node';
import { of } from '@kubernetes/client-node/dist/gen/rxjsStub.js';
import { ApiError } from '../errors.ts';
import { withRetry } from '../retry.ts';
import type { KubeClient, LiveSecret, LiveServiceAccount } from './types.ts';
import type { KubeconfigSource } from './kubeconfig.ts';
import type { SecretObject } from './render.ts';
import { MANAGER } from './render.ts';
import { ResponseTooLargeError, requestTimeoutMs } from '../net-limits.ts';
import { dispatcherHttpLibrary } from './http.ts';

export interface KubeClientOptions {
  timeoutMs?: number;
  debug?: (line: string) => void;
}

export function createKubeClient(source: KubeconfigSource, opts: KubeClientOptions = {}): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromString(source.text);
  kc.setCurrentContext(source.context);
  const server = kc.getCurrentCluster()?.server ?? '(unknown server)';
  // @kubernetes/client-node builds a new undici Agent (TLS context, connection pool) for every
  // request in KubeConfig.createDispatcher. One per client is enough: keep the first. (The
  // middleware below also pins it on each request, in case a later version renames the method.)
  const kcInternals = kc as unknown as { createDispatcher?: (...args: unknown[]) => unknown };
  const createDispatcher = kcInternals.createDispatcher?.bind(kc);
  if (createDispatcher) {
    let cached: unknown;
    kcInternals.createDispatcher = (...args: unknown[]) => (cached ??= createDispatcher(...args));
  }
  const api = kc.makeApiClient(CoreV1Api);
  // Requests share that one dispatcher's keep-alive connections: a hundred namespaces cost a
  // handful of TLS handshakes instead of four hundred.
  let dispatcher: ReturnType<RequestContext['getDispatcher']>;
  // Every request: a timeout over headers and body (opts.timeoutMs, else requestTimeoutMs(), the
  // ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS knob). The body's size cap is in ./http.ts, which sends.
  const timing: ObservableMiddleware = {
    pre: (ctx) => {
      ctx.setSignal(AbortSignal.timeout(opts.timeoutMs ?? requestTimeoutMs()));
      if (dispatcher === undefined) dispatcher = ctx.getDispatcher();
      else ctx.setDispatcher(dispatcher);
      return of(ctx);
    },
    post: (res) => of(res),
  };
  const options = (contentType?: string): ConfigurationOptions<ObservableMiddleware> => {
    // One tracer per call (options are made per call): method, path, status and duration under
    // debug, never the body or headers.
    let started = 0;
    let line = '';
    const trace: ObservableMiddleware = {
      pre: (ctx) => {
        started = Date.now();
        line = `Kubernetes ${ctx.getHttpMethod()} ${new URL(ctx.getUrl()).pathname}`;
        return of(ctx);
      },
      post: (res) => {
        opts.debug?.(`${line} -> ${res.httpStatusCode} (${Date.now() - started} ms)`);
        return of(res);
      },
    };
    const base: ConfigurationOptions<ObservableMiddleware> = {
      middleware: [timing, trace],
      middlewareMergeStrategy: 'append',
      httpApi: dispatcherHttpLibrary,
    };
    return contentType ? setHeaderOptions('Content-Type', contentType, base) : base;
  };

  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(
      async () => {
        const started = Date.now();
        try {
          return await fn();
        } catch (err) {
          // HTTP answers are traced by the per-call middleware; here only what never got one.
          if (!(err instanceof ApiException)) opts.debug?.(`Kubernetes ${operation}: ${(err as Error).name} (${Date.now() - started} ms)`);
          throw toApiError(operation, err, server, opts.timeoutMs ?? requestTimeoutMs());
        }
      },
      {
        attempts: 6,
        baseMs: 300,
        budgetMs: 60_000,
        retryable: (e) => {
          const s = (e as ApiError).status;
          if ((e as ApiError).code === INVALID_RESPONSE) return false; // the same answer again
          if (s === undefined) return true; // network error, reset, timeout
          return s === 429 || s >= 500;
        },
      },
    );
  }

  const notFound = (e: unknown) => e instanceof ApiError && e.status === 404;

  return {
    server,
    async namespaceExists(name) {
      try {
        await call(`get namespace ${name}`, () => api.readNamespace({ name }, options()));
        return true;
      } catch (e) {
        if (notFound(e)) return false;
        throw e;
      }
    },
    async listNamespaces() {
      try {
        const list = await call('list namespaces', () => api.listNamespace({}, options()));
        return list.items.map((n) => n.metadata?.name ?? '').filter(Boolean);
      } catch (e) {
        if (e instanceof ApiError && (e.status === 403 || e.status === 401)) return undefined;
        throw e;
      }
    },
    async createNamespace(name) {
      try {
        await call(`create namespace ${name}`, () =>
          api.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, fieldManager: MANAGER }, options()),
        );
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) return; // created meanwhile by someone else
        throw e;
      }
    },
    async getSecret(namespace, name) {
      try {
        return (await call(`get secret ${namespace}/${name}`, () =>
          api.readNamespacedSecret({ name, namespace }, options()),
        )) as unknown as LiveSecret;
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    },
    async createSecret(secret: SecretObject) {
      const { name, namespace } = secret.metadata;
      return (await call(`create secret ${namespace}/${name}`, () =>
        api.createNamespacedSecret({ namespace, body: secret, fieldManager: MANAGER }, options()),
      )) as unknown as LiveSecret;
    },
    async applySecret(secret: SecretObject, resourceVersion: string) {
      const body = { ...secret, metadata: { ...secret.metadata, resourceVersion } };
      const { name, namespace } = secret.metadata;
      return (await call(`apply secret ${namespace}/${name}`, () =>
        api.patchNamespacedSecret({ name, namespace, body, fieldManager: MANAGER, force: true }, options(PatchStrategy.ServerSideApply)),
      )) as unknown as LiveSecret;
    },
    async deleteSecret(namespace, name, resourceVersion) {
      try {
        await call(`delete secret ${namespace}/${name}`, () =>
          api.deleteNamespacedSecret({ name, namespace, body: { preconditions: { resourceVersion } } }, options()),
        );
      } catch (e) {
        if (notFound(e)) return;
        throw e;
      }
    },
    async getServiceAccount(namespace, name) {
      try {
        return (await call(`get serviceaccount ${namespace}/${name}`, () =>
          api.readNamespacedServiceAccount({ name, namespace }, options()),
        )) as unknown as LiveServiceAccount;
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    },
    async setImagePullSecrets(namespace, name, imagePullSecrets, resourceVersion) {
      // A JSON merge patch that carries resourceVersion is conditional: the apiserver answers 409
      // when the service account changed since it was read.
      const body = { metadata: { resourceVersion }, imagePullSecrets };
      await call(`patch serviceaccount ${namespace}/${name}`, () =>
        api.patchNamespacedServiceAccount({ name, namespace, body, fieldManager: MANAGER }, options(PatchStrategy.MergePatch)),
      );
    },
  };
}

/** ApiError code of an answer that cannot be read: not JSON, or too large (not retried). */
const INVALID_RESPONSE = 'InvalidResponse';

function toApiError(operation: string, err: unknown, server: string, timeoutMs: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof SyntaxError || err instanceof ResponseTooLargeError) {
    const message = err instanceof SyntaxError ? 'the response is not valid JSON' : err.message;
    return new ApiError({ service: 'Kubernetes', operation, code: INVALID_RESPONSE, message: `${message} (${server})` });
  }
  if (err instanceof ApiException) {
    // a Status object ({ message, reason }); a proxy in front of the API server may answer in another shape
    let message = err.code === 429 || err.code >= 500 ? 'the API server (or a proxy in front of it) answered with an error' : `HTTP ${err.code}`;
    let reason: string | undefined;
    try {
      const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as {
        message?: string;
        reason?: string;
        error?: { message?: string; code?: string };
      };
      if (body?.message) message = body.message;
      else if (typeof body?.error?.message === 'string') message = body.error.message;
      reason = body?.reason ?? (typeof body?.error?.code === 'string' ? body.error.code : undefined);
    } catch {
      // body not JSON
    }
    return new ApiError({ service: 'Kubernetes', operation, status: err.code, code: reason, message: String(message).slice(0, 500) });
  }
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const detail =
    e.name === 'TimeoutError' || e.name === 'AbortError'
      ? `timed out after ${timeoutMs} ms`
      : e.cause?.code && e.cause.message
        ? `${e.cause.message} (${e.cause.code})`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
  return new ApiError({ service: 'Kubernetes', operation, message: `${detail} (${server})` });
}
