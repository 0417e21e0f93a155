// Pull-secret detach: remove this registry's entry, where this action wrote it, from each
// namespace's secret (the secret goes only when the action made it and nothing else is left in
// it; an entry someone else wrote stays, with a notice) and, with the secret, its service-account
// references; then what the source made in Azure. Planned by the same decisions for dry-run and
// real runs (secret-entry.ts planEntryRemoval); dry-run stops before each write.
import type { PullSecretSettings } from '../../settings.ts';
import type { Deps } from '../../deps.ts';
import type { Result, Write } from '../../result.ts';
import type { KubeClient } from '../../kube/types.ts';
import { retryConflicts, settleReferences, updateServiceAccounts } from './kube-writes.ts';
import { planEntryRemoval } from './secret-entry.ts';
import { eachNamespace, settle, type NamespaceOutcome } from './settle.ts';
import type { CredentialSource } from './sources/credential-source.ts';

export async function detach(settings: PullSecretSettings, deps: Deps, kube: KubeClient, source: CredentialSource, result: Result): Promise<Result> {
  const { namespaces, serviceAccounts, secretName } = settings.pullSecret;
  const { dryRun } = settings;
  const loginServer = source.loginServer;
  const outcomes = await eachNamespace(settings, deps, async (namespace): Promise<NamespaceOutcome> => {
    const writes: Write[] = [];
    const notices: string[] = [];
    /** whether the Secret is there after this run's write (undefined: not known without reading) */
    let present: boolean | undefined;
    const action = await retryConflicts(deps, async () => {
      const live = await kube.getSecret(namespace, secretName);
      const removal = planEntryRemoval(live, namespace, secretName, loginServer);
      present = !!live;
      if (removal.kind === 'none') return 'unchanged';
      deps.runner.setSecret(live!.data?.['.dockerconfigjson'] ?? '');
      if (removal.kind === 'foreign') {
        if (!notices.includes(removal.notice)) notices.push(removal.notice);
        return 'unchanged';
      }
      if (removal.kind === 'delete') {
        if (!dryRun) await kube.deleteSecret(namespace, secretName, removal.resourceVersion);
        present = false;
        writes.push({ kind: 'delete-secret', namespace, name: secretName });
        return dryRun ? 'would delete' : 'deleted';
      }
      if (!dryRun) await kube.applySecret(removal.rest, removal.resourceVersion, removal.force);
      writes.push({ kind: 'apply-secret', namespace, name: secretName });
      return dryRun ? 'would remove registry from' : 'registry removed';
    });
    // The service-account references go with the secret; while the secret serves other registries
    // (or is someone else's) they stay. A real run settles them against a concurrent attach.
    const accounts = dryRun
      ? present
        ? { writes: [], notices: [] }
        : await updateServiceAccounts(deps, kube, { namespace, serviceAccounts, secretName, add: false, dryRun })
      : await settleReferences(deps, kube, { namespace, serviceAccounts, secretName, attach: false, present });
    writes.push(...accounts.writes);
    notices.push(...accounts.notices);
    const saChanged = accounts.writes.length;
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
      notices,
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
