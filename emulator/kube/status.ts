// Errors as kube-apiserver answers them (metav1.Status with reason, details and causes), and the
// JSON response every route of the emulated API server sends.
import type { EmuResponse } from '../types.ts';

export type Obj = Record<string, unknown>;

/** A value quoted as Go's %q prints it in apiserver messages. */
export const q = (v: unknown): string => JSON.stringify(v);

export function json(status: number, body: unknown, headers?: Record<string, string>): EmuResponse {
  return { status, headers: { 'Content-Type': 'application/json', ...(headers ?? {}) }, body };
}

export class ApiError extends Error {
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

export interface FieldError {
  field: string;
  /** FieldValueInvalid | FieldValueRequired | FieldValueForbidden | FieldValueTooLong | FieldValueNotSupported */
  type: string;
  /** the error text after "field: " */
  detail: string;
}

export function statusBody(code: number, reason: string, message: string, details?: Obj): Obj {
  const body: Obj = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason };
  if (details) body.details = details;
  body.code = code;
  return body;
}

/** A resource as errors name it: `secrets`, or with its group (`roles` in rbac.authorization.k8s.io). */
export type GroupResource = string | { resource: string; group: string };

/** The message's `secrets` / `roles.rbac.authorization.k8s.io` and the details' group and kind, as apierrors builds them from a GroupResource. */
function named(gr: GroupResource, name?: string): { qualified: string; details: Obj } {
  const { resource, group } = typeof gr === 'string' ? { resource: gr, group: '' } : gr;
  const details: Obj = {};
  if (name) details.name = name;
  if (group) details.group = group;
  details.kind = resource;
  return { qualified: group ? `${resource}.${group}` : resource, details };
}

export const notFound = (gr: GroupResource, name: string): ApiError => {
  const { qualified, details } = named(gr, name);
  return new ApiError(404, 'NotFound', `${qualified} "${name}" not found`, details);
};
export const alreadyExists = (gr: GroupResource, name: string): ApiError => {
  const { qualified, details } = named(gr, name);
  return new ApiError(409, 'AlreadyExists', `${qualified} "${name}" already exists`, details);
};
export const conflict = (gr: GroupResource, name: string, why: string): ApiError => {
  const { qualified, details } = named(gr, name);
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified} "${name}": ${why}`, details);
};
/** apierrors.NewForbidden: `secrets "x" is forbidden: why`, `secrets is forbidden: why` without a name, `forbidden: why` without a resource. */
export const forbiddenError = (gr: GroupResource, name: string, why: string): ApiError => {
  const { qualified, details } = named(gr, name);
  if (!qualified) return new ApiError(403, 'Forbidden', `forbidden: ${why}`, {});
  return new ApiError(403, 'Forbidden', name ? `${qualified} "${name}" is forbidden: ${why}` : `${qualified} is forbidden: ${why}`, details);
};
export const MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';
export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);
/** The decoder's 400: the body cannot become an object of the kind. */
export const undecodable = (kind: string, why: string): ApiError => badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: ${why}`);
export const noRoute = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
export const methodNotAllowed = (): ApiError =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

/** apierrors.NewInvalid: `Secret "x" is invalid: ...`, `Role.rbac.authorization.k8s.io "x" is invalid: ...` (the kind qualified by its group). */
export function invalid(kind: string, name: string, errs: FieldError[], group = ''): ApiError {
  const parts = errs.map((e) => `${e.field}: ${e.detail}`);
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  const details: Obj = { name };
  if (group) details.group = group;
  details.kind = kind;
  details.causes = errs.map((e) => ({ reason: e.type, message: e.detail, field: e.field }));
  return new ApiError(422, 'Invalid', `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${summary}`, details);
}

/** A PatchOptions field error (422), as the apiserver words a bad `force` or a missing `fieldManager`. */
export function patchOptionsInvalid(field: string, reason: string, detail: string): ApiError {
  return new ApiError(422, 'Invalid', `PatchOptions.meta.k8s.io "" is invalid: ${field}: ${detail}`, {
    group: 'meta.k8s.io',
    kind: 'PatchOptions',
    causes: [{ reason, message: detail, field }],
  });
}
