// Where the emulated API server keeps objects (EmulatorState.kube: namespaces, and secrets and
// serviceaccounts by namespace) and its resourceVersion counter.
import type { ResourceInfo } from './resources.ts';
import { ApiError, notFound } from './status.ts';
import type { Obj } from './status.ts';
import type { KubeObject, KubeState } from '../types.ts';

export function bucket(kube: KubeState, info: ResourceInfo, ns: string | undefined): Record<string, KubeObject> | undefined {
  if (info.resource === 'namespaces') return kube.namespaces;
  const all = kube[info.resource];
  return all[ns!];
}

export function getObject(kube: KubeState, info: ResourceInfo, ns: string | undefined, name: string): KubeObject | undefined {
  const obj = bucket(kube, info, ns)?.[name];
  return obj ? withTypeMeta(info, obj, ns, name) : undefined;
}

/** Objects a test wrote into the state by hand may lack type meta or their name/namespace: fill them in. */
export function withTypeMeta(info: ResourceInfo, obj: KubeObject, ns: string | undefined, name: string): KubeObject {
  if (obj.kind === info.kind && obj.apiVersion === 'v1' && obj.metadata?.name === name && (!info.namespaced || obj.metadata.namespace === ns))
    return obj;
  const metadata = { ...(obj.metadata ?? {}), name } as KubeObject['metadata'];
  if (info.namespaced) metadata.namespace = ns;
  return { ...obj, kind: info.kind, apiVersion: 'v1', metadata };
}

export function nextResourceVersion(kube: KubeState): string {
  if (!Number.isFinite(kube.resourceVersion) || kube.resourceVersion < 1) kube.resourceVersion = 1;
  const rv = kube.resourceVersion;
  kube.resourceVersion = rv + 1;
  return String(rv);
}

export function currentResourceVersion(kube: KubeState): string {
  return String(Math.max(1, (kube.resourceVersion ?? 2) - 1));
}

export function store(kube: KubeState, info: ResourceInfo, obj: KubeObject): void {
  if (info.resource === 'namespaces') {
    kube.namespaces[obj.metadata.name] = obj;
    return;
  }
  const ns = obj.metadata.namespace!;
  const all = kube[info.resource];
  (all[ns] ??= {})[obj.metadata.name] = obj;
}

export function requireNamespace(kube: KubeState, ns: string): void {
  if (!kube.namespaces[ns]) throw notFound('namespaces', ns);
  const phase = (kube.namespaces[ns].status as Obj | undefined)?.phase;
  if (phase === 'Terminating') {
    throw new ApiError(403, 'Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`, {
      name: ns,
      kind: 'namespaces',
      causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
    });
  }
}
