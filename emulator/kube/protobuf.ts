// Protobuf request bodies. kubectl's typed clients (`kubectl create secret|namespace|serviceaccount|
// role|rolebinding|clusterrole|clusterrolebinding|token`, `kubectl auth can-i`) send
// application/vnd.kubernetes.protobuf: the 4-byte magic `k8s\0`, then a runtime.Unknown whose
// `raw` is the object in the generated.proto encoding of k8s.io/api. Decoded here into JSON.
import type { Obj } from './status.ts';

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
// rbac.authorization.k8s.io/v1, authentication.k8s.io/v1 and authorization.k8s.io/v1 (k8s.io/api 1.32 generated.proto)
const PROTO_POLICY_RULE: ProtoMessage = {
  1: P('verbs', 'string', { repeated: true }),
  2: P('apiGroups', 'string', { repeated: true }),
  3: P('resources', 'string', { repeated: true }),
  4: P('resourceNames', 'string', { repeated: true }),
  5: P('nonResourceURLs', 'string', { repeated: true }),
};
const PROTO_LABEL_SELECTOR: ProtoMessage = {
  1: P('matchLabels', 'map'),
  2: P('matchExpressions', 'msg', {
    repeated: true,
    msg: { 1: P('key', 'string'), 2: P('operator', 'string'), 3: P('values', 'string', { repeated: true }) },
  }),
};
const PROTO_ROLE: ProtoMessage = {
  1: P('metadata', 'msg', { msg: PROTO_OBJECT_META }),
  2: P('rules', 'msg', { repeated: true, msg: PROTO_POLICY_RULE }),
};
const PROTO_BINDING: ProtoMessage = {
  1: P('metadata', 'msg', { msg: PROTO_OBJECT_META }),
  2: P('subjects', 'msg', {
    repeated: true,
    msg: { 1: P('kind', 'string'), 2: P('apiGroup', 'string'), 3: P('name', 'string'), 4: P('namespace', 'string') },
  }),
  3: P('roleRef', 'msg', { msg: { 1: P('apiGroup', 'string'), 2: P('kind', 'string'), 3: P('name', 'string') } }),
};
const PROTO_RBAC_AND_REVIEWS: Record<string, ProtoMessage> = {
  Role: PROTO_ROLE,
  ClusterRole: {
    ...PROTO_ROLE,
    3: P('aggregationRule', 'msg', { msg: { 1: P('clusterRoleSelectors', 'msg', { repeated: true, msg: PROTO_LABEL_SELECTOR }) } }),
  },
  RoleBinding: PROTO_BINDING,
  ClusterRoleBinding: PROTO_BINDING,
  TokenRequest: {
    1: P('metadata', 'msg', { msg: PROTO_OBJECT_META }),
    2: P('spec', 'msg', {
      msg: {
        1: P('audiences', 'string', { repeated: true }),
        3: P('boundObjectRef', 'msg', {
          msg: { 1: P('kind', 'string'), 2: P('apiVersion', 'string'), 3: P('name', 'string'), 4: P('uid', 'string') },
        }),
        4: P('expirationSeconds', 'int'),
      },
    }),
  },
  SelfSubjectAccessReview: {
    1: P('metadata', 'msg', { msg: PROTO_OBJECT_META }),
    2: P('spec', 'msg', {
      msg: {
        1: P('resourceAttributes', 'msg', {
          msg: {
            1: P('namespace', 'string'),
            2: P('verb', 'string'),
            3: P('group', 'string'),
            4: P('version', 'string'),
            5: P('resource', 'string'),
            6: P('subresource', 'string'),
            7: P('name', 'string'),
          },
        }),
        2: P('nonResourceAttributes', 'msg', { msg: { 1: P('path', 'string'), 2: P('verb', 'string') } }),
      },
    }),
  },
  SelfSubjectRulesReview: { 1: P('metadata', 'msg', { msg: PROTO_OBJECT_META }), 2: P('spec', 'msg', { msg: { 1: P('namespace', 'string') } }) },
  SelfSubjectReview: { 1: P('metadata', 'msg', { msg: PROTO_OBJECT_META }) },
};

const PROTO_KINDS: Record<string, ProtoMessage> = {
  ...PROTO_RBAC_AND_REVIEWS,
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

export class ProtoError extends Error {}

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
