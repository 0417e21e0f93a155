// Builds the Azure clients for a run. Loaded by dynamic import only on paths that talk to Azure.
// Shared file: each client is added as one lazily created member.
import type { Settings } from '../settings.ts';
import type { Runner } from '../runner.ts';
import type { AzureClients } from './types.ts';
import { createSession } from './session.ts';
import { createGraphClient } from './graph.ts';
import type { GraphClient } from './graph.ts';

export function createAzureClients(settings: Settings, runner: Runner, env: Record<string, string | undefined>): AzureClients {
  const session = createSession(settings, runner, env);
  let graph: GraphClient | undefined;
  return {
    session,
    get graph() {
      return (graph ??= createGraphClient(session, { mask: (v) => runner.setSecret(v) }));
    },
  };
}
