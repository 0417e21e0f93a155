// run(deps): settings -> scenario -> result -> report. The one place that fails the step.
import type { Deps } from './deps.ts';
import type { Result } from './result.ts';
import type { Settings } from './settings.ts';
import { readSettings } from './inputs/index.ts';
import { formatError } from './errors.ts';
import { failureMessage, report } from './report.ts';

/** Inputs that hold secrets: masked before anything else runs, so no later line can print them. */
const SECRET_INPUTS = ['client-secret', 'password', 'service-principal-secret'];

function maskInputs(deps: Deps) {
  for (const name of SECRET_INPUTS) deps.runner.setSecret(deps.runner.getInput(name).trim());
  const creds = deps.runner.getInput('creds');
  const m = /"clientSecret"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(creds);
  if (m) deps.runner.setSecret(m[1]);
  if (creds.trim()) deps.runner.setSecret(creds.trim());
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

export async function run(deps: Deps): Promise<void> {
  try {
    maskInputs(deps);
    const settings = readSettings((name) => deps.runner.getInput(name));
    const result = await scenario(settings, deps);
    await report(result, settings, deps.runner, deps.now());
    const failed = failureMessage(result, settings);
    if (failed) deps.runner.fail(failed);
  } catch (err) {
    if (deps.runner.isDebug() && err instanceof Error && err.stack) deps.runner.debug(err.stack);
    deps.runner.fail(formatError(err));
  }
}
