// The verbs of the emulated API server on one resource: list, get, create, update (PUT), the
// three patch types, server-side apply, delete and deletecollection, with resourceVersion
// preconditions, managed fields and dry runs.
import { load as loadYaml } from 'js-yaml';
import { conflictStatus, serverSideApply, updateManagedFields } from './managed-fields.ts';
import { PatchError, jsonMergePatch, jsonPatch, strategicMergePatch } from './patch.ts';
import { SCHEMAS, deepEqual, isObj, unknownFields } from './schema.ts';
import { SchemaError } from './fieldsets.ts';
import { GENERATE_ALPHABET, decode, dropNulls, ordered, prepareForCreate, prepareForUpdate, present, timestamp } from './objects.ts';
import { dryRun, deleteOptions, fieldValidation, managerName, mediaType, parseBody, warningHeaders } from './request.ts';
import type { DeleteOptions } from './request.ts';
import { PROTECTED_NAMESPACES } from './resources.ts';
import type { ResourceInfo } from './resources.ts';
import { matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { ApiError, MODIFIED, alreadyExists, badRequest, conflict, json, notFound, patchOptionsInvalid, undecodable } from './status.ts';
import type { Obj } from './status.ts';
import { bucket, currentResourceVersion, getObject, nextResourceVersion, requireNamespace, store, withTypeMeta } from './storage.ts';
import { table, wantsTable } from './tables.ts';
import { validate } from './validation.ts';
import type { EmuContext, EmuRequest, EmuResponse, KubeObject, KubeState } from '../types.ts';

/** One request on one resource: what the route resolved (resource, namespace, name) and the state it works on. */
interface Call {
  req: EmuRequest;
  ctx: EmuContext;
  kube: KubeState;
  info: ResourceInfo;
  namespace?: string;
  name?: string;
}

function list(c: Call): EmuResponse {
  const { req, kube, info } = c;
  if (['true', '1'].includes(req.query.get('watch') ?? '')) {
    throw new ApiError(405, 'MethodNotAllowed', 'the emulator does not serve watch requests', {});
  }
  let objs: KubeObject[];
  if (info.resource === 'namespaces') objs = Object.entries(kube.namespaces).map(([n, o]) => withTypeMeta(info, o, undefined, n));
  else {
    const nss = c.namespace !== undefined ? [c.namespace] : Object.keys(kube[info.resource]);
    const all: Record<string, Record<string, KubeObject>> = kube[info.resource];
    objs = nss.flatMap((ns) => Object.entries(all[ns] ?? {}).map(([n, o]) => withTypeMeta(info, o, ns, n)));
  }
  const ls = req.query.get('labelSelector');
  if (ls) {
    const reqs = parseLabelSelector(ls);
    objs = objs.filter((o) => matchesLabels(o.metadata.labels ?? {}, reqs));
  }
  const fs = req.query.get('fieldSelector');
  if (fs) {
    const preds = parseFieldSelector(fs, info);
    objs = objs.filter((o) => preds.every((p) => p(o)));
  }
  objs.sort((a, b) => {
    const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
    const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  // chunking: limit + continue (an opaque offset)
  const listMeta: Obj = {};
  const limit = Number(req.query.get('limit') ?? 0);
  const cont = req.query.get('continue');
  let offset = 0;
  if (cont) {
    try {
      offset = Number((JSON.parse(Buffer.from(cont, 'base64').toString('utf8')) as { o: number }).o) || 0;
    } catch {
      throw badRequest('continue key is not valid: illegal base64 data');
    }
  }
  if (offset || (limit > 0 && objs.length - offset > limit)) {
    const end = limit > 0 ? offset + limit : objs.length;
    if (end < objs.length) {
      listMeta.continue = Buffer.from(JSON.stringify({ o: end })).toString('base64');
      listMeta.remainingItemCount = objs.length - end;
    }
    objs = objs.slice(offset, end);
  }
  const rv = currentResourceVersion(kube);
  if (wantsTable(req)) return table(req, info, objs.map(present), rv, c.ctx, listMeta);
  const items = objs.map((o) => {
    const { kind: _k, apiVersion: _a, ...rest } = present(o);
    return rest;
  });
  return json(200, { kind: info.listKind, apiVersion: 'v1', metadata: { resourceVersion: rv, ...listMeta }, items });
}

function get(c: Call): EmuResponse {
  const obj = getObject(c.kube, c.info, c.namespace, c.name!);
  if (!obj) throw notFound(c.info.resource, c.name!);
  if (wantsTable(c.req)) return table(c.req, c.info, [present(obj)], obj.metadata.resourceVersion ?? '', c.ctx);
  return json(200, present(obj));
}

/** Persist `obj` (a new version of `old`, or a new object) unless it is unchanged or a dry run. */
function commit(c: Call, obj: KubeObject, old: KubeObject | undefined, isDryRun: boolean): KubeObject {
  if (old) {
    const candidate = ordered({ ...obj, metadata: { ...obj.metadata, resourceVersion: old.metadata.resourceVersion } });
    if (deepEqual(candidate, ordered(old))) return old; // a no-op write: nothing stored, resourceVersion kept
    if (isDryRun) return candidate;
  } else if (isDryRun) return ordered(obj);
  obj.metadata.resourceVersion = nextResourceVersion(c.kube);
  const stored = ordered(obj);
  store(c.kube, c.info, stored);
  return stored;
}

function create(c: Call): EmuResponse {
  const { req, ctx, info } = c;
  const warnings: string[] = [];
  const isDryRun = dryRun(req);
  const validation = fieldValidation(req);
  const obj = decode(info, parseBody(req, info), validation === 'Strict', warnings);
  const md = obj.metadata;
  bindNamespace(c, md);
  if (!md.name && typeof md.generateName === 'string' && md.generateName) {
    let suffix = '';
    for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
    md.name = `${md.generateName}${suffix}`;
  }
  if (md.resourceVersion)
    throw new ApiError(500, 'InternalError', 'Internal error occurred: resourceVersion should not be set on objects to be created', {
      causes: [{ message: 'resourceVersion should not be set on objects to be created' }],
    });
  delete md.uid;
  delete md.creationTimestamp;
  delete md.managedFields;
  setManagedFields(obj, updateManagedFields({ kind: info.kind, live: undefined, next: obj, manager: managerName(req), now: timestamp(ctx) }));
  return storeNew(c, obj, isDryRun, warnings);
}

/** managedFields as the apiserver stores them: omitted when no manager owns anything. */
function setManagedFields(obj: KubeObject, entries: unknown[]): void {
  if (entries.length) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
}

/** Shared tail of create and of an apply that creates: server-owned fields, validation, the namespace and name checks, store. */
function storeNew(c: Call, obj: KubeObject, isDryRun: boolean, warnings: string[]): EmuResponse {
  const { ctx, kube, info } = c;
  prepareForCreate(info, obj, ctx);
  validate(info, obj, undefined);
  if (info.namespaced) requireNamespace(kube, c.namespace!);
  if (getObject(kube, info, c.namespace, obj.metadata.name)) throw alreadyExists(info.resource, obj.metadata.name);
  const stored = commit(c, obj, undefined, isDryRun);
  if (info.resource === 'namespaces' && !isDryRun) ensureDefaultServiceAccount(c, obj.metadata.name);
  return json(201, present(stored), warningHeaders(warnings));
}

/** Shared tail of update, the patches and an apply that updates: server-owned fields, validation, store. */
function storeUpdate(c: Call, obj: KubeObject, old: KubeObject, isDryRun: boolean, warnings: string[]): EmuResponse {
  const { info } = c;
  prepareForUpdate(info, obj, old);
  if (info.resource === 'namespaces') obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
  validate(info, obj, old);
  return json(200, present(commit(c, obj, old, isDryRun)), warningHeaders(warnings));
}

/** The service account controller gives every new namespace a `default` service account. */
function ensureDefaultServiceAccount(c: Call, ns: string): void {
  const bucket = (c.kube.serviceaccounts[ns] ??= {});
  c.kube.secrets[ns] ??= {};
  if (bucket.default) return;
  const sa: KubeObject = {
    kind: 'ServiceAccount',
    apiVersion: 'v1',
    metadata: {
      name: 'default',
      namespace: ns,
      uid: c.ctx.newGuid(),
      resourceVersion: nextResourceVersion(c.kube),
      creationTimestamp: timestamp(c.ctx),
    },
  };
  bucket.default = ordered(sa);
}

/** The body names the object the URL names. */
function checkName(c: Call, name: unknown): void {
  if (name !== c.name) throw badRequest(`the name of the object (${String(name ?? '')}) does not match the name on the URL (${c.name})`);
}

/** The object takes the URL's namespace (a cluster-scoped one has none); a different one in the body is refused. */
function bindNamespace(c: Call, md: Obj): void {
  if (!c.info.namespaced) {
    delete md.namespace;
    return;
  }
  if (md.namespace && md.namespace !== c.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  md.namespace = c.namespace;
}

/** Shared tail of update and the non-apply patches: preconditions, managed fields, validation, store. */
function finishUpdate(c: Call, obj: KubeObject, old: KubeObject, isDryRun: boolean, warnings: string[]): EmuResponse {
  const { info } = c;
  checkName(c, obj.metadata.name);
  bindNamespace(c, obj.metadata);
  const rv = obj.metadata.resourceVersion;
  if (rv && rv !== old.metadata.resourceVersion) throw conflict(info.resource, c.name!, MODIFIED);
  setManagedFields(obj, updateManagedFields({ kind: info.kind, live: old, next: obj, manager: managerName(c.req), now: timestamp(c.ctx) }));
  return storeUpdate(c, obj, old, isDryRun, warnings);
}

function update(c: Call): EmuResponse {
  const { req, info } = c;
  const warnings: string[] = [];
  const isDryRun = dryRun(req);
  const obj = decode(info, parseBody(req, info), fieldValidation(req) === 'Strict', warnings);
  const old = getObject(c.kube, info, c.namespace, c.name!);
  if (!old) throw notFound(info.resource, c.name!);
  return finishUpdate(c, obj, old, isDryRun, warnings);
}

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
  'application/apply-patch+cbor',
];

function patch(c: Call): EmuResponse {
  const { req, info } = c;
  const type = mediaType(req);
  if (!PATCH_TYPES.includes(type) || type === 'application/apply-patch+cbor') {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.slice(0, 4).join(', ')}`,
    );
  }
  const isDryRun = dryRun(req);
  const force = req.query.get('force');
  if (type === 'application/apply-patch+yaml') return apply(c, isDryRun, ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(force ?? ''));
  if (force !== null) throw patchOptionsInvalid('force', 'FieldValueForbidden', 'Forbidden: may not be specified for non-apply patch');
  const old = getObject(c.kube, info, c.namespace, c.name!);
  if (!old) throw notFound(info.resource, c.name!);
  const text = req.body.toString('utf8');
  let patchDoc: unknown;
  try {
    patchDoc = JSON.parse(text);
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  let patched: unknown;
  try {
    if (type === 'application/json-patch+json') patched = jsonPatch(present(old), patchDoc);
    else {
      if (!isObj(patchDoc))
        throw new PatchError(
          400,
          `error decoding patch: json: cannot unmarshal ${Array.isArray(patchDoc) ? 'array' : typeof patchDoc} into Go value of type map[string]interface {}`,
        );
      patched =
        type === 'application/merge-patch+json' ? jsonMergePatch(present(old), patchDoc) : strategicMergePatch(present(old), patchDoc, info.kind);
    }
  } catch (err) {
    if (err instanceof PatchError) {
      if (err.code === 400) throw badRequest(err.message);
      throw new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', { causes: [{ message: err.message }] });
    }
    if (err instanceof SchemaError) throw badRequest(err.message);
    throw err;
  }
  if (!isObj(patched)) throw undecodable(info.kind, 'the patched document is not an object');
  const warnings: string[] = [];
  const obj = decode(info, patched, fieldValidation(req) === 'Strict', warnings);
  if (!obj.metadata.name) obj.metadata.name = c.name!;
  return finishUpdate(c, obj, old, isDryRun, warnings);
}

/** Server-side apply (PATCH with application/apply-patch+yaml). */
function apply(c: Call, isDryRun: boolean, force: boolean): EmuResponse {
  const { req, ctx, kube, info } = c;
  const manager = req.query.get('fieldManager');
  if (!manager) throw patchOptionsInvalid('fieldManager', 'FieldValueRequired', 'Required value: is required for apply patch');
  const text = req.body.toString('utf8');
  let config: unknown;
  try {
    config = req.json !== undefined ? req.json : loadYaml(text);
  } catch (err) {
    throw badRequest(`error decoding YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObj(config)) throw badRequest(`error decoding patch: the applied configuration is not an object`);
  if (typeof config.kind !== 'string' || !config.kind) throw badRequest(`Object 'Kind' is missing in '${text.trim()}'`);
  if (typeof config.apiVersion !== 'string' || !config.apiVersion) throw badRequest(`Object 'apiVersion' is missing in '${text.trim()}'`);
  if (config.kind !== info.kind || config.apiVersion !== 'v1') {
    throw badRequest(
      `the API version in the data (${config.apiVersion}) does not match the expected API version (v1) or the kind (${config.kind}) does not match the expected kind (${info.kind})`,
    );
  }
  const cfg = dropNulls(structuredClone(config)) as Obj;
  const md: Obj = isObj(cfg.metadata) ? cfg.metadata : {};
  cfg.metadata = md;
  if (md.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
  if (md.name === undefined || md.name === '') md.name = c.name;
  checkName(c, md.name);
  bindNamespace(c, md);
  const unknown = unknownFields(cfg, SCHEMAS[info.kind]);
  if (unknown.length) {
    throw badRequest(
      `failed to create typed patch object (/v1, Kind=${info.kind}): ${unknown.map((f) => `${f}: field not declared in schema`).join(', ')}`,
    );
  }
  const old = getObject(kube, info, c.namespace, c.name!);
  // preconditions carried by the configuration
  if (md.resourceVersion !== undefined && md.resourceVersion !== '' && md.resourceVersion !== old?.metadata.resourceVersion) {
    throw conflict(info.resource, c.name!, MODIFIED);
  }
  if (md.uid !== undefined && md.uid !== '' && md.uid !== old?.metadata.uid) {
    throw conflict(
      info.resource,
      c.name!,
      `Precondition failed: UID in precondition: ${String(md.uid)}, UID in object meta: ${old?.metadata.uid ?? ''}`,
    );
  }
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'])
    delete md[k];
  if (!old && info.namespaced) requireNamespace(kube, c.namespace!);

  let result;
  try {
    result = serverSideApply({ kind: info.kind, live: old ? present(old) : undefined, config: cfg, manager, force, now: timestamp(ctx) });
  } catch (err) {
    if (err instanceof SchemaError) throw badRequest(err.message);
    throw err;
  }
  if (!result.ok) {
    const { message, causes } = conflictStatus(result.conflicts);
    throw new ApiError(409, 'Conflict', message, { causes });
  }
  const warnings: string[] = [];
  const obj = decode(info, result.object, false, warnings);
  setManagedFields(obj, result.managedFields);
  if (old) return storeUpdate(c, obj, old, isDryRun, warnings);
  delete obj.metadata.uid;
  return storeNew(c, obj, isDryRun, warnings);
}

function checkDeletePreconditions(c: Call, obj: KubeObject, opts: DeleteOptions): void {
  const pre = opts.preconditions ?? {};
  if (pre.uid && pre.uid !== obj.metadata.uid) {
    throw conflict(
      c.info.resource,
      obj.metadata.name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`,
    );
  }
  if (pre.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
    throw conflict(
      c.info.resource,
      obj.metadata.name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
    );
  }
}

function remove(c: Call): EmuResponse {
  const { kube, info } = c;
  const opts = deleteOptions(c.req);
  const isDryRun = dryRun(c.req) || (Array.isArray(opts.dryRun) && opts.dryRun.includes('All'));
  const obj = getObject(kube, info, c.namespace, c.name!);
  if (!obj) throw notFound(info.resource, c.name!);
  checkDeletePreconditions(c, obj, opts);
  if (info.resource === 'namespaces') {
    if (PROTECTED_NAMESPACES.has(c.name!)) {
      throw new ApiError(403, 'Forbidden', `namespaces "${c.name}" is forbidden: this namespace may not be deleted`, {
        name: c.name,
        kind: 'namespaces',
      });
    }
    // the namespace controller empties and removes it; here that happens at once
    const terminating = structuredClone(obj);
    terminating.metadata.deletionTimestamp = timestamp(c.ctx);
    terminating.status = { ...((terminating.status as Obj) ?? {}), phase: 'Terminating' };
    if (!isDryRun) {
      terminating.metadata.resourceVersion = nextResourceVersion(kube);
      delete kube.namespaces[c.name!];
      delete kube.secrets[c.name!];
      delete kube.serviceaccounts[c.name!];
    }
    return json(200, present(terminating));
  }
  if (!isDryRun) {
    delete bucket(kube, info, c.namespace)![c.name!];
    nextResourceVersion(kube);
  }
  return json(200, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: c.name, kind: info.resource, uid: obj.metadata.uid },
  });
}

function deleteCollection(c: Call): EmuResponse {
  const { kube, info } = c;
  const isDryRun = dryRun(c.req);
  const listed = list({ ...c, req: { ...c.req, headers: { ...c.req.headers, accept: 'application/json' } } });
  const items = ((listed.body as Obj).items as KubeObject[]).map((i) => ({ ...i, kind: info.kind, apiVersion: 'v1' }) as KubeObject);
  if (!isDryRun) {
    for (const i of items) delete kube[info.resource][i.metadata.namespace!]?.[i.metadata.name];
    if (items.length) nextResourceVersion(kube);
  }
  return json(200, {
    kind: info.listKind,
    apiVersion: 'v1',
    metadata: { resourceVersion: currentResourceVersion(kube) },
    items: items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
  });
}

// ---------------------------------------------------------------- one request

/** The verbs kube-apiserver's authorizer is asked about (authorizer.Attributes.GetVerb). */
export type Verb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** What a request asks, as kube-apiserver's authorizer sees it: a verb on a resource, in a namespace, by name. */
export interface RequestAttributes {
  verb: Verb;
  resource: ResourceInfo;
  namespace?: string;
  name?: string;
}

const VERBS: Record<Verb, (c: Call) => EmuResponse> = {
  get,
  list,
  create,
  update,
  patch,
  delete: remove,
  deletecollection: deleteCollection,
};

/**
 * Perform a request the route table resolved to its attributes. This is the one place every
 * resource request passes after authentication: where an authorizer (RBAC) would decide on them.
 */
export function serve(req: EmuRequest, ctx: EmuContext, attributes: RequestAttributes): EmuResponse {
  const kube = ctx.state.kube;
  for (const key of ['namespaces', 'secrets', 'serviceaccounts'] as const) kube[key] ??= {};
  const { resource, namespace, name } = attributes;
  return VERBS[attributes.verb]({ req, ctx, kube, info: resource, namespace, name });
}
