// The namespaces' outcomes: each told to deps.settled as it finishes (report.ts prints its line
// then), and, in input order, into the run's Result: their results, plan lines and writes. A
// namespace that failed is reported with its error; the others are not held back.
import type { Deps } from '../../deps.ts';
import type { PullSecretSettings } from '../../settings.ts';
import type { Result, TargetResult, Write } from '../../result.ts';
import { mapLimit } from '../../pool.ts';

/** One namespace's planned (dry-run) or made writes, its plan lines and its result. */
export interface NamespaceOutcome {
  result: TargetResult;
  writes: Write[];
  lines: string[];
  /** `::notice::` lines: what was left alone as another party's */
  notices?: string[];
}

function failedNamespace(namespace: string, reason: unknown): TargetResult {
  return { target: namespace, namespace, ok: false, changed: false, action: 'failed', error: (reason as Error)?.message ?? String(reason) };
}

/** `fn` for each namespace, at most max-parallel at once; each outcome is told to deps.settled as it settles. */
export function eachNamespace(
  settings: Pick<PullSecretSettings, 'maxParallel' | 'pullSecret'>,
  deps: Pick<Deps, 'settled'>,
  fn: (namespace: string) => Promise<NamespaceOutcome>,
): Promise<PromiseSettledResult<NamespaceOutcome>[]> {
  return mapLimit(settings.pullSecret.namespaces, settings.maxParallel, async (namespace) => {
    try {
      const outcome = await fn(namespace);
      deps.settled?.(outcome.result, outcome.lines);
      return outcome;
    } catch (e) {
      deps.settled?.(failedNamespace(namespace, e), []);
      throw e;
    }
  });
}

export function settle(result: Result, namespaces: readonly string[], outcomes: readonly PromiseSettledResult<NamespaceOutcome>[]): void {
  result.results = outcomes.map((o, i) => (o.status === 'fulfilled' ? o.value.result : failedNamespace(namespaces[i], o.reason)));
  for (const o of outcomes) {
    if (o.status !== 'fulfilled') continue;
    result.plan.push(...o.value.lines);
    result.writes.push(...o.value.writes);
    result.notices.push(...(o.value.notices ?? []));
  }
  result.namespaces = result.results.filter((r) => r.ok).map((r) => r.target);
  result.changed = result.results.some((r) => r.changed);
}
