// What a request asks, as kube-apiserver's authorizer sees it: a port of RequestInfoFactory.
// NewRequestInfo (apiserver pkg/endpoints/request/requestinfo.go, kubernetes-1.32.0), which the
// filter chain runs on every request from its method, path and query, before any handler or route
// is looked up. So a request for a resource the emulator does not serve (pods, pods/log, events)
// is authorized like any other: 403 without the permission, and only then 404.
//   - /api/v1/..., /apis/<group>/<version>/... are resource requests; anything shorter (/api,
//     /apis/rbac.authorization.k8s.io/v1, /version, /openapi/v3) is a non-resource request whose
//     verb is the lower-cased method;
//   - POST create, GET/HEAD get, PUT update, PATCH patch (server-side apply included), DELETE
//     delete; a GET without a name is list, or watch with ?watch (anything but false/0); a DELETE
//     without a name is deletecollection; /watch/ and /proxy/ path prefixes give their verb;
//   - /namespaces/<ns>/<resource>/... scopes to <ns>; /namespaces/<ns> alone (and its status and
//     finalize subresources) is the namespace resource with namespace and name both <ns>;
//   - a list or watch with `fieldSelector=metadata.name=<x>` carries the name <x> (so a
//     resourceNames rule can allow it). As the RBAC docs put it (kubernetes/website
//     content/en/docs/reference/access-authn-authz/rbac.md, "Referring to resources"): create and
//     deletecollection carry no name, so resourceNames cannot restrict them; list and watch need
//     that field selector. (A PUT or apply that creates is authorized as create with the URL's name:
//     handlers.ts.)
import { fieldSelectorTerms } from './selectors.ts';
import type { Attributes } from './rbac.ts';
import type { EmuRequest } from '../types.ts';

const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** path.IsValidPathSegmentName: not `.` or `..`, no `/` or `%`. */
export function pathSegmentNameErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/** fields.Selector.RequiresExactMatch("metadata.name"): the value of a `metadata.name=` (or `==`) term. */
function exactName(selector: string): string | undefined {
  let terms;
  try {
    terms = fieldSelectorTerms(selector);
  } catch {
    return undefined;
  }
  return terms.find((t) => t.field === 'metadata.name' && t.op === '=')?.value;
}

const METHOD_VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** The attributes of a non-resource request: a verb on a path. */
export function nonResourceAttributes(verb: string, path: string): Omit<Attributes, 'user'> {
  return { verb, resourceRequest: false, path, apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '' };
}

/** NewRequestInfo: the request's verb, API group and version, namespace, resource, subresource and name. */
export function requestInfo(req: Pick<EmuRequest, 'method' | 'path' | 'query'>): Omit<Attributes, 'user'> {
  const info = nonResourceAttributes(req.method.toLowerCase(), req.path);
  const trimmed = req.path.replace(/^\/+|\/+$/g, '');
  let parts = trimmed === '' ? [] : trimmed.split('/');
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return info;
  const groupless = parts[0] === 'api';
  parts = parts.slice(1);
  if (!groupless) {
    if (parts.length < 3) return info;
    info.apiGroup = parts[0];
    parts = parts.slice(1);
  }
  info.resourceRequest = true;
  info.apiVersion = parts[0];
  parts = parts.slice(1);

  if (SPECIAL_VERBS.has(parts[0])) {
    // "unable to determine kind and namespace from url": the apiserver answers 500 before authorization; here it is authorized as it stands
    if (parts.length < 2) return info;
    info.verb = parts[0];
    parts = parts.slice(1);
  } else info.verb = METHOD_VERBS[req.method] ?? '';

  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1];
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
    }
  }
  if (parts.length >= 3 && info.verb !== 'proxy') info.subresource = parts[2];
  if (parts.length >= 2) info.name = parts[1];
  if (parts.length >= 1) info.resource = parts[0];

  if (!info.name && info.verb === 'get') {
    const watch = req.query.getAll('watch');
    info.verb = watch.length && !['false', '0'].includes(watch[0].toLowerCase()) ? 'watch' : 'list';
    const fs = req.query.get('fieldSelector');
    const name = fs ? exactName(fs) : undefined;
    if (name !== undefined && pathSegmentNameErrors(name).length === 0) info.name = name;
  }
  if (!info.name && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}
