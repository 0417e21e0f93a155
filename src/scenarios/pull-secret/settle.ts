// The namespaces' outcomes, in input order, into the run's Result: their results, plan lines and
// writes. A namespace that failed is reported with its error; the others are not held back.
import type { Result, TargetResult, Write } from '../../result.ts';

/** One namespace's planned (dry-run) or made writes, its plan lines and its result. */
export interface NamespaceOutcome {
  result: TargetResult;
  writes: Write[];
  lines: string[];
  /** `::notice::` lines: what was left alone as another party's */
  notices?: string[];
}

export function settle(result: Result, namespaces: readonly string[], outcomes: readonly PromiseSettledResult<NamespaceOutcome>[]): void {
  result.results = outcomes.map((o, i) =>
    o.status === 'fulfilled'
      ? o.value.result
      : {
          target: namespaces[i],
          namespace: namespaces[i],
          ok: false,
          changed: false,
          action: 'failed',
          error: (o.reason as Error)?.message ?? String(o.reason),
        },
  );
  for (const o of outcomes) {
    if (o.status !== 'fulfilled') continue;
    result.plan.push(...o.value.lines);
    result.writes.push(...o.value.writes);
    result.notices.push(...(o.value.notices ?? []));
  }
  result.namespaces = result.results.filter((r) => r.ok).map((r) => r.target);
  result.changed = result.results.some((r) => r.changed);
}
