// Who owns a field of a live object, read from its metadata.managedFields (server-side apply's
// record, https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management):
// each entry names a field manager, its operation (Apply: a declarative applier such as Helm 4,
// `kubectl apply --server-side`, Argo CD or Flux; Update: any other write, such as
// `kubectl create`, `kubectl edit`, a controller, or Helm 3's three-way patch) and the fields it
// owns in the FieldsV1 spelling (`{"f:data":{"f:.dockerconfigjson":{}}}`). Pure: no I/O.
import { MANAGER } from './render.ts';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

export interface FieldOwner {
  manager: string;
  operation: 'Apply' | 'Update';
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Whether a FieldsV1 tree holds `path` (or a part of it: a list the path names, owned item by item). */
function holds(tree: unknown, path: readonly string[]): boolean {
  let node = tree;
  for (const pe of path) {
    if (!isObject(node) || !isObject(node[pe])) return false;
    node = node[pe];
  }
  return true;
}

/** The managers that own `path` (FieldsV1 elements, e.g. ['f:data', 'f:.dockerconfigjson']) of the main resource. */
export function fieldOwners(managedFields: unknown, path: readonly string[]): FieldOwner[] {
  if (!Array.isArray(managedFields)) return [];
  const out: FieldOwner[] = [];
  for (const e of managedFields as ManagedFieldsEntry[]) {
    if (!isObject(e) || (e.subresource ?? '') !== '' || !holds(e.fieldsV1, path)) continue;
    out.push({ manager: String(e.manager ?? ''), operation: e.operation === 'Apply' ? 'Apply' : 'Update' });
  }
  return out;
}

/** Another party's declarative owner of `path`: a field manager other than this action that applied it server-side. */
export function declarativeOwner(managedFields: unknown, path: readonly string[]): string | undefined {
  return fieldOwners(managedFields, path).find((o) => o.operation === 'Apply' && o.manager !== MANAGER)?.manager;
}

/** A field manager's name or a label's value as a message shows it: cluster data, cut to 100 characters (src/log.ts neutralises it). */
export function shownName(name: string): string {
  return name.length > 100 ? `${name.slice(0, 100)}…` : name;
}

/**
 * Whether applying a new value at `path` as this action's apply configuration meets another
 * owner, which server-side apply refuses without force: any manager but this action's own Apply
 * entry (its create is an Update entry of its own). A live object without managedFields counts
 * as owned whole by the apiserver's "before-first-apply" manager.
 */
export function applyMeetsOwner(managedFields: unknown, path: readonly string[]): boolean {
  if (!Array.isArray(managedFields) || managedFields.length === 0) return true;
  return fieldOwners(managedFields, path).some((o) => !(o.manager === MANAGER && o.operation === 'Apply'));
}

export const DOCKER_CONFIG_PATH = ['f:data', 'f:.dockerconfigjson'] as const;
export const IMAGE_PULL_SECRETS_PATH = ['f:imagePullSecrets'] as const;
