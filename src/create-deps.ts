// The real dependencies: the Actions runner, the clock, and factories that load the heavy SDKs
// only when a path asks for them.
import type { Deps } from './deps.ts';
import { actionsRunner } from './runner-actions.ts';
import { sleep } from './retry.ts';

export function createDeps(): Deps {
  const runner = actionsRunner();
  return {
    runner,
    env: process.env,
    now: () => new Date(),
    sleep,
    azure: async (settings) => (await import('./azure/index.ts')).createAzureClients(settings, runner, process.env),
    kube: async (source) => (await import('./kube/client.ts')).createKubeClient(source, { debug: (l) => runner.debug(l) }),
  };
}
