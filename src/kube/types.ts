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

/** A Pod as the probe creates it (src/verify/probe-pod.ts renders it). */
export interface PodObject {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

export interface ContainerStateLike {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; message?: string; exitCode?: number };
}

/** What the probe reads of a live Pod. */
export interface LivePod {
  metadata: { name: string; namespace: string; uid?: string; resourceVersion: string; labels?: Record<string, string> };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: { name?: string; image?: string; imageID?: string; state?: ContainerStateLike }[];
  };
}

/** What the probe reads of an Event (core/v1). */
export interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string; uid?: string; fieldPath?: string };
  count?: number;
}

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
  // ---- the probe Pod (verify-from cluster): pods create/get/delete and events list in its namespace
  /** create; 409 ApiError when a Pod of that name exists */
  createPod?(pod: PodObject): Promise<LivePod>;
  /** the Pod, or undefined when it is gone */
  getPod?(namespace: string, name: string): Promise<LivePod | undefined>;
  /** delete at once (grace period 0); resolves when it is gone or was already */
  deletePod?(namespace: string, name: string): Promise<void>;
  /** the events of one object, by its name (fieldSelector involvedObject.name) */
  listEvents?(namespace: string, involvedName: string): Promise<KubeEvent[]>;
}
