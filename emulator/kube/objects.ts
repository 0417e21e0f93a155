// How the emulated API server turns a request body into a stored object and back: decoding (type
// meta, nulls, unknown fields, Secret stringData), the fields the server owns on create and update,
// and the key order objects are printed in.
import { preparePod } from './pods.ts';
import { SCHEMAS, dropFields, isObj, unknownFields } from './schema.ts';
import { RBAC_GROUP } from './resources.ts';
import type { ResourceInfo } from './resources.ts';
import { badRequest, invalid, q, undecodable } from './status.ts';
import type { Obj } from './status.ts';
import type { EmuContext, KubeObject } from '../types.ts';

/** RFC 3339 with seconds, as metav1.Time marshals. */
export function timestamp(ctx: EmuContext): string {
  return ctx
    .now()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z');
}

export const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * Decode the request body into an object of the resource's kind as the apiserver does before the
 * field manager sees it: type meta, nulls dropped, Secret stringData folded into base64 data and
 * type defaulted, the namespace name label set. Unknown fields are dropped (or refused under Strict).
 */
export function decode(info: ResourceInfo, body: unknown, strict: boolean, warnings: string[]): KubeObject {
  if (!isObj(body)) throw undecodable(info.kind, 'the request body is not a JSON or YAML object');
  if (body.kind !== undefined && body.kind !== info.kind) {
    throw undecodable(info.kind, `the kind in the data (${String(body.kind)}) does not match the expected kind (${info.kind})`);
  }
  if (body.apiVersion !== undefined && body.apiVersion !== info.apiVersion) {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${info.apiVersion})`);
  }
  const obj = dropNulls(structuredClone(body)) as Obj;
  if (obj.metadata !== undefined && !isObj(obj.metadata)) throw undecodable(info.kind, 'metadata must be an object');
  const unknown = unknownFields(obj, SCHEMAS[info.kind]);
  const nested = info.group === RBAC_GROUP ? unknownRbacFields(obj) : [];
  const names = [...unknown.map((f) => f.slice(1)), ...nested.map((n) => n.path)];
  if (names.length) {
    if (strict) throw badRequest(`strict decoding error: ${names.map((f) => `unknown field ${q(f)}`).join(', ')}`);
    dropFields(obj, unknown);
    for (const n of nested) delete n.parent[n.key];
    for (const f of names) warnings.push(`unknown field ${q(f)}`);
  }
  const out: KubeObject = {
    apiVersion: info.apiVersion,
    kind: info.kind,
    ...obj,
    metadata: { ...((obj.metadata as Obj) ?? {}) } as KubeObject['metadata'],
  };
  out.apiVersion = info.apiVersion;
  out.kind = info.kind;
  for (const k of ['labels', 'annotations'] as const) {
    const m = out.metadata[k];
    if (m === undefined) continue;
    if (!isObj(m) || Object.values(m).some((v) => typeof v !== 'string')) {
      throw undecodable(info.kind, `json: cannot unmarshal into Go struct field ObjectMeta.metadata.${k} of type string`);
    }
    if (Object.keys(m).length === 0) delete out.metadata[k];
  }
  if (info.resource === 'secrets') {
    for (const field of ['data', 'stringData'] as const) {
      const m = out[field];
      if (m === undefined) continue;
      if (!isObj(m) || Object.values(m).some((v) => typeof v !== 'string')) {
        throw undecodable('Secret', `json: cannot unmarshal into Go struct field Secret.${field} of type string`);
      }
    }
    const data: Record<string, string> = { ...((out.data as Record<string, string>) ?? {}) };
    for (const v of Object.values(data)) {
      const at = base64Error(v);
      if (at !== undefined) throw undecodable('Secret', `illegal base64 data at input byte ${at}`);
    }
    for (const [k, v] of Object.entries((out.stringData as Record<string, string>) ?? {})) data[k] = Buffer.from(v, 'utf8').toString('base64');
    delete out.stringData;
    if (Object.keys(data).length) out.data = data;
    else delete out.data;
    if (!out.type) out.type = 'Opaque';
  }
  if (info.resource === 'serviceaccounts') {
    for (const f of ['secrets', 'imagePullSecrets']) if (Array.isArray(out[f]) && (out[f] as unknown[]).length === 0) delete out[f];
  }
  if (info.resource === 'namespaces' && out.metadata.name) {
    out.metadata.labels = { ...(out.metadata.labels ?? {}), 'kubernetes.io/metadata.name': out.metadata.name };
  }
  if (info.group === RBAC_GROUP) defaultRbac(out);
  return out;
}

const RBAC_STRUCTS: Record<string, string[]> = {
  rules: ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'],
  subjects: ['kind', 'apiGroup', 'name', 'namespace'],
};

/** Unknown fields inside the RBAC kinds' rules, subjects and roleRef (`rules[0].verb`), which the strict decoder names too. */
function unknownRbacFields(obj: Obj): { path: string; parent: Obj; key: string }[] {
  const out: { path: string; parent: Obj; key: string }[] = [];
  const check = (v: unknown, path: string, known: string[]): void => {
    if (!isObj(v)) return;
    for (const k of Object.keys(v)) if (!known.includes(k)) out.push({ path: `${path}.${k}`, parent: v, key: k });
  };
  for (const [field, known] of Object.entries(RBAC_STRUCTS)) {
    if (Array.isArray(obj[field])) (obj[field] as unknown[]).forEach((item, i) => check(item, `${field}[${i}]`, known));
  }
  check(obj.roleRef, 'roleRef', ['apiGroup', 'kind', 'name']);
  return out;
}

/** The fields of a struct in the order Go declares them (and marshals them), unknown ones after. */
function inOrder(v: unknown, keys: string[]): unknown {
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const k of keys) if (v[k] !== undefined) out[k] = v[k];
  for (const [k, x] of Object.entries(v)) if (!(k in out)) out[k] = x;
  return out;
}

/**
 * The rbac/v1 defaults (kubernetes pkg/apis/rbac/v1/defaults.go): a roleRef without apiGroup is
 * rbac.authorization.k8s.io's, so is a User or Group subject's (a ServiceAccount subject's stays
 * ""); and rules, subjects and roleRef with their fields in k8s.io/api's order.
 */
function defaultRbac(obj: KubeObject): void {
  if (Array.isArray(obj.rules)) obj.rules = obj.rules.map((r) => inOrder(r, ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs']));
  if (isObj(obj.roleRef)) obj.roleRef = inOrder({ ...obj.roleRef, apiGroup: obj.roleRef.apiGroup || RBAC_GROUP }, ['apiGroup', 'kind', 'name']);
  if (Array.isArray(obj.subjects)) {
    obj.subjects = obj.subjects.map((s) => {
      if (isObj(s) && !s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s = { ...s, apiGroup: RBAC_GROUP };
      return inOrder(s, ['kind', 'apiGroup', 'name', 'namespace']);
    });
  }
}

export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = dropNulls(x);
  return out;
}

/** Index of the first byte Go's base64.StdEncoding rejects, or undefined when the value is valid. */
function base64Error(s: string): number | undefined {
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return bad;
  const pad = s.indexOf('=');
  if (pad >= 0 && (!/^=*$/.test(s.slice(pad)) || s.length - pad > 2)) return pad;
  if (s.length % 4 !== 0) return s.length - (s.length % 4);
  return undefined;
}

/** Fields the server owns: set on create, carried over on update. */
export function prepareForCreate(info: ResourceInfo, obj: KubeObject, ctx: EmuContext): void {
  const md = obj.metadata;
  md.uid = ctx.newGuid();
  md.creationTimestamp = timestamp(ctx);
  delete md.deletionTimestamp;
  delete md.deletionGracePeriodSeconds;
  delete md.selfLink;
  delete md.generation;
  if (info.resource === 'pods') preparePod(obj);
  if (info.resource === 'namespaces') {
    const spec = isObj(obj.spec) ? obj.spec : {};
    const finalizers = Array.isArray(spec.finalizers) ? (spec.finalizers as unknown[]) : [];
    if (!finalizers.includes('kubernetes')) finalizers.push('kubernetes');
    obj.spec = { ...spec, finalizers };
    obj.status = { phase: 'Active' };
  }
}

export function prepareForUpdate(info: ResourceInfo, obj: KubeObject, old: KubeObject): void {
  const md = obj.metadata;
  md.creationTimestamp = old.metadata.creationTimestamp;
  if (!md.uid) md.uid = old.metadata.uid;
  else if (md.uid !== old.metadata.uid) {
    throw invalid(info.kind, md.name, [
      { field: 'metadata.uid', type: 'FieldValueInvalid', detail: `Invalid value: ${q(md.uid)}: field is immutable` },
    ]);
  }
  for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
    if (old.metadata[k] !== undefined) md[k] = old.metadata[k];
    else delete md[k];
  }
  delete md.selfLink;
  if (info.resource === 'namespaces') {
    obj.spec = structuredClone(old.spec);
    obj.status = structuredClone(old.status);
  }
}

/** Key order as the apiserver prints objects: apiVersion? kind first, then metadata, then the rest. */
export function ordered(obj: KubeObject): KubeObject {
  const { kind, apiVersion, metadata, ...rest } = obj;
  const mdOrder = [
    'name',
    'generateName',
    'namespace',
    'uid',
    'resourceVersion',
    'generation',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'labels',
    'annotations',
    'ownerReferences',
    'finalizers',
    'managedFields',
  ];
  const md: Obj = {};
  for (const k of mdOrder) if (metadata[k] !== undefined) md[k] = metadata[k];
  for (const [k, v] of Object.entries(metadata)) if (!(k in md) && v !== undefined) md[k] = v;
  const out: KubeObject = { kind, apiVersion, metadata: md as KubeObject['metadata'] };
  const restOrder = [
    'spec',
    'status',
    'secrets',
    'imagePullSecrets',
    'automountServiceAccountToken',
    'immutable',
    'data',
    'type',
    'rules',
    'aggregationRule',
    'subjects',
    'roleRef',
  ];
  for (const k of restOrder) if (rest[k] !== undefined) out[k] = rest[k];
  for (const [k, v] of Object.entries(rest)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}

export function present(obj: KubeObject): KubeObject {
  return ordered(structuredClone(obj));
}
