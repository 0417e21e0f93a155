// Where the emulated API server keeps objects (EmulatorState.kube: cluster-scoped resources by
// name, namespaced ones by namespace and name) and its resourceVersion counter.
import { ALL_RESOURCES } from './resources.ts';
import type { ResourceInfo } from './resources.ts';
import { ApiError, notFound } from './status.ts';
import type { Obj } from './status.ts';
import type { KubeObject, KubeState } from '../types.ts';

type Buckets = Record<string, Record<string, KubeObject> | Record<string, Record<string, KubeObject>> | undefined>;

/** The objects of a cluster-scoped resource by name, or of a namespaced one by namespace and name (created empty when absent). */
export function clusterStore(kube: KubeState, info: ResourceInfo): Record<string, KubeObject> {
  return ((kube as unknown as Buckets)[info.resource] ??= {}) as Record<string, KubeObject>;
}
export function namespacedStore(kube: KubeState, info: ResourceInfo): Record<string, Record<string, KubeObject>> {
  return ((kube as unknown as Buckets)[info.resource] ??= {}) as Record<string, Record<string, KubeObject>>;
}

export function bucket(kube: KubeState, info: ResourceInfo, ns: string | undefined): Record<string, KubeObject> | undefined {
  if (!info.namespaced) return clusterStore(kube, info);
  return namespacedStore(kube, info)[ns!];
}

export function getObject(kube: KubeState, info: ResourceInfo, ns: string | undefined, name: string): KubeObject | undefined {
  const obj = bucket(kube, info, ns)?.[name];
  return obj ? withTypeMeta(info, obj, ns, name) : undefined;
}

/** Every object of the resource (in one namespace, or in all), with its type meta. */
export function allObjects(kube: KubeState, info: ResourceInfo, ns?: string): KubeObject[] {
  if (!info.namespaced) return Object.entries(clusterStore(kube, info)).map(([n, o]) => withTypeMeta(info, o, undefined, n));
  const all = namespacedStore(kube, info);
  const nss = ns !== undefined ? [ns] : Object.keys(all);
  return nss.flatMap((n) => Object.entries(all[n] ?? {}).map(([name, o]) => withTypeMeta(info, o, n, name)));
}

/** Objects a test wrote into the state by hand may lack type meta or their name/namespace: fill them in. */
export function withTypeMeta(info: ResourceInfo, obj: KubeObject, ns: string | undefined, name: string): KubeObject {
  if (
    obj.kind === info.kind &&
    obj.apiVersion === info.apiVersion &&
    obj.metadata?.name === name &&
    (!info.namespaced || obj.metadata.namespace === ns)
  )
    return obj;
  const metadata = { ...(obj.metadata ?? {}), name } as KubeObject['metadata'];
  if (info.namespaced) metadata.namespace = ns;
  return { ...obj, kind: info.kind, apiVersion: info.apiVersion, metadata };
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
  if (!info.namespaced) {
    clusterStore(kube, info)[obj.metadata.name] = obj;
    return;
  }
  (namespacedStore(kube, info)[obj.metadata.namespace!] ??= {})[obj.metadata.name] = obj;
}

/** Remove a namespace's content: every namespaced resource's objects in it (what the namespace controller deletes). */
export function dropNamespaceContent(kube: KubeState, ns: string): void {
  for (const info of ALL_RESOURCES) if (info.namespaced) delete namespacedStore(kube, info)[ns];
}

export function namespacePhase(kube: KubeState, ns: string): string | undefined {
  return (kube.namespaces[ns]?.status as Obj | undefined)?.phase as string | undefined;
}

export function requireNamespace(kube: KubeState, ns: string): void {
  if (!kube.namespaces[ns]) throw notFound('namespaces', ns);
  if (namespacePhase(kube, ns) === 'Terminating') {
    throw new ApiError(403, 'Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`, {
      name: ns,
      kind: 'namespaces',
      causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
    });
  }
}
