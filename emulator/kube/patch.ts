// The three patch formats of PATCH requests: JSON merge patch (RFC 7386), strategic merge patch
// over the core/v1 kinds, and JSON patch (RFC 6902). Pure: no I/O, no state.
import { DEDUCED, childSchema, clone, deepEqual, isObj, resolve, schemaOf } from './schema.ts';
import type { Schema } from './schema.ts';

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
