// The emulator's Kubernetes API server (core/v1 namespaces, secrets, serviceaccounts), faithful to
// kube-apiserver 1.32 where kubectl and @kubernetes/client-node look: discovery (legacy and
// aggregated v2), tables for `kubectl get`, Status errors, validation, resourceVersion
// preconditions, managed fields, the four patch types and server-side apply.
import { apiGroups, apiVersions, coreResources, version } from './discovery.ts';
import { serve } from './handlers.ts';
import type { Verb } from './handlers.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { openapiCoreV1, openapiRoot } from './openapi.ts';
import { RESOURCES } from './resources.ts';
import { ApiError, json, methodNotAllowed, noRoute, statusBody } from './status.ts';
import { serviceHandler, trimmedPath } from '../routes.ts';
import type { Route, RouteHandler, Service } from '../routes.ts';
import type { EmuResponse, Handler } from '../types.ts';

function isKubePath(p: string): boolean {
  return (
    p === '/version' ||
    p === '/version/' ||
    p === '/api' ||
    p.startsWith('/api/') ||
    p === '/apis' ||
    p.startsWith('/apis/') ||
    p.startsWith('/openapi/') ||
    p === '/openapi'
  );
}

function statusResponse(err: ApiError): EmuResponse {
  return json(err.code, statusBody(err.code, err.reason, err.message, err.details));
}

/** A verb on the resource the route names (`:resource`, else namespaces) in `:namespace`, by `:name`. */
const verb =
  (v: Verb): RouteHandler =>
  (req, ctx, { resource = 'namespaces', namespace, name }) =>
    serve(req, ctx, { verb: v, resource: RESOURCES[resource], namespace, name });

const NAMESPACED = `:resource(${Object.values(RESOURCES)
  .filter((r) => r.namespaced)
  .map((r) => r.resource)
  .join('|')})`;
/** A namespace segment, an empty one too (`//` is not collapsed: the namespace "" is then not found). */
const NAMESPACE = ':namespace([^\\/]*)';

const notAllowed: RouteHandler = () => {
  throw methodNotAllowed();
};
const nothingHere: RouteHandler = () => {
  throw noRoute();
};

const routes: Route[] = [
  { path: '/version', GET: version, ANY: notAllowed },
  { path: '/api', GET: apiVersions, ANY: notAllowed },
  { path: '/apis', GET: apiGroups, ANY: notAllowed },
  { path: '/api/v1', GET: coreResources, ANY: notAllowed },
  { path: '/openapi/v3', GET: openapiRoot, ANY: nothingHere },
  { path: '/openapi/v3/api/v1', GET: openapiCoreV1, ANY: nothingHere },
  // Namespaces are cluster-scoped: created and listed at /api/v1/namespaces, no deletecollection.
  { path: '/api/v1/namespaces', GET: verb('list'), POST: verb('create') },
  { path: '/api/v1/namespaces/:name', GET: verb('get'), PUT: verb('update'), PATCH: verb('patch'), DELETE: verb('delete') },
  // Namespaced resources: listed across namespaces, or in one.
  { path: `/api/v1/${NAMESPACED}`, GET: verb('list') },
  { path: `/api/v1/namespaces/${NAMESPACE}/${NAMESPACED}`, GET: verb('list'), POST: verb('create'), DELETE: verb('deletecollection') },
  {
    path: `/api/v1/namespaces/${NAMESPACE}/${NAMESPACED}/:name`,
    GET: verb('get'),
    PUT: verb('update'),
    PATCH: verb('patch'),
    DELETE: verb('delete'),
  },
  { path: '*', ANY: nothingHere },
];

export const kubeService: Service = {
  name: 'kube',
  // the API server answers on the emulator's own host (registry hosts belong to the ACR data plane)
  owns: (req) => isKubePath(req.path) && !req.hostname.endsWith('.azurecr.localhost'),
  routePath: trimmedPath,
  routes,
  // authentication: the cluster's bearer token, on every path (a 401 before any 404)
  before(req, ctx) {
    const kube = ctx.state.kube;
    if (!kube || !req.bearer || req.bearer !== kube.token) return json(401, statusBody(401, 'Unauthorized', 'Unauthorized'));
    return undefined;
  },
  methodNotAllowed: () => statusResponse(methodNotAllowed()),
  error: (err) => (err instanceof ApiError ? statusResponse(err) : undefined),
  // the kubeconfig names the cluster's token, which the state holds
  onState: (state, host) => writeKubeconfig(host, state.kube?.token ?? ''),
  env: (host) => ({ KUBECONFIG: host.kubeconfigPath }),
};

/** The API server as one handler, for calling it without the emulator's server. */
export const handlers: Handler[] = [serviceHandler(kubeService)];
