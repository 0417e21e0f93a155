// Pure rendering of pull secrets: the .dockerconfigjson, the Secret object and the manifest YAML.
// No SDK import, no I/O.
//
// The mark of ownership: the objects this action creates (Secrets, Namespaces) carry the label
// `app.kubernetes.io/managed-by: acr-kube-auth` (the recommended label for the tool that manages an
// object, https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/), set
// when it creates them and never on an object someone else made. Detach deletes only a Secret
// that carries it (src/scenarios/pull-secret/secret-entry.ts).
import { dump } from 'js-yaml';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** This action's name: the value of its managed-by label and its server-side apply field manager. */
export const MANAGER = 'acr-kube-auth';
/** JSON map loginServer -> { credentialType, username, expiresOn, updatedAt } of the registries this action wrote. */
export const REGISTRIES_ANNOTATION = 'acr-kube-auth.github.io/registries';

export interface DockerAuth {
  username: string;
  password: string;
  auth: string;
  [k: string]: unknown;
}
export interface DockerConfig {
  auths: Record<string, DockerAuth | Record<string, unknown>>;
  [k: string]: unknown;
}

export interface SecretObject {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
  };
  type: 'kubernetes.io/dockerconfigjson';
  data: { '.dockerconfigjson': string };
}

export interface RegistryRecord {
  credentialType: string;
  username: string;
  expiresOn?: string;
  /** token passwords: password1 or password2 (rotation alternates them) */
  slot?: string;
}

/** The `auth` field docker and kubectl write: base64 of `username:password`. */
export function basicAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/** Parses a live secret's .dockerconfigjson (base64); undefined when absent or not a docker config. */
export function parseDockerConfig(base64?: string): DockerConfig | undefined {
  if (!base64) return undefined;
  try {
    const json = JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as unknown;
    if (json && typeof json === 'object' && !Array.isArray(json)) {
      const cfg = json as DockerConfig;
      if (!cfg.auths || typeof cfg.auths !== 'object') cfg.auths = {};
      return cfg;
    }
  } catch {
    // not JSON: treated as absent, and replaced
  }
  return undefined;
}

/** Adds or replaces one registry's entry, keeping every other registry's entry as it is. */
export function withRegistry(existing: DockerConfig | undefined, loginServer: string, username: string, password: string): DockerConfig {
  const auths = { ...(existing?.auths ?? {}) };
  auths[loginServer] = { username, password, auth: basicAuth(username, password) };
  return { ...(existing ?? {}), auths };
}

/** Removes one registry's entry; returns undefined when no entry is left. */
export function withoutRegistry(existing: DockerConfig, loginServer: string): DockerConfig | undefined {
  const auths = { ...existing.auths };
  delete auths[loginServer];
  return Object.keys(auths).length ? { ...existing, auths } : undefined;
}

export function parseRegistries(annotations?: Record<string, string>): Record<string, RegistryRecord> {
  const raw = annotations?.[REGISTRIES_ANNOTATION];
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, RegistryRecord>) : {};
  } catch {
    return {};
  }
}

/** Stable key order so identical content renders identically (and compares equal). */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Whether an object carries this action's mark of ownership: it created it. */
export function madeByUs(metadata: { labels?: Record<string, string> } | undefined): boolean {
  return metadata?.labels?.[MANAGED_BY_LABEL] === MANAGER;
}

/**
 * The Secret as this action writes it: a whole new one (and the manifest), or, as a server-side
 * apply configuration, only the fields this action owns in a live one: this registry's
 * `.dockerconfigjson` (with every other registry's entry in it), the registries annotation, the
 * type, and the mark of ownership only when it is ours (`owned`, the default). Nothing else of a
 * live Secret (other keys, labels, annotations, owner references) is in it, so it is never changed.
 */
export function renderSecret(opts: {
  name: string;
  namespace: string;
  config: DockerConfig;
  registries: Record<string, RegistryRecord>;
  owned?: boolean;
}): SecretObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: opts.name,
      namespace: opts.namespace,
      ...(opts.owned === false ? {} : { labels: { [MANAGED_BY_LABEL]: MANAGER } }),
      annotations: { [REGISTRIES_ANNOTATION]: stableJson(opts.registries) },
    },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(stableJson(opts.config), 'utf8').toString('base64') },
  };
}

/** A Namespace this action creates, with its mark of ownership. */
export function renderNamespace(name: string): {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string> };
} {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [MANAGED_BY_LABEL]: MANAGER } } };
}

/** Multi-document YAML that `kubectl apply -f` accepts. */
export function manifestYaml(objects: object[]): string {
  return objects.map((o) => `---\n${dump(o, { lineWidth: -1, noRefs: true, sortKeys: false })}`).join('');
}
