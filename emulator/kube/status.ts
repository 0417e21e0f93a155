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

export const notFound = (resource: string, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
export const alreadyExists = (resource: string, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, kind: resource });
export const conflict = (resource: string, name: string, why: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, { name, kind: resource });
export const MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';
export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);
/** The decoder's 400: the body cannot become an object of the kind. */
export const undecodable = (kind: string, why: string): ApiError => badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: ${why}`);
export const noRoute = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
export const methodNotAllowed = (): ApiError =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

export function invalid(kind: string, name: string, errs: FieldError[]): ApiError {
  const parts = errs.map((e) => `${e.field}: ${e.detail}`);
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, {
    name,
    kind,
    causes: errs.map((e) => ({ reason: e.type, message: e.detail, field: e.field })),
  });
}

/** A PatchOptions field error (422), as the apiserver words a bad `force` or a missing `fieldManager`. */
export function patchOptionsInvalid(field: string, reason: string, detail: string): ApiError {
  return new ApiError(422, 'Invalid', `PatchOptions.meta.k8s.io "" is invalid: ${field}: ${detail}`, {
    group: 'meta.k8s.io',
    kind: 'PatchOptions',
    causes: [{ reason, message: detail, field }],
  });
}
