// Runner over @actions/core: the real runner's workflow commands and files.
import * as core from '@actions/core';
import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';
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
    // The job summary is one markdown block appended to a file. core.summary would do the same
    // through fs/promises, whose first load (with readline) costs about 5 ms of every run. A file
    // that cannot be written costs the summary only, not the step: the work is done by then.
    summary: async (md) => {
      const file = process.env.GITHUB_STEP_SUMMARY;
      if (!file) return;
      try {
        appendFileSync(file, md + EOL);
      } catch (e) {
        core.warning(`Could not write the job summary to ${file}: ${(e as Error).message}`);
      }
    },
    getIDToken: async (audience) => (await import('./runner-oidc.ts')).getIDToken(audience, (v) => core.setSecret(v)),
  };
}
