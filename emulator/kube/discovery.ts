// API discovery: /version, the legacy /api, /apis and /api/v1 documents, and aggregated discovery
// (apidiscovery.k8s.io v2 and v2beta1) when the client's Accept asks for it.
import { KUBE_VERSION, RESOURCES } from './resources.ts';
import { json } from './status.ts';
import type { Obj } from './status.ts';
import type { EmuContext, EmuRequest, EmuResponse } from '../types.ts';

function apiResourceList(): Obj {
  return {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: Object.values(RESOURCES).map((r) => {
      const e: Obj = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
      if (r.shortNames) e.shortNames = r.shortNames;
      e.storageVersionHash = r.storageVersionHash;
      return e;
    }),
  };
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

function aggregatedDiscovery(version: 'v2' | 'v2beta1', core: boolean): EmuResponse {
  const items = core
    ? [
        {
          metadata: { creationTimestamp: null },
          versions: [
            {
              version: 'v1',
              resources: Object.values(RESOURCES).map((r) => {
                const e: Obj = {
                  resource: r.resource,
                  responseKind: { group: '', version: 'v1', kind: r.kind },
                  scope: r.namespaced ? 'Namespaced' : 'Cluster',
                  singularResource: r.singular,
                  verbs: r.verbs,
                };
                if (r.shortNames) e.shortNames = r.shortNames;
                return e;
              }),
              freshness: 'Current',
            },
          ],
        },
      ]
    : [];
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

/** GET /apis: no API groups beyond core */
export function apiGroups(req: EmuRequest): EmuResponse {
  const agg = aggregatedVersion(req);
  if (agg) return aggregatedDiscovery(agg, false);
  return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
}

/** GET /api/v1 */
export function coreResources(): EmuResponse {
  return json(200, apiResourceList());
}
