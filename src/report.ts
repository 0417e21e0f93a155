// Result -> outputs, log lines and the job summary. The only module besides main.ts that speaks
// to the runner, and only through its Log (src/log.ts), which neutralises every string: this
// module says what is printed, never how. Secrets were masked by the scenarios as soon as they
// existed; the derived outputs are masked again here before they are written.
import type { Result, TargetResult } from './result.ts';
import type { SummaryDoc } from './log.ts';
import type { Runner } from './runner.ts';
import type { Settings } from './settings.ts';
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

/** A one-line failure message when any target failed, else undefined. */
export function failureMessage(result: Result, settings: Settings): string | undefined {
  const failed = result.results.filter((r) => !r.ok);
  if (!failed.length) return undefined;
  const what = result.authMethod === 'pull-secret' ? 'namespace' : 'cluster';
  const verb = settings.operation === 'verify' ? 'failed verification' : 'failed';
  const head = result.results.length > 1 ? `${failed.length} of ${result.results.length} ${what}s ${verb}` : `${what} ${failed[0].target} ${verb}`;
  return `${head}: ${failed.map((r) => (result.results.length > 1 ? `${r.target}: ${r.error}` : r.error)).join(' | ')}`;
}

export async function report(result: Result, settings: Settings, runner: Runner, now: Date): Promise<void> {
  if (result.dockerConfigJson) runner.setSecret(result.dockerConfigJson);
  for (const line of result.plan) runner.info(settings.dryRun ? `[dry-run] ${line}` : line);
  for (const w of result.warnings) runner.warning(w);
  const expiring = result.expiresOn ? Date.parse(result.expiresOn) : NaN;
  if (!Number.isNaN(expiring) && expiring - now.getTime() < WEEK_MS && expiring > now.getTime()) {
    result.notices.push(`The registry credential expires on ${result.expiresOn}, within 7 days. Run this step again before then to renew it.`);
  }
  for (const n of result.notices) runner.notice(n);
  for (const [name, value] of Object.entries(outputs(result))) setOutput(runner, name, value);
  for (const r of result.results) {
    runner.info(`${r.ok ? '✓' : '✗'} ${r.target}: ${r.action}${r.error ? ` (${r.error})` : ''}`);
  }
  runner.summary(summary(result, settings));
  // the verify-image block (#18): a separate SummaryDoc, after the run's own
  if (result.verifiedImages?.length) runner.summary(verifiedImagesSummary(result.verifiedImages));
}

/** The job summary as text; src/log.ts renders it, escaping every string for Markdown. */
export function summary(result: Result, settings: Settings): SummaryDoc {
  const title = `acr-kube-auth: ${settings.operation}${settings.dryRun ? ' (dry run)' : ''} · ${result.authMethod}${result.credentialType ? ` (${result.credentialType})` : ''} · ${result.loginServer}`;
  const outcome = (r: TargetResult) => `${r.ok ? '✅' : '❌'} ${r.error ? `${r.action}: ${r.error}` : r.action}`;
  const changed = (r: TargetResult) => (r.changed ? 'yes' : 'no');
  const table =
    result.authMethod === 'pull-secret'
      ? {
          head: ['namespace', 'secret', 'result', 'changed', 'expires'],
          rows: result.results.map((r) => [r.target, r.secretName ?? '', outcome(r), changed(r), r.expiresOn ?? '']),
        }
      : {
          head: ['cluster', 'principal', 'role', 'result', 'changed'],
          rows: result.results.map((r) => [r.target, r.principalId ?? '', r.role ?? '', outcome(r), changed(r)]),
        };
  const facts: [string, string | undefined][] = [
    ['registry', result.registryId ?? result.loginServer],
    ['username', result.username],
    ['expires on', result.expiresOn],
    ['changed', String(result.changed)],
  ];
  return {
    title,
    table,
    facts: facts.filter(([, v]) => v).map(([label, value]) => ({ label, value: value! })),
    links: result.consentUrl ? [{ label: 'consent url', url: result.consentUrl }] : [],
    notes: result.summaryNotes,
    plan: settings.dryRun ? result.plan : undefined,
  };
}
