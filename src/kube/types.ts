// The narrow Kubernetes client the pull-secret scenario needs. Implemented over
// @kubernetes/client-node in client.ts; tests may hand in an in-memory fake.
import type { SecretObject } from './render.ts';

import type { ManagedFieldsEntry } from './field-owners.ts';

export interface LiveSecret {
  metadata: {
    name: string;
    namespace: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    /** who owns which field (server-side apply); read by src/kube/field-owners.ts */
    managedFields?: ManagedFieldsEntry[];
  };
  type?: string;
  data?: Record<string, string>;
}

export interface LiveServiceAccount {
  metadata: { name: string; namespace: string; resourceVersion: string; managedFields?: ManagedFieldsEntry[] };
  imagePullSecrets?: { name: string }[];
}

/** A server-side apply whose configuration would take fields another field manager owns (409, causes FieldManagerConflict). */
export const FIELD_MANAGER_CONFLICT = 'FieldManagerConflict';

export interface KubeClient {
  /** where it talks to, for messages (server URL and context) */
  readonly server: string;
  namespaceExists(name: string): Promise<boolean>;
  /** every namespace's name, or undefined when the caller may not list namespaces (403) */
  listNamespaces(): Promise<string[] | undefined>;
  createNamespace(name: string): Promise<void>;
  getSecret(namespace: string, name: string): Promise<LiveSecret | undefined>;
  /** create; 409 ApiError when it exists already (someone else created it meanwhile) */
  createSecret(secret: SecretObject): Promise<LiveSecret>;
  /**
   * Server-side apply of `secret` as the configuration of field manager acr-kube-auth, conditional
   * on `resourceVersion`: 409 ApiError when the secret changed since it was read; 409 ApiError
   * with code FieldManagerConflict when, without `force`, another manager owns a field it changes.
   * `force` only where the plan found every such field may change hands (secret-entry.ts).
   */
  applySecret(secret: SecretObject, resourceVersion: string, force: boolean): Promise<LiveSecret>;
  /** delete only if still at resourceVersion (409 ApiError otherwise) */
  deleteSecret(namespace: string, name: string, resourceVersion: string): Promise<void>;
  getServiceAccount(namespace: string, name: string): Promise<LiveServiceAccount | undefined>;
  /** replace imagePullSecrets, conditional on resourceVersion (409 ApiError when it changed) */
  setImagePullSecrets(namespace: string, name: string, imagePullSecrets: { name: string }[], resourceVersion: string): Promise<void>;
}
