// KubeClient over @kubernetes/client-node (loaded only on the pull-secret path), through its public
// surface only: the `httpApi` option carries src/net/kube.ts, which gives every request the
// transport rules (HTTPS only, no redirects, timeouts, size cap, retries with capped Retry-After).
// Here: the kubeconfig's server checked before any request, every failure mapped into ApiError,
// and every answer checked for the object it must be before the scenarios read it.
import { ApiException, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ConfigurationOptions } from '@kubernetes/client-node';
import { ApiError } from '../errors.ts';
import {
  FIELD_MANAGER_CONFLICT,
  type KubeClient,
  type KubeEvent,
  type LivePod,
  type LiveSecret,
  type LiveServiceAccount,
  type PodObject,
} from './types.ts';
import type { KubeconfigSource } from './kubeconfig.ts';
import { requireHttps, serverOrigin } from './kubeconfig.ts';
import { kubeConfigFor, type KubeAuthOptions } from './connect.ts';
import { ExecPluginError } from './exec-credential.ts';
import type { SecretObject } from './render.ts';
import { MANAGER, renderNamespace } from './render.ts';
import { provenance, provenanceAnnotations } from '../provenance.ts';
import { NetError } from '../net/errors.ts';
import { KubeRetriesExhausted, kubeHttpLibrary } from '../net/kube.ts';

export interface KubeClientOptions extends KubeAuthOptions {
  timeoutMs?: number;
  debug?: (line: string) => void;
  /** a `::warning::` line (the kubeconfig turns TLS verification off) */
  warn?: (line: string) => void;
}

export const KUBE_SERVICE = 'Kubernetes';

export function createKubeClient(source: KubeconfigSource, opts: KubeClientOptions = {}): KubeClient {
  const kc = kubeConfigFor(source, opts);
  const cluster = kc.getCurrentCluster();
  const server = cluster?.server ?? '(unknown server)';
  // checked before any network call (kubeconfig.ts); here again for any other maker of a source
  requireHttps(server, source.context);
  const who: Who = { server, context: source.context, user: kc.getCurrentUser()?.name, origin: source.origin };
  if (cluster?.skipTLSVerify) {
    opts.warn?.(
      `The kubeconfig's context '${source.context}' sets insecure-skip-tls-verify: the certificate of ${serverOrigin(server)} is not checked, so the cluster's credentials and the pull secret could reach an impostor. Give the cluster's certificate-authority-data instead.`,
    );
  }
  const api = kc.makeApiClient(CoreV1Api);
  const httpApi = kubeHttpLibrary({ timeoutMs: opts.timeoutMs, trace: opts.debug });
  const options = (contentType?: string): ConfigurationOptions => {
    const base: ConfigurationOptions = { httpApi };
    return contentType ? setHeaderOptions('Content-Type', contentType, base) : base;
  };

  /** One call: its failure as an ApiError; its answer checked to be what `expect` says, else an ApiError too. */
  async function call<T>(operation: string, fn: () => Promise<unknown>, expect?: (v: unknown) => string | undefined): Promise<T> {
    let value: unknown;
    try {
      value = await fn();
    } catch (err) {
      throw toApiError(operation, err, who);
    }
    const wrong = expect?.(value);
    if (wrong) {
      throw new ApiError({
        service: KUBE_SERVICE,
        operation,
        status: 200,
        code: INVALID_RESPONSE,
        message: `the answer is not what the API server sends: expected ${wrong} (${server})`,
      });
    }
    return value as T;
  }

  const notFound = (e: unknown) => e instanceof ApiError && e.status === 404;
  // Every object written says which workflow run wrote it (none outside a run): the written-by annotation.
  const stamp = provenanceAnnotations(provenance());
  const stamped = <T extends { metadata: { annotations?: Record<string, string> } }>(o: T): T => ({
    ...o,
    metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, ...stamp } },
  });

  return {
    server,
    async namespaceExists(name) {
      try {
        await call(`get namespace ${name}`, () => api.readNamespace({ name }, options()), object('Namespace', name));
        return true;
      } catch (e) {
        if (notFound(e)) return false;
        throw e;
      }
    },
    async listNamespaces() {
      try {
        const list = await call<{ items: { metadata?: { name?: string } }[] }>(
          'list namespaces',
          () => api.listNamespace({}, options()),
          namespaceList,
        );
        return list.items.map((n) => n?.metadata?.name ?? '').filter(Boolean);
      } catch (e) {
        if (e instanceof ApiError && (e.status === 403 || e.status === 401)) return undefined;
        throw e;
      }
    },
    async createNamespace(name) {
      try {
        await call(
          `create namespace ${name}`,
          () => api.createNamespace({ body: stamped(renderNamespace(name)), fieldManager: MANAGER }, options()),
          object('Namespace', name),
        );
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) return; // created meanwhile by someone else
        throw e;
      }
    },
    async getSecret(namespace, name) {
      try {
        return await call<LiveSecret>(
          `get secret ${namespace}/${name}`,
          () => api.readNamespacedSecret({ name, namespace }, options()),
          object('Secret', name, namespace),
        );
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    },
    async createSecret(secret: SecretObject) {
      const { name, namespace } = secret.metadata;
      return call<LiveSecret>(
        `create secret ${namespace}/${name}`,
        () => api.createNamespacedSecret({ namespace, body: stamped(secret), fieldManager: MANAGER }, options()),
        object('Secret', name, namespace),
      );
    },
    async applySecret(secret: SecretObject, resourceVersion: string, force: boolean) {
      // The configuration holds only this action's fields (render.ts renderSecret); `force` only
      // where the plan found that the fields it changes may change hands (secret-entry.ts).
      const body = stamped({ ...secret, metadata: { ...secret.metadata, resourceVersion } });
      const { name, namespace } = secret.metadata;
      return call<LiveSecret>(
        `apply secret ${namespace}/${name}`,
        () =>
          api.patchNamespacedSecret(
            { name, namespace, body, fieldManager: MANAGER, ...(force ? { force: true } : {}) },
            options(PatchStrategy.ServerSideApply),
          ),
        object('Secret', name, namespace),
      );
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
        return await call<LiveServiceAccount>(
          `get serviceaccount ${namespace}/${name}`,
          () => api.readNamespacedServiceAccount({ name, namespace }, options()),
          object('ServiceAccount', name, namespace),
        );
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    },
    async setImagePullSecrets(namespace, name, imagePullSecrets, resourceVersion) {
      // A JSON merge patch that carries resourceVersion is conditional: the apiserver answers 409
      // when the service account changed since it was read.
      const body = { metadata: { resourceVersion, ...(Object.keys(stamp).length ? { annotations: stamp } : {}) }, imagePullSecrets };
      await call(
        `patch serviceaccount ${namespace}/${name}`,
        () => api.patchNamespacedServiceAccount({ name, namespace, body, fieldManager: MANAGER }, options(PatchStrategy.MergePatch)),
        object('ServiceAccount', name, namespace),
      );
    },
    // ---- the probe Pod (src/verify/cluster-probe.ts)
    async createPod(pod: PodObject) {
      const { name, namespace } = pod.metadata;
      return call<LivePod>(
        `create pod ${namespace}/${name}`,
        () => api.createNamespacedPod({ namespace, body: pod as never, fieldManager: MANAGER }, options()),
        object('Pod', name, namespace),
      );
    },
    async getPod(namespace, name) {
      try {
        return await call<LivePod>(
          `get pod ${namespace}/${name}`,
          () => api.readNamespacedPod({ name, namespace }, options()),
          object('Pod', name, namespace),
        );
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    },
    async deletePod(namespace, name) {
      try {
        await call(`delete pod ${namespace}/${name}`, () => api.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }, options()));
      } catch (e) {
        if (notFound(e)) return;
        throw e;
      }
    },
    async listEvents(namespace, involvedName) {
      const list = await call<{ items: KubeEvent[] }>(
        `list events of ${namespace}/${involvedName}`,
        () => api.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${involvedName}` }, options()),
        (v) => (isObject(v) && Array.isArray(v.items) ? undefined : 'an EventList with items'),
      );
      return list.items.filter((e) => isObject(e));
    },
  };
}

/** ApiError code of an answer that cannot be read: not JSON, too large, or not the object asked for (not retried). */
const INVALID_RESPONSE = 'InvalidResponse';

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The check that an answer is the named object: its kind, its name (and namespace), a
 * resourceVersion, and for a Secret a `data` map of strings; what was expected otherwise. The API
 * server always sets these; a proxy, an error page or a hostile server may not.
 */
function object(kind: string, name: string, namespace?: string) {
  return (v: unknown): string | undefined => {
    const what = `the ${kind} ${namespace ? `${namespace}/` : ''}${name}`;
    if (!isObject(v) || v.kind !== kind || !isObject(v.metadata)) return what;
    const m = v.metadata;
    if (m.name !== name || (namespace !== undefined && m.namespace !== namespace) || typeof m.resourceVersion !== 'string')
      return `${what} with its name${namespace ? ', namespace' : ''} and resourceVersion`;
    for (const key of ['labels', 'annotations'] as const) if (m[key] !== undefined && !isObject(m[key])) return `${what} with ${key} as a map`;
    if (kind === 'Secret' && v.data !== undefined && (!isObject(v.data) || Object.values(v.data).some((x) => typeof x !== 'string')))
      return `${what} with data as a map of base64 strings`;
    if (kind === 'ServiceAccount' && v.imagePullSecrets !== undefined && !Array.isArray(v.imagePullSecrets))
      return `${what} with imagePullSecrets as a list`;
    return undefined;
  };
}

function namespaceList(v: unknown): string | undefined {
  return isObject(v) && Array.isArray(v.items) ? undefined : 'a NamespaceList with items';
}

/** Where a request went and as whom, for messages: the server, the context and user of the kubeconfig, and where the kubeconfig came from. */
interface Who {
  server: string;
  context: string;
  user?: string;
  origin: string;
}

/** `kubectl auth can-i` for one of our operations ("get secret team-a/x", "create namespace y"), or undefined. */
export function canICommand(operation: string, context: string): string | undefined {
  const m = /^(get|create|apply|delete|patch|list) (namespaces?|secret|serviceaccount)(?: ([^/\s]+)\/(\S+)| (\S+))?$/.exec(operation);
  if (!m) return undefined;
  const verb = m[1] === 'apply' ? 'patch' : m[1];
  const resource = m[2] === 'namespace' || m[2] === 'namespaces' ? 'namespaces' : `${m[2]}s`;
  // RBAC cannot limit create (or list) by name: the check asks for the verb on the resource
  const name = verb === 'create' || verb === 'list' ? undefined : (m[4] ?? m[5]);
  return `kubectl --context ${context} auth can-i ${verb} ${resource}${name ? `/${name}` : ''}${m[3] ? ` -n ${m[3]}` : ''}`;
}

/**
 * What to do about a 401 or 403 from the API server: the kubeconfig's user and context, and a
 * command to check them. A 403 is RBAC's, or an admission webhook's (a policy) when the API server
 * says so ("admission webhook ... denied the request"): only RBAC is the user's permission.
 */
function authHint(status: number, operation: string, who: Who, message: string): string | undefined {
  const user = who.user ? `user '${who.user}' of context '${who.context}'` : `context '${who.context}'`;
  if (status === 401) {
    return (
      `The API server ${serverOrigin(who.server)} did not accept the credentials of ${user} in ${who.origin}. ` +
      'Check that its token or client certificate is current and is for this cluster (an expired token is the usual cause: ' +
      'fetch fresh credentials, e.g. az aks get-credentials, with kubelogin convert-kubeconfig on Entra-integrated clusters), ' +
      `and that kube-context names the right context; test with: kubectl --context ${who.context} auth whoami`
    );
  }
  if (status === 403 && /admission webhook|denied the request/i.test(message)) {
    return "An admission policy of the cluster refused this write (its message says which and why): meet it, or ask the cluster's owners to allow the write.";
  }
  if (status === 403) {
    const check = canICommand(operation, who.context);
    return (
      `The kubeconfig's ${user} may not do this: grant it the Role in README, Least-privilege permissions (Kubernetes)` +
      `${check ? `, and check with: ${check}` : ''}`
    );
  }
  return undefined;
}

function toApiError(operation: string, err: unknown, who: Who): ApiError {
  if (err instanceof ApiError) return err;
  // the user's exec plugin gave no credential: its own message says what to do (not retried)
  if (err instanceof ExecPluginError) return new ApiError({ service: KUBE_SERVICE, operation, code: 'ExecPluginFailed', message: err.message });
  const server = who.server;
  const at = ` (${server})`;
  if (err instanceof NetError) {
    const invalid = err.failure === 'too-large';
    return new ApiError({
      service: KUBE_SERVICE,
      operation,
      status: err.status,
      code: invalid ? INVALID_RESPONSE : undefined,
      message: `${err.message}${at}`,
      transport: err.failure,
    });
  }
  if (err instanceof SyntaxError)
    return new ApiError({ service: KUBE_SERVICE, operation, code: INVALID_RESPONSE, message: `the response is not valid JSON${at}` });
  const failed =
    err instanceof ApiException
      ? { status: err.code, body: err.body as unknown }
      : err instanceof KubeRetriesExhausted
        ? { status: err.status, body: err.body }
        : undefined;
  if (failed) {
    // a Status object ({ message, reason }); a proxy in front of the API server may answer in another shape
    let message =
      failed.status === 429 || failed.status >= 500 ? 'the API server (or a proxy in front of it) answered with an error' : `HTTP ${failed.status}`;
    let reason: string | undefined;
    try {
      const body = (typeof failed.body === 'string' ? JSON.parse(failed.body) : failed.body) as {
        message?: unknown;
        reason?: unknown;
        error?: { message?: unknown; code?: unknown };
      } | null;
      if (typeof body?.message === 'string' && body.message) message = body.message;
      else if (typeof body?.error?.message === 'string') message = body.error.message;
      reason = typeof body?.reason === 'string' ? body.reason : typeof body?.error?.code === 'string' ? body.error.code : undefined;
      // server-side apply refused a field another manager owns (metav1.StatusCause, reason FieldManagerConflict)
      const causes = (body as { details?: { causes?: unknown } } | null)?.details?.causes;
      if (Array.isArray(causes) && causes.some((c) => (c as { reason?: unknown })?.reason === FIELD_MANAGER_CONFLICT))
        reason = FIELD_MANAGER_CONFLICT;
    } catch {
      // body not JSON
    }
    const note = err instanceof KubeRetriesExhausted ? ` (${err.message})` : '';
    if (failed.status === 401 && message === 'HTTP 401') message = 'Unauthorized'; // client-node drops the body of a 401
    return new ApiError({
      service: KUBE_SERVICE,
      operation,
      status: failed.status,
      code: reason,
      message: `${String(message).slice(0, 500)}${note}`,
      hint: authHint(failed.status, operation, who, String(message)),
    });
  }
  // anything else (client-node reading an answer it did not expect, a kubeconfig it cannot use): never its raw text
  const e = err as Error;
  const message =
    e instanceof TypeError || e instanceof RangeError
      ? 'the answer is not of the shape the API server sends'
      : e?.message
        ? e.message.split('\n')[0].slice(0, 300)
        : String(err);
  return new ApiError({
    service: KUBE_SERVICE,
    operation,
    code: e instanceof TypeError ? INVALID_RESPONSE : undefined,
    message: `${message}${at}`,
    hint:
      e instanceof TypeError
        ? undefined
        : `Check that kubectl can use context '${who.context}' of ${who.origin}: kubectl --context ${who.context} get namespace default`,
  });
}
