// This registry's entry in a live kubernetes.io/dockerconfigjson Secret, pure: decoding it, what
// the live secrets hold (for rotation), and what writing or removing the entry would do. Attach,
// detach, verify and their dry runs all decide here, so a dry run plans what the real run writes.
import type { LiveSecret } from '../../kube/types.ts';
import {
  MANAGED_BY_LABEL,
  MANAGER,
  REGISTRIES_ANNOTATION,
  parseDockerConfig,
  parseRegistries,
  renderSecret,
  stableJson,
  withRegistry,
  withoutRegistry,
  type RegistryRecord,
  type SecretObject,
} from '../../kube/render.ts';
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
  if (live && live.type && live.type !== DOCKER_CONFIG) {
    throw new CheckError(
      `Secret ${namespace}/${name} exists with type '${live.type}', not kubernetes.io/dockerconfigjson; it was left alone. Choose another secret-name.`,
    );
  }
}

export type SecretWrite =
  | { kind: 'unchanged' }
  /** desired: the Secret to write, when the credential is known */
  | { kind: 'create'; desired?: SecretObject }
  | { kind: 'update'; desired?: SecretObject; resourceVersion: string; hasEntry: boolean };

/**
 * What writing `cred` (undefined: a credential not known yet, which differs from any live one)
 * for `loginServer` into the live secret would do: other registries' entries and records kept.
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
  const desired =
    cred && record
      ? renderSecret({
          name,
          namespace,
          config: withRegistry(current, loginServer, cred.username, cred.password),
          registries: { ...parseRegistries(live?.metadata.annotations), [loginServer]: record },
        })
      : undefined;
  if (!live) return { kind: 'create', desired };
  if (desired && sameContent(live, desired)) return { kind: 'unchanged' };
  return { kind: 'update', desired, resourceVersion: live.metadata.resourceVersion, hasEntry: !!current?.auths[loginServer] };
}

function sameContent(live: LiveSecret, desired: SecretObject): boolean {
  const a = parseDockerConfig(live.data?.['.dockerconfigjson']);
  return (
    a !== undefined &&
    stableJson(a) === stableJson(parseDockerConfig(desired.data['.dockerconfigjson'])) &&
    live.metadata.labels?.[MANAGED_BY_LABEL] === MANAGER &&
    stableJson(parseRegistries(live.metadata.annotations)) === desired.metadata.annotations![REGISTRIES_ANNOTATION]
  );
}

export type EntryRemoval =
  { kind: 'none' } | { kind: 'delete'; resourceVersion: string } | { kind: 'remove'; rest: SecretObject; resourceVersion: string };

/** Detach: what removing this registry's entry would do (the secret goes when no other registry is left). */
export function planEntryRemoval(live: LiveSecret | undefined, namespace: string, name: string, loginServer: string): EntryRemoval {
  const current = parseDockerConfig(live?.data?.['.dockerconfigjson']);
  if (!live || !current?.auths[loginServer]) return { kind: 'none' };
  const rest = withoutRegistry(current, loginServer);
  if (!rest) return { kind: 'delete', resourceVersion: live.metadata.resourceVersion };
  const registries = parseRegistries(live.metadata.annotations);
  delete registries[loginServer];
  return { kind: 'remove', rest: renderSecret({ name, namespace, config: rest, registries }), resourceVersion: live.metadata.resourceVersion };
}
