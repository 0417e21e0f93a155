// `kubectl get` asks for meta.k8s.io/v1 Tables: the columns kube-apiserver prints for each
// resource (kubernetes pkg/printers/internalversion/printers.go; the server prints the wide columns
// too), and ages in the apimachinery duration.HumanDuration format.
import type { ResourceInfo } from './resources.ts';
import { json } from './status.ts';
import type { Obj } from './status.ts';
import type { EmuContext, EmuRequest, EmuResponse, KubeObject } from '../types.ts';

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

const CREATED_AT_COLUMN = { ...AGE_COLUMN, name: 'Created At', type: 'date' };
const wideColumn = (name: string): Obj => ({ name, type: 'string', format: '', description: '', priority: 1 });

function tableColumns(info: ResourceInfo): Obj[] {
  switch (info.resource) {
    case 'roles':
    case 'clusterroles':
      return [NAME_COLUMN, CREATED_AT_COLUMN];
    case 'rolebindings':
    case 'clusterrolebindings':
      return [
        NAME_COLUMN,
        { name: 'Role', type: 'string', format: '', description: '', priority: 0 },
        AGE_COLUMN,
        wideColumn('Users'),
        wideColumn('Groups'),
        wideColumn('ServiceAccounts'),
      ];
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
    case 'pods':
      // printers.go podColumnDefinitions
      return [
        NAME_COLUMN,
        { name: 'Ready', type: 'string', format: '', description: 'The aggregate readiness state of this pod for accepting traffic.', priority: 0 },
        { name: 'Status', type: 'string', format: '', description: 'The aggregate status of the containers in this pod.', priority: 0 },
        {
          name: 'Restarts',
          type: 'string',
          format: '',
          description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
          priority: 0,
        },
        AGE_COLUMN,
        wideColumn('IP'),
        wideColumn('Node'),
      ];
    case 'events':
      // printers.go eventColumnDefinitions (the narrow ones)
      return [
        { name: 'Last Seen', type: 'string', format: '', description: 'Time when last event from this object was observed.', priority: 0 },
        {
          name: 'Type',
          type: 'string',
          format: '',
          description: 'Type of this event (Normal, Warning), new types could be added in the future.',
          priority: 0,
        },
        {
          name: 'Reason',
          type: 'string',
          format: '',
          description:
            "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
          priority: 0,
        },
        { name: 'Object', type: 'string', format: '', description: 'The object that this event is about.', priority: 0 },
        { name: 'Message', type: 'string', format: '', description: 'A human-readable description of the status of this operation.', priority: 0 },
      ];
  }
}

/** printPod: the container's waiting or terminated reason, else the phase. */
function podStatus(obj: KubeObject): string {
  const st = (obj.status as Obj | undefined) ?? {};
  const cs = ((st.containerStatuses as Obj[] | undefined) ?? [])[0];
  const state = (cs?.state as Obj | undefined) ?? {};
  return String((state.waiting as Obj | undefined)?.reason ?? (state.terminated as Obj | undefined)?.reason ?? st.reason ?? st.phase ?? 'Pending');
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
    case 'roles':
    case 'clusterroles':
      return [obj.metadata.name, obj.metadata.creationTimestamp ?? ''];
    case 'rolebindings':
    case 'clusterrolebindings': {
      const ref = (obj.roleRef as Obj | undefined) ?? {};
      // rbac.SubjectsStrings: users, groups, and service accounts as namespace/name
      const subjects = (Array.isArray(obj.subjects) ? obj.subjects : []) as Obj[];
      const of = (kind: string): string =>
        subjects
          .filter((s) => s.kind === kind)
          .map((s) => (kind === 'ServiceAccount' ? `${String(s.namespace ?? '')}/${String(s.name ?? '')}` : String(s.name ?? '')))
          .join(', ');
      return [obj.metadata.name, `${String(ref.kind ?? '')}/${String(ref.name ?? '')}`, age, of('User'), of('Group'), of('ServiceAccount')];
    }
    case 'pods': {
      const st = (obj.status as Obj | undefined) ?? {};
      const cs = (st.containerStatuses as Obj[] | undefined) ?? [];
      const total = (((obj.spec as Obj | undefined)?.containers as unknown[] | undefined) ?? []).length;
      return [
        obj.metadata.name,
        `${cs.filter((c) => c.ready).length}/${total}`,
        podStatus(obj),
        '0',
        age,
        String(st.podIP ?? '<none>'),
        String((obj.spec as Obj | undefined)?.nodeName ?? '<none>'),
      ];
    }
    case 'events': {
      const io = (obj.involvedObject as Obj | undefined) ?? {};
      const last = typeof obj.lastTimestamp === 'string' ? humanDuration(now - Date.parse(obj.lastTimestamp)) : age;
      return [
        last,
        String(obj.type ?? ''),
        String(obj.reason ?? ''),
        `${String(io.kind ?? '').toLowerCase()}/${String(io.name ?? '')}`,
        String(obj.message ?? ''),
      ];
    }
  }
}

export function wantsTable(req: EmuRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  return /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

export function table(req: EmuRequest, info: ResourceInfo, objs: KubeObject[], rv: string, ctx: EmuContext, listMeta?: Obj): EmuResponse {
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
