// The Kubernetes side of a pull secret: which namespaces exist, and the read-decide-write of one
// object (a Secret, a service account), retried when the object changed since it was read. Every
// decision is made by the same function under dry-run and for real; dry-run stops before writing.
import type { PullSecretSettings } from '../../settings.ts';
import type { Deps } from '../../deps.ts';
import type { KubeClient } from '../../kube/types.ts';
import type { Write } from '../../result.ts';
import { ApiError, CheckError } from '../../errors.ts';
import { mapLimit } from '../../pool.ts';
import { withRetry } from '../../retry.ts';

/** Attempts of one read-decide-write before a conflict (409: changed since read) fails it. */
const CONFLICT_ATTEMPTS = 12;

const isConflict = (e: unknown) => e instanceof ApiError && e.status === 409;

/**
 * Runs `attempt` (read, decide, write conditionally on the version read) until it does not meet a
 * conflict: on a 409 it reads again after a bounded, jittered backoff. The one conflict loop.
 */
export function retryConflicts<T>(deps: Pick<Deps, 'sleep'>, attempt: (n: number) => Promise<T>): Promise<T> {
  return withRetry(attempt, { attempts: CONFLICT_ATTEMPTS, baseMs: 100, maxDelayMs: 2000, retryable: isConflict, sleep: deps.sleep });
}

/** Every namespace must exist, or be allowed to be created, before anything is written anywhere. Returns the missing ones. */
export async function missingNamespaces(settings: PullSecretSettings, kube: KubeClient): Promise<string[]> {
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

/**
 * Adds (or removes) `secretName` in a service account's imagePullSecrets, keeping the other
 * entries; true when it changes (or, under dry-run, would). A missing account is an error for an
 * add and nothing for a removal.
 */
function updateServiceAccount(
  deps: Pick<Deps, 'sleep'>,
  kube: KubeClient,
  target: { namespace: string; serviceAccount: string; secretName: string; add: boolean; dryRun: boolean },
): Promise<boolean> {
  const { namespace, serviceAccount: sa, secretName: name, add, dryRun } = target;
  return retryConflicts(deps, async () => {
    const live = await kube.getServiceAccount(namespace, sa);
    if (!live) {
      if (!add) return false;
      throw new CheckError(
        `Service account ${namespace}/${sa} does not exist; the secret was written but not added to it. Create it, or fix service-accounts.`,
      );
    }
    const list = live.imagePullSecrets ?? [];
    if (list.some((s) => s.name === name) === add) return false;
    if (dryRun) return true;
    await kube.setImagePullSecrets(namespace, sa, add ? [...list, { name }] : list.filter((s) => s.name !== name), live.metadata.resourceVersion);
    return true;
  });
}

/**
 * updateServiceAccount for each of `serviceAccounts` in one namespace, in order; returns the
 * writes made (or, under dry-run, planned). `known`: the accounts change without asking (in a
 * namespace the dry run would create, none exists yet to read).
 */
export async function updateServiceAccounts(
  deps: Pick<Deps, 'sleep'>,
  kube: KubeClient,
  target: { namespace: string; serviceAccounts: readonly string[]; secretName: string; add: boolean; dryRun: boolean; known?: boolean },
): Promise<Write[]> {
  const writes: Write[] = [];
  const { namespace, secretName, add, dryRun } = target;
  for (const serviceAccount of target.serviceAccounts) {
    if (target.known || (await updateServiceAccount(deps, kube, { namespace, serviceAccount, secretName, add, dryRun })))
      writes.push({ kind: 'set-image-pull-secrets', namespace, serviceAccount });
  }
  return writes;
}
