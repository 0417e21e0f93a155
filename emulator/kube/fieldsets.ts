// Field sets as sigs.k8s.io/structured-merge-diff keeps them: paths in the FieldsV1 spelling, the
// FieldsV1 encoding, and the typed value operations server-side apply is built on (ToFieldSet,
// Compare, Merge). Pure: no I/O, no state.
import { childSchema, clone, deepEqual, isGranularList, isGranularMap, isObj, resolve } from './schema.ts';
import type { Schema } from './schema.ts';

/**
 * A path element in FieldsV1 spelling: `f:name` (field), `k:{"name":"x"}` (list item by key),
 * `v:"x"` (set value), `i:0` (list index). A path is a list of them; a field set holds paths
 * encoded with JSON.stringify.
 */
export type PathElement = string;
export type FieldSet = Set<string>;

export const enc = (p: PathElement[]): string => JSON.stringify(p);
export const dec = (s: string): PathElement[] => JSON.parse(s) as PathElement[];

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

export function union(...sets: FieldSet[]): FieldSet {
  const out: FieldSet = new Set();
  for (const s of sets) for (const p of s) out.add(p);
  return out;
}
export function difference(a: FieldSet, b: FieldSet): FieldSet {
  return new Set([...a].filter((p) => !b.has(p)));
}
export function intersection(a: FieldSet, b: FieldSet): FieldSet {
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
