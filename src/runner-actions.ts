// Runner over @actions/core: the real runner's workflow commands and files.
import * as core from '@actions/core';
import type { Runner } from './runner.ts';

export function actionsRunner(): Runner {
  return {
    getInput: (name) => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    setSecret: (value) => {
      if (value) core.setSecret(value);
    },
    info: (m) => core.info(m),
    debug: (m) => core.debug(m),
    isDebug: () => core.isDebug(),
    warning: (m) => core.warning(m),
    notice: (m) => core.notice(m),
    fail: (m) => core.setFailed(m),
    summary: async (md) => {
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(md, true).write();
    },
    getIDToken: async (audience) => (await import('./runner-oidc.ts')).getIDToken(audience, (v) => core.setSecret(v)),
  };
}
