// run(deps): settings -> scenario -> result -> report. The one place that fails the step.
import type { Deps } from './deps.ts';
import type { Result } from './result.ts';
import type { Settings } from './settings.ts';
import { readSettings } from './inputs/index.ts';
import { formatError } from './errors.ts';
import { failureMessage, failureSummary, progressIntervalMs, report, startProgress } from './report.ts';
import { maskKubeconfig } from './kube/kubeconfig.ts';

/** Inputs that hold secrets: masked before anything else runs, so no later line can print them. */
const SECRET_INPUTS = ['client-secret', 'password', 'service-principal-secret'];

async function maskInputs(deps: Deps) {
  for (const name of SECRET_INPUTS) deps.runner.setSecret(deps.runner.getInput(name).trim());
  const creds = deps.runner.getInput('creds');
  const m = /"clientSecret"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(creds);
  if (m) deps.runner.setSecret(m[1]);
  if (creds.trim()) deps.runner.setSecret(creds.trim());
  // The kubeconfig is a secret too: the inline input whole, and every credential in the one the
  // run would use (inline, or the file the input, KUBECONFIG or ~/.kube/config names).
  await maskKubeconfig(deps.runner.getInput('kubeconfig'), deps.env, (v) => deps.runner.setSecret(v));
}

/** The scenario for the settings' auth method (each loaded only when chosen). */
export async function scenario(settings: Settings, deps: Deps): Promise<Result> {
  if (settings.authMethod === 'pull-secret') {
    const { runPullSecret } = await import('./scenarios/pull-secret/index.ts');
    return runPullSecret(settings, deps);
  }
  const { runAks } = await import('./scenarios/aks/index.ts');
  return runAks(settings, deps);
}

/** The stack's frames (our code's places), without the message: that is the `::error::` line. */
function frames(err: Error): string[] {
  return (err.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .map((l) => l.trim());
}

export async function run(deps: Deps): Promise<void> {
  let settings: Settings | undefined;
  try {
    await maskInputs(deps);
    settings = readSettings((name) => deps.runner.getInput(name));
    const progress = startProgress(settings, deps.runner, deps.now, progressIntervalMs(deps.env));
    const result = await scenario(settings, { ...deps, settled: (r, lines) => progress.settled(r, lines) });
    progress.finish();
    await report(result, settings, deps.runner, deps.now(), progress);
    const failed = failureMessage(result, settings);
    if (failed) deps.runner.fail(failed);
  } catch (err) {
    if (deps.runner.isDebug() && err instanceof Error) for (const f of frames(err)) deps.runner.debug(f);
    const message = formatError(err);
    // An input error or an early failure (sign-in, the registry) writes its one line too.
    deps.runner.summary(failureSummary(message, settings));
    deps.runner.fail(message);
  }
}
