// The emulator's Kubernetes API server (core/v1 namespaces, secrets, serviceaccounts), faithful to
// kube-apiserver 1.32 where kubectl and @kubernetes/client-node look: discovery (legacy and
// aggregated v2), tables for `kubectl get`, Status errors, validation, resourceVersion
// preconditions, managed fields, the four patch types and server-side apply.
import { discovery } from './discovery.ts';
import { create, deleteCollection, get, list, patch, remove, update } from './handlers.ts';
import type { Call } from './handlers.ts';
import { openapi } from './openapi.ts';
import { RESOURCES } from './resources.ts';
import type { ResourceInfo } from './resources.ts';
import { ApiError, json, methodNotAllowed, noRoute, statusBody } from './status.ts';
import type { EmuContext, EmuRequest, EmuResponse, Handler } from '../types.ts';

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

interface Route {
  info: ResourceInfo;
  namespace?: string;
  name?: string;
}

function route(path: string): Route | undefined {
  const parts = path.replace(/\/+$/, '').split('/').slice(1);
  if (parts[0] !== 'api' || parts[1] !== 'v1') return undefined;
  const rest = parts.slice(2);
  if (rest.length === 1 && RESOURCES[rest[0]]) return { info: RESOURCES[rest[0]] };
  if (rest[0] === 'namespaces') {
    if (rest.length === 2) return { info: RESOURCES.namespaces, name: rest[1] };
    if (rest.length === 3 && RESOURCES[rest[2]]?.namespaced) return { info: RESOURCES[rest[2]], namespace: rest[1] };
    if (rest.length === 4 && RESOURCES[rest[2]]?.namespaced) return { info: RESOURCES[rest[2]], namespace: rest[1], name: rest[3] };
  }
  return undefined;
}

function handle(req: EmuRequest, ctx: EmuContext): EmuResponse | undefined {
  if (!isKubePath(req.path)) return undefined;
  const kube = ctx.state.kube;
  if (!kube || !req.bearer || req.bearer !== kube.token) {
    return json(401, statusBody(401, 'Unauthorized', 'Unauthorized'));
  }
  try {
    const d = discovery(req, ctx) ?? openapi(req);
    if (d) return d;
    const r = route(req.path);
    if (!r) throw noRoute();
    for (const key of ['namespaces', 'secrets', 'serviceaccounts'] as const) kube[key] ??= {};
    const c: Call = { req, ctx, kube, info: r.info, namespace: r.namespace, name: r.name };
    if (r.name !== undefined) {
      if (r.name === '') throw noRoute();
      switch (req.method) {
        case 'GET':
          return get(c);
        case 'PUT':
          return update(c);
        case 'PATCH':
          return patch(c);
        case 'DELETE':
          return remove(c);
      }
    } else {
      switch (req.method) {
        case 'GET':
          return list(c);
        case 'POST':
          if (r.info.namespaced && r.namespace === undefined) break;
          return create(c);
        case 'DELETE':
          if (r.info.namespaced && r.namespace === undefined) break;
          return deleteCollection(c);
      }
    }
    throw methodNotAllowed();
  } catch (err) {
    if (err instanceof ApiError) return json(err.code, statusBody(err.code, err.reason, err.message, err.details));
    throw err;
  }
}

export const handlers: Handler[] = [handle];
