// The shapes of the kinds the emulated API server stores, as sigs.k8s.io/structured-merge-diff sees
// them (core/v1 as of Kubernetes 1.32), and the JSON helpers the object logic shares. No I/O, no state.

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

export const SCALAR: Schema = { type: 'scalar' };
export const ATOMIC: Schema = { type: 'atomic' };
export const DEDUCED: Schema = { type: 'deduced' };
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

// rbac.authorization.k8s.io/v1 (k8s.io/api rbac/v1/types.go, 1.32): rules and subjects are
// +listType=atomic, RoleRef is +structType=atomic.
const ROLE_FIELDS = { ...TYPE_META, metadata: OBJECT_META, rules: ATOMIC };
const BINDING: Schema = { type: 'struct', fields: { ...TYPE_META, metadata: OBJECT_META, subjects: ATOMIC, roleRef: ATOMIC } };

/** Schemas of the kinds the emulator serves (core/v1 and rbac.authorization.k8s.io/v1 as of Kubernetes 1.32). */
export const SCHEMAS: Record<string, Schema> = {
  Role: { type: 'struct', fields: ROLE_FIELDS },
  ClusterRole: { type: 'struct', fields: { ...ROLE_FIELDS, aggregationRule: { type: 'struct', fields: { clusterRoleSelectors: ATOMIC } } } },
  RoleBinding: BINDING,
  ClusterRoleBinding: BINDING,
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
  // core/v1 Pod and Event (emulator/kube/pods.ts): spec and status typed by their values for managed fields
  Pod: { type: 'struct', fields: { ...TYPE_META, metadata: OBJECT_META, spec: DEDUCED, status: DEDUCED } },
  Event: {
    type: 'struct',
    fields: {
      ...TYPE_META,
      metadata: OBJECT_META,
      involvedObject: ATOMIC,
      reason: SCALAR,
      message: SCALAR,
      source: DEDUCED,
      firstTimestamp: SCALAR,
      lastTimestamp: SCALAR,
      count: SCALAR,
      type: SCALAR,
      eventTime: SCALAR,
      series: DEDUCED,
      action: SCALAR,
      related: ATOMIC,
      reportingComponent: SCALAR,
      reportingInstance: SCALAR,
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

// ---------------------------------------------------------------- JSON helpers and schema walking

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

export function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

export function childSchema(s: Schema, key: string): Schema {
  if (s.type === 'struct') return s.fields[key] ?? DEDUCED;
  if (s.type === 'map') return s.elem;
  return DEDUCED;
}

/** The relationship a node has once the value is known (deduced fields take their value's shape). */
export function resolve(s: Schema, v: unknown): Schema {
  if (s.type !== 'deduced') return s;
  if (isObj(v)) return { type: 'map', elem: DEDUCED };
  if (Array.isArray(v)) return ATOMIC;
  return SCALAR;
}

export function isGranularMap(s: Schema): boolean {
  return s.type === 'map' || s.type === 'struct';
}
export function isGranularList(s: Schema): boolean {
  return s.type === 'assoc' || s.type === 'set';
}

export function schemaOf(kind: string): Schema {
  return SCHEMAS[kind] ?? { type: 'struct', fields: { ...TYPE_META, metadata: OBJECT_META } };
}
