// The narrow Kubernetes client the pull-secret scenario needs. Implemented over
// @kubernetes/client-node in client.ts; tests may hand in an in-memory fake.
import type { SecretObject } from './render.ts';

export interface LiveSecret {
  metadata: { name: string; namespace: string; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  type?: string;
  data?: Record<string, string>;
}

export interface LiveServiceAccount {
  metadata: { name: string; namespace: string; resourceVersion: string };
  imagePullSecrets?: { name: string }[];
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
   * Server-side apply (field manager acr-kube-auth, force), conditional on `resourceVersion`:
   * 409 ApiError when the secret changed since it was read.
   */
  applySecret(secret: SecretObject, resourceVersion: string): Promise<LiveSecret>;
  /** delete only if still at resourceVersion (409 ApiError otherwise) */
  deleteSecret(namespace: string, name: string, resourceVersion: string): Promise<void>;
  getServiceAccount(namespace: string, name: string): Promise<LiveServiceAccount | undefined>;
  /** replace imagePullSecrets, conditional on resourceVersion (409 ApiError when it changed) */
  setImagePullSecrets(namespace: string, name: string, imagePullSecrets: { name: string }[], resourceVersion: string): Promise<void>;
}
