// Pull-secret attach and render: read what the namespaces' secrets hold, let the source plan the
// credential (what it would write in Azure, or the credential it keeps), plan each namespace's
// writes from the same decisions (secret-entry.ts), then either print the plan (dry-run) or carry
// it out: the source's writes, then each namespace (bounded by max-parallel).
import type { PullSecretSettings } from '../../settings.ts';
import type { Deps } from '../../deps.ts';
import type { Result, TargetResult, Write } from '../../result.ts';
import type { KubeClient, LiveSecret } from '../../kube/types.ts';
import { basicAuth, manifestYaml, renderSecret, stableJson, withRegistry } from '../../kube/render.ts';
import { mapLimit } from '../../pool.ts';
import { missingNamespaces, retryConflicts, settleReferences, updateServiceAccounts } from './kube-writes.ts';
import { planSecretWrite, previousCredential, registryRecord, type SecretWrite } from './secret-entry.ts';
import type { CredentialSource, PullCredential, SourcePlan } from './sources/credential-source.ts';
import { eachNamespace, settle, type NamespaceOutcome } from './settle.ts';

/** Concurrent runs sharing one ACR token may replace each other's new password: bounded re-obtains. */
const CONFIRM_ROUNDS = 3;

function mask(deps: Deps, cred: PullCredential, loginServer: string): { config: string; data: string } {
  const single = withRegistry(undefined, loginServer, cred.username, cred.password);
  const config = stableJson(single);
  const data = Buffer.from(config, 'utf8').toString('base64');
  for (const v of [cred.password, basicAuth(cred.username, cred.password), config, data]) deps.runner.setSecret(v);
  return { config, data };
}

/** The outputs a credential gives: username, expiry, docker config, the manifest; principal facts for service-principal. */
function publish(result: Result, deps: Deps, settings: PullSecretSettings, cred: PullCredential, loginServer: string) {
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
      registries: { [loginServer]: registryRecord(settings.pullSecret.credential.type, cred) },
    }),
  );
  // The secret material in the manifest is the base64 data, masked above; masking the whole
  // multi-line document would also hide ordinary lines such as `kind: Secret` from every log.
  result.manifest = manifestYaml(docs);
}

/** What the source did in Azure (scope map, token, password, client secret) counts as a change. */
function noteAzure(result: Result, cred: PullCredential) {
  result.plan.push(...(cred.lines ?? []));
  result.summaryNotes.push(...(cred.lines ?? []));
  result.changed ||= !!cred.changed;
}

/** apply: false. The manifest (and the outputs) only; nothing is written to a cluster. */
export async function render(settings: PullSecretSettings, deps: Deps, source: CredentialSource, result: Result): Promise<Result> {
  const { namespaces, secretName } = settings.pullSecret;
  const plan = await source.prepare();
  const rendered = (action: string, expiresOn?: string): TargetResult[] =>
    namespaces.map((ns) => ({ target: ns, namespace: ns, ok: true, changed: false, action, secretName, ...(expiresOn ? { expiresOn } : {}) }));
  result.namespaces = namespaces;
  if (settings.dryRun) {
    result.plan.push(...plan.lines, `would render Secret ${secretName} for ${namespaces.join(', ')}`);
    result.writes.push(...plan.writes);
    result.changed = plan.writes.length > 0;
    result.results = rendered('would render');
    return result;
  }
  const cred = await plan.execute();
  result.writes.push(...(cred.writes ?? []));
  result.warnings.push(...source.warnings);
  publish(result, deps, settings, cred, source.loginServer);
  noteAzure(result, cred);
  result.results = rendered('rendered', cred.expiresOn);
  return result;
}

function secretAction(w: SecretWrite, dryRun: boolean): string {
  if (w.kind === 'unchanged') return 'unchanged';
  if (!dryRun) return w.kind === 'create' ? 'created' : 'updated';
  return w.kind === 'create' ? 'would create' : w.hasEntry ? 'would update' : 'would add registry to';
}

function secretWrite(w: SecretWrite, namespace: string, name: string): Write[] {
  if (w.kind === 'unchanged') return [];
  return [{ kind: w.kind === 'create' ? 'create-secret' : 'apply-secret', namespace, name }];
}

export async function attach(settings: PullSecretSettings, deps: Deps, kube: KubeClient, source: CredentialSource, result: Result): Promise<Result> {
  const { namespaces, serviceAccounts, secretName } = settings.pullSecret;
  const { dryRun } = settings;
  const loginServer = source.loginServer;
  const credentialType = settings.pullSecret.credential.type;
  const missing = await missingNamespaces(settings, kube);
  const toCreate = new Set(dryRun ? [] : missing);
  for (const ns of missing) result.plan.push(`${dryRun ? 'would create' : 'created'} namespace ${ns}`);

  /** What the secrets hold now (the source rotates from it, or keeps it while it is good); `fresh`: known empty. */
  async function readSecrets(fresh: ReadonlySet<string>): Promise<Map<string, LiveSecret | undefined>> {
    const reads = await mapLimit(namespaces, settings.maxParallel, async (ns) => (fresh.has(ns) ? undefined : kube.getSecret(ns, secretName)));
    const live = new Map<string, LiveSecret | undefined>();
    reads.forEach((r, i) => {
      if (r.status === 'rejected') throw r.reason;
      live.set(namespaces[i], r.value);
    });
    // Everything else in the secrets is somebody else's; mask it before it could be printed.
    for (const s of live.values()) if (s) deps.runner.setSecret(s.data?.['.dockerconfigjson'] ?? '');
    return live;
  }

  async function planSource(live: Map<string, LiveSecret | undefined>): Promise<SourcePlan> {
    const previous = previousCredential([...live.values()], loginServer);
    if (previous) deps.runner.setSecret(previous.password);
    return source.prepare(previous);
  }

  const nsResult = (namespace: string, action: string, changed: boolean, expiresOn?: string): TargetResult => ({
    target: namespace,
    namespace,
    ok: true,
    changed,
    action,
    secretName,
    expiresOn,
  });

  if (dryRun) {
    // A namespace this run would create holds no secret and no service account yet: nothing to read there.
    const live = await readSecrets(new Set(missing));
    const plan = await planSource(live);
    result.plan.push(...plan.lines);
    result.writes.push(...plan.writes);
    const known = plan.known;
    const record = known ? registryRecord(credentialType, known) : undefined;
    const outcomes = await eachNamespace(settings, deps, async (namespace): Promise<NamespaceOutcome> => {
      const fresh = missing.includes(namespace);
      const w = planSecretWrite({ live: live.get(namespace), namespace, name: secretName, loginServer, cred: known, record });
      const writes: Write[] = [...(fresh ? [{ kind: 'create-namespace' as const, namespace }] : []), ...secretWrite(w, namespace, secretName)];
      const accounts = await updateServiceAccounts(deps, kube, { namespace, serviceAccounts, secretName, add: true, dryRun, known: fresh });
      writes.push(...accounts.writes);
      const saChanged = accounts.writes.length;
      const action = secretAction(w, true);
      const sas = `add it to ${saChanged} service account(s)`;
      const line =
        w.kind === 'unchanged'
          ? `Secret ${namespace}/${secretName} already holds this credential${saChanged ? `; would ${sas}` : ''}`
          : `${action} Secret ${namespace}/${secretName}${saChanged ? ` and ${sas}` : ''}`;
      const changed = action !== 'unchanged' || saChanged > 0;
      return {
        result: nsResult(namespace, saChanged && action === 'unchanged' ? 'would update service accounts' : action, changed, known?.expiresOn),
        writes,
        lines: [line],
        notices: accounts.notices,
      };
    });
    settle(result, namespaces, outcomes);
    result.namespaces = namespaces;
    result.changed ||= plan.writes.length > 0;
    return result;
  }

  const changedBefore = new Set<string>();
  let azureChanged = false;
  for (let round = 1; ; round++) {
    // A namespace this run just created holds no secret yet: no need to ask (a create that meets
    // one made meanwhile answers 409, and the write then reads and merges).
    const prefetched = await readSecrets(new Set(round === 1 ? missing : []));
    const plan = await planSource(prefetched);
    const cred = await plan.execute();
    result.writes.push(...(cred.writes ?? []));
    publish(result, deps, settings, cred, loginServer);
    const record = registryRecord(credentialType, cred);
    const outcomes = await eachNamespace(settings, deps, async (namespace): Promise<NamespaceOutcome> => {
      const writes: Write[] = [];
      if (toCreate.delete(namespace)) {
        await kube.createNamespace(namespace);
        writes.push({ kind: 'create-namespace', namespace });
      }
      const w = await retryConflicts(deps, async (attempt) => {
        // The first attempt uses the read made before obtaining the credential; retries read again.
        const live = attempt === 1 ? prefetched.get(namespace) : await kube.getSecret(namespace, secretName);
        const planned = planSecretWrite({ live, namespace, name: secretName, loginServer, cred, record });
        if (live) {
          deps.runner.setSecret(live.data?.['.dockerconfigjson'] ?? '');
          if (planned.kind !== 'unchanged') deps.runner.setSecret(planned.desired!.data['.dockerconfigjson']);
        }
        if (planned.kind === 'create') await kube.createSecret(planned.desired!);
        else if (planned.kind === 'update') await kube.applySecret(planned.desired!, planned.resourceVersion, planned.force);
        return planned;
      });
      writes.push(...secretWrite(w, namespace, secretName));
      const accounts = await settleReferences(deps, kube, { namespace, serviceAccounts, secretName, attach: true, present: true });
      writes.push(...accounts.writes);
      const saChanged = accounts.writes.length;
      const action = secretAction(w, false);
      return {
        result: nsResult(
          namespace,
          saChanged && action === 'unchanged' ? 'service accounts updated' : action,
          action !== 'unchanged' || saChanged > 0,
          cred.expiresOn,
        ),
        writes,
        lines: [],
        notices: accounts.notices,
      };
    });
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
