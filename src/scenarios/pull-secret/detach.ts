// Pull-secret detach: remove this registry's entry from each namespace's secret (the secret goes
// when no other registry is left in it) and, with the secret, its service-account references;
// then what the source made in Azure. Planned by the same decisions for dry-run and real runs
// (secret-entry.ts planEntryRemoval); dry-run stops before each write.
import type { PullSecretSettings } from '../../settings.ts';
import type { Deps } from '../../deps.ts';
import type { Result, Write } from '../../result.ts';
import type { KubeClient } from '../../kube/types.ts';
import { retryConflicts, updateServiceAccounts } from './kube-writes.ts';
import { planEntryRemoval } from './secret-entry.ts';
import { eachNamespace, settle, type NamespaceOutcome } from './settle.ts';
import type { CredentialSource } from './sources/credential-source.ts';

export async function detach(settings: PullSecretSettings, deps: Deps, kube: KubeClient, source: CredentialSource, result: Result): Promise<Result> {
  const { namespaces, serviceAccounts, secretName } = settings.pullSecret;
  const { dryRun } = settings;
  const loginServer = source.loginServer;
  const outcomes = await eachNamespace(settings, deps, async (namespace): Promise<NamespaceOutcome> => {
    const writes: Write[] = [];
    const action = await retryConflicts(deps, async () => {
      const live = await kube.getSecret(namespace, secretName);
      const removal = planEntryRemoval(live, namespace, secretName, loginServer);
      if (removal.kind === 'none') return 'unchanged';
      deps.runner.setSecret(live!.data?.['.dockerconfigjson'] ?? '');
      if (removal.kind === 'delete') {
        if (!dryRun) await kube.deleteSecret(namespace, secretName, removal.resourceVersion);
        writes.push({ kind: 'delete-secret', namespace, name: secretName });
        return dryRun ? 'would delete' : 'deleted';
      }
      if (!dryRun) await kube.applySecret(removal.rest, removal.resourceVersion);
      writes.push({ kind: 'apply-secret', namespace, name: secretName });
      return dryRun ? 'would remove registry from' : 'registry removed';
    });
    // The service-account reference goes with the secret; while the secret serves other registries it stays.
    let saChanged = 0;
    if (action === 'deleted' || action === 'would delete' || action === 'unchanged') {
      const stillThere = action === 'unchanged' ? await kube.getSecret(namespace, secretName) : undefined;
      if (!stillThere) {
        const accounts = await updateServiceAccounts(deps, kube, { namespace, serviceAccounts, secretName, add: false, dryRun });
        writes.push(...accounts);
        saChanged = accounts.length;
      }
    }
    const lines = dryRun && action !== 'unchanged' ? [`${action} Secret ${namespace}/${secretName}`] : [];
    return {
      result: {
        target: namespace,
        namespace,
        ok: true,
        changed: action !== 'unchanged' || saChanged > 0,
        action: action === 'unchanged' && saChanged ? (dryRun ? 'would update service accounts' : 'service accounts updated') : action,
        secretName,
      },
      writes,
      lines,
    };
  });
  settle(result, namespaces, outcomes);
  if (source.prepareDetach && result.results.every((r) => r.ok)) {
    const plan = await source.prepareDetach();
    const d = dryRun ? { changed: plan.writes.length > 0, lines: plan.lines } : await plan.execute();
    result.plan.push(...d.lines);
    result.summaryNotes.push(...d.lines);
    result.writes.push(...plan.writes);
    result.changed ||= d.changed;
  }
  return result;
}
