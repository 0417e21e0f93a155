// The verbs of the emulated API server on one resource: list, get, create, update (PUT), the
// three patch types, server-side apply, delete and deletecollection, with resourceVersion
// preconditions, managed fields and dry runs. Authorization already happened (index.ts, before any
// route); what remains here is what kube-apiserver authorizes inside a handler: the `create` of
// an object a PUT or an apply brings into being, and RBAC's escalation check on roles and bindings.
import { load as loadYaml } from 'js-yaml';
import { authOf } from './authn.ts';
import type { RequestAuth } from './authn.ts';
import { deleteNamespace, namespaceAdded, serviceAccountDeleted } from './controllers.ts';
import { podAdded, podDeleted } from './kubelet.ts';
import { conflictStatus, serverSideApply, updateManagedFields } from './managed-fields.ts';
import { PatchError, jsonMergePatch, jsonPatch, strategicMergePatch } from './patch.ts';
import { SCHEMAS, deepEqual, isObj, unknownFields } from './schema.ts';
import { SchemaError } from './fieldsets.ts';
import { GENERATE_ALPHABET, decode, dropNulls, ordered, prepareForCreate, prepareForUpdate, present, timestamp } from './objects.ts';
import { dryRun, deleteOptions, fieldValidation, managerName, mediaType, parseBody, warningHeaders } from './request.ts';
import type { DeleteOptions } from './request.ts';
import { authorize, forbidden, guardRbacWrite } from './rbac.ts';
import { ALL_RESOURCES, PROTECTED_NAMESPACES } from './resources.ts';
import type { ResourceInfo } from './resources.ts';
import { matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { ApiError, MODIFIED, alreadyExists, badRequest, conflict, json, notFound, patchOptionsInvalid, undecodable } from './status.ts';
import type { Obj } from './status.ts';
import { allObjects, bucket, currentResourceVersion, getObject, namespacePhase, nextResourceVersion, requireNamespace, store } from './storage.ts';
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
  /** who asks, and what the authorizer was asked (undefined only for calls that skipped the service's hook) */
  auth?: RequestAuth;
}

function list(c: Call): EmuResponse {
  const { req, kube, info } = c;
  if (['true', '1'].includes(req.query.get('watch') ?? '')) {
    throw new ApiError(405, 'MethodNotAllowed', 'the emulator does not serve watch requests', {});
  }
  let objs = allObjects(kube, info, c.namespace);
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
  return json(200, { kind: info.listKind, apiVersion: info.apiVersion, metadata: { resourceVersion: rv, ...listMeta }, items });
}

function get(c: Call): EmuResponse {
  const obj = getObject(c.kube, c.info, c.namespace, c.name!);
  if (!obj) throw notFound(c.info, c.name!);
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
  const { req, info } = c;
  const warnings: string[] = [];
  const isDryRun = dryRun(req);
  const validation = fieldValidation(req);
  const obj = decode(info, parseBody(req, info.kind), validation === 'Strict', warnings);
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
  setCreateManagedFields(c, obj);
  return storeNew(c, obj, isDryRun, warnings);
}

/** The managed fields of an object created by a create, or by a PUT of a missing object: an Update by the request's manager. */
function setCreateManagedFields(c: Call, obj: KubeObject): void {
  const { req, ctx, info } = c;
  setManagedFields(
    obj,
    updateManagedFields({ kind: info.kind, apiVersion: info.apiVersion, live: undefined, next: obj, manager: managerName(req), now: timestamp(ctx) }),
  );
}

/**
 * The `create` a write that is not a create has to be allowed too when it brings the object into
 * being: a PUT (AllowCreateOnUpdate) or a server-side apply of a missing object. kube-apiserver
 * wraps the create validation in withAuthorization (apiserver pkg/endpoints/handlers/update.go, and
 * patch.go's createAuthorizerAttributes for apply): verb create on the resource, with the name the
 * URL carries, after the object's own validation and before admission (so before the namespace check).
 */
function authorizeCreate(c: Call): void {
  if (!c.auth) return;
  const a = {
    ...c.auth.attributes,
    verb: 'create',
    resourceRequest: true,
    apiGroup: c.info.group,
    apiVersion: 'v1',
    resource: c.info.resource,
    subresource: '',
    namespace: c.namespace ?? '',
    name: c.name ?? '',
  };
  const decision = authorize(c.kube, a);
  if (!decision.allowed) throw forbidden(a, decision.reason);
}

/** RBAC's escalation check on a role or binding about to be stored (the policybased storages run it before validation). */
function guardEscalation(c: Call, obj: KubeObject, old: KubeObject | undefined): void {
  if (c.auth) guardRbacWrite(c.kube, c.auth.attributes, c.info, obj, old);
}

/** managedFields as the apiserver stores them: omitted when no manager owns anything. */
function setManagedFields(obj: KubeObject, entries: unknown[]): void {
  if (entries.length) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
}

/**
 * Shared tail of create, and of a PUT or an apply that creates (`viaWrite`: their `create` is
 * authorized here): escalation, server-owned fields, validation, the namespace and name checks, store.
 */
function storeNew(c: Call, obj: KubeObject, isDryRun: boolean, warnings: string[], viaWrite = false): EmuResponse {
  const { ctx, kube, info } = c;
  guardEscalation(c, obj, undefined);
  prepareForCreate(info, obj, ctx);
  validate(info, obj, undefined);
  if (viaWrite) authorizeCreate(c);
  if (info.namespaced) requireNamespace(kube, c.namespace!);
  if (getObject(kube, info, c.namespace, obj.metadata.name)) throw alreadyExists(info, obj.metadata.name);
  const stored = commit(c, obj, undefined, isDryRun);
  if (info.resource === 'namespaces' && !isDryRun) namespaceAdded(ctx, kube, obj.metadata.name);
  if (info.resource === 'pods' && !isDryRun) podAdded(ctx, kube, stored);
  return json(201, present(stored), warningHeaders(warnings));
}

/** Shared tail of update, the patches and an apply that updates: server-owned fields, validation, store. */
function storeUpdate(c: Call, obj: KubeObject, old: KubeObject, isDryRun: boolean, warnings: string[]): EmuResponse {
  const { info } = c;
  guardEscalation(c, obj, old);
  prepareForUpdate(info, obj, old);
  if (info.resource === 'namespaces') obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
  validate(info, obj, old);
  return json(200, present(commit(c, obj, old, isDryRun)), warningHeaders(warnings));
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
  if (rv && rv !== old.metadata.resourceVersion) throw conflict(info, c.name!, MODIFIED);
  setManagedFields(
    obj,
    updateManagedFields({ kind: info.kind, apiVersion: info.apiVersion, live: old, next: obj, manager: managerName(c.req), now: timestamp(c.ctx) }),
  );
  return storeUpdate(c, obj, old, isDryRun, warnings);
}

function update(c: Call): EmuResponse {
  const { req, info } = c;
  const warnings: string[] = [];
  const isDryRun = dryRun(req);
  const obj = decode(info, parseBody(req, info.kind), fieldValidation(req) === 'Strict', warnings);
  const old = getObject(c.kube, info, c.namespace, c.name!);
  if (!old && info.createOnUpdate) {
    // the registry's Update creates it (AllowCreateOnUpdate)
    checkName(c, obj.metadata.name);
    bindNamespace(c, obj.metadata);
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields']) delete obj.metadata[k];
    setCreateManagedFields(c, obj);
    return storeNew(c, obj, isDryRun, warnings, true);
  }
  if (!old) throw notFound(info, c.name!);
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
  if (!old) throw notFound(info, c.name!);
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
  if (config.kind !== info.kind || config.apiVersion !== info.apiVersion) {
    throw badRequest(
      `the API version in the data (${config.apiVersion}) does not match the expected API version (${info.apiVersion}) or the kind (${config.kind}) does not match the expected kind (${info.kind})`,
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
    throw conflict(info, c.name!, MODIFIED);
  }
  if (md.uid !== undefined && md.uid !== '' && md.uid !== old?.metadata.uid) {
    throw conflict(info, c.name!, `Precondition failed: UID in precondition: ${String(md.uid)}, UID in object meta: ${old?.metadata.uid ?? ''}`);
  }
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'])
    delete md[k];

  let result;
  try {
    result = serverSideApply({
      kind: info.kind,
      apiVersion: info.apiVersion,
      live: old ? present(old) : undefined,
      config: cfg,
      manager,
      force,
      now: timestamp(ctx),
    });
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
  return storeNew(c, obj, isDryRun, warnings, true);
}

function checkDeletePreconditions(c: Call, obj: KubeObject, opts: DeleteOptions): void {
  const pre = opts.preconditions ?? {};
  if (pre.uid && pre.uid !== obj.metadata.uid) {
    throw conflict(c.info, obj.metadata.name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
    throw conflict(
      c.info,
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
  if (!obj) throw notFound(info, c.name!);
  checkDeletePreconditions(c, obj, opts);
  if (info.resource === 'namespaces') {
    if (PROTECTED_NAMESPACES.has(c.name!)) {
      throw new ApiError(403, 'Forbidden', `namespaces "${c.name}" is forbidden: this namespace may not be deleted`, {
        name: c.name,
        kind: 'namespaces',
      });
    }
    if (namespacePhase(kube, c.name!) === 'Terminating') {
      throw conflict(
        info,
        c.name!,
        'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
      );
    }
    return json(200, present(deleteNamespace(c.ctx, kube, obj, isDryRun)));
  }
  if (!isDryRun) {
    delete bucket(kube, info, c.namespace)![c.name!];
    nextResourceVersion(kube);
    if (info.resource === 'serviceaccounts') serviceAccountDeleted(c.ctx, kube, c.namespace!, c.name!);
    if (info.resource === 'pods') podDeleted(obj);
  }
  return json(200, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: c.name, ...(info.group ? { group: info.group } : {}), kind: info.resource, uid: obj.metadata.uid },
  });
}

function deleteCollection(c: Call): EmuResponse {
  const { kube, info } = c;
  const isDryRun = dryRun(c.req);
  const listed = list({ ...c, req: { ...c.req, headers: { ...c.req.headers, accept: 'application/json' } } });
  const items = ((listed.body as Obj).items as KubeObject[]).map((i) => ({ ...i, kind: info.kind, apiVersion: info.apiVersion }) as KubeObject);
  if (!isDryRun) {
    for (const i of items) delete bucket(kube, info, i.metadata.namespace)?.[i.metadata.name];
    if (items.length) nextResourceVersion(kube);
    if (info.resource === 'serviceaccounts') for (const i of items) serviceAccountDeleted(c.ctx, kube, i.metadata.namespace!, i.metadata.name);
  }
  return json(200, {
    kind: info.listKind,
    apiVersion: info.apiVersion,
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

/** Perform a request the route table resolved to a verb on a resource (authorized already, in the service's hook). */
export function serve(req: EmuRequest, ctx: EmuContext, attributes: RequestAttributes): EmuResponse {
  const kube = ctx.state.kube;
  kube.namespaces ??= {};
  for (const info of ALL_RESOURCES) if (info.resource !== 'namespaces') (kube as unknown as Record<string, object | undefined>)[info.resource] ??= {};
  const { resource, namespace, name } = attributes;
  return VERBS[attributes.verb]({ req, ctx, kube, info: resource, namespace, name, auth: authOf(req) });
}
