// The Kubernetes side of a pull secret: which namespaces exist, and the read-decide-write of one
// object (a Secret, a service account), retried when the object changed since it was read. Every
// decision is made by the same function under dry-run and for real; dry-run stops before writing.
//
// Attach and detach racing: the Secret and the service accounts that list it are separate objects,
// with no transaction across them. A service account's reference is decided from whether the
// Secret exists, so a run re-reads the Secret after changing references, and while it finds the
// Secret's existence changed since its decision (the other run created or deleted it meanwhile),
// decides again (settleReferences): it ends with the references matching the Secret, whichever
// run wrote the Secret last. A run only ever undoes its own reference changes.
import type { PullSecretSettings } from '../../settings.ts';
import type { Deps } from '../../deps.ts';
import { FIELD_MANAGER_CONFLICT, type KubeClient } from '../../kube/types.ts';
import { IMAGE_PULL_SECRETS_PATH, declarativeOwner, shownName } from '../../kube/field-owners.ts';
import type { Write } from '../../result.ts';
import { ApiError, CheckError } from '../../errors.ts';
import { mapLimit } from '../../pool.ts';
import { withRetry } from '../../retry.ts';

/** Attempts of one read-decide-write before a conflict (409: changed since read) fails it. */
const CONFLICT_ATTEMPTS = 12;

/** Changed since read (a resourceVersion precondition, a create meeting one made meanwhile); not a field owned by another manager, which reading again does not change. */
const isConflict = (e: unknown) => e instanceof ApiError && e.status === 409 && e.code !== FIELD_MANAGER_CONFLICT;

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

/** Rounds of settleReferences: re-reads of the Secret after changing references, while a concurrent run keeps changing it. */
const SETTLE_ROUNDS = 6;

interface AccountChange {
  /** it changed (or, under dry-run, would) */
  changed: boolean;
  /** a reference left alone, and why */
  notice?: string;
}

/**
 * Adds (or removes) `secretName` in a service account's imagePullSecrets, keeping the other
 * entries. A missing account is an error for an add and nothing for a removal. The list is one
 * field (atomic): a list another tool applies server-side (a Helm chart's service account) is not
 * taken from it: an add fails saying so, a removal leaves the reference with a notice.
 */
function updateServiceAccount(
  deps: Pick<Deps, 'sleep'>,
  kube: KubeClient,
  target: { namespace: string; serviceAccount: string; secretName: string; add: boolean; dryRun: boolean },
): Promise<AccountChange> {
  const { namespace, serviceAccount: sa, secretName: name, add, dryRun } = target;
  return retryConflicts(deps, async () => {
    const live = await kube.getServiceAccount(namespace, sa);
    if (!live) {
      if (!add) return { changed: false };
      throw new CheckError(
        `Service account ${namespace}/${sa} does not exist; the secret was written but not added to it. Create it, or fix service-accounts.`,
      );
    }
    const list = live.imagePullSecrets ?? [];
    if (list.some((s) => s.name === name) === add) return { changed: false };
    const applier = declarativeOwner(live.metadata.managedFields, IMAGE_PULL_SECRETS_PATH);
    if (applier) {
      const tool = shownName(applier);
      const why = `its imagePullSecrets are applied server-side by field manager '${tool}', whose next apply would conflict on the list or undo the change`;
      if (!add)
        return {
          changed: false,
          notice: `Service account ${namespace}/${sa} still lists ${name}: ${why}. Remove ${name} from ${tool}'s configuration of it.`,
        };
      throw new CheckError(
        `Service account ${namespace}/${sa} was left alone: ${why}. The secret was written; add ${name} to ${tool}'s configuration of the service account's imagePullSecrets, or name another service account.`,
      );
    }
    if (dryRun) return { changed: true };
    await kube.setImagePullSecrets(namespace, sa, add ? [...list, { name }] : list.filter((s) => s.name !== name), live.metadata.resourceVersion);
    return { changed: true };
  });
}

/** The reference writes made (or, under dry-run, planned), and the references left alone with why. */
export interface ReferenceChanges {
  writes: Write[];
  notices: string[];
}

/**
 * updateServiceAccount for each of `serviceAccounts` in one namespace, in order, once: what the
 * dry run plans. `known`: the accounts change without asking (in a namespace the dry run would
 * create, none exists yet to read).
 */
export async function updateServiceAccounts(
  deps: Pick<Deps, 'sleep'>,
  kube: KubeClient,
  target: { namespace: string; serviceAccounts: readonly string[]; secretName: string; add: boolean; dryRun: boolean; known?: boolean },
): Promise<ReferenceChanges> {
  const out: ReferenceChanges = { writes: [], notices: [] };
  const { namespace, secretName, add, dryRun } = target;
  for (const serviceAccount of target.serviceAccounts) {
    const r = target.known ? { changed: true } : await updateServiceAccount(deps, kube, { namespace, serviceAccount, secretName, add, dryRun });
    if (r.notice) out.notices.push(r.notice);
    if (r.changed) out.writes.push({ kind: 'set-image-pull-secrets', namespace, serviceAccount });
  }
  return out;
}

/**
 * A real run's references to `secretName` after its Secret write (or its finding that there is
 * nothing to write): each service account lists the Secret while it exists and not once it is
 * gone. Attach adds references and removes only those it added; detach removes references and
 * adds back only those it removed. After changing a reference the Secret is read again: if it
 * appeared or went meanwhile (a concurrent attach or detach), the references are decided again,
 * up to SETTLE_ROUNDS times. A run that changed nothing needs no second read: whoever changes the
 * Secret or a reference after it settles them. `present`: whether the Secret exists, when the
 * caller knows it.
 */
export async function settleReferences(
  deps: Pick<Deps, 'sleep'>,
  kube: KubeClient,
  target: { namespace: string; serviceAccounts: readonly string[]; secretName: string; attach: boolean; present?: boolean },
): Promise<ReferenceChanges> {
  const { namespace, serviceAccounts, secretName, attach } = target;
  const out: ReferenceChanges = { writes: [], notices: [] };
  if (!serviceAccounts.length) return out;
  const exists = async () => !!(await kube.getSecret(namespace, secretName));
  const added = new Set<string>();
  const removed = new Set<string>();
  let present = target.present ?? (await exists());
  for (let round = 1; ; round++) {
    let wrote = false;
    for (const serviceAccount of serviceAccounts) {
      const allowed = present ? attach || removed.has(serviceAccount) : !attach || added.has(serviceAccount);
      if (!allowed) continue;
      const r = await updateServiceAccount(deps, kube, { namespace, serviceAccount, secretName, add: present, dryRun: false });
      if (r.notice && !out.notices.includes(r.notice)) out.notices.push(r.notice);
      if (!r.changed) continue;
      wrote = true;
      out.writes.push({ kind: 'set-image-pull-secrets', namespace, serviceAccount });
      (present ? added : removed).add(serviceAccount);
      (present ? removed : added).delete(serviceAccount);
    }
    // Nothing changed by this run: the references matched the Secret when read; a later change of
    // either is the changing run's to settle.
    if (!wrote || round >= SETTLE_ROUNDS) return out;
    const now = await exists();
    if (now === present) return out;
    present = now;
  }
}
