// Result -> outputs, log lines and the job summary. The only module besides main.ts that speaks
// to the runner. Secrets were masked by the scenarios as soon as they existed; the derived
// outputs are masked again here before they are written.
import type { Result } from './result.ts';
import type { Runner } from './runner.ts';
import type { Settings } from './settings.ts';

const WEEK_MS = 7 * 24 * 3600 * 1000;

export function outputs(result: Result): Record<string, string> {
  return {
    'login-server': result.loginServer,
    'registry-id': result.registryId ?? '',
    'auth-method': result.authMethod,
    'credential-type': result.credentialType ?? '',
    'principal-id': result.principalId ?? '',
    role: result.role ?? '',
    'role-assignment-ids': result.roleAssignmentIds.join('\n'),
    'secret-name': result.secretName ?? '',
    namespaces: result.namespaces.join(','),
    manifest: result.manifest ?? '',
    'docker-config-json': result.dockerConfigJson ?? '',
    username: result.username ?? '',
    'expires-on': result.expiresOn ?? '',
    'consent-url': result.consentUrl ?? '',
    changed: String(result.changed),
    results: JSON.stringify(result.results),
  };
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
  for (const [name, value] of Object.entries(outputs(result))) runner.setOutput(name, value);
  for (const r of result.results) {
    runner.info(`${r.ok ? '✓' : '✗'} ${r.target}: ${r.action}${r.error ? ` (${r.error})` : ''}`);
  }
  await runner.summary(summaryMarkdown(result, settings));
}

function cell(v: string | undefined): string {
  return (v ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>') || '–';
}

export function summaryMarkdown(result: Result, settings: Settings): string {
  const lines: string[] = [];
  const title = `acr-kube-auth: ${settings.operation}${settings.dryRun ? ' (dry run)' : ''} · ${result.authMethod}${result.credentialType ? ` (${result.credentialType})` : ''} · ${result.loginServer}`;
  lines.push(`### ${title}`, '');
  if (result.authMethod === 'pull-secret') {
    lines.push('| namespace | secret | result | changed | expires |', '|---|---|---|---|---|');
    for (const r of result.results)
      lines.push(
        `| ${cell(r.target)} | ${cell(r.secretName)} | ${r.ok ? '✅' : '❌'} ${cell(r.error ? `${r.action}: ${r.error}` : r.action)} | ${r.changed ? 'yes' : 'no'} | ${cell(r.expiresOn)} |`,
      );
  } else {
    lines.push('| cluster | principal | role | result | changed |', '|---|---|---|---|---|');
    for (const r of result.results)
      lines.push(
        `| ${cell(r.target)} | ${cell(r.principalId)} | ${cell(r.role)} | ${r.ok ? '✅' : '❌'} ${cell(r.error ? `${r.action}: ${r.error}` : r.action)} | ${r.changed ? 'yes' : 'no'} |`,
      );
  }
  lines.push('');
  const facts: [string, string | undefined][] = [
    ['registry', result.registryId ?? result.loginServer],
    ['username', result.username],
    ['expires on', result.expiresOn],
    ['consent url', result.consentUrl],
    ['changed', String(result.changed)],
  ];
  for (const [k, v] of facts) if (v) lines.push(`- **${k}**: ${v.replace(/\r?\n/g, ' ')}`);
  for (const n of result.summaryNotes) lines.push(`- ${n}`);
  if (result.plan.length && settings.dryRun) {
    lines.push('', '**Plan**', '', ...result.plan.map((p) => `- ${p}`));
  }
  return `${lines.join('\n')}\n`;
}
