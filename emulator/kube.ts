// The emulator's Kubernetes API server (core/v1 namespaces, secrets, serviceaccounts), faithful to
// kube-apiserver 1.32 where kubectl and @kubernetes/client-node look: discovery (legacy and
// aggregated v2), tables for `kubectl get`, Status errors, validation, resourceVersion
// preconditions, managed fields, the four patch types and server-side apply.
import { createHash } from 'node:crypto';
import { load as loadYaml } from 'js-yaml';
import {
  PatchError,
  SCHEMAS,
  SchemaError,
  conflictStatus,
  deepEqual,
  dropFields,
  isObj,
  jsonMergePatch,
  jsonPatch,
  serverSideApply,
  strategicMergePatch,
  unknownFields,
  updateManagedFields,
} from './kube-apply.ts';
import type { EmuContext, EmuRequest, EmuResponse, Handler, KubeObject, KubeState } from './types.ts';

type Obj = Record<string, unknown>;

// ---------------------------------------------------------------- resources

interface ResourceInfo {
  resource: 'namespaces' | 'secrets' | 'serviceaccounts';
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  verbs: string[];
  storageVersionHash: string;
}

const RESOURCES: Record<string, ResourceInfo> = {
  namespaces: {
    resource: 'namespaces',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'],
    storageVersionHash: 'Q3oi5N2YM8M=',
  },
  secrets: {
    resource: 'secrets',
    kind: 'Secret',
    listKind: 'SecretList',
    singular: 'secret',
    namespaced: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update'],
    storageVersionHash: 'S6u1pOWzb84=',
  },
  serviceaccounts: {
    resource: 'serviceaccounts',
    kind: 'ServiceAccount',
    listKind: 'ServiceAccountList',
    singular: 'serviceaccount',
    namespaced: true,
    shortNames: ['sa'],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update'],
    storageVersionHash: 'pbx9ZvyFpBE=',
  },
};

/** Namespaces the apiserver refuses to delete. */
const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

export const KUBE_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '70d3cc986aa8221cd1dfb1121852688902d3bf53',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T17:59:15Z',
  goVersion: 'go1.23.3',
  compiler: 'gc',
  platform: 'linux/amd64',
};

// ---------------------------------------------------------------- errors (metav1.Status)

class ApiError extends Error {
  code: number;
  reason: string;
  details?: Obj;
  constructor(code: number, reason: string, message: string, details?: Obj) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
}

interface FieldError {
  field: string;
  /** FieldValueInvalid | FieldValueRequired | FieldValueForbidden | FieldValueTooLong | FieldValueNotSupported */
  type: string;
  /** the error text after "field: " */
  detail: string;
}

function statusBody(code: number, reason: string, message: string, details?: Obj): Obj {
  const body: Obj = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason };
  if (details) body.details = details;
  body.code = code;
  return body;
}

const notFound = (resource: string, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
const alreadyExists = (resource: string, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, kind: resource });
const conflict = (resource: string, name: string, why: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, { name, kind: resource });
const MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';
const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);
const noRoute = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

function invalid(kind: string, name: string, errs: FieldError[]): ApiError {
  const parts = errs.map((e) => `${e.field}: ${e.detail}`);
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, {
    name,
    kind,
    causes: errs.map((e) => ({ reason: e.type, message: e.detail, field: e.field })),
  });
}

// ---------------------------------------------------------------- validation

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const q = (v: unknown): string => JSON.stringify(v);

function nameErrors(name: string, label: boolean): FieldError[] {
  const invalid = (why: string): FieldError[] => [{ field: 'metadata.name', type: 'FieldValueInvalid', detail: `Invalid value: ${q(name)}: ${why}` }];
  if (label) {
    if (name.length > 63) return invalid('must be no more than 63 characters');
    if (!DNS1123_LABEL.test(name)) {
      return invalid(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      );
    }
    return [];
  }
  if (name.length > 253) return invalid('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return invalid(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return [];
}

function qualifiedNameErrors(key: string, field: string): FieldError[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const bad = (why: string): FieldError[] => [{ field, type: 'FieldValueInvalid', detail: `Invalid value: ${q(key)}: ${why}` }];
  if (slash >= 0 && (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    return bad(
      "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    );
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return bad(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
  }
  return [];
}

function metadataErrors(md: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (md.labels !== undefined) {
    for (const [k, v] of Object.entries(md.labels as Obj)) {
      errs.push(...qualifiedNameErrors(k, 'metadata.labels'));
      const s = String(v);
      if (s.length > 63 || !LABEL_VALUE.test(s)) {
        errs.push({
          field: 'metadata.labels',
          type: 'FieldValueInvalid',
          detail: `Invalid value: ${q(s)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
        });
      }
    }
  }
  if (md.annotations !== undefined) {
    let size = 0;
    for (const [k, v] of Object.entries(md.annotations as Obj)) {
      errs.push(...qualifiedNameErrors(k.toLowerCase(), 'metadata.annotations'));
      size += k.length + String(v).length;
    }
    if (size > 256 * 1024)
      errs.push({ field: 'metadata.annotations', type: 'FieldValueTooLong', detail: 'Too long: must have at most 262144 bytes' });
  }
  return errs;
}

function jsonSyntaxError(text: string): string | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    if (!isObj(v)) {
      const t = Array.isArray(v) ? 'array' : v === null ? '' : typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : 'bool';
      return t ? `json: cannot unmarshal ${t} into Go value of type map[string]interface {}` : undefined;
    }
    return undefined;
  } catch (err) {
    if (text.trim() === '') return 'unexpected end of JSON input';
    const m = /position (\d+)/.exec((err as Error).message);
    const ch = m ? text[Number(m[1])] : undefined;
    return ch !== undefined ? `invalid character ${q(ch).replace(/^"|"$/g, "'")} looking for beginning of value` : 'unexpected end of JSON input';
  }
}

function validate(info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined): void {
  const md = obj.metadata;
  const errs: FieldError[] = [];
  if (!md.name) errs.push({ field: 'metadata.name', type: 'FieldValueRequired', detail: 'Required value: name or generateName is required' });
  else if (!old) errs.push(...nameErrors(md.name, info.resource === 'namespaces'));
  errs.push(...metadataErrors(md));
  if (info.resource === 'secrets') {
    const data = (obj.data ?? {}) as Record<string, string>;
    let total = 0;
    for (const [k, v] of Object.entries(data)) {
      if (k.length > 253 || !CONFIG_KEY.test(k)) {
        errs.push({
          field: `data[${k}]`,
          type: 'FieldValueInvalid',
          detail: `Invalid value: ${q(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
        });
      }
      total += Buffer.from(v, 'base64').length;
    }
    if (total > 1024 * 1024) errs.push({ field: 'data', type: 'FieldValueTooLong', detail: 'Too long: must have at most 1048576 bytes' });
    const type = String(obj.type);
    const jsonKey = type === 'kubernetes.io/dockerconfigjson' ? '.dockerconfigjson' : type === 'kubernetes.io/dockercfg' ? '.dockercfg' : undefined;
    if (jsonKey) {
      if (data[jsonKey] === undefined) errs.push({ field: `data[${jsonKey}]`, type: 'FieldValueRequired', detail: 'Required value' });
      else {
        const why = jsonSyntaxError(Buffer.from(data[jsonKey], 'base64').toString('utf8'));
        if (why) errs.push({ field: `data[${jsonKey}]`, type: 'FieldValueInvalid', detail: `Invalid value: "<secret contents redacted>": ${why}` });
      }
    }
    if (type === 'kubernetes.io/basic-auth' && data.username === undefined && data.password === undefined) {
      errs.push({ field: 'data[username]', type: 'FieldValueRequired', detail: 'Required value' });
    }
    if (type === 'kubernetes.io/ssh-auth' && data['ssh-privatekey'] === undefined) {
      errs.push({ field: 'data[ssh-privatekey]', type: 'FieldValueRequired', detail: 'Required value' });
    }
    if (type === 'kubernetes.io/tls' && (data['tls.crt'] === undefined || data['tls.key'] === undefined)) {
      errs.push({ field: `data[${data['tls.crt'] === undefined ? 'tls.crt' : 'tls.key'}]`, type: 'FieldValueRequired', detail: 'Required value' });
    }
    if (old) {
      if (old.type !== obj.type) errs.push({ field: 'type', type: 'FieldValueInvalid', detail: `Invalid value: ${q(obj.type)}: field is immutable` });
      if (old.immutable === true) {
        if (obj.immutable !== true)
          errs.push({ field: 'immutable', type: 'FieldValueForbidden', detail: 'Forbidden: field is immutable when `immutable` is set' });
        if (!deepEqual(old.data ?? {}, obj.data ?? {}))
          errs.push({ field: 'data', type: 'FieldValueForbidden', detail: 'Forbidden: field is immutable when `immutable` is set' });
      }
    }
  }
  if (info.resource === 'serviceaccounts') {
    for (const [field, list] of [
      ['secrets', obj.secrets],
      ['imagePullSecrets', obj.imagePullSecrets],
    ] as const) {
      if (list !== undefined && !Array.isArray(list))
        errs.push({ field, type: 'FieldValueInvalid', detail: `Invalid value: ${q(list)}: must be a list` });
    }
  }
  if (errs.length) throw invalid(info.kind, md.name ?? '', errs);
}

// ---------------------------------------------------------------- object preparation

/** RFC 3339 with seconds, as metav1.Time marshals. */
function timestamp(ctx: EmuContext): string {
  return ctx
    .now()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z');
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * Decode the request body into an object of the resource's kind as the apiserver does before the
 * field manager sees it: type meta, nulls dropped, Secret stringData folded into base64 data and
 * type defaulted, the namespace name label set. Unknown fields are dropped (or refused under Strict).
 */
function decode(info: ResourceInfo, body: unknown, strict: boolean, warnings: string[]): KubeObject {
  if (!isObj(body))
    throw badRequest(`${info.kind} in version "v1" cannot be handled as a ${info.kind}: the request body is not a JSON or YAML object`);
  if (body.kind !== undefined && body.kind !== info.kind) {
    throw badRequest(
      `${info.kind} in version "v1" cannot be handled as a ${info.kind}: the kind in the data (${String(body.kind)}) does not match the expected kind (${info.kind})`,
    );
  }
  if (body.apiVersion !== undefined && body.apiVersion !== 'v1') {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (v1)`);
  }
  const obj = dropNulls(structuredClone(body)) as Obj;
  if (obj.metadata !== undefined && !isObj(obj.metadata))
    throw badRequest(`${info.kind} in version "v1" cannot be handled as a ${info.kind}: metadata must be an object`);
  const unknown = unknownFields(obj, SCHEMAS[info.kind]);
  if (unknown.length) {
    if (strict) throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field ${q(f.slice(1))}`).join(', ')}`);
    dropFields(obj, unknown);
    for (const f of unknown) warnings.push(`unknown field ${q(f.slice(1))}`);
  }
  const out: KubeObject = { apiVersion: 'v1', kind: info.kind, ...obj, metadata: { ...((obj.metadata as Obj) ?? {}) } as KubeObject['metadata'] };
  out.apiVersion = 'v1';
  out.kind = info.kind;
  for (const k of ['labels', 'annotations'] as const) {
    const m = out.metadata[k];
    if (m === undefined) continue;
    if (!isObj(m) || Object.values(m).some((v) => typeof v !== 'string')) {
      throw badRequest(
        `${info.kind} in version "v1" cannot be handled as a ${info.kind}: json: cannot unmarshal into Go struct field ObjectMeta.metadata.${k} of type string`,
      );
    }
    if (Object.keys(m).length === 0) delete out.metadata[k];
  }
  if (info.resource === 'secrets') {
    for (const field of ['data', 'stringData'] as const) {
      const m = out[field];
      if (m === undefined) continue;
      if (!isObj(m) || Object.values(m).some((v) => typeof v !== 'string')) {
        throw badRequest(
          `Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal into Go struct field Secret.${field} of type string`,
        );
      }
    }
    const data: Record<string, string> = { ...((out.data as Record<string, string>) ?? {}) };
    for (const v of Object.values(data)) {
      const at = base64Error(v);
      if (at !== undefined) throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${at}`);
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
  return out;
}

function dropNulls(v: unknown): unknown {
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
function prepareForCreate(info: ResourceInfo, obj: KubeObject, ctx: EmuContext): void {
  const md = obj.metadata;
  md.uid = ctx.newGuid();
  md.creationTimestamp = timestamp(ctx);
  delete md.deletionTimestamp;
  delete md.deletionGracePeriodSeconds;
  delete md.selfLink;
  delete md.generation;
  if (info.resource === 'namespaces') {
    const spec = isObj(obj.spec) ? obj.spec : {};
    const finalizers = Array.isArray(spec.finalizers) ? (spec.finalizers as unknown[]) : [];
    if (!finalizers.includes('kubernetes')) finalizers.push('kubernetes');
    obj.spec = { ...spec, finalizers };
    obj.status = { phase: 'Active' };
  }
}

function prepareForUpdate(info: ResourceInfo, obj: KubeObject, old: KubeObject): void {
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
function ordered(obj: KubeObject): KubeObject {
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
  const restOrder = ['spec', 'status', 'secrets', 'imagePullSecrets', 'automountServiceAccountToken', 'immutable', 'data', 'type'];
  for (const k of restOrder) if (rest[k] !== undefined) out[k] = rest[k];
  for (const [k, v] of Object.entries(rest)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}

// ---------------------------------------------------------------- storage

function bucket(kube: KubeState, info: ResourceInfo, ns: string | undefined): Record<string, KubeObject> | undefined {
  if (info.resource === 'namespaces') return kube.namespaces;
  const all = kube[info.resource];
  return all[ns!];
}

function getObject(kube: KubeState, info: ResourceInfo, ns: string | undefined, name: string): KubeObject | undefined {
  const obj = bucket(kube, info, ns)?.[name];
  return obj ? withTypeMeta(info, obj, ns, name) : undefined;
}

/** Objects a test wrote into the state by hand may lack type meta or their name/namespace: fill them in. */
function withTypeMeta(info: ResourceInfo, obj: KubeObject, ns: string | undefined, name: string): KubeObject {
  if (obj.kind === info.kind && obj.apiVersion === 'v1' && obj.metadata?.name === name && (!info.namespaced || obj.metadata.namespace === ns))
    return obj;
  const metadata = { ...(obj.metadata ?? {}), name } as KubeObject['metadata'];
  if (info.namespaced) metadata.namespace = ns;
  return { ...obj, kind: info.kind, apiVersion: 'v1', metadata };
}

function nextResourceVersion(kube: KubeState): string {
  if (!Number.isFinite(kube.resourceVersion) || kube.resourceVersion < 1) kube.resourceVersion = 1;
  const rv = kube.resourceVersion;
  kube.resourceVersion = rv + 1;
  return String(rv);
}

function currentResourceVersion(kube: KubeState): string {
  return String(Math.max(1, (kube.resourceVersion ?? 2) - 1));
}

function store(kube: KubeState, info: ResourceInfo, obj: KubeObject): void {
  if (info.resource === 'namespaces') {
    kube.namespaces[obj.metadata.name] = obj;
    return;
  }
  const ns = obj.metadata.namespace!;
  const all = kube[info.resource];
  (all[ns] ??= {})[obj.metadata.name] = obj;
}

function requireNamespace(kube: KubeState, ns: string): void {
  if (!kube.namespaces[ns]) throw notFound('namespaces', ns);
  const phase = (kube.namespaces[ns].status as Obj | undefined)?.phase;
  if (phase === 'Terminating') {
    throw new ApiError(403, 'Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`, {
      name: ns,
      kind: 'namespaces',
      causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
    });
  }
}

// ---------------------------------------------------------------- selectors

interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';
  values: string[];
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

function parseLabelSelector(sel: string): Requirement[] {
  const reqs: Requirement[] = [];
  for (const part of splitTopLevel(sel)) {
    let m: RegExpExecArray | null;
    if ((m = /^!\s*([^\s=!<>(),]+)$/.exec(part))) reqs.push({ key: m[1], op: '!', values: [] });
    else if ((m = /^([^\s=!<>(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
      reqs.push({ key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((x) => x.trim()) });
    } else if ((m = /^([^\s=!<>(),]+)\s*(==|=|!=)\s*([^\s=!<>(),]*)$/.exec(part))) {
      reqs.push({ key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] });
    } else if ((m = /^([^\s=!<>(),]+)\s*(<|>)\s*(-?\d+)$/.exec(part))) {
      reqs.push({ key: m[1], op: m[2] === '>' ? 'gt' : 'lt', values: [m[3]] });
    } else if ((m = /^([^\s=!<>(),]+)$/.exec(part))) reqs.push({ key: m[1], op: 'exists', values: [] });
    else throw badRequest(`unable to parse requirement: found '${part}', expected: identifier`);
  }
  return reqs;
}

function matchesLabels(labels: Record<string, string>, reqs: Requirement[]): boolean {
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case 'in':
        return has && r.values.includes(v);
      case 'notin':
        return !has || !r.values.includes(v);
      case 'exists':
        return has;
      case '!':
        return !has;
      case 'gt':
        return has && /^-?\d+$/.test(v) && Number(v) > Number(r.values[0]);
      case 'lt':
        return has && /^-?\d+$/.test(v) && Number(v) < Number(r.values[0]);
    }
  });
}

function fieldValue(obj: KubeObject, field: string): string | undefined {
  if (field === 'metadata.name') return obj.metadata.name;
  if (field === 'metadata.namespace') return obj.metadata.namespace ?? '';
  if (field === 'type' && obj.kind === 'Secret') return String(obj.type ?? '');
  if (field === 'status.phase' && obj.kind === 'Namespace') return String((obj.status as Obj | undefined)?.phase ?? '');
  return undefined;
}

function parseFieldSelector(sel: string, info: ResourceInfo): ((o: KubeObject) => boolean)[] {
  const allowed = [
    'metadata.name',
    'metadata.namespace',
    ...(info.resource === 'secrets' ? ['type'] : []),
    ...(info.resource === 'namespaces' ? ['status.phase'] : []),
  ];
  return splitTopLevel(sel).map((part) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${sel}'; can't understand '${part}'`);
    const [, field, op, value] = m;
    if (!allowed.includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    return (o: KubeObject) => (fieldValue(o, field) === value) === (op !== '!=');
  });
}

// ---------------------------------------------------------------- tables (kubectl get)

function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

const NAME_COLUMN = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};
const AGE_COLUMN = {
  name: 'Age',
  type: 'string',
  format: '',
  description:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  priority: 0,
};

function tableColumns(info: ResourceInfo): Obj[] {
  switch (info.resource) {
    case 'namespaces':
      return [NAME_COLUMN, { name: 'Status', type: 'string', format: '', description: 'The status of the namespace', priority: 0 }, AGE_COLUMN];
    case 'secrets':
      return [
        NAME_COLUMN,
        {
          name: 'Type',
          type: 'string',
          format: '',
          description:
            'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types',
          priority: 0,
        },
        {
          name: 'Data',
          type: 'string',
          format: '',
          description:
            "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
          priority: 0,
        },
        AGE_COLUMN,
      ];
    case 'serviceaccounts':
      return [
        NAME_COLUMN,
        {
          name: 'Secrets',
          type: 'string',
          format: '',
          description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
          priority: 0,
        },
        AGE_COLUMN,
      ];
  }
}

function tableCells(info: ResourceInfo, obj: KubeObject, now: number): unknown[] {
  const created = obj.metadata.creationTimestamp ? Date.parse(obj.metadata.creationTimestamp) : NaN;
  const age = Number.isNaN(created) ? '<unknown>' : humanDuration(now - created);
  switch (info.resource) {
    case 'namespaces':
      return [obj.metadata.name, String((obj.status as Obj | undefined)?.phase ?? ''), age];
    case 'secrets':
      return [obj.metadata.name, String(obj.type ?? ''), Object.keys((obj.data as Obj | undefined) ?? {}).length, age];
    case 'serviceaccounts':
      return [obj.metadata.name, Array.isArray(obj.secrets) ? obj.secrets.length : 0, age];
  }
}

function wantsTable(req: EmuRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  return /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

function table(req: EmuRequest, info: ResourceInfo, objs: KubeObject[], rv: string, ctx: EmuContext, listMeta?: Obj): EmuResponse {
  const include = req.query.get('includeObject') ?? 'Metadata';
  const now = ctx.now().getTime();
  const rows = objs.map((o) => {
    const row: Obj = { cells: tableCells(info, o, now) };
    if (include === 'Object') row.object = o;
    else if (include !== 'None') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    return row;
  });
  const body: Obj = {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: rv, ...(listMeta ?? {}) },
    columnDefinitions: tableColumns(info),
    rows,
  };
  return json(200, body, { 'Content-Type': 'application/json;as=Table;v=v1;g=meta.k8s.io' });
}

// ---------------------------------------------------------------- discovery

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

function discovery(req: EmuRequest, ctx: EmuContext): EmuResponse | undefined {
  const p = req.path.replace(/\/+$/, '') || '/';
  if (req.method !== 'GET') {
    if (p === '/version' || p === '/api' || p === '/apis' || p === '/api/v1') {
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    }
    return undefined;
  }
  if (p === '/version') return json(200, KUBE_VERSION);
  if (p === '/api') {
    const agg = aggregatedVersion(req);
    if (agg) return aggregatedDiscovery(agg, true);
    return json(200, {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${ctx.port}` }],
    });
  }
  if (p === '/apis') {
    const agg = aggregatedVersion(req);
    if (agg) return aggregatedDiscovery(agg, false);
    return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
  }
  if (p === '/api/v1') return json(200, apiResourceList());
  return undefined;
}

// ---------------------------------------------------------------- OpenAPI v3 (what kubectl reads)

// `kubectl apply` (validation Strict, its default) reads /openapi/v3 and the group-version
// document to learn whether PATCH takes `fieldValidation`; when it does, validation is left to
// the server. The document describes the three resources: paths, operations and schemas.

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const CORE = 'io.k8s.api.core.v1';
const ref = (name: string): Obj => ({ $ref: `#/components/schemas/${name}` });
const refDefault = (name: string): Obj => ({ allOf: [ref(name)], default: {} });
const str = { type: 'string' };
const strMap = { type: 'object', additionalProperties: { type: 'string', default: '' } };
const gvk = (kind: string): Obj => ({ group: '', version: 'v1', kind });

function openapiSchemas(): Obj {
  return {
    [`${META}.Time`]: { type: 'string', format: 'date-time' },
    [`${META}.FieldsV1`]: { type: 'object' },
    [`${META}.ManagedFieldsEntry`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        fieldsType: str,
        fieldsV1: ref(`${META}.FieldsV1`),
        manager: str,
        operation: str,
        subresource: str,
        time: ref(`${META}.Time`),
      },
    },
    [`${META}.OwnerReference`]: {
      type: 'object',
      required: ['apiVersion', 'kind', 'name', 'uid'],
      properties: {
        apiVersion: { ...str, default: '' },
        blockOwnerDeletion: { type: 'boolean' },
        controller: { type: 'boolean' },
        kind: { ...str, default: '' },
        name: { ...str, default: '' },
        uid: { ...str, default: '' },
      },
      'x-kubernetes-map-type': 'atomic',
    },
    [`${META}.ObjectMeta`]: {
      type: 'object',
      properties: {
        annotations: strMap,
        creationTimestamp: ref(`${META}.Time`),
        deletionGracePeriodSeconds: { type: 'integer', format: 'int64' },
        deletionTimestamp: ref(`${META}.Time`),
        finalizers: { type: 'array', items: { ...str, default: '' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
        generateName: str,
        generation: { type: 'integer', format: 'int64' },
        labels: strMap,
        managedFields: { type: 'array', items: refDefault(`${META}.ManagedFieldsEntry`), 'x-kubernetes-list-type': 'atomic' },
        name: str,
        namespace: str,
        ownerReferences: {
          type: 'array',
          items: refDefault(`${META}.OwnerReference`),
          'x-kubernetes-list-map-keys': ['uid'],
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-patch-merge-key': 'uid',
          'x-kubernetes-patch-strategy': 'merge',
        },
        resourceVersion: str,
        selfLink: str,
        uid: str,
      },
    },
    [`${META}.ListMeta`]: {
      type: 'object',
      properties: { continue: str, remainingItemCount: { type: 'integer', format: 'int64' }, resourceVersion: str, selfLink: str },
    },
    [`${META}.Status`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        code: { type: 'integer', format: 'int32' },
        details: { type: 'object' },
        kind: str,
        message: str,
        metadata: refDefault(`${META}.ListMeta`),
        reason: str,
        status: str,
      },
      'x-kubernetes-group-version-kind': [gvk('Status')],
    },
    [`${META}.Patch`]: { type: 'object' },
    [`${META}.DeleteOptions`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        dryRun: { type: 'array', items: { ...str, default: '' }, 'x-kubernetes-list-type': 'atomic' },
        gracePeriodSeconds: { type: 'integer', format: 'int64' },
        kind: str,
        preconditions: { type: 'object', properties: { resourceVersion: str, uid: str } },
        propagationPolicy: str,
      },
    },
    [`${CORE}.LocalObjectReference`]: { type: 'object', properties: { name: { ...str, default: '' } }, 'x-kubernetes-map-type': 'atomic' },
    [`${CORE}.ObjectReference`]: {
      type: 'object',
      properties: { apiVersion: str, fieldPath: str, kind: str, name: str, namespace: str, resourceVersion: str, uid: str },
      'x-kubernetes-map-type': 'atomic',
    },
    [`${CORE}.Secret`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        data: { type: 'object', additionalProperties: { type: 'string', format: 'byte' } },
        immutable: { type: 'boolean' },
        kind: str,
        metadata: refDefault(`${META}.ObjectMeta`),
        stringData: strMap,
        type: str,
      },
      'x-kubernetes-group-version-kind': [gvk('Secret')],
    },
    [`${CORE}.ServiceAccount`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        automountServiceAccountToken: { type: 'boolean' },
        imagePullSecrets: { type: 'array', items: refDefault(`${CORE}.LocalObjectReference`), 'x-kubernetes-list-type': 'atomic' },
        kind: str,
        metadata: refDefault(`${META}.ObjectMeta`),
        secrets: {
          type: 'array',
          items: refDefault(`${CORE}.ObjectReference`),
          'x-kubernetes-list-map-keys': ['name'],
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-patch-merge-key': 'name',
          'x-kubernetes-patch-strategy': 'merge',
        },
      },
      'x-kubernetes-group-version-kind': [gvk('ServiceAccount')],
    },
    [`${CORE}.NamespaceSpec`]: {
      type: 'object',
      properties: { finalizers: { type: 'array', items: { ...str, default: '' }, 'x-kubernetes-list-type': 'atomic' } },
    },
    [`${CORE}.NamespaceCondition`]: {
      type: 'object',
      required: ['type', 'status'],
      properties: {
        lastTransitionTime: ref(`${META}.Time`),
        message: str,
        reason: str,
        status: { ...str, default: '' },
        type: { ...str, default: '' },
      },
    },
    [`${CORE}.NamespaceStatus`]: {
      type: 'object',
      properties: {
        conditions: {
          type: 'array',
          items: refDefault(`${CORE}.NamespaceCondition`),
          'x-kubernetes-list-map-keys': ['type'],
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-patch-merge-key': 'type',
          'x-kubernetes-patch-strategy': 'merge',
        },
        phase: str,
      },
    },
    [`${CORE}.Namespace`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        kind: str,
        metadata: refDefault(`${META}.ObjectMeta`),
        spec: refDefault(`${CORE}.NamespaceSpec`),
        status: refDefault(`${CORE}.NamespaceStatus`),
      },
      'x-kubernetes-group-version-kind': [gvk('Namespace')],
    },
    ...Object.fromEntries(
      Object.values(RESOURCES).map((r) => [
        `${CORE}.${r.listKind}`,
        {
          type: 'object',
          required: ['items'],
          properties: {
            apiVersion: str,
            items: { type: 'array', items: refDefault(`${CORE}.${r.kind}`) },
            kind: str,
            metadata: refDefault(`${META}.ListMeta`),
          },
          'x-kubernetes-group-version-kind': [gvk(r.listKind)],
        },
      ]),
    ),
  };
}

function queryParam(name: string, type = 'string'): Obj {
  return { name, in: 'query', description: name, schema: { type, uniqueItems: true } };
}

function openapiPaths(): Obj {
  const paths: Obj = {};
  const content = (schema: string): Obj => ({
    'application/json': { schema: ref(schema) },
    'application/yaml': { schema: ref(schema) },
    'application/vnd.kubernetes.protobuf': { schema: ref(schema) },
  });
  const op = (r: ResourceInfo, action: string, verb: string, opKind: string, params: Obj[], body?: Obj, response = `${CORE}.${r.kind}`): Obj => ({
    tags: ['core_v1'],
    description: `${action} ${r.kind}`,
    operationId: `${verb}CoreV1${r.namespaced ? 'Namespaced' : ''}${opKind}`,
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: { '200': { description: 'OK', content: content(response) }, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk(r.kind),
  });
  const writeParams = [queryParam('dryRun'), queryParam('fieldManager'), queryParam('fieldValidation')];
  for (const r of Object.values(RESOURCES)) {
    const base = r.namespaced ? `/api/v1/namespaces/{namespace}/${r.resource}` : `/api/v1/${r.resource}`;
    const pathParams: Obj[] = [
      ...(r.namespaced
        ? [
            {
              name: 'namespace',
              in: 'path',
              required: true,
              description: 'object name and auth scope, such as for teams and projects',
              schema: { type: 'string', uniqueItems: true },
            },
          ]
        : []),
      queryParam('pretty'),
    ];
    const listParams = ['continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'timeoutSeconds'].map((n) =>
      queryParam(n, n === 'limit' || n === 'timeoutSeconds' ? 'integer' : 'string'),
    );
    const collection: Obj = {
      get: op(r, 'list', 'list', r.kind, listParams, undefined, `${CORE}.${r.listKind}`),
      post: op(r, 'post', 'create', r.kind, writeParams, { content: { '*/*': { schema: ref(`${CORE}.${r.kind}`) } }, required: true }),
      parameters: pathParams,
    };
    if (r.verbs.includes('deletecollection')) {
      collection.delete = op(
        r,
        'deletecollection',
        'deleteCollection',
        r.kind,
        [queryParam('dryRun'), ...listParams],
        { content: { '*/*': { schema: ref(`${META}.DeleteOptions`) } } },
        `${META}.Status`,
      );
    }
    paths[base] = collection;
    paths[`${base}/{name}`] = {
      get: op(r, 'get', 'read', r.kind, []),
      put: op(r, 'put', 'replace', r.kind, writeParams, { content: { '*/*': { schema: ref(`${CORE}.${r.kind}`) } }, required: true }),
      patch: op(r, 'patch', 'patch', r.kind, [...writeParams, queryParam('force', 'boolean')], {
        content: Object.fromEntries(
          [
            'application/apply-patch+yaml',
            'application/json-patch+json',
            'application/merge-patch+json',
            'application/strategic-merge-patch+json',
          ].map((t) => [t, { schema: ref(`${META}.Patch`) }]),
        ),
        required: true,
      }),
      delete: op(
        r,
        'delete',
        'delete',
        r.kind,
        [queryParam('dryRun'), queryParam('gracePeriodSeconds', 'integer'), queryParam('propagationPolicy')],
        { content: { '*/*': { schema: ref(`${META}.DeleteOptions`) } } },
        `${META}.Status`,
      ),
      parameters: [
        { name: 'name', in: 'path', required: true, description: `name of the ${r.kind}`, schema: { type: 'string', uniqueItems: true } },
        ...pathParams,
      ],
    };
  }
  return paths;
}

let openapiCache: { doc: string; hash: string } | undefined;

function openapiV1(): { doc: string; hash: string } {
  if (!openapiCache) {
    const doc = JSON.stringify({
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
      paths: openapiPaths(),
      components: {
        schemas: openapiSchemas(),
        securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
      },
    });
    openapiCache = { doc, hash: createHash('sha512').update(doc).digest('hex').toUpperCase() };
  }
  return openapiCache;
}

function openapi(req: EmuRequest): EmuResponse | undefined {
  const p = req.path.replace(/\/+$/, '');
  if (req.method !== 'GET') return undefined;
  if (p === '/openapi/v3') {
    return json(200, { paths: { 'api/v1': { serverRelativeURL: `/openapi/v3/api/v1?hash=${openapiV1().hash}` } } });
  }
  if (p === '/openapi/v3/api/v1') {
    const { doc, hash } = openapiV1();
    return {
      status: 200,
      headers: { 'Content-Type': 'application/json', Etag: `"${hash}"`, 'Cache-Control': 'public, immutable' },
      body: Buffer.from(doc),
    };
  }
  return undefined;
}

// ---------------------------------------------------------------- request plumbing

function json(status: number, body: unknown, headers?: Record<string, string>): EmuResponse {
  return { status, headers: { 'Content-Type': 'application/json', ...(headers ?? {}) }, body };
}

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

function managerName(req: EmuRequest): string {
  const fm = req.query.get('fieldManager');
  if (fm) return fm;
  const ua = String(req.headers['user-agent'] ?? '');
  return ua.split('/')[0].slice(0, 128);
}

function dryRun(req: EmuRequest): boolean {
  const values = req.query.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`Invalid dry run value: ${q(v)}`);
  return values.length > 0;
}

function fieldValidation(req: EmuRequest): 'Strict' | 'Warn' | 'Ignore' {
  const v = req.query.get('fieldValidation') ?? 'Warn';
  if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore') {
    throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${q(v)}`);
  }
  return v;
}

function mediaType(req: EmuRequest): string {
  return String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
}

function parseBody(req: EmuRequest, info: ResourceInfo): unknown {
  const type = mediaType(req);
  const text = req.body.toString('utf8');
  if (type === 'application/vnd.kubernetes.protobuf') {
    try {
      return decodeKubeProtobuf(req.body, info.kind);
    } catch (err) {
      if (err instanceof ProtoError) throw badRequest(`${info.kind} in version "v1" cannot be handled as a ${info.kind}: ${err.message}`);
      throw err;
    }
  }
  if (type === 'application/cbor') {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
    );
  }
  if (text.trim() === '') throw badRequest(`${info.kind} in version "v1" cannot be handled as a ${info.kind}: unexpected end of JSON input`);
  if (req.json !== undefined) return req.json;
  try {
    return loadYaml(text);
  } catch (err) {
    throw badRequest(`${info.kind} in version "v1" cannot be handled as a ${info.kind}: ${(err as Error).message.split('\n')[0]}`);
  }
}

function warningHeaders(warnings: string[]): Record<string, string> {
  return warnings.length ? { Warning: warnings.map((w) => `299 - ${q(w)}`).join(', ') } : {};
}

// ---------------------------------------------------------------- protobuf request bodies

// kubectl's typed clients (`kubectl create secret|namespace|serviceaccount`) send
// application/vnd.kubernetes.protobuf: the 4-byte magic `k8s\0`, then a runtime.Unknown whose
// `raw` is the object in the generated.proto encoding of k8s.io/api. Decoded here into JSON.

type ProtoKind = 'string' | 'bytes' | 'bool' | 'int' | 'msg' | 'map' | 'mapBytes' | 'time' | 'fieldsV1';
interface ProtoField {
  name: string;
  kind: ProtoKind;
  repeated?: boolean;
  msg?: ProtoMessage;
}
type ProtoMessage = Record<number, ProtoField>;

const P = (name: string, kind: ProtoKind, extra: Partial<ProtoField> = {}): ProtoField => ({ name, kind, ...extra });

const PROTO_OWNER_REFERENCE: ProtoMessage = {
  1: P('kind', 'string'),
  3: P('name', 'string'),
  4: P('uid', 'string'),
  5: P('apiVersion', 'string'),
  6: P('controller', 'bool'),
  7: P('blockOwnerDeletion', 'bool'),
};
const PROTO_MANAGED_FIELDS_ENTRY: ProtoMessage = {
  1: P('manager', 'string'),
  2: P('operation', 'string'),
  3: P('apiVersion', 'string'),
  4: P('time', 'time'),
  6: P('fieldsType', 'string'),
  7: P('fieldsV1', 'fieldsV1'),
  8: P('subresource', 'string'),
};
const PROTO_OBJECT_META: ProtoMessage = {
  1: P('name', 'string'),
  2: P('generateName', 'string'),
  3: P('namespace', 'string'),
  4: P('selfLink', 'string'),
  5: P('uid', 'string'),
  6: P('resourceVersion', 'string'),
  7: P('generation', 'int'),
  8: P('creationTimestamp', 'time'),
  9: P('deletionTimestamp', 'time'),
  10: P('deletionGracePeriodSeconds', 'int'),
  11: P('labels', 'map'),
  12: P('annotations', 'map'),
  13: P('ownerReferences', 'msg', { repeated: true, msg: PROTO_OWNER_REFERENCE }),
  14: P('finalizers', 'string', { repeated: true }),
  17: P('managedFields', 'msg', { repeated: true, msg: PROTO_MANAGED_FIELDS_ENTRY }),
};
const PROTO_OBJECT_REFERENCE: ProtoMessage = {
  1: P('kind', 'string'),
  2: P('namespace', 'string'),
  3: P('name', 'string'),
  4: P('uid', 'string'),
  5: P('apiVersion', 'string'),
  6: P('resourceVersion', 'string'),
  7: P('fieldPath', 'string'),
};
const PROTO_KINDS: Record<string, ProtoMessage> = {
  Secret: {
    1: P('metadata', 'msg', { msg: PROTO_OBJECT_META }),
    2: P('data', 'mapBytes'),
    3: P('type', 'string'),
    4: P('stringData', 'map'),
    5: P('immutable', 'bool'),
  },
  ServiceAccount: {
    1: P('metadata', 'msg', { msg: PROTO_OBJECT_META }),
    2: P('secrets', 'msg', { repeated: true, msg: PROTO_OBJECT_REFERENCE }),
    3: P('imagePullSecrets', 'msg', { repeated: true, msg: { 1: P('name', 'string') } }),
    4: P('automountServiceAccountToken', 'bool'),
  },
  Namespace: {
    1: P('metadata', 'msg', { msg: PROTO_OBJECT_META }),
    2: P('spec', 'msg', { msg: { 1: P('finalizers', 'string', { repeated: true }) } }),
    3: P('status', 'msg', {
      msg: {
        1: P('phase', 'string'),
        2: P('conditions', 'msg', {
          repeated: true,
          msg: {
            1: P('type', 'string'),
            2: P('status', 'string'),
            4: P('lastTransitionTime', 'time'),
            5: P('reason', 'string'),
            6: P('message', 'string'),
          },
        }),
      },
    }),
  },
  DeleteOptions: {
    1: P('gracePeriodSeconds', 'int'),
    2: P('preconditions', 'msg', { msg: { 1: P('uid', 'string'), 2: P('resourceVersion', 'string') } }),
    3: P('orphanDependents', 'bool'),
    4: P('propagationPolicy', 'string'),
    5: P('dryRun', 'string', { repeated: true }),
  },
};
const PROTO_UNKNOWN: ProtoMessage = {
  1: P('typeMeta', 'msg', { msg: { 1: P('apiVersion', 'string'), 2: P('kind', 'string') } }),
  2: P('raw', 'bytes'),
  3: P('contentEncoding', 'string'),
  4: P('contentType', 'string'),
};

class ProtoError extends Error {}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new ProtoError('unexpected EOF');
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
    if (shift > 63n) throw new ProtoError('proto: integer overflow');
  }
}

/** Raw fields of one message: field number -> list of [wire type, value]. */
function readFields(buf: Buffer): Map<number, Array<bigint | Buffer>> {
  const out = new Map<number, Array<bigint | Buffer>>();
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let value: bigint | Buffer;
    if (wire === 0) [value, pos] = readVarint(buf, pos);
    else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      const end = p2 + Number(len);
      if (end > buf.length) throw new ProtoError('unexpected EOF');
      value = buf.subarray(p2, end);
      pos = end;
    } else if (wire === 1) {
      value = buf.readBigInt64LE(pos);
      pos += 8;
    } else if (wire === 5) {
      value = BigInt(buf.readInt32LE(pos));
      pos += 4;
    } else throw new ProtoError(`proto: illegal wireType ${wire}`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

function signed64(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

function decodeProtoMessage(buf: Buffer, desc: ProtoMessage): Obj {
  const out: Obj = {};
  for (const [num, values] of readFields(buf)) {
    const f = desc[num];
    if (!f) continue;
    const conv = (v: bigint | Buffer): unknown => {
      const bytes = (): Buffer => {
        if (!Buffer.isBuffer(v)) throw new ProtoError(`proto: wrong wireType for field ${f.name}`);
        return v;
      };
      switch (f.kind) {
        case 'string':
          return bytes().toString('utf8');
        case 'bytes':
          return bytes();
        case 'bool':
          return typeof v === 'bigint' ? v !== 0n : false;
        case 'int':
          return typeof v === 'bigint' ? signed64(v) : 0;
        case 'msg':
          return decodeProtoMessage(bytes(), f.msg!);
        case 'time': {
          const t = decodeProtoMessage(bytes(), { 1: P('seconds', 'int'), 2: P('nanos', 'int') });
          const secs = Number(t.seconds ?? 0);
          if (!secs && !t.nanos) return null;
          return new Date(secs * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
        }
        case 'fieldsV1': {
          const raw = decodeProtoMessage(bytes(), { 1: P('raw', 'bytes') }).raw as Buffer | undefined;
          return raw ? (JSON.parse(raw.toString('utf8')) as unknown) : {};
        }
        case 'map':
        case 'mapBytes': {
          const e = decodeProtoMessage(bytes(), { 1: P('key', 'string'), 2: P('value', 'bytes') });
          const value = (e.value as Buffer | undefined) ?? Buffer.alloc(0);
          return [String(e.key ?? ''), f.kind === 'map' ? value.toString('utf8') : value.toString('base64')];
        }
      }
    };
    if (!f.repeated && (f.kind === 'string' || f.kind === 'int')) {
      // generated.pb.go writes non-pointer strings and integers even when empty: empty means unset
      const v = conv(values[values.length - 1]);
      if (v !== '' && v !== 0) out[f.name] = v;
      continue;
    }
    if (f.kind === 'map' || f.kind === 'mapBytes') {
      const m: Record<string, unknown> = (out[f.name] as Record<string, unknown>) ?? {};
      for (const v of values) {
        const [k, x] = conv(v) as [string, unknown];
        m[k] = x;
      }
      out[f.name] = m;
    } else if (f.repeated) out[f.name] = values.map(conv);
    else out[f.name] = conv(values[values.length - 1]);
  }
  return out;
}

const PROTO_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decode a Kubernetes protobuf body into the JSON form of the object (`kind` from the envelope). */
export function decodeKubeProtobuf(body: Buffer, expectedKind?: string): Obj {
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTO_MAGIC))
    throw new ProtoError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  const unknown = decodeProtoMessage(body.subarray(4), PROTO_UNKNOWN);
  const tm = (unknown.typeMeta as Obj | undefined) ?? {};
  const kind = String(tm.kind ?? expectedKind ?? '');
  const desc = PROTO_KINDS[kind];
  if (!desc) throw new ProtoError(`no kind "${kind}" is registered for version "${String(tm.apiVersion ?? '')}"`);
  const obj = decodeProtoMessage((unknown.raw as Buffer | undefined) ?? Buffer.alloc(0), desc);
  return { kind, apiVersion: String(tm.apiVersion ?? 'v1'), ...obj };
}

// ---------------------------------------------------------------- verbs

interface Call {
  req: EmuRequest;
  ctx: EmuContext;
  kube: KubeState;
  info: ResourceInfo;
  namespace?: string;
  name?: string;
}

function present(obj: KubeObject): KubeObject {
  return ordered(structuredClone(obj));
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
  const { req, ctx, kube, info } = c;
  const warnings: string[] = [];
  const isDryRun = dryRun(req);
  const validation = fieldValidation(req);
  const obj = decode(info, parseBody(req, info), validation === 'Strict', warnings);
  const md = obj.metadata;
  if (info.namespaced) {
    if (md.namespace && md.namespace !== c.namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    md.namespace = c.namespace;
  } else delete md.namespace;
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
  md.managedFields = updateManagedFields({ kind: info.kind, live: undefined, next: obj, manager: managerName(req), now: timestamp(ctx) });
  if (md.managedFields.length === 0) delete md.managedFields;
  prepareForCreate(info, obj, ctx);
  validate(info, obj, undefined);
  if (info.namespaced) requireNamespace(kube, c.namespace!);
  if (getObject(kube, info, c.namespace, md.name)) throw alreadyExists(info.resource, md.name);
  const stored = commit(c, obj, undefined, isDryRun);
  if (info.resource === 'namespaces' && !isDryRun) ensureDefaultServiceAccount(c, md.name);
  return json(201, present(stored), warningHeaders(warnings));
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

function checkNameAndNamespace(c: Call, obj: KubeObject): void {
  if (obj.metadata.name !== c.name) {
    throw badRequest(`the name of the object (${obj.metadata.name ?? ''}) does not match the name on the URL (${c.name})`);
  }
  if (c.info.namespaced) {
    if (obj.metadata.namespace && obj.metadata.namespace !== c.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = c.namespace;
  } else delete obj.metadata.namespace;
}

/** Shared tail of update and the non-apply patches: preconditions, managed fields, validation, store. */
function finishUpdate(c: Call, obj: KubeObject, old: KubeObject, isDryRun: boolean, warnings: string[], status = 200): EmuResponse {
  const { info } = c;
  checkNameAndNamespace(c, obj);
  const rv = obj.metadata.resourceVersion;
  if (rv && rv !== old.metadata.resourceVersion) throw conflict(info.resource, c.name!, MODIFIED);
  obj.metadata.managedFields = updateManagedFields({ kind: info.kind, live: old, next: obj, manager: managerName(c.req), now: timestamp(c.ctx) });
  if (obj.metadata.managedFields.length === 0) delete obj.metadata.managedFields;
  prepareForUpdate(info, obj, old);
  if (info.resource === 'namespaces') obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
  validate(info, obj, old);
  const stored = commit(c, obj, old, isDryRun);
  return json(status, present(stored), warningHeaders(warnings));
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
  if (force !== null) {
    throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch', {
      group: 'meta.k8s.io',
      kind: 'PatchOptions',
      causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified for non-apply patch', field: 'force' }],
    });
  }
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
  if (!isObj(patched)) throw badRequest(`${info.kind} in version "v1" cannot be handled as a ${info.kind}: the patched document is not an object`);
  const warnings: string[] = [];
  const obj = decode(info, patched, fieldValidation(req) === 'Strict', warnings);
  if (!obj.metadata.name) obj.metadata.name = c.name!;
  return finishUpdate(c, obj, old, isDryRun, warnings);
}

/** Server-side apply (PATCH with application/apply-patch+yaml). */
function apply(c: Call, isDryRun: boolean, force: boolean): EmuResponse {
  const { req, ctx, kube, info } = c;
  const manager = req.query.get('fieldManager');
  if (!manager) {
    throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
      group: 'meta.k8s.io',
      kind: 'PatchOptions',
      causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
    });
  }
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
  if (md.name !== c.name) throw badRequest(`the name of the object (${String(md.name)}) does not match the name on the URL (${c.name})`);
  if (info.namespaced) {
    if (md.namespace !== undefined && md.namespace !== '' && md.namespace !== c.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    md.namespace = c.namespace;
  } else delete md.namespace;
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
  obj.metadata.managedFields = result.managedFields;
  if (obj.metadata.managedFields.length === 0) delete obj.metadata.managedFields;
  if (!old) {
    delete obj.metadata.uid;
    prepareForCreate(info, obj, ctx);
    validate(info, obj, undefined);
    const stored = commit(c, obj, undefined, isDryRun);
    if (info.resource === 'namespaces' && !isDryRun) ensureDefaultServiceAccount(c, obj.metadata.name);
    return json(201, present(stored), warningHeaders(warnings));
  }
  prepareForUpdate(info, obj, old);
  validate(info, obj, old);
  const stored = commit(c, obj, old, isDryRun);
  return json(200, present(stored), warningHeaders(warnings));
}

interface DeleteOptions {
  preconditions?: { resourceVersion?: string; uid?: string };
  dryRun?: string[];
}

function deleteOptions(req: EmuRequest): DeleteOptions {
  if (req.body.length === 0) return {};
  if (mediaType(req) === 'application/vnd.kubernetes.protobuf') {
    try {
      return decodeKubeProtobuf(req.body, 'DeleteOptions') as DeleteOptions;
    } catch (err) {
      if (err instanceof ProtoError) throw badRequest(`DeleteOptions in version "v1" cannot be handled as a DeleteOptions: ${err.message}`);
      throw err;
    }
  }
  const body =
    req.json ??
    (() => {
      try {
        return loadYaml(req.body.toString('utf8'));
      } catch {
        return undefined;
      }
    })();
  if (!isObj(body)) throw badRequest('DeleteOptions in version "v1" cannot be handled as a DeleteOptions: the body is not an object');
  return body as DeleteOptions;
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
  if (info.resource === 'namespaces')
    throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
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

// ---------------------------------------------------------------- the handler

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
    throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
  } catch (err) {
    if (err instanceof ApiError) return json(err.code, statusBody(err.code, err.reason, err.message, err.details));
    throw err;
  }
}

export const handlers: Handler[] = [handle];
