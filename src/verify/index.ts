// The `image` input's proofs for a run's targets (namespaces or clusters), from where
// `verify-from` says: the runner (each target's credential through the token flow) or the cluster
// (a probe Pod per target namespace, src/verify/cluster-probe.ts); and, either way, the signed-in
// identity's answer whether each image exists (the registry API), so that an image that does not
// exist is said apart from one that cannot be pulled. The scenarios call verifyImages() and fold
// its problems into their targets' results.
import type { Deps } from '../deps.ts';
import type { AzureSession, RegistryNetwork } from '../azure/types.ts';
import { networkFindings } from './network.ts';
import type { KubeClient } from '../kube/types.ts';
import type { VerifySettings } from '../settings.ts';
import { imageProblems, proveExistence, proveWithCredentials } from './prove.ts';
import type { ImageTarget, VerifiedImage } from './types.ts';

export type { ImageTarget } from './types.ts';

export interface ImageVerdicts {
  entries: VerifiedImage[];
  /** target -> what failed, one line each */
  problems: Map<string, string[]>;
  warnings: string[];
  /** the network findings from ARM (network.ts) */
  findings: string[];
}

export interface VerifyImagesContext {
  verify: VerifySettings;
  loginServer: string;
  deps: Pick<Deps, 'runner' | 'env' | 'sleep' | 'now'>;
  /** the signed-in identity, when the run signed in to Azure */
  signedIn?: { session: AzureSession; tenantId?: string; network?: RegistryNetwork };
  /** verify-from cluster: the cluster's client */
  kube?: KubeClient;
  /** the AKS cluster, for the network findings against its virtual network */
  cluster?: { label: string; vnetSubnetIds?: string[] };
}

/** Each target's problems: its own entries' failures, and the images the signed-in identity found missing. Pure. */
function problemsOf(entries: readonly VerifiedImage[], targets: readonly ImageTarget[]): Map<string, string[]> {
  const missing = entries.filter((e) => e.proof === 'registry-api' && e.missing);
  const problems = new Map<string, string[]>();
  for (const t of targets) {
    const own = entries.filter((e) => e.target === t.target);
    const lines = imageProblems([...missing.filter((m) => !own.some((o) => o.image === m.image && o.missing)), ...own]);
    if (lines.length) problems.set(t.target, lines);
  }
  return problems;
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

  const problems = problemsOf(entries, targets);
  for (const e of exists) if (e.unchecked) warnings.push(e.error!);
  const net = networkFindings(loginServer, ctx.signedIn?.network, ctx.cluster);
  return { entries, problems, warnings, findings: net.lines };
}

/**
 * Folds the verdicts into the run's Result: the entries into `verifiedImages`, each target's
 * problems into its result (which then fails, with `failedAction`), the warnings. Pure on `result`.
 */
export function foldVerdicts(
  result: {
    results: { target: string; ok: boolean; action: string; error?: string; details?: string[] }[];
    warnings: string[];
    plan: string[];
    summaryNotes: string[];
    verifiedImages?: VerifiedImage[];
  },
  v: ImageVerdicts,
  failedAction: string,
): void {
  result.verifiedImages = [...(result.verifiedImages ?? []), ...v.entries];
  for (const f of v.findings) {
    if (!result.plan.includes(f)) result.plan.push(f);
    if (!result.summaryNotes.includes(f)) result.summaryNotes.push(f);
  }
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

/** How long attach waits for what it just wrote to take effect at the registry, when not told otherwise. */
export const PROPAGATION = {
  /** new token passwords: "up to about a minute" */
  password: 90_000,
  /** new role assignments: minutes */
  role: 300_000,
};
const PROPAGATION_POLL_MS = 5000;

/**
 * attach with `image`: verifies after writing; while a proof fails only because the credential is
 * refused or does not cover the repository (what a new password or role assignment looks like
 * before it takes effect), asks again, bounded by `budgetMs` (the ACR_KUBE_AUTH_PROPAGATION_MS
 * knob overrides it), saying each wait in the log. The last verdicts, with a note of the wait.
 */
export async function verifyImagesWithin(
  ctx: VerifyImagesContext,
  targets: readonly ImageTarget[],
  opts: { budgetMs: number; what: string },
): Promise<ImageVerdicts> {
  const env = ctx.deps.env.ACR_KUBE_AUTH_PROPAGATION_MS?.trim();
  const budgetMs = env && /^\d{1,7}$/.test(env) ? Number(env) : opts.budgetMs;
  const started = ctx.deps.now().getTime();
  for (let attempt = 1; ; attempt++) {
    const v = await verifyImages(ctx, targets);
    const waiting = v.entries.filter((e) => !e.ok && e.retryable);
    const elapsed = ctx.deps.now().getTime() - started;
    if (!waiting.length || v.entries.some((e) => !e.ok && !e.retryable)) {
      if (attempt > 1) v.findings.push(`waited ${Math.round(elapsed / 1000)} s for ${opts.what} to take effect (${attempt} attempts)`);
      return v;
    }
    if (elapsed + PROPAGATION_POLL_MS > budgetMs) {
      v.findings.push(`waited ${Math.round(elapsed / 1000)} s (the most attach waits) for ${opts.what} to take effect; it still does not`);
      for (const e of waiting)
        e.error = `${e.error}; still so after waiting ${Math.round(elapsed / 1000)} s for ${opts.what} to take effect: run verify again in a few minutes`;
      return { ...v, problems: problemsOf(v.entries, targets) };
    }
    ctx.deps.runner.info(
      `The registry does not accept the credential for ${waiting.map((e) => e.image).join(', ')} yet: ${opts.what} can take a while to take effect. Waiting ${PROPAGATION_POLL_MS / 1000} s, then asking again (attempt ${attempt + 1}; at most ${Math.round(budgetMs / 1000)} s in all).`,
    );
    await ctx.deps.sleep(PROPAGATION_POLL_MS);
  }
}
