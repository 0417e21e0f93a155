// What run() is given: the runner, the clock, and factories for the clients. Tests hand in fakes
// or point the real ones at the emulator; nothing is module-mocked.
import type { Runner } from './runner.ts';
import type { Settings } from './settings.ts';
import type { AzureClients } from './azure/types.ts';
import type { KubeClient } from './kube/types.ts';
import type { KubeconfigSource } from './kube/kubeconfig.ts';

export interface Deps {
  runner: Runner;
  env: Record<string, string | undefined>;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** signs in and returns the Azure clients (loads the Azure SDKs) */
  azure: (settings: Settings) => Promise<AzureClients>;
  /** the Kubernetes client for a checked kubeconfig (loads @kubernetes/client-node) */
  kube: (source: KubeconfigSource) => Promise<KubeClient>;
}
