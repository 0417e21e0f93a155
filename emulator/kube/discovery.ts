// API discovery: /version, the legacy /api, /apis, /apis/<group> and group-version documents, and
// aggregated discovery (apidiscovery.k8s.io v2 and v2beta1) when the client's Accept asks for it.
// The groups: core v1, authentication.k8s.io and authorization.k8s.io (the self reviews only) and
// rbac.authorization.k8s.io, in the order kube-apiserver lists them.
import { KUBE_VERSION, RBAC_GROUP, RBAC_RESOURCES, RESOURCES } from './resources.ts';
import type { ResourceInfo } from './resources.ts';
import { json, noRoute } from './status.ts';
import type { Obj } from './status.ts';
import type { EmuContext, EmuRequest, EmuResponse } from '../types.ts';

type Discoverable = Pick<ResourceInfo, 'kind' | 'singular' | 'namespaced' | 'verbs' | 'shortNames' | 'subresources'> & {
  resource: string;
  storageVersionHash?: string;
};

const review = (resource: string, kind: string): Discoverable => ({
  resource,
  kind,
  singular: kind.toLowerCase(),
  namespaced: false,
  verbs: ['create'],
});

/** The API groups beyond core, each with its one version v1. */
export const API_GROUPS: { name: string; resources: Discoverable[] }[] = [
  { name: 'authentication.k8s.io', resources: [review('selfsubjectreviews', 'SelfSubjectReview')] },
  {
    name: 'authorization.k8s.io',
    resources: [review('selfsubjectaccessreviews', 'SelfSubjectAccessReview'), review('selfsubjectrulesreviews', 'SelfSubjectRulesReview')],
  },
  { name: RBAC_GROUP, resources: Object.values(RBAC_RESOURCES) },
];

function apiResourceList(groupVersion: string, resources: Discoverable[]): Obj {
  const list: Obj = { kind: 'APIResourceList' };
  if (groupVersion !== 'v1') list.apiVersion = 'v1';
  list.groupVersion = groupVersion;
  list.resources = resources.flatMap((r) => {
    const e: Obj = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
    if (r.shortNames) e.shortNames = r.shortNames;
    if (r.storageVersionHash) e.storageVersionHash = r.storageVersionHash;
    const subs = (r.subresources ?? []).map((s) => ({
      name: `${r.resource}/${s.name}`,
      singularName: '',
      namespaced: r.namespaced,
      group: s.group,
      version: s.version,
      kind: s.kind,
      verbs: s.verbs,
    }));
    return [e, ...subs];
  });
  return list;
}

/** `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList` (or v2beta1) when the client asks for it. */
function aggregatedVersion(req: EmuRequest): 'v2' | 'v2beta1' | undefined {
  const accept = String(req.headers.accept ?? '');
  for (const part of accept.split(',')) {
    const params = part.split(';').map((s) => s.trim());
    if (params[0] !== 'application/json' && params[0] !== '*/*') continue;
    if (!params.includes('g=apidiscovery.k8s.io') || !params.includes('as=APIGroupDiscoveryList')) continue;
    if (params.includes('v=v2')) return 'v2';
    if (params.includes('v=v2beta1')) return 'v2beta1';
  }
  return undefined;
}

function aggregatedGroup(name: string | undefined, group: string, resources: Discoverable[]): Obj {
  const metadata: Obj = name ? { name, creationTimestamp: null } : { creationTimestamp: null };
  return {
    metadata,
    versions: [
      {
        version: 'v1',
        resources: resources.map((r) => {
          const e: Obj = {
            resource: r.resource,
            responseKind: { group, version: 'v1', kind: r.kind },
            scope: r.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: r.singular,
            verbs: r.verbs,
          };
          if (r.shortNames) e.shortNames = r.shortNames;
          if (r.subresources) {
            e.subresources = r.subresources.map((s) => ({
              subresource: s.name,
              responseKind: { group: s.group, version: s.version, kind: s.kind },
              verbs: s.verbs,
            }));
          }
          return e;
        }),
        freshness: 'Current',
      },
    ],
  };
}

function aggregatedDiscovery(version: 'v2' | 'v2beta1', core: boolean): EmuResponse {
  const items = core
    ? [aggregatedGroup(undefined, '', Object.values(RESOURCES))]
    : API_GROUPS.map((g) => aggregatedGroup(g.name, g.name, g.resources));
  return json(
    200,
    { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items },
    { 'Content-Type': `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList` },
  );
}

/** GET /version */
export function version(): EmuResponse {
  return json(200, KUBE_VERSION);
}

/** GET /api: the legacy APIVersions, or the aggregated core group */
export function apiVersions(req: EmuRequest, ctx: EmuContext): EmuResponse {
  const agg = aggregatedVersion(req);
  if (agg) return aggregatedDiscovery(agg, true);
  return json(200, {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${ctx.port}` }],
  });
}

const groupVersions = (name: string): Obj => {
  const v = { groupVersion: `${name}/v1`, version: 'v1' };
  return { name, versions: [v], preferredVersion: v };
};

/** GET /apis: the groups beyond core */
export function apiGroups(req: EmuRequest): EmuResponse {
  const agg = aggregatedVersion(req);
  if (agg) return aggregatedDiscovery(agg, false);
  return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: API_GROUPS.map((g) => groupVersions(g.name)) });
}

const groupNamed = (name: string): { name: string; resources: Discoverable[] } => {
  const g = API_GROUPS.find((x) => x.name === name);
  if (!g) throw noRoute();
  return g;
};

/** GET /apis/<group> */
export function apiGroup(_req: EmuRequest, _ctx: EmuContext, { group }: Record<string, string>): EmuResponse {
  return json(200, { kind: 'APIGroup', apiVersion: 'v1', ...groupVersions(groupNamed(group).name) });
}

/** GET /apis/<group>/v1 */
export function groupResources(_req: EmuRequest, _ctx: EmuContext, { group }: Record<string, string>): EmuResponse {
  const g = groupNamed(group);
  return json(200, apiResourceList(`${g.name}/v1`, g.resources));
}

/** GET /api/v1 */
export function coreResources(): EmuResponse {
  return json(200, apiResourceList('v1', Object.values(RESOURCES)));
}
