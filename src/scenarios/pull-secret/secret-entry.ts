// This registry's entry in a live kubernetes.io/dockerconfigjson Secret, pure: decoding it, what
// the live secrets hold (for rotation), and what writing or removing the entry would do, with the
// ownership rules: which Secrets are this action's (render.ts madeByUs), which entries (its
// registries annotation), and which fields of someone else's Secret it may write (checkTakeover).
// Attach, detach, verify and their dry runs all decide here, so a dry run plans what the real run
// writes.
import type { LiveSecret } from '../../kube/types.ts';
import {
  MANAGED_BY_LABEL,
  REGISTRIES_ANNOTATION,
  madeByUs,
  parseDockerConfig,
  parseRegistries,
  renderSecret,
  stableJson,
  withRegistry,
  withoutRegistry,
  type DockerConfig,
  type RegistryRecord,
  type SecretObject,
} from '../../kube/render.ts';
import { DOCKER_CONFIG_PATH, applyMeetsOwner, declarativeOwner, shownName } from '../../kube/field-owners.ts';
import { PROVENANCE_ANNOTATION } from '../../provenance.ts';
import { CheckError } from '../../errors.ts';
import type { PreviousCredential, PullCredential } from './sources/credential-source.ts';

const DOCKER_CONFIG = 'kubernetes.io/dockerconfigjson';

/** The username and password of `loginServer`'s entry (from username/password, else from `auth`); undefined without an entry. */
export function registryEntry(live: LiveSecret | undefined, loginServer: string): { username?: string; password?: string } | undefined {
  const entry = parseDockerConfig(live?.data?.['.dockerconfigjson'])?.auths[loginServer] as
    { username?: string; password?: string; auth?: string } | undefined;
  if (!entry) return undefined;
  let { username, password } = entry;
  if ((!username || !password) && typeof entry.auth === 'string')
    [username, password] = Buffer.from(entry.auth, 'base64').toString('utf8').split(/:(.*)/s);
  return { username, password };
}

/**
 * What the live secrets hold for this registry, for the source to rotate from (token passwords
 * alternate slots) or keep (a credential still good). Where namespaces disagree, the entry that
 * expires last wins.
 */
export function previousCredential(lives: (LiveSecret | undefined)[], loginServer: string): PreviousCredential | undefined {
  let best: PreviousCredential | undefined;
  for (const live of lives) {
    const entry = registryEntry(live, loginServer);
    if (!live || !entry?.username || !entry.password) continue;
    const rec = parseRegistries(live.metadata.annotations)[loginServer];
    const candidate: PreviousCredential = { username: entry.username, password: entry.password, ...(rec ? { record: rec } : {}) };
    if (!best || (rec?.expiresOn ?? '') > (best.record?.expiresOn ?? '')) best = candidate;
  }
  return best;
}

/** This action's annotation record for a credential. */
export function registryRecord(credentialType: string, cred: Pick<PullCredential, 'username' | 'expiresOn' | 'slot'>): RegistryRecord {
  return {
    credentialType,
    username: cred.username,
    ...(cred.expiresOn ? { expiresOn: cred.expiresOn } : {}),
    ...(cred.slot ? { slot: cred.slot } : {}),
  };
}

/** A Secret this action may write into: absent, or of the dockerconfigjson type (anything else is left alone). */
export function checkWritable(live: LiveSecret | undefined, namespace: string, name: string): void {
  if (live && live.type !== DOCKER_CONFIG) {
    throw new CheckError(
      `Secret ${namespace}/${name} exists with type '${live.type ?? '(none)'}', not kubernetes.io/dockerconfigjson; it was left alone. Choose another secret-name.`,
    );
  }
}

/**
 * The one field of a Secret made by someone else that this action must change to add or remove
 * its entry is `.dockerconfigjson`. It takes that field from an imperative writer (`kubectl create
 * secret docker-registry`, `kubectl edit`, a controller: none of them writes it again unasked),
 * never from a declarative tool that re-applies its own value: a manager that applied it
 * server-side (Helm 4, `kubectl apply --server-side`, Argo CD, Flux), whose next apply would then
 * fail with a conflict on it (or, forced, drop this registry's entry), or a Secret whose
 * managed-by label names another tool (Helm 3 patches its objects back to its templates).
 */
export function checkTakeover(live: LiveSecret, namespace: string, name: string): void {
  if (madeByUs(live.metadata)) return;
  const label = live.metadata.labels?.[MANAGED_BY_LABEL];
  const applier = declarativeOwner(live.metadata.managedFields, DOCKER_CONFIG_PATH);
  if (!label && !applier) return;
  const tool = shownName(applier ?? label!);
  const why = applier ? `its .dockerconfigjson is applied server-side by field manager '${tool}'` : `it is labelled ${MANAGED_BY_LABEL}: ${tool}`;
  throw new CheckError(
    `Secret ${namespace}/${name} belongs to ${tool} (${why}); changing this registry's entry would take .dockerconfigjson from ${tool}, whose next apply would conflict on it or undo the change, so nothing was written to it. Give the action a Secret of its own (another secret-name; service accounts and pods can list several), or put the registry into ${tool}'s configuration.`,
  );
}

/**
 * Whether the apply configuration `desired`, changing `.dockerconfigjson` or not, must be forced:
 * some field of it that changes is owned by another manager than this action's own apply. After
 * checkTakeover these are only fields this action may take: its own annotations and label
 * (also from its own create, an Update entry), and `.dockerconfigjson` from an imperative
 * writer. Every changed value of ours counts, and the written-by annotation always changes.
 */
function mustForce(live: LiveSecret, desired: SecretObject, configChanges: boolean): boolean {
  const mf = live.metadata.managedFields;
  if (configChanges && applyMeetsOwner(mf, DOCKER_CONFIG_PATH)) return true;
  const annotations = { ...desired.metadata.annotations, [PROVENANCE_ANNOTATION]: '' };
  for (const [key, value] of Object.entries(annotations))
    if (live.metadata.annotations?.[key] !== value && applyMeetsOwner(mf, ['f:metadata', 'f:annotations', `f:${key}`])) return true;
  for (const [key, value] of Object.entries(desired.metadata.labels ?? {}))
    if (live.metadata.labels?.[key] !== value && applyMeetsOwner(mf, ['f:metadata', 'f:labels', `f:${key}`])) return true;
  return false;
}

const sameConfig = (a: DockerConfig | undefined, b: DockerConfig | undefined) =>
  a !== undefined && b !== undefined && stableJson(a) === stableJson(b);

export type SecretWrite =
  | { kind: 'unchanged' }
  /** desired: the Secret to write, when the credential is known */
  | { kind: 'create'; desired?: SecretObject }
  /** desired: the apply configuration (only this action's fields); force: see mustForce */
  | { kind: 'update'; desired?: SecretObject; resourceVersion: string; hasEntry: boolean; force: boolean };

/**
 * What writing `cred` (undefined: a credential not known yet, which differs from any live one)
 * for `loginServer` into the live secret would do: other registries' entries and records kept,
 * and of a Secret made by someone else nothing but `.dockerconfigjson` and this action's
 * annotations written (checkTakeover refuses a declarative tool's).
 */
export function planSecretWrite(opts: {
  live: LiveSecret | undefined;
  namespace: string;
  name: string;
  loginServer: string;
  cred?: Pick<PullCredential, 'username' | 'password'>;
  record?: RegistryRecord;
}): SecretWrite {
  const { live, namespace, name, loginServer, cred, record } = opts;
  checkWritable(live, namespace, name);
  const current = parseDockerConfig(live?.data?.['.dockerconfigjson']);
  const owned = !live || madeByUs(live.metadata);
  const config = cred ? withRegistry(current, loginServer, cred.username, cred.password) : undefined;
  const desired =
    config && record
      ? renderSecret({ name, namespace, config, registries: { ...parseRegistries(live?.metadata.annotations), [loginServer]: record }, owned })
      : undefined;
  if (!live) return { kind: 'create', desired };
  const configChanges = !sameConfig(current, config);
  if (desired && !configChanges && stableJson(parseRegistries(live.metadata.annotations)) === desired.metadata.annotations![REGISTRIES_ANNOTATION])
    return { kind: 'unchanged' };
  if (configChanges) checkTakeover(live, namespace, name);
  return {
    kind: 'update',
    desired,
    resourceVersion: live.metadata.resourceVersion,
    hasEntry: !!current?.auths[loginServer],
    force: desired ? mustForce(live, desired, configChanges) : configChanges && applyMeetsOwner(live.metadata.managedFields, DOCKER_CONFIG_PATH),
  };
}

export type EntryRemoval =
  | { kind: 'none' }
  /** an entry for the registry that this action did not write: left in place, with the notice that says so */
  | { kind: 'foreign'; notice: string }
  | { kind: 'delete'; resourceVersion: string }
  /** rest: the apply configuration without this registry's entry and record */
  | { kind: 'remove'; rest: SecretObject; resourceVersion: string; force: boolean };

/**
 * Detach: what removing this registry's entry would do. Only an entry this action wrote (its
 * registries annotation records it) is removed. The Secret is deleted only when this action made
 * it (its mark of ownership) and nothing else is left in it: no other registry, no other key.
 * Otherwise only the entry and its record go, every other key, label, annotation and reference
 * stays. A Secret of another type is refused, as attach refuses it.
 */
export function planEntryRemoval(live: LiveSecret | undefined, namespace: string, name: string, loginServer: string): EntryRemoval {
  if (!live) return { kind: 'none' };
  checkWritable(live, namespace, name);
  const current = parseDockerConfig(live.data?.['.dockerconfigjson']);
  if (!current?.auths[loginServer]) return { kind: 'none' };
  const registries = parseRegistries(live.metadata.annotations);
  if (!registries[loginServer]) {
    return {
      kind: 'foreign',
      notice: `Secret ${namespace}/${name} holds an entry for ${loginServer} that acr-kube-auth did not write (its ${REGISTRIES_ANNOTATION} annotation does not record it), so detach left it in place. If it should go, remove it yourself: kubectl edit secret ${name} -n ${namespace}, or kubectl delete secret ${name} -n ${namespace} if nothing else needs the Secret.`,
    };
  }
  const rest = withoutRegistry(current, loginServer);
  const owned = madeByUs(live.metadata);
  const otherKeys = Object.keys(live.data ?? {}).some((k) => k !== '.dockerconfigjson');
  if (!rest && owned && !otherKeys) return { kind: 'delete', resourceVersion: live.metadata.resourceVersion };
  checkTakeover(live, namespace, name);
  delete registries[loginServer];
  const restSecret = renderSecret({ name, namespace, config: rest ?? { ...current, auths: {} }, registries, owned });
  return { kind: 'remove', rest: restSecret, resourceVersion: live.metadata.resourceVersion, force: mustForce(live, restSecret, true) };
}
