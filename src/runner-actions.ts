// Runner over @actions/core: inputs and the debug switch from it, every print through src/log.ts.
import * as core from '@actions/core';
import { actionsSink, createLog } from './log.ts';
import type { Runner } from './runner.ts';

export function actionsRunner(): Runner {
  const log = createLog(actionsSink);
  return {
    ...log,
    getInput: (name) => core.getInput(name),
    isDebug: () => core.isDebug(),
    getIDToken: async (audience) => (await import('./runner-oidc.ts')).getIDToken(audience, (v) => log.setSecret(v)),
  };
}
