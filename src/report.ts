// Result -> outputs, log lines and the job summary; and, while the scenario runs, each target's
// line as it settles and the fleet's progress. The only module besides main.ts that speaks to the
// runner, and only through its Log (src/log.ts), which neutralises every string: this module says
// what is printed, never how. Secrets were masked by the scenarios as soon as they existed; the
// derived outputs are masked again here before they are written.
import type { Result, TargetResult } from './result.ts';
import type { SummaryDoc, SummaryFold } from './log.ts';
import { clip } from './log.ts';
import type { Runner } from './runner.ts';
import type { Settings } from './settings.ts';
import { provenance } from './provenance.ts';
import { verifiedImagesSummary } from './verify/summary.ts';

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** The outputs, each with how it is written: text (one line), lines, JSON, or an exact value we rendered. */
export function outputs(result: Result): Record<string, Output> {
  return {
    'login-server': text(result.loginServer),
    'registry-id': text(result.registryId),
    'auth-method': text(result.authMethod),
    'credential-type': text(result.credentialType),
    'principal-id': text(result.principalId),
    role: text(result.role),
    'role-assignment-ids': { lines: result.roleAssignmentIds },
    'secret-name': text(result.secretName),
    namespaces: text(result.namespaces.join(',')),
    manifest: { exact: result.manifest ?? '' },
    'docker-config-json': { exact: result.dockerConfigJson ?? '' },
    username: text(result.username),
    'expires-on': text(result.expiresOn),
    'consent-url': text(result.consentUrl),
    changed: text(String(result.changed)),
    results: { json: result.results },
    'verified-images': { json: result.verifiedImages ?? [] },
  };
}

export type Output = { text: string } | { lines: string[] } | { json: unknown } | { exact: string };
const text = (v: string | undefined): Output => ({ text: v ?? '' });

function setOutput(runner: Runner, name: string, o: Output) {
  if ('text' in o) runner.setOutput(name, o.text);
  else if ('lines' in o) runner.setOutputLines(name, o.lines);
  else if ('json' in o) runner.setOutputJson(name, o.json);
  else runner.setOutputExact(name, o.exact);
}

/** 'cluster' or 'namespace': what one target of these settings is. */
function targetKind(settings: Pick<Settings, 'authMethod'>): 'cluster' | 'namespace' {
  return settings.authMethod === 'pull-secret' ? 'namespace' : 'cluster';
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What repairs what verify found missing or stale: attach writes exactly what verify checks. */
export const VERIFY_REMEDY = 'Run this step with operation: attach to write what is missing (add dry-run: true first to see what it would write).';

/** A one-line failure message when any target failed, else undefined. */
export function failureMessage(result: Result, settings: Settings): string | undefined {
  const failed = result.results.filter((r) => !r.ok);
  if (!failed.length) return undefined;
  const what = targetKind(result);
  const verb = settings.operation === 'verify' ? 'failed verification' : 'failed';
  const head = result.results.length > 1 ? `${failed.length} of ${result.results.length} ${what}s ${verb}` : `${what} ${failed[0].target} ${verb}`;
  const each = failed.map((r) => (result.results.length > 1 ? `${r.target}: ${r.error}` : r.error)).join(' | ');
  // a finding (not a call that failed: that one says its own remedy) is repaired by attach
  const found = settings.operation === 'verify' && failed.some((r) => r.action !== 'failed');
  return `${head}: ${each}${found ? `${/[.!?]$/.test(each) ? '' : '.'} ${VERIFY_REMEDY}` : ''}`;
}

// ------------------------------------------------------------------------------ as targets settle

/** The longest error shown on a target's line; the whole error follows in its group. */
const LINE_ERROR_MAX = 200;

/** A target's one line: ✓ or ✗, the target (and its method), what was done, and the error (cut). */
export function targetLine(r: TargetResult): string {
  const method = r.authMethod ? ` (${r.authMethod})` : '';
  return `${r.ok ? '✓' : '✗'} ${r.target}${method}: ${r.action}${r.error ? `: ${clip(r.error, LINE_ERROR_MAX)}` : ''}`;
}

/** What folds under a target's line: its plan lines, its findings, and its whole error when the line cut it. */
export function targetDetails(r: TargetResult, lines: readonly string[], dryRun: boolean): string[] {
  const cut = !!r.error && clip(r.error, LINE_ERROR_MAX) !== r.error;
  return [...lines.map((l) => (dryRun ? `[dry-run] ${l}` : l)), ...(r.details ?? []), ...(cut ? [`error: ${r.error}`] : [])];
}

/** How often a fleet's progress line may be printed, in ms, when not told otherwise. */
export const PROGRESS_INTERVAL_MS = 3000;

/**
 * The progress interval: PROGRESS_INTERVAL_MS, or the ACR_KUBE_AUTH_PROGRESS_INTERVAL_MS knob
 * (whole milliseconds, 0..600000), which the tests use to see progress lines on a short run.
 */
export function progressIntervalMs(env: Record<string, string | undefined>): number {
  const v = env.ACR_KUBE_AUTH_PROGRESS_INTERVAL_MS?.trim();
  if (!v || !/^\d{1,7}$/.test(v)) return PROGRESS_INTERVAL_MS;
  return Math.min(600_000, Number(v));
}

export interface Progress {
  /** a target settled (again, after a retry round: its latest result counts): its line and details now */
  settled(result: TargetResult, lines: readonly string[]): void;
  /** the scenario is done: the closing progress line, when the run printed any */
  finish(): void;
  /** whether `r`, as it is now, was printed already */
  printed(r: TargetResult): boolean;
  /** the plan lines printed under targets' lines (report() does not print them again) */
  readonly shownLines: ReadonlyMap<string, number>;
}

/**
 * Prints each target's line (its details folded under it) as it settles, in the order they finish,
 * and for a fleet, `17 of 50 clusters done, 1 failed` after a target settles once `intervalMs` has
 * passed since the start or the last such line: a run shorter than that prints none.
 */
export function startProgress(settings: Settings, runner: Runner, now: () => Date, intervalMs: number): Progress {
  const kind = targetKind(settings);
  const total = kind === 'namespace' && settings.authMethod === 'pull-secret' ? settings.pullSecret.namespaces.length : settings.clusters.length;
  const latest = new Map<string, { ok: boolean; line: string }>();
  const shownLines = new Map<string, number>();
  let last = now().getTime();
  let reported = -1;
  const counts = () => {
    const states = [...latest.values()];
    return { done: states.length, failed: states.filter((s) => !s.ok).length };
  };
  const progressLine = () => {
    const { done, failed } = counts();
    reported = done;
    last = now().getTime();
    runner.info(`${done} of ${plural(total, kind)} done, ${failed} failed`);
  };
  return {
    shownLines,
    settled(result, lines) {
      const line = targetLine(result);
      runner.group(line, targetDetails(result, lines, settings.dryRun));
      latest.set(result.target, { ok: result.ok, line });
      for (const l of lines) shownLines.set(l, (shownLines.get(l) ?? 0) + 1);
      if (total > 1 && counts().done < total && now().getTime() - last >= intervalMs) progressLine();
    },
    finish() {
      if (reported >= 0 && reported !== counts().done) progressLine();
    },
    printed: (r) => latest.get(r.target)?.line === targetLine(r),
  };
}

// ------------------------------------------------------------------------------ at the end

export async function report(result: Result, settings: Settings, runner: Runner, now: Date, progress?: Progress): Promise<void> {
  if (result.dockerConfigJson) runner.setSecret(result.dockerConfigJson);
  // Targets the scenario settled without telling (render, a failure that stops every namespace at once).
  for (const r of result.results) if (!progress?.printed(r)) runner.group(targetLine(r), targetDetails(r, [], settings.dryRun));
  const shown = new Map(progress?.shownLines ?? []);
  for (const line of result.plan) {
    const n = shown.get(line) ?? 0;
    if (n > 0) shown.set(line, n - 1);
    else runner.info(settings.dryRun ? `[dry-run] ${line}` : line);
  }
  for (const w of result.warnings) runner.warning(w);
  const expiring = result.expiresOn ? Date.parse(result.expiresOn) : NaN;
  if (!Number.isNaN(expiring) && expiring - now.getTime() < WEEK_MS && expiring > now.getTime()) {
    result.notices.push(`The registry credential expires on ${result.expiresOn}, within 7 days. Run this step again before then to renew it.`);
  }
  for (const n of result.notices) runner.notice(n);
  for (const [name, value] of Object.entries(outputs(result))) setOutput(runner, name, value);
  runner.summary(summary(result, settings));
  // the verify-image block (#18): a separate SummaryDoc, after the run's own
  if (result.verifiedImages?.length) runner.summary(verifiedImagesSummary(result.verifiedImages));
}

/** The job summary of a run that stopped before it had results (bad input, sign-in, the registry): one line. */
export function failureSummary(message: string, settings?: Pick<Settings, 'operation' | 'dryRun'>): SummaryDoc {
  const what = settings ? ` ${settings.operation}${settings.dryRun ? ' (dry run)' : ''}` : '';
  return { lead: [{ label: `❌ acr-kube-auth${what} failed`, text: message }] };
}

/** The longest error in a result cell; the whole error is in the failures' fold. */
const CELL_ERROR_MAX = 80;

/**
 * The job summary as text; src/log.ts renders it, escaping every string for Markdown. Counts
 * first, then the table with failed targets first (short cells), then facts and notes, then the
 * long details folded: each failure's whole error, each target's findings, a long plan.
 */
export function summary(result: Result, settings: Settings): SummaryDoc {
  const kind = targetKind(result);
  const results = result.results;
  const failed = results.filter((r) => !r.ok);
  const methods = [...new Set(results.map((r) => r.authMethod).filter((m) => m !== undefined))];
  const method =
    result.authMethod === 'pull-secret'
      ? `pull-secret${result.credentialType ? ` (${result.credentialType})` : ''}`
      : methods.length > 1
        ? methods.join(' and ')
        : (methods[0] ?? result.authMethod);
  const title = `acr-kube-auth: ${settings.operation}${settings.dryRun ? ' (dry run)' : ''} · ${method} · ${result.loginServer}`;

  const lead: NonNullable<SummaryDoc['lead']> = [];
  if (results.length > 1) {
    const good = settings.operation === 'verify' ? 'verified' : settings.dryRun ? 'planned' : 'succeeded';
    const changed = results.filter((r) => r.changed).length;
    const changedText = settings.operation === 'verify' ? '' : ` (${changed} ${settings.dryRun ? 'would change' : 'changed'})`;
    lead.push({
      label: plural(results.length, kind),
      text: `${failed.length} failed, ${results.length - failed.length} ${good}${changedText}`,
    });
    if (methods.length > 1) {
      lead.push({ label: 'methods', text: methods.map((m) => `${m}: ${results.filter((r) => r.authMethod === m).length}`).join(', ') });
    }
  }

  if (settings.operation === 'verify' && failed.some((r) => r.action !== 'failed')) lead.push({ label: 'to repair', text: VERIFY_REMEDY });

  const outcome = (r: TargetResult) => `${r.ok ? '✅' : '❌'} ${r.error ? `${r.action}: ${clip(r.error, CELL_ERROR_MAX)}` : r.action}`;
  const changed = (r: TargetResult) => (r.changed ? 'yes' : 'no');
  const rows = [...failed, ...results.filter((r) => r.ok)];
  const table =
    kind === 'namespace'
      ? {
          head: ['namespace', 'secret', 'result', 'changed', 'expires'],
          rows: rows.map((r) => [r.target, r.secretName ?? '', outcome(r), changed(r), r.expiresOn ?? '']),
        }
      : {
          head: ['cluster', 'method', 'principal', 'role', 'result', 'changed'],
          rows: rows.map((r) => [r.target, r.authMethod ?? '', r.principalId ?? '', r.role ?? '', outcome(r), changed(r)]),
        };
  const run = provenance(); // the run that wrote what the summary lists
  const facts: [string, string | undefined][] = [
    ['registry', result.registryId ?? result.loginServer],
    ['username', result.username],
    ['expires on', result.expiresOn],
    ['changed', String(result.changed)],
  ];
  const folds: SummaryFold[] = [];
  if (failed.length) {
    folds.push({
      summary: `${plural(failed.length, `failed ${kind}`)}: the whole error${failed.length === 1 ? '' : 's'}`,
      items: failed.map((r) => ({ label: r.target, text: r.error ?? r.action })),
    });
  }
  // findings a failure's error does not already say
  const found = results.filter((r) => r.details?.length && r.details.join('; ') !== r.error);
  if (found.length) {
    folds.push({
      summary: `Details per ${kind}`,
      items: found.map((r) => ({ label: r.target, text: r.details!.join('; ') })),
    });
  }
  return {
    title,
    lead,
    table,
    facts: facts.filter(([, v]) => v).map(([label, value]) => ({ label, value: value! })),
    links: [
      ...(result.consentUrl ? [{ label: 'consent url', url: result.consentUrl }] : []),
      ...(run ? [{ label: 'workflow run', url: run.runUrl }] : []),
    ],
    notes: result.summaryNotes,
    folds,
    plan: settings.dryRun ? result.plan : undefined,
  };
}
