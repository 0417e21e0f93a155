// Managed fields and server-side apply, shaped on kube-apiserver 1.32 and
// sigs.k8s.io/structured-merge-diff: the managedFields of Update operations, and apply (merge,
// ownership, conflicts, pruning) with the apiserver's conflict message. Pure: no I/O, no state.
import {
  compare,
  comparePaths,
  dec,
  difference,
  enc,
  fromFieldsV1,
  intersection,
  merge,
  pathString,
  removePath,
  toFieldSet,
  toFieldsV1,
  union,
} from './fieldsets.ts';
import type { Comparison, FieldSet } from './fieldsets.ts';
import { clone, deepEqual, isObj, schemaOf } from './schema.ts';

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

/**
 * The apiserver's conflict message and causes (managedfields internal.NewConflictError). A cause's
 * type is serialised as `reason` (metav1.StatusCause: Type CauseType `json:"reason,omitempty"`).
 */
export function conflictStatus(conflicts: ApplyConflict[]): { message: string; causes: { reason: string; message: string; field: string }[] } {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c)}`, field: c.path }));
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
