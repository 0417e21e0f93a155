// Pure object logic of the emulator's Kubernetes API server, shaped on kube-apiserver 1.32 and
// sigs.k8s.io/structured-merge-diff: field sets in the FieldsV1 format, managed fields of
// Update operations, server-side apply (merge, ownership, conflicts, pruning), and the three
// patch formats (JSON merge patch, strategic merge patch, JSON patch). No I/O, no state.

// ---------------------------------------------------------------- schemas

/**
 * The shape of a field as structured-merge-diff sees it.
 * scalar/atomic: owned and replaced as a whole; map/struct: per key; assoc: a list keyed by
 * `keys` (items owned per key); set: a list of scalars owned per value; deduced: unknown field,
 * typed by its value (objects per key, lists atomic).
 */
export type Schema =
  | { type: 'scalar' }
  | { type: 'atomic' }
  | { type: 'map'; elem: Schema }
  | { type: 'struct'; fields: Record<string, Schema> }
  | { type: 'assoc'; keys: string[]; elem: Schema }
  | { type: 'set' }
  | { type: 'deduced' };

const SCALAR: Schema = { type: 'scalar' };
const ATOMIC: Schema = { type: 'atomic' };
const DEDUCED: Schema = { type: 'deduced' };
const STRING_MAP: Schema = { type: 'map', elem: SCALAR };

export const OBJECT_META: Schema = {
  type: 'struct',
  fields: {
    name: SCALAR,
    generateName: SCALAR,
    namespace: SCALAR,
    selfLink: SCALAR,
    uid: SCALAR,
    resourceVersion: SCALAR,
    generation: SCALAR,
    creationTimestamp: SCALAR,
    deletionTimestamp: SCALAR,
    deletionGracePeriodSeconds: SCALAR,
    labels: STRING_MAP,
    annotations: STRING_MAP,
    // +listType=map +listMapKey=uid; OwnerReference is +structType=atomic
    ownerReferences: { type: 'assoc', keys: ['uid'], elem: ATOMIC },
    // +listType=set
    finalizers: { type: 'set' },
    managedFields: ATOMIC,
  },
};

const TYPE_META = { apiVersion: SCALAR, kind: SCALAR };

/** Schemas of the kinds the emulator serves (core/v1 as of Kubernetes 1.32). */
export const SCHEMAS: Record<string, Schema> = {
  Secret: {
    type: 'struct',
    fields: { ...TYPE_META, metadata: OBJECT_META, data: STRING_MAP, stringData: STRING_MAP, type: SCALAR, immutable: SCALAR },
  },
  ServiceAccount: {
    type: 'struct',
    fields: {
      ...TYPE_META,
      metadata: OBJECT_META,
      // +patchMergeKey=name +patchStrategy=merge (associative by name); ObjectReference is +structType=atomic
      secrets: { type: 'assoc', keys: ['name'], elem: ATOMIC },
      // no patch strategy: atomic (a strategic merge patch replaces the whole list)
      imagePullSecrets: ATOMIC,
      automountServiceAccountToken: SCALAR,
    },
  },
  Namespace: {
    type: 'struct',
    fields: {
      ...TYPE_META,
      metadata: OBJECT_META,
      spec: { type: 'struct', fields: { finalizers: ATOMIC } },
      status: {
        type: 'struct',
        fields: { phase: SCALAR, conditions: { type: 'assoc', keys: ['type'], elem: DEDUCED } },
      },
    },
  },
};

/** Top-level (and metadata) fields a kind's schema does not declare, as `.a.b` paths. */
export function unknownFields(obj: unknown, schema: Schema): string[] {
  const out: string[] = [];
  const walk = (v: unknown, s: Schema, path: string): void => {
    if (!isObj(v)) return;
    if (s.type === 'struct') {
      for (const [k, x] of Object.entries(v)) {
        const child = s.fields[k];
        if (!child) out.push(`${path}.${k}`);
        else walk(x, child, `${path}.${k}`);
      }
    }
  };
  walk(obj, schema, '');
  return out;
}

/** Delete the fields unknownFields() names (in place). */
export function dropFields(obj: Record<string, unknown>, paths: string[]): void {
  for (const p of paths) {
    const parts = p.split('.').slice(1);
    let cur: unknown = obj;
    for (let i = 0; i < parts.length - 1 && isObj(cur); i++) cur = cur[parts[i]];
    if (isObj(cur)) delete cur[parts[parts.length - 1]];
  }
}

// ---------------------------------------------------------------- JSON helpers

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObj(a)) {
    if (!isObj(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

function childSchema(s: Schema, key: string): Schema {
  if (s.type === 'struct') return s.fields[key] ?? DEDUCED;
  if (s.type === 'map') return s.elem;
  return DEDUCED;
}

/** The relationship a node has once the value is known (deduced fields take their value's shape). */
function resolve(s: Schema, v: unknown): Schema {
  if (s.type !== 'deduced') return s;
  if (isObj(v)) return { type: 'map', elem: DEDUCED };
  if (Array.isArray(v)) return ATOMIC;
  return SCALAR;
}

function isGranularMap(s: Schema): boolean {
  return s.type === 'map' || s.type === 'struct';
}
function isGranularList(s: Schema): boolean {
  return s.type === 'assoc' || s.type === 'set';
}

// ---------------------------------------------------------------- paths and field sets

/**
 * A path element in FieldsV1 spelling: `f:name` (field), `k:{"name":"x"}` (list item by key),
 * `v:"x"` (set value), `i:0` (list index). A path is a list of them; a field set holds paths
 * encoded with JSON.stringify.
 */
export type PathElement = string;
export type FieldSet = Set<string>;

const enc = (p: PathElement[]): string => JSON.stringify(p);
const dec = (s: string): PathElement[] => JSON.parse(s) as PathElement[];

function keyElement(item: unknown, keys: string[]): PathElement {
  if (!isObj(item)) throw new SchemaError(`associative list with keys has an element that is not a map`);
  const k: Record<string, unknown> = {};
  for (const name of [...keys].sort()) {
    if (item[name] === undefined) {
      throw new SchemaError(`associative list with keys has an element that omits key field ${JSON.stringify(name)}`);
    }
    k[name] = item[name];
  }
  return `k:${JSON.stringify(k)}`;
}

export class SchemaError extends Error {}

/** Path in the spelling of fieldpath.Path.String(): `.data..dockerconfigjson`, `.secrets[name="x"]`. */
export function pathString(p: PathElement[]): string {
  return p
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'k': {
          const k = JSON.parse(body) as Record<string, unknown>;
          return `[${Object.entries(k)
            .map(([n, v]) => `${n}=${JSON.stringify(v)}`)
            .join(',')}]`;
        }
        case 'v':
          return `[=${body}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}

const RANK: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };
function comparePE(a: PathElement, b: PathElement): number {
  const r = (RANK[a[0]] ?? 9) - (RANK[b[0]] ?? 9);
  if (r !== 0) return r;
  if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

export function comparePaths(a: PathElement[], b: PathElement[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = comparePE(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

interface TreeNode {
  member: boolean;
  children: Map<PathElement, TreeNode>;
}

/** Encode a field set as a FieldsV1 object (`{"f:data":{".":{},"f:x":{}}}`), elements sorted. */
export function toFieldsV1(set: FieldSet): Record<string, unknown> {
  const root: TreeNode = { member: false, children: new Map() };
  for (const s of set) {
    let node = root;
    for (const pe of dec(s)) {
      let next = node.children.get(pe);
      if (!next) {
        next = { member: false, children: new Map() };
        node.children.set(pe, next);
      }
      node = next;
    }
    node.member = true;
  }
  const emit = (node: TreeNode): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    if (node.member && node.children.size > 0) out['.'] = {};
    for (const pe of [...node.children.keys()].sort(comparePE)) out[pe] = emit(node.children.get(pe)!);
    return out;
  };
  return emit(root);
}

/** Decode a FieldsV1 object into a field set. */
export function fromFieldsV1(f: unknown): FieldSet {
  const out: FieldSet = new Set();
  const walk = (node: unknown, path: PathElement[]): void => {
    if (!isObj(node)) return;
    const keys = Object.keys(node);
    if (path.length > 0 && (keys.length === 0 || keys.includes('.'))) out.add(enc(path));
    for (const k of keys) if (k !== '.') walk(node[k], [...path, k]);
  };
  walk(f, []);
  return out;
}

function union(...sets: FieldSet[]): FieldSet {
  const out: FieldSet = new Set();
  for (const s of sets) for (const p of s) out.add(p);
  return out;
}
function difference(a: FieldSet, b: FieldSet): FieldSet {
  return new Set([...a].filter((p) => !b.has(p)));
}
function intersection(a: FieldSet, b: FieldSet): FieldSet {
  return new Set([...a].filter((p) => b.has(p)));
}

/** The fields an applied configuration sets (typed.TypedValue.ToFieldSet). */
export function toFieldSet(value: unknown, schema: Schema): FieldSet {
  const out: FieldSet = new Set();
  const visit = (v: unknown, s0: Schema, path: PathElement[]): void => {
    const s = resolve(s0, v);
    if (s.type === 'scalar' || s.type === 'atomic') {
      out.add(enc(path));
      return;
    }
    if (v === null || v === undefined) return;
    if (isGranularMap(s)) {
      if (!isObj(v)) return void out.add(enc(path));
      for (const [k, x] of Object.entries(v)) if (x !== undefined) visit(x, childSchema(s, k), [...path, `f:${k}`]);
      return;
    }
    if (!Array.isArray(v)) return void out.add(enc(path));
    if (s.type === 'assoc') {
      for (const item of v) {
        const p = [...path, keyElement(item, s.keys)];
        visit(item, s.elem, p);
        out.add(enc(p));
      }
    } else if (s.type === 'set') {
      for (const item of v) out.add(enc([...path, `v:${JSON.stringify(item)}`]));
    }
  };
  visit(value, schema, []);
  out.delete(enc([]));
  return out;
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** typed.TypedValue.Compare: which fields `rhs` adds, modifies or removes relative to `lhs`. */
export function compare(lhs: unknown, rhs: unknown, schema: Schema): Comparison {
  const c: Comparison = { added: new Set(), modified: new Set(), removed: new Set() };
  const leaf = (l: unknown, r: unknown, path: PathElement[]): void => {
    if (l === undefined && r === undefined) return;
    if (l === undefined) c.added.add(enc(path));
    else if (r === undefined) c.removed.add(enc(path));
    else if (!deepEqual(l, r)) c.modified.add(enc(path));
  };
  const emptyish = (v: unknown): boolean =>
    v === undefined || v === null || (isObj(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0);
  const visit = (l: unknown, r: unknown, s0: Schema, path: PathElement[]): void => {
    if (l === undefined && r === undefined) return;
    const s = resolve(s0, r !== undefined ? r : l);
    const shapeOk = (v: unknown): boolean =>
      v === undefined || v === null || (isGranularMap(s) ? isObj(v) : isGranularList(s) ? Array.isArray(v) : false);
    if (s.type === 'scalar' || s.type === 'atomic' || (emptyish(l) && emptyish(r)) || !shapeOk(l) || !shapeOk(r)) {
      leaf(l, r, path);
      return;
    }
    if (isGranularMap(s)) {
      const lo = isObj(l) ? l : {};
      const ro = isObj(r) ? r : {};
      for (const k of new Set([...Object.keys(lo), ...Object.keys(ro)])) {
        visit(lo[k], ro[k], childSchema(s, k), [...path, `f:${k}`]);
      }
    } else if (s.type === 'assoc') {
      const items = new Map<PathElement, [unknown, unknown]>();
      for (const x of Array.isArray(l) ? l : []) items.set(keyElement(x, s.keys), [x, undefined]);
      for (const x of Array.isArray(r) ? r : []) {
        const k = keyElement(x, s.keys);
        items.set(k, [items.get(k)?.[0], x]);
      }
      for (const [k, [a, b]] of items) visit(a, b, s.elem, [...path, k]);
    } else if (s.type === 'set') {
      const la = (Array.isArray(l) ? l : []).map((x) => JSON.stringify(x));
      const ra = (Array.isArray(r) ? r : []).map((x) => JSON.stringify(x));
      for (const v of new Set([...la, ...ra])) {
        leaf(la.includes(v) ? true : undefined, ra.includes(v) ? true : undefined, [...path, `v:${v}`]);
      }
    }
    // postItemHook: a map or list item that appears or disappears as a whole
    if (path.length > 0) {
      if (l === undefined) c.added.add(enc(path));
      else if (r === undefined) c.removed.add(enc(path));
    }
  };
  visit(lhs, rhs, schema, []);
  return c;
}

/** typed.TypedValue.Merge: `rhs` (an applied configuration) merged over `lhs` (the live object). */
export function merge(lhs: unknown, rhs: unknown, schema: Schema): unknown {
  const visit = (l: unknown, r: unknown, s0: Schema): unknown => {
    if (r === undefined) return clone(l);
    if (l === undefined || l === null) return clone(r);
    const s = resolve(s0, r);
    if (isGranularMap(s) && isObj(l) && isObj(r)) {
      const out: Record<string, unknown> = clone(l);
      for (const [k, x] of Object.entries(r)) {
        if (x === undefined) continue;
        out[k] = visit(l[k], x, childSchema(s, k));
      }
      return out;
    }
    if (s.type === 'assoc' && Array.isArray(l) && Array.isArray(r)) {
      const out = l.map((x) => clone(x) as unknown);
      const keysOfOut = out.map((x) => keyElement(x, s.keys));
      for (const x of r) {
        const k = keyElement(x, s.keys);
        const i = keysOfOut.indexOf(k);
        if (i >= 0) out[i] = visit(out[i], x, s.elem);
        else {
          out.push(clone(x));
          keysOfOut.push(k);
        }
      }
      return out;
    }
    if (s.type === 'set' && Array.isArray(l) && Array.isArray(r)) {
      const out = l.map((x) => clone(x) as unknown);
      for (const x of r) if (!out.some((y) => deepEqual(x, y))) out.push(clone(x));
      return out;
    }
    return clone(r);
  };
  return visit(lhs, rhs, schema);
}

/** Remove the node at `path` from `obj` (in place). */
export function removePath(obj: unknown, path: PathElement[]): void {
  if (path.length === 0) return;
  let cur: unknown = obj;
  for (let i = 0; i < path.length; i++) {
    const pe = path[i];
    const last = i === path.length - 1;
    const body = pe.slice(2);
    if (pe[0] === 'f') {
      if (!isObj(cur)) return;
      if (last) delete cur[body];
      else cur = cur[body];
    } else if (Array.isArray(cur)) {
      const list: unknown[] = cur;
      let idx: number;
      if (pe[0] === 'k') {
        const key = JSON.parse(body) as Record<string, unknown>;
        idx = list.findIndex((x) => isObj(x) && Object.entries(key).every(([k, v]) => deepEqual(x[k], v)));
      } else if (pe[0] === 'v') {
        const v = JSON.parse(body) as unknown;
        idx = list.findIndex((x) => deepEqual(x, v));
      } else idx = Number(body);
      if (idx < 0 || idx >= list.length) return;
      if (last) list.splice(idx, 1);
      else cur = list[idx];
    } else return;
  }
}

// ---------------------------------------------------------------- managed fields

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  subresource?: string;
  set: FieldSet;
}

/** Manager identity as the apiserver builds it: time never counts, apiVersion only for Update. */
function managerId(m: { manager: string; operation: string; apiVersion: string; subresource?: string }): string {
  return JSON.stringify([m.manager, m.operation, m.operation === 'Apply' ? '' : m.apiVersion, m.subresource ?? '']);
}

function decodeManaged(entries: unknown): Map<string, Manager> {
  const out = new Map<string, Manager>();
  if (!Array.isArray(entries)) return out;
  for (const e of entries) {
    if (!isObj(e)) continue;
    const m: Manager = {
      manager: String(e.manager ?? ''),
      operation: e.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: String(e.apiVersion ?? 'v1'),
      time: typeof e.time === 'string' ? e.time : undefined,
      subresource: typeof e.subresource === 'string' && e.subresource ? e.subresource : undefined,
      set: fromFieldsV1(e.fieldsV1),
    };
    const id = managerId(m);
    const prev = out.get(id);
    if (prev) prev.set = union(prev.set, m.set);
    else out.set(id, m);
  }
  return out;
}

function encodeManaged(managers: Map<string, Manager>): ManagedFieldsEntry[] {
  const list = [...managers.values()].filter((m) => m.set.size > 0);
  const secs = (t?: string): number => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  list.sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    if (secs(p.time) !== secs(q.time)) return secs(p.time) - secs(q.time);
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    return (p.subresource ?? '') < (q.subresource ?? '') ? -1 : 1;
  });
  return list.map((m) => {
    const e: Partial<ManagedFieldsEntry> = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
    if (m.time) e.time = m.time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = toFieldsV1(m.set);
    if (m.subresource) e.subresource = m.subresource;
    return e as ManagedFieldsEntry;
  });
}

/** Fields the apiserver never tracks (stripMetaManager), and status of kinds whose status the main resource resets. */
const STRIPPED = new Set(
  [
    ['f:apiVersion'],
    ['f:kind'],
    ['f:metadata'],
    ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => [
      'f:metadata',
      `f:${f}`,
    ]),
  ].map(enc),
);

function strip(set: FieldSet, kind: string): FieldSet {
  const out: FieldSet = new Set();
  for (const p of set) {
    if (STRIPPED.has(p)) continue;
    if (kind === 'Namespace' && dec(p)[0] === 'f:status') continue;
    out.add(p);
  }
  return out;
}

function withoutManaged(obj: unknown): unknown {
  if (!isObj(obj)) return obj;
  const o = { ...obj };
  if (isObj(o.metadata)) {
    const m = { ...o.metadata };
    delete m.managedFields;
    o.metadata = m;
  }
  return o;
}

function schemaOf(kind: string): Schema {
  return SCHEMAS[kind] ?? { type: 'struct', fields: { ...TYPE_META, metadata: OBJECT_META } };
}

/** A new, empty object of the kind as the apiserver's typed converter renders it (struct fields are never absent). */
function typedEmpty(kind: string): Record<string, unknown> {
  return kind === 'Namespace' ? { metadata: {}, spec: {}, status: {} } : { metadata: {} };
}

function tracked(c: Comparison, kind: string): Comparison {
  return { added: strip(c.added, kind), modified: strip(c.modified, kind), removed: strip(c.removed, kind) };
}

export interface UpdateOptions {
  kind: string;
  /** the live object, undefined on create */
  live: Record<string, unknown> | undefined;
  /** the object about to be stored (its metadata.managedFields are ignored) */
  next: Record<string, unknown>;
  manager: string;
  apiVersion?: string;
  /** RFC 3339, seconds */
  now: string;
  subresource?: string;
}

/**
 * managedFields after a create, update or patch (operation Update): the manager takes the
 * fields this write adds or changes, every other manager loses them, and removed fields leave
 * every manager.
 */
export function updateManagedFields(o: UpdateOptions): ManagedFieldsEntry[] {
  const schema = schemaOf(o.kind);
  const liveMeta = isObj(o.live?.metadata) ? (o.live!.metadata as Record<string, unknown>) : {};
  const managers = decodeManaged(liveMeta.managedFields);
  const c = tracked(compare(withoutManaged(o.live ?? typedEmpty(o.kind)), withoutManaged(o.next), schema), o.kind);
  const taken = union(c.added, c.modified);
  for (const m of managers.values()) m.set = difference(difference(m.set, taken), c.removed);
  if (taken.size > 0) {
    const me: Manager = { manager: o.manager, operation: 'Update', apiVersion: o.apiVersion ?? 'v1', subresource: o.subresource, set: taken };
    const id = managerId(me);
    const prev = managers.get(id);
    if (prev) {
      prev.set = union(prev.set, taken);
      prev.time = o.now;
    } else {
      me.time = o.now;
      managers.set(id, me);
    }
  }
  return encodeManaged(managers);
}

export interface ApplyOptions {
  kind: string;
  live: Record<string, unknown> | undefined;
  /** the applied configuration */
  config: Record<string, unknown>;
  manager: string;
  force: boolean;
  apiVersion?: string;
  now: string;
}

export interface ApplyConflict {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  path: string;
}

export type ApplyResult =
  { ok: true; object: Record<string, unknown>; managedFields: ManagedFieldsEntry[]; changed: boolean } | { ok: false; conflicts: ApplyConflict[] };

/**
 * Server-side apply (merge.Updater.Apply): merge the configuration over the live object, give its
 * fields to the manager, prune the fields this manager applied before and no longer applies (unless
 * someone else owns them), and refuse fields another manager owns with a different value unless
 * forced (then they change hands).
 */
export function serverSideApply(o: ApplyOptions): ApplyResult {
  const schema = schemaOf(o.kind);
  const live = withoutManaged(o.live ?? {}) as Record<string, unknown>;
  const liveMeta = isObj(o.live?.metadata) ? (o.live!.metadata as Record<string, unknown>) : {};
  const managers = decodeManaged(liveMeta.managedFields);
  // An object nobody manages yet: what is there belongs to "before-first-apply".
  if (o.live && managers.size === 0) {
    const c = tracked(compare({}, live, schema), o.kind);
    const set = union(c.added, c.modified);
    if (set.size > 0) {
      const b: Manager = { manager: 'before-first-apply', operation: 'Update', apiVersion: o.apiVersion ?? 'v1', set };
      managers.set(managerId(b), b);
    }
  }
  const me: Manager = { manager: o.manager, operation: 'Apply', apiVersion: o.apiVersion ?? 'v1', set: new Set() };
  const myId = managerId(me);
  const previous = managers.get(myId);
  const lastSet = previous?.set ?? new Set<string>();
  me.set = strip(toFieldSet(o.config, schema), o.kind);
  me.time = previous?.time;
  managers.set(myId, me);

  let merged = merge(live, o.config, schema) as Record<string, unknown>;
  // prune: what this manager applied last time and nobody owns any more
  if (lastSet.size > 0) {
    const owned = union(...[...managers.values()].map((m) => m.set));
    const ownedPaths = [...owned].map(dec);
    const gone = [...lastSet].filter((p) => !owned.has(p)).map(dec);
    gone.sort((a, b) => b.length - a.length);
    merged = clone(merged);
    for (const p of gone) {
      const stillNeeded = ownedPaths.some((q) => q.length > p.length && p.every((pe, i) => q[i] === pe));
      if (!stillNeeded) removePath(merged, p);
    }
  }

  const c = tracked(compare(live, merged, schema), o.kind);
  const taken = union(c.added, c.modified);
  const conflicts: ApplyConflict[] = [];
  for (const [id, m] of managers) {
    if (id === myId) continue;
    for (const p of intersection(m.set, taken)) {
      conflicts.push({ manager: m.manager, operation: m.operation, apiVersion: m.apiVersion, subresource: m.subresource, path: p });
    }
  }
  if (conflicts.length > 0 && !o.force) {
    conflicts.sort((a, b) => (a.manager !== b.manager ? (a.manager < b.manager ? -1 : 1) : comparePaths(dec(a.path), dec(b.path))));
    return { ok: false, conflicts: conflicts.map((x) => ({ ...x, path: pathString(dec(x.path)) })) };
  }
  for (const [id, m] of managers) {
    if (id === myId) continue;
    m.set = difference(difference(m.set, taken), c.removed);
  }
  const changed = !deepEqual(live, merged);
  if (changed || !previous) me.time = o.now;
  return { ok: true, object: merged, managedFields: encodeManaged(managers), changed };
}

function printManager(c: { manager: string; operation: string; apiVersion: string; subresource?: string }): string {
  let s = JSON.stringify(c.manager);
  if (c.subresource) s += ` with subresource ${JSON.stringify(c.subresource)}`;
  if (c.operation === 'Update') s += ` using ${c.apiVersion}`;
  return s;
}

/** The apiserver's conflict message and causes (managedfields internal.NewConflictError). */
export function conflictStatus(conflicts: ApplyConflict[]): { message: string; causes: { type: string; message: string; field: string }[] } {
  const causes = conflicts.map((c) => ({ type: 'FieldManagerConflict', message: `conflict with ${printManager(c)}`, field: c.path }));
  if (conflicts.length === 1) {
    return { message: `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0])}: ${conflicts[0].path}`, causes };
  }
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const k = printManager(c);
    byManager.set(k, [...(byManager.get(k) ?? []), c.path]);
  }
  const lines: string[] = [];
  for (const k of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${k}:`);
    for (const p of byManager.get(k)!) lines.push(`- ${p}`);
  }
  return { message: `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`, causes };
}

// ---------------------------------------------------------------- patches

export class PatchError extends Error {
  /** 400 (the patch cannot be decoded) or 422 (it cannot be applied) */
  code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** RFC 7386 JSON merge patch. */
export function jsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, unknown> = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = jsonMergePatch(out[k], v);
  }
  return out;
}

/**
 * Strategic merge patch over the core/v1 kinds: maps merge, lists replace unless the field has
 * patchStrategy merge (associative lists merge by their key, `finalizers` merge as a set), with the
 * `$patch` (replace/delete), `$retainKeys`, `$deleteFromPrimitiveList/…` and `$setElementOrder/…` directives.
 */
export function strategicMergePatch(target: unknown, patch: unknown, kind: string): unknown {
  return smp(target, patch, schemaOf(kind));
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => !(isObj(x) && x.$patch === 'delete')).map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function smp(target: unknown, patch: unknown, schema: Schema): unknown {
  if (!isObj(patch)) return clone(patch);
  const directive = patch.$patch;
  if (directive === 'replace') return stripDirectives(patch);
  if (directive === 'delete') return undefined;
  if (directive !== undefined) throw new PatchError(422, `Unknown patch type: ${String(directive)}`);
  let out: Record<string, unknown> = isObj(target) ? clone(target) : {};
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set((patch.$retainKeys as unknown[]).map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/')) {
      if (Array.isArray(v)) orders.push([k.slice('$setElementOrder/'.length), v]);
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) {
        out[field] = (out[field] as unknown[]).filter((x) => !v.some((y) => deepEqual(x, y)));
      }
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const s = resolve(childSchema(schema, k), v);
    if (Array.isArray(v) && s.type === 'assoc') out[k] = smpList(out[k], v, s);
    else if (Array.isArray(v) && s.type === 'set') {
      const cur = Array.isArray(out[k]) ? (out[k] as unknown[]).slice() : [];
      for (const x of v) if (!cur.some((y) => deepEqual(x, y))) cur.push(clone(x));
      out[k] = cur;
    } else if (Array.isArray(v)) out[k] = stripDirectives(v);
    else if (isObj(v)) {
      const r = smp(out[k], v, s.type === 'atomic' ? DEDUCED : s);
      if (r === undefined) delete out[k];
      else out[k] = r;
    } else out[k] = v;
  }
  for (const [field, order] of orders) {
    const s = childSchema(schema, field);
    if (!Array.isArray(out[field]) || s.type !== 'assoc') continue;
    const list = out[field] as unknown[];
    const rank = (x: unknown): number => {
      const i = order.findIndex((o) => isObj(o) && isObj(x) && s.keys.every((key) => deepEqual(o[key], x[key])));
      return i < 0 ? order.length : i;
    };
    out[field] = list
      .map((x, i) => [x, i] as const)
      .sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1])
      .map(([x]) => x);
  }
  return out;
}

function smpList(target: unknown, patch: unknown[], s: Extract<Schema, { type: 'assoc' }>): unknown[] {
  if (patch.some((x) => isObj(x) && x.$patch === 'replace')) {
    return patch.filter((x) => !(isObj(x) && x.$patch === 'replace')).map(stripDirectives);
  }
  const out = Array.isArray(target) ? (target as unknown[]).map((x) => clone(x)) : [];
  const key = s.keys[0];
  for (const item of patch) {
    if (!isObj(item) || item[key] === undefined) {
      throw new PatchError(422, `map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    }
    const i = out.findIndex((x) => isObj(x) && deepEqual(x[key], item[key]));
    if (item.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = smp(out[i], item, s.elem.type === 'atomic' ? DEDUCED : s.elem);
    else out.push(stripDirectives(item));
  }
  return out;
}

function parsePointer(p: unknown): string[] {
  if (typeof p !== 'string') throw new PatchError(422, 'missing value');
  if (p === '') return [];
  if (!p.startsWith('/')) throw new PatchError(422, `JSON pointer must be empty or start with a "/": ${p}`);
  return p
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function getAt(doc: unknown, tokens: string[]): { found: boolean; value: unknown } {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t) || Number(t) >= cur.length) return { found: false, value: undefined };
      cur = cur[Number(t)];
    } else if (isObj(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, t)) return { found: false, value: undefined };
      cur = cur[t];
    } else return { found: false, value: undefined };
  }
  return { found: true, value: cur };
}

/** RFC 6902 JSON patch; errors read as github.com/evanphx/json-patch words them. */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError(400, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let root = clone(doc);
  const parentOf = (tokens: string[], path: string): { parent: unknown; key: string } => {
    const g = getAt(root, tokens.slice(0, -1));
    if (!g.found || (!isObj(g.value) && !Array.isArray(g.value))) {
      throw new PatchError(422, `doc is missing path: "${path}": missing value`);
    }
    return { parent: g.value, key: tokens[tokens.length - 1] };
  };
  const add = (path: string, value: unknown, op: string): void => {
    const tokens = parsePointer(path);
    if (tokens.length === 0) {
      root = clone(value);
      return;
    }
    const { parent, key } = parentOf(tokens, path);
    if (Array.isArray(parent)) {
      if (key === '-') parent.push(clone(value));
      else {
        const i = Number(key);
        if (!/^(0|[1-9][0-9]*)$/.test(key) || i > parent.length) {
          throw new PatchError(422, `${op} operation does not apply: doc is missing path: "${path}": missing value`);
        }
        parent.splice(i, 0, clone(value));
      }
    } else (parent as Record<string, unknown>)[key] = clone(value);
  };
  const remove = (path: string, op: string): unknown => {
    const tokens = parsePointer(path);
    const g = getAt(root, tokens);
    if (!g.found || tokens.length === 0) {
      throw new PatchError(422, `${op} operation does not apply: doc is missing path: "${path}": missing value`);
    }
    const { parent, key } = parentOf(tokens, path);
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete (parent as Record<string, unknown>)[key];
    return g.value;
  };
  for (const raw of ops) {
    if (!isObj(raw)) throw new PatchError(400, 'json: cannot unmarshal into Go value of type jsonpatch.Operation');
    const op = raw.op;
    const path = raw.path as string;
    switch (op) {
      case 'add':
        if (!('value' in raw)) throw new PatchError(422, `add operation does not apply: missing value`);
        add(path, raw.value, 'add');
        break;
      case 'remove':
        remove(path, 'remove');
        break;
      case 'replace': {
        if (!('value' in raw)) throw new PatchError(422, `replace operation does not apply: missing value`);
        const tokens = parsePointer(path);
        if (tokens.length === 0) {
          root = clone(raw.value);
          break;
        }
        if (!getAt(root, tokens).found) {
          throw new PatchError(422, `replace operation does not apply: doc is missing key: ${path}: missing value`);
        }
        const { parent, key } = parentOf(tokens, path);
        if (Array.isArray(parent)) parent[Number(key)] = clone(raw.value);
        else (parent as Record<string, unknown>)[key] = clone(raw.value);
        break;
      }
      case 'move': {
        const v = remove(raw.from as string, 'move');
        add(path, v, 'move');
        break;
      }
      case 'copy': {
        const g = getAt(root, parsePointer(raw.from));
        if (!g.found) throw new PatchError(422, `copy operation does not apply: doc is missing from path: "${String(raw.from)}": missing value`);
        add(path, g.value, 'copy');
        break;
      }
      case 'test': {
        const g = getAt(root, parsePointer(path));
        const ok = g.found ? deepEqual(g.value, raw.value) : raw.value === null || raw.value === undefined;
        if (!ok) throw new PatchError(422, `testing value ${path} failed: test failed`);
        break;
      }
      default:
        throw new PatchError(422, `Unexpected kind: ${String(op)}`);
    }
  }
  return root;
}
