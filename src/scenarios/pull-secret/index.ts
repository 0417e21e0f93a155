// The pull-secret scenario: any cluster. Obtain a registry credential, write a
// kubernetes.io/dockerconfigjson Secret into each namespace (merging with other registries'
// entries, never delete-then-create), add it to service accounts; or detach / verify / render.
import type { PullSecretSettings as Settings } from '../../settings.ts';
import type { Deps } from '../../deps.ts';
import type { Result, TargetResult } from '../../result.ts';
import { emptyResult } from '../../result.ts';
import type { KubeClient, LiveSecret } from '../../kube/types.ts';
import {
  MANAGED_BY_LABEL,
  MANAGER,
  REGISTRIES_ANNOTATION,
  basicAuth,
  manifestYaml,
  parseDockerConfig,
  parseRegistries,
  renderSecret,
  stableJson,
  withRegistry,
  withoutRegistry,
  type RegistryRecord,
  type SecretObject,
} from '../../kube/render.ts';
import { ApiError, CheckError } from '../../errors.ts';
import { mapLimit } from '../../pool.ts';
import { credentialSource, type CredentialSource, type PreviousCredential, type PullCredential } from './credentials.ts';

const CONFLICT_ATTEMPTS = 12;

/**
 * Reads the kubeconfig before any network call; undefined when the run does not touch the cluster.
 * Loaded on demand, so the render path (apply: false) loads neither it nor js-yaml's parser.
 */
async function preflight(settings: Settings, deps: Deps) {
  const ps = settings.pullSecret;
  if (!ps.apply && settings.operation === 'attach') return undefined;
  const { resolveKubeconfig } = await import('../../kube/kubeconfig.ts');
  return resolveKubeconfig(ps.kubeconfig, ps.kubeContext, deps.env);
}

export async function runPullSecret(settings: Settings, deps: Deps): Promise<Result> {
  // The kubeconfig is an input too: read and checked here, before any network call.
  const kubeSource = await preflight(settings, deps);
  const source = await credentialSource(settings, deps);
  const loginServer = await source.loginServer();
  const result = emptyResult('pull-secret', loginServer);
  result.credentialType = settings.pullSecret.credential.type;
  result.secretName = settings.pullSecret.secretName;
  result.registryId = source.registryId ? await source.registryId() : undefined;

  if (!kubeSource) return render(settings, deps, source, loginServer, result);
  const kube = await deps.kube(kubeSource);
  if (settings.operation === 'detach') return detach(settings, deps, kube, source, loginServer, result);
  if (settings.operation === 'verify') return verify(settings, deps, kube, source, loginServer, result);
  return attach(settings, deps, kube, source, loginServer, result);
}

function mask(deps: Deps, cred: PullCredential, loginServer: string): { config: string; data: string } {
  const single = withRegistry(undefined, loginServer, cred.username, cred.password);
  const config = stableJson(single);
  const data = Buffer.from(config, 'utf8').toString('base64');
  for (const v of [cred.password, basicAuth(cred.username, cred.password), config, data]) deps.runner.setSecret(v);
  return { config, data };
}

function record(settings: Settings, cred: PullCredential): RegistryRecord {
  return {
    credentialType: settings.pullSecret.credential.type,
    username: cred.username,
    ...(cred.expiresOn ? { expiresOn: cred.expiresOn } : {}),
    ...(cred.slot ? { slot: cred.slot } : {}),
  };
}

/**
 * What the live secrets hold for this registry, for the source to rotate from (token passwords
 * alternate slots) or keep (a credential still good). Where namespaces disagree, the entry that
 * expires last wins.
 */
export function previousCredential(lives: (LiveSecret | undefined)[], loginServer: string): PreviousCredential | undefined {
  let best: PreviousCredential | undefined;
  for (const live of lives) {
    const entry = parseDockerConfig(live?.data?.['.dockerconfigjson'])?.auths[loginServer] as
      { username?: string; password?: string; auth?: string } | undefined;
    if (!live || !entry) continue;
    let { username, password } = entry;
    if ((!username || !password) && typeof entry.auth === 'string')
      [username, password] = Buffer.from(entry.auth, 'base64').toString('utf8').split(/:(.*)/s);
    if (!username || !password) continue;
    const rec = parseRegistries(live.metadata.annotations)[loginServer];
    const candidate: PreviousCredential = { username, password, ...(rec ? { record: rec } : {}) };
    if (!best || (rec?.expiresOn ?? '') > (best.record?.expiresOn ?? '')) best = candidate;
  }
  return best;
}

/** What the source did in Azure (scope map, token, password, client secret) counts as a change. */
function noteAzure(result: Result, cred: PullCredential) {
  result.plan.push(...(cred.lines ?? []));
  result.summaryNotes.push(...(cred.lines ?? []));
  result.changed ||= !!cred.changed;
}

function publish(result: Result, deps: Deps, settings: Settings, cred: PullCredential, loginServer: string) {
  const { config } = mask(deps, cred, loginServer);
  result.username = cred.username;
  result.expiresOn = cred.expiresOn;
  if (cred.principalId) result.principalId = cred.principalId;
  if (cred.role) result.role = cred.role;
  if (cred.roleAssignmentId) result.roleAssignmentIds = [cred.roleAssignmentId];
  result.dockerConfigJson = config;
  const docs = settings.pullSecret.namespaces.map((namespace) =>
    renderSecret({
      name: settings.pullSecret.secretName,
      namespace,
      config: withRegistry(undefined, loginServer, cred.username, cred.password),
      registries: { [loginServer]: record(settings, cred) },
    }),
  );
  // The secret material in the manifest is the base64 data, masked above; masking the whole
  // multi-line document would also hide ordinary lines such as `kind: Secret` from every log.
  result.manifest = manifestYaml(docs);
}

async function render(settings: Settings, deps: Deps, source: CredentialSource, loginServer: string, result: Result): Promise<Result> {
  if (settings.dryRun) {
    result.plan.push(
      `would ${source.describe()} and render Secret ${settings.pullSecret.secretName} for ${settings.pullSecret.namespaces.join(', ')}`,
    );
    result.namespaces = settings.pullSecret.namespaces;
    result.results = settings.pullSecret.namespaces.map((ns) => ({
      target: ns,
      namespace: ns,
      ok: true,
      changed: false,
      action: 'would render',
      secretName: settings.pullSecret.secretName,
    }));
    return result;
  }
  const cred = await source.obtain();
  result.warnings.push(...source.warnings);
  publish(result, deps, settings, cred, loginServer);
  noteAzure(result, cred);
  result.namespaces = settings.pullSecret.namespaces;
  result.results = settings.pullSecret.namespaces.map((ns) => ({
    target: ns,
    namespace: ns,
    ok: true,
    changed: false,
    action: 'rendered',
    secretName: settings.pullSecret.secretName,
    expiresOn: cred.expiresOn,
  }));
  return result;
}

/** Every namespace must exist, or be allowed to be created, before anything is written anywhere. Returns the missing ones. */
async function ensureNamespaces(settings: Settings, kube: KubeClient): Promise<string[]> {
  const { namespaces, createNamespaces } = settings.pullSecret;
  // One list answers for many namespaces; without the right to list them, ask one by one.
  const listed = namespaces.length > 1 ? await kube.listNamespaces() : undefined;
  const missing: string[] = [];
  if (listed) {
    const have = new Set(listed);
    for (const ns of namespaces) if (!have.has(ns)) missing.push(ns);
  } else {
    const exists = await mapLimit(namespaces, settings.maxParallel, (ns) => kube.namespaceExists(ns));
    exists.forEach((r, i) => {
      if (r.status === 'rejected') throw r.reason;
      if (!r.value) missing.push(namespaces[i]);
    });
  }
  if (missing.length && !createNamespaces) {
    throw new CheckError(
      `Namespace${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist on ${kube.server}; nothing was written. Create ${missing.length > 1 ? 'them' : 'it'}, or set create-namespaces: true.`,
    );
  }
  // The missing ones are created by the writers, each just before its secret (no barrier between
  // creating every namespace and writing every secret).
  return missing;
}

function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.status === 409;
}

/** On a 409 with attempts left: wait (bounded, jittered backoff) and say to read again. */
async function retryConflict(e: unknown, attempt: number, deps: Deps): Promise<boolean> {
  if (!isConflict(e) || attempt >= CONFLICT_ATTEMPTS) return false;
  await deps.sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random()));
  return true;
}

/** Read, merge, write conditionally; on a conflict read again. Returns the action taken. */
async function writeSecret(
  settings: Settings,
  deps: Deps,
  kube: KubeClient,
  namespace: string,
  loginServer: string,
  cred: PullCredential,
  dryRun: boolean,
  prefetched?: { live: LiveSecret | undefined },
): Promise<string> {
  const name = settings.pullSecret.secretName;
  for (let attempt = 1; ; attempt++) {
    // The first attempt may use the read made before obtaining the credential; retries read again.
    const live = attempt === 1 && prefetched ? prefetched.live : await kube.getSecret(namespace, name);
    if (live && live.type && live.type !== 'kubernetes.io/dockerconfigjson') {
      throw new CheckError(
        `Secret ${namespace}/${name} exists with type '${live.type}', not kubernetes.io/dockerconfigjson; it was left alone. Choose another secret-name.`,
      );
    }
    const current = parseDockerConfig(live?.data?.['.dockerconfigjson']);
    const config = withRegistry(current, loginServer, cred.username, cred.password);
    const registries = { ...parseRegistries(live?.metadata.annotations), [loginServer]: record(settings, cred) };
    const desired = renderSecret({ name, namespace, config, registries });
    if (live) {
      // Everything else in the secret is somebody else's; mask it before it could be printed.
      deps.runner.setSecret(live.data?.['.dockerconfigjson'] ?? '');
      deps.runner.setSecret(desired.data['.dockerconfigjson']);
      if (sameContent(live, desired)) return 'unchanged';
    }
    if (dryRun) return live ? 'would update' : 'would create';
    try {
      if (live) await kube.applySecret(desired, live.metadata.resourceVersion);
      else await kube.createSecret(desired);
      return live ? 'updated' : 'created';
    } catch (e) {
      if (await retryConflict(e, attempt, deps)) continue;
      throw e;
    }
  }
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

/** Adds (or removes) the secret in a service account's imagePullSecrets, keeping the other entries. */
async function updateServiceAccount(
  settings: Settings,
  deps: Deps,
  kube: KubeClient,
  namespace: string,
  sa: string,
  add: boolean,
  dryRun: boolean,
): Promise<boolean> {
  const name = settings.pullSecret.secretName;
  for (let attempt = 1; ; attempt++) {
    const live = await kube.getServiceAccount(namespace, sa);
    if (!live) {
      if (!add) return false;
      throw new CheckError(
        `Service account ${namespace}/${sa} does not exist; the secret was written but not added to it. Create it, or fix service-accounts.`,
      );
    }
    const list = live.imagePullSecrets ?? [];
    const has = list.some((s) => s.name === name);
    if (has === add) return false;
    if (dryRun) return true;
    const next = add ? [...list, { name }] : list.filter((s) => s.name !== name);
    try {
      await kube.setImagePullSecrets(namespace, sa, next, live.metadata.resourceVersion);
      return true;
    } catch (e) {
      if (await retryConflict(e, attempt, deps)) continue;
      throw e;
    }
  }
}

function settle(result: Result, namespaces: string[], outcomes: PromiseSettledResult<TargetResult>[]) {
  result.results = outcomes.map((o, i) =>
    o.status === 'fulfilled'
      ? o.value
      : {
          target: namespaces[i],
          namespace: namespaces[i],
          ok: false,
          changed: false,
          action: 'failed',
          error: (o.reason as Error)?.message ?? String(o.reason),
        },
  );
  result.namespaces = result.results.filter((r) => r.ok).map((r) => r.target);
  result.changed = result.results.some((r) => r.changed);
}

/** Concurrent runs sharing one ACR token may replace each other's new password: bounded re-obtains. */
const CONFIRM_ROUNDS = 3;

async function attach(
  settings: Settings,
  deps: Deps,
  kube: KubeClient,
  source: CredentialSource,
  loginServer: string,
  result: Result,
): Promise<Result> {
  const { namespaces, serviceAccounts, secretName } = settings.pullSecret;
  const dryRun = settings.dryRun;
  const created = await ensureNamespaces(settings, kube);
  const toCreate = new Set(dryRun ? [] : created);
  for (const ns of created) result.plan.push(`${dryRun ? 'would create' : 'created'} namespace ${ns}`);

  const writeAll = (cred: PullCredential, prefetched: Map<string, LiveSecret | undefined>) =>
    mapLimit(namespaces, settings.maxParallel, async (namespace): Promise<TargetResult> => {
      if (toCreate.delete(namespace)) await kube.createNamespace(namespace);
      const action = dryRun
        ? await planSecret(settings, kube, namespace, loginServer)
        : await writeSecret(
            settings,
            deps,
            kube,
            namespace,
            loginServer,
            cred,
            false,
            prefetched.has(namespace) ? { live: prefetched.get(namespace) } : undefined,
          );
      let saChanged = 0;
      for (const sa of serviceAccounts) if (await updateServiceAccount(settings, deps, kube, namespace, sa, true, dryRun)) saChanged++;
      const changed = (action !== 'unchanged' && !dryRun) || (saChanged > 0 && !dryRun);
      if (dryRun) result.plan.push(`${action} Secret ${namespace}/${secretName}${saChanged ? ` and add it to ${saChanged} service account(s)` : ''}`);
      return {
        target: namespace,
        namespace,
        ok: true,
        changed: dryRun ? action !== 'unchanged' || saChanged > 0 : changed,
        action: saChanged && action === 'unchanged' ? (dryRun ? 'would update service accounts' : 'service accounts updated') : action,
        secretName,
        expiresOn: cred.expiresOn,
      };
    });

  if (dryRun) {
    result.plan.push(`would ${source.describe()}`);
    settle(result, namespaces, await writeAll({ username: '(dry-run)', password: '(dry-run)' }, new Map()));
    result.namespaces = namespaces;
    return result;
  }

  const changedBefore = new Set<string>();
  let azureChanged = false;
  for (let round = 1; ; round++) {
    // Read what the secrets hold now: the source rotates from it (or keeps it while it is good).
    const prefetched = new Map<string, LiveSecret | undefined>();
    // A namespace this run just created holds no secret yet: no need to ask (a create that meets
    // one made meanwhile answers 409, and the write then reads and merges).
    const fresh = new Set(round === 1 ? created : []);
    const reads = await mapLimit(namespaces, settings.maxParallel, async (ns) => (fresh.has(ns) ? undefined : kube.getSecret(ns, secretName)));
    for (const r of reads) if (r.status === 'rejected') throw r.reason;
    reads.forEach((r, i) => r.status === 'fulfilled' && prefetched.set(namespaces[i], r.value));
    for (const live of prefetched.values()) if (live) deps.runner.setSecret(live.data?.['.dockerconfigjson'] ?? '');
    const previous = previousCredential([...prefetched.values()], loginServer);
    if (previous) deps.runner.setSecret(previous.password);
    const cred = await source.obtain(previous);
    publish(result, deps, settings, cred, loginServer);
    const outcomes = await writeAll(cred, prefetched);
    settle(result, namespaces, outcomes);
    noteAzure(result, cred);
    azureChanged ||= !!cred.changed;
    for (const r of result.results) if (r.changed) changedBefore.add(r.target);
    // A concurrent run on the same token may have regenerated the slot just written: obtain again.
    if (round >= CONFIRM_ROUNDS || !source.confirm || result.results.some((r) => !r.ok) || (await source.confirm(cred))) break;
    result.plan.push(`the new password of ${cred.username} was replaced by a concurrent run; obtaining the credential again (round ${round + 1})`);
  }
  for (const r of result.results) if (changedBefore.has(r.target)) r.changed = true;
  result.changed ||= azureChanged || result.results.some((r) => r.changed);
  result.warnings.push(...new Set(source.warnings));
  return result;
}

async function planSecret(settings: Settings, kube: KubeClient, namespace: string, loginServer: string): Promise<string> {
  const live = await kube.getSecret(namespace, settings.pullSecret.secretName);
  if (!live) return 'would create';
  return parseDockerConfig(live.data?.['.dockerconfigjson'])?.auths[loginServer] ? 'would update' : 'would add registry to';
}

async function detach(
  settings: Settings,
  deps: Deps,
  kube: KubeClient,
  source: CredentialSource,
  loginServer: string,
  result: Result,
): Promise<Result> {
  const { namespaces, serviceAccounts, secretName } = settings.pullSecret;
  const dryRun = settings.dryRun;
  const outcomes = await mapLimit(namespaces, settings.maxParallel, async (namespace): Promise<TargetResult> => {
    let action = 'unchanged';
    for (let attempt = 1; ; attempt++) {
      const live = await kube.getSecret(namespace, secretName);
      const current = parseDockerConfig(live?.data?.['.dockerconfigjson']);
      if (!live || !current?.auths[loginServer]) break;
      deps.runner.setSecret(live.data?.['.dockerconfigjson'] ?? '');
      const rest = withoutRegistry(current, loginServer);
      try {
        if (!rest) {
          action = dryRun ? 'would delete' : 'deleted';
          if (!dryRun) await kube.deleteSecret(namespace, secretName, live.metadata.resourceVersion);
        } else {
          action = dryRun ? 'would remove registry from' : 'registry removed';
          const registries = parseRegistries(live.metadata.annotations);
          delete registries[loginServer];
          if (!dryRun) await kube.applySecret(renderSecret({ name: secretName, namespace, config: rest, registries }), live.metadata.resourceVersion);
        }
        break;
      } catch (e) {
        if (await retryConflict(e, attempt, deps)) continue;
        throw e;
      }
    }
    // The service-account reference goes with the secret; while the secret serves other registries it stays.
    let saChanged = 0;
    if (action === 'deleted' || action === 'would delete' || action === 'unchanged') {
      const stillThere = action === 'unchanged' ? await kube.getSecret(namespace, secretName) : undefined;
      if (!stillThere)
        for (const sa of serviceAccounts) if (await updateServiceAccount(settings, deps, kube, namespace, sa, false, dryRun)) saChanged++;
    }
    if (dryRun && action !== 'unchanged') result.plan.push(`${action} Secret ${namespace}/${secretName}`);
    return {
      target: namespace,
      namespace,
      ok: true,
      changed: action !== 'unchanged' || saChanged > 0,
      action: action === 'unchanged' && saChanged ? 'service accounts updated' : action,
      secretName,
    };
  });
  settle(result, namespaces, outcomes);
  if (source.detach && result.results.every((r) => r.ok)) {
    const d = await source.detach(dryRun);
    result.plan.push(...d.lines);
    result.summaryNotes.push(...d.lines);
    result.changed ||= d.changed;
  }
  return result;
}

async function verify(
  settings: Settings,
  deps: Deps,
  kube: KubeClient,
  source: CredentialSource,
  loginServer: string,
  result: Result,
): Promise<Result> {
  const { namespaces, serviceAccounts, secretName } = settings.pullSecret;
  const checked = new Map<string, Promise<string | undefined>>();
  const outcomes = await mapLimit(namespaces, settings.maxParallel, async (namespace): Promise<TargetResult> => {
    const problems: string[] = [];
    const live = await kube.getSecret(namespace, secretName);
    let expiresOn: string | undefined;
    if (!live) problems.push(`Secret ${namespace}/${secretName} is missing`);
    else {
      deps.runner.setSecret(live.data?.['.dockerconfigjson'] ?? '');
      const entry = parseDockerConfig(live.data?.['.dockerconfigjson'])?.auths[loginServer] as
        { username?: string; password?: string; auth?: string } | undefined;
      if (!entry) problems.push(`Secret ${namespace}/${secretName} has no entry for ${loginServer}`);
      else {
        let { username, password } = entry;
        if ((!username || !password) && entry.auth) [username, password] = Buffer.from(entry.auth, 'base64').toString('utf8').split(/:(.*)/s);
        if (password) deps.runner.setSecret(password);
        expiresOn = parseRegistries(live.metadata.annotations)[loginServer]?.expiresOn;
        if (expiresOn && Date.parse(expiresOn) <= deps.now().getTime())
          problems.push(`the credential in ${namespace}/${secretName} expired on ${expiresOn}`);
        else if (username && password) {
          const key = `${username}\n${password}`;
          if (!checked.has(key)) checked.set(key, source.check(username, password));
          const rejected = await checked.get(key)!;
          if (rejected) problems.push(rejected);
        } else problems.push(`the entry for ${loginServer} in ${namespace}/${secretName} has no username and password`);
      }
    }
    for (const sa of serviceAccounts) {
      const live = await kube.getServiceAccount(namespace, sa);
      if (!live) problems.push(`service account ${namespace}/${sa} is missing`);
      else if (!(live.imagePullSecrets ?? []).some((s) => s.name === secretName))
        problems.push(`service account ${namespace}/${sa} does not list ${secretName} in imagePullSecrets`);
    }
    return {
      target: namespace,
      namespace,
      ok: problems.length === 0,
      changed: false,
      action: problems.length ? 'broken' : 'verified',
      secretName,
      expiresOn,
      ...(problems.length ? { error: problems.join('; '), details: problems } : {}),
    };
  });
  settle(result, namespaces, outcomes);
  const exp = result.results
    .map((r) => r.expiresOn)
    .filter(Boolean)
    .sort()[0];
  if (exp) result.expiresOn = exp;
  return result;
}
