// What run() is given: the runner, the clock, and factories for the clients. Tests hand in fakes
// or point the real ones at the emulator; nothing is module-mocked.
import type { Runner } from './runner.ts';
import type { Settings } from './settings.ts';
import type { AzureClients } from './azure/types.ts';
import type { KubeClient } from './kube/types.ts';
import type { KubeconfigSource } from './kube/kubeconfig.ts';
import type { TargetResult } from './result.ts';

export interface Deps {
  runner: Runner;
  env: Record<string, string | undefined>;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** signs in and returns the Azure clients (loads the Azure SDKs) */
  azure: (settings: Settings) => Promise<AzureClients>;
  /** the Kubernetes client for a checked kubeconfig (loads @kubernetes/client-node) */
  kube: (source: KubeconfigSource) => Promise<KubeClient>;
  /**
   * Told as each target (a cluster, a namespace) settles, in the order they finish, with the plan
   * lines it logged: run() points it at report.ts's progress, which prints them at once. The
   * scenarios print nothing themselves.
   */
  settled?: (result: TargetResult, lines: readonly string[]) => void;
}
