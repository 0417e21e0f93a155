// The `image` input's proofs for a run's targets (namespaces or clusters), from where
// `verify-from` says: the runner (each target's credential through the token flow) or the cluster
// (a probe Pod per target namespace, src/verify/cluster-probe.ts); and, either way, the signed-in
// identity's answer whether each image exists (the registry API), so that an image that does not
// exist is said apart from one that cannot be pulled. The scenarios call verifyImages() and fold
// its problems into their targets' results.
import type { Deps } from '../deps.ts';
import type { AzureSession } from '../azure/types.ts';
import type { KubeClient } from '../kube/types.ts';
import type { VerifySettings } from '../settings.ts';
import { imageProblems, proveExistence, proveWithCredentials, type CredentialToProve } from './prove.ts';
import type { VerifiedImage } from './types.ts';

export interface ImageTarget {
  /** the target's name in results (namespace or cluster label) */
  target: string;
  /** the credential the target pulls with, when the runner can hold it (pull secrets, a service principal's secret) */
  credential?: CredentialToProve;
  /** verify-from cluster: the namespace of the probe Pod and the pull secret it names (none: the kubelet's own identity) */
  namespace?: string;
  pullSecret?: string;
  /** entries proven another way already (the AKS kubelet identity's role assignments) */
  entries?: VerifiedImage[];
}

export interface ImageVerdicts {
  entries: VerifiedImage[];
  /** target -> what failed, one line each */
  problems: Map<string, string[]>;
  warnings: string[];
}

export interface VerifyImagesContext {
  verify: VerifySettings;
  loginServer: string;
  deps: Pick<Deps, 'runner' | 'env' | 'sleep' | 'now'>;
  /** the signed-in identity, when the run signed in to Azure */
  signedIn?: { session: AzureSession; tenantId?: string };
  /** verify-from cluster: the cluster's client */
  kube?: KubeClient;
}

export async function verifyImages(ctx: VerifyImagesContext, targets: readonly ImageTarget[]): Promise<ImageVerdicts> {
  const { verify, loginServer, deps } = ctx;
  const trace = (l: string) => deps.runner.debug(l);
  const images = verify.images;
  const entries: VerifiedImage[] = [];
  const warnings: string[] = [];
  const existence = ctx.signedIn ? proveExistence(ctx.signedIn.session, loginServer, images, ctx.signedIn.tenantId) : Promise.resolve([]);
  existence.catch(() => undefined);

  for (const t of targets) entries.push(...(t.entries ?? []));
  if (verify.from === 'cluster') {
    if (!ctx.kube) throw new Error('verify-from cluster needs the cluster client');
    const { probeInCluster } = await import('./cluster-probe.ts');
    for (const t of targets) entries.push(...(await probeInCluster({ kube: ctx.kube, deps, loginServer, images }, t)));
  } else {
    const creds = targets.flatMap((t) => (t.credential ? [{ ...t.credential, target: t.target }] : []));
    entries.push(...(await proveWithCredentials(loginServer, creds, images, { trace })));
  }
  const exists = await existence;
  entries.push(...exists);

  const missing = exists.filter((e) => e.missing);
  const problems = new Map<string, string[]>();
  for (const t of targets) {
    const own = entries.filter((e) => e.target === t.target);
    const lines = imageProblems([...missing.filter((m) => !own.some((o) => o.image === m.image && o.missing)), ...own]);
    if (lines.length) problems.set(t.target, lines);
  }
  for (const e of exists) if (e.unchecked) warnings.push(e.error!);
  return { entries, problems, warnings };
}

/**
 * Folds the verdicts into the run's Result: the entries into `verifiedImages`, each target's
 * problems into its result (which then fails, with `failedAction`), the warnings. Pure on `result`.
 */
export function foldVerdicts(
  result: { results: { target: string; ok: boolean; action: string; error?: string; details?: string[] }[]; warnings: string[]; verifiedImages?: VerifiedImage[] },
  v: ImageVerdicts,
  failedAction: string,
): void {
  result.verifiedImages = [...(result.verifiedImages ?? []), ...v.entries];
  result.warnings.push(...v.warnings.filter((w) => !result.warnings.includes(w)));
  for (const r of result.results) {
    const lines = v.problems.get(r.target);
    if (!lines?.length) continue;
    r.ok = false;
    r.action = failedAction;
    r.error = [r.error, ...lines].filter(Boolean).join('; ');
    r.details = [...(r.details ?? []), ...lines];
  }
}
