// The emulator's Kubernetes API server (core/v1 namespaces, secrets, serviceaccounts and their
// token subresource; rbac.authorization.k8s.io/v1 roles, rolebindings, clusterroles and
// clusterrolebindings; the self reviews), faithful to kube-apiserver 1.32 where kubectl and
// @kubernetes/client-node look: discovery (legacy and aggregated v2), tables for `kubectl get`,
// Status errors, validation, resourceVersion preconditions, managed fields, the four patch types
// and server-side apply. Every request is authenticated (authn.ts), resolved to the authorizer's
// attributes (attributes.ts) and authorized (rbac.ts) before any route is looked up, as
// kube-apiserver's filter chain does: a 401 or 403 comes before a 404.
import { authenticate, impersonate, rememberAuth } from './authn.ts';
import { requestInfo } from './attributes.ts';
import { ensureBootstrapPolicy } from './bootstrap.ts';
import { apiGroup, apiGroups, apiVersions, coreResources, groupResources, version } from './discovery.ts';
import { serve } from './handlers.ts';
import type { Verb } from './handlers.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { openapiGroupVersion, openapiRoot } from './openapi.ts';
import { authorize, forbidden } from './rbac.ts';
import { RBAC_GROUP, RBAC_RESOURCES, RESOURCES } from './resources.ts';
import type { ResourceInfo } from './resources.ts';
import { selfSubjectAccessReview, selfSubjectReview, selfSubjectRulesReview } from './reviews.ts';
import { ApiError, json, methodNotAllowed, noRoute, statusBody } from './status.ts';
import { createToken } from './tokens.ts';
import { serviceHandler, trimmedPath } from '../routes.ts';
import type { Route, RouteHandler, Service } from '../routes.ts';
import type { EmuResponse, Handler } from '../types.ts';

/** The health endpoints: `ok` (text/plain), the aggregate and each named check, as kube-apiserver answers them. */
const HEALTH = ['/healthz', '/livez', '/readyz'];
const healthy: RouteHandler = () => ({
  status: 200,
  headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
  body: 'ok',
});

function isKubePath(p: string): boolean {
  return (
    HEALTH.some((h) => p === h || p.startsWith(`${h}/`)) ||
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

/** A verb on the resource the route names (`:resource` in `resources`, else namespaces) in `:namespace`, by `:name`. */
const verbOn =
  (resources: Record<string, ResourceInfo>) =>
  (v: Verb): RouteHandler =>
  (req, ctx, { resource = 'namespaces', namespace, name }) =>
    serve(req, ctx, { verb: v, resource: resources[resource], namespace, name });
const verb = verbOn(RESOURCES);
const rbacVerb = verbOn(RBAC_RESOURCES);

const resourceGroup = (resources: Record<string, ResourceInfo>, namespaced: boolean): string =>
  `:resource(${Object.values(resources)
    .filter((r) => r.namespaced === namespaced)
    .map((r) => r.resource)
    .join('|')})`;
const NAMESPACED = resourceGroup(RESOURCES, true);
const RBAC_NAMESPACED = resourceGroup(RBAC_RESOURCES, true);
const RBAC_CLUSTER = resourceGroup(RBAC_RESOURCES, false);
/** A namespace segment, an empty one too (`//` is not collapsed: the namespace "" is then not found). */
const NAMESPACE = ':namespace([^\\/]*)';
const RBAC_V1 = `/apis/${RBAC_GROUP}/v1`;

const notAllowed: RouteHandler = () => {
  throw methodNotAllowed();
};
const nothingHere: RouteHandler = () => {
  throw noRoute();
};

const tokenRequest: RouteHandler = (req, ctx, { namespace, name }) => createToken(req, ctx, namespace, name);

/** The verbs on one collection and its items, under `base` (a path with `${resource}`), for the RBAC kinds. */
const rbacRoutes = (base: string): Route[] => [
  { path: base, GET: rbacVerb('list'), POST: rbacVerb('create'), DELETE: rbacVerb('deletecollection') },
  { path: `${base}/:name`, GET: rbacVerb('get'), PUT: rbacVerb('update'), PATCH: rbacVerb('patch'), DELETE: rbacVerb('delete') },
];

const routes: Route[] = [
  ...HEALTH.flatMap((h): Route[] => [
    { path: h, GET: healthy, ANY: notAllowed },
    { path: `${h}/:check`, GET: healthy, ANY: notAllowed },
  ]),
  { path: '/version', GET: version, ANY: notAllowed },
  { path: '/api', GET: apiVersions, ANY: notAllowed },
  { path: '/apis', GET: apiGroups, ANY: notAllowed },
  { path: '/api/v1', GET: coreResources, ANY: notAllowed },
  { path: '/openapi/v3', GET: openapiRoot, ANY: nothingHere },
  { path: '/openapi/v3/api/v1', GET: openapiGroupVersion, ANY: nothingHere },
  { path: `/openapi/v3${RBAC_V1}`, GET: openapiGroupVersion, ANY: nothingHere },
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
  { path: `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/:name/token`, POST: tokenRequest },
  // a Pod's status subresource (read; the kubelet stand-in writes it in process)
  {
    path: `/api/v1/namespaces/${NAMESPACE}/pods/:name/status`,
    GET: (req, ctx, { namespace, name }) => serve(req, ctx, { verb: 'get', resource: RESOURCES.pods, namespace, name }),
  },
  // rbac.authorization.k8s.io/v1: cluster roles and bindings; roles and bindings listed across namespaces, or in one
  ...rbacRoutes(`${RBAC_V1}/${RBAC_CLUSTER}`),
  { path: `${RBAC_V1}/${RBAC_NAMESPACED}`, GET: rbacVerb('list') },
  ...rbacRoutes(`${RBAC_V1}/namespaces/${NAMESPACE}/${RBAC_NAMESPACED}`),
  // the self reviews (create only)
  { path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', POST: selfSubjectAccessReview },
  { path: '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', POST: selfSubjectRulesReview },
  { path: '/apis/authentication.k8s.io/v1/selfsubjectreviews', POST: selfSubjectReview },
  // group discovery
  { path: '/apis/:group', GET: apiGroup, ANY: notAllowed },
  { path: '/apis/:group/v1', GET: groupResources, ANY: notAllowed },
  { path: '*', ANY: nothingHere },
];

const unauthorized = (): EmuResponse => json(401, statusBody(401, 'Unauthorized', 'Unauthorized'));

export const kubeService: Service = {
  name: 'kube',
  // the API server answers on the emulator's own host (registry hosts belong to the ACR data plane)
  owns: (req) => isKubePath(req.path) && !req.hostname.endsWith('.azurecr.localhost'),
  routePath: trimmedPath,
  routes,
  // the filter chain, on every path: authentication (a 401), then authorization (a 403), before any route
  before(req, ctx) {
    const authenticated = authenticate(req, ctx);
    if (!authenticated) return unauthorized();
    const user = impersonate(req, ctx.state.kube, authenticated);
    if (typeof user === 'string') {
      return {
        status: 500,
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        body: `Internal Server Error: ${JSON.stringify(req.url.pathname + req.url.search)}: ${user}`,
      };
    }
    if (user instanceof ApiError) return statusResponse(user);
    const attributes = { ...requestInfo(req), user };
    const decision = authorize(ctx.state.kube, attributes);
    if (!decision.allowed) return statusResponse(forbidden(attributes, decision.reason));
    rememberAuth(req, { user, attributes });
    return undefined;
  },
  methodNotAllowed: () => statusResponse(methodNotAllowed()),
  error: (err) => (err instanceof ApiError ? statusResponse(err) : undefined),
  // the apiserver reconciles its default roles at start; the kubeconfig names the cluster's token, which the state holds
  onState: (state, host) => {
    if (state.kube) ensureBootstrapPolicy(state.kube);
    writeKubeconfig(host, state.kube?.token ?? '');
  },
  env: (host) => ({ KUBECONFIG: host.kubeconfigPath }),
};

/** The API server as one handler, for calling it without the emulator's server. */
export const handlers: Handler[] = [serviceHandler(kubeService)];
