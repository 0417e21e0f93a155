// Inputs of the scenarios the transport tests run against the emulator's seed: attach a cluster,
// a pull secret from Azure, or a `credential-type: basic` pull secret (no Azure at all).
import type { Emulator } from '../../emulator/server.ts';
import type { FaultRule } from '../../emulator/types.ts';
import { azureInputs, basicInputs, oidcInputs } from './harness.ts';

type Inputs = Record<string, string>;

/** Attach contosoacr to an AKS cluster in rg-aks (aks-mi: kubelet identity; aks-sp: service principal). */
export const attach = (emu: Emulator, cluster = 'aks-mi', extra: Inputs = {}): Inputs =>
  azureInputs(emu, { registry: 'contosoacr', 'cluster-name': cluster, 'cluster-resource-group': 'rg-aks', ...extra });

/** The same with OIDC sign-in (GitHub's token from the emulator). */
export const attachOidc = (emu: Emulator): Inputs =>
  oidcInputs(emu, { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks' });

/** A pull secret in team-a from an Azure-backed credential type (admin: adminacr, else contosoacr). */
export const pull = (emu: Emulator, type: string, extra: Inputs = {}): Inputs =>
  azureInputs(emu, { registry: type === 'admin' ? 'adminacr' : 'contosoacr', namespaces: 'team-a', 'credential-type': type, ...extra });

/** A basic pull secret in team-a: a username the emulator's registry does not know (its checks say "rejected"). */
export const basic = basicInputs;

/** A basic pull secret with adminacr's admin user: a credential the emulator's registry accepts (verify passes). */
export const basicAccepted = (emu: Emulator, extra: Inputs = {}): Inputs => ({
  ...basic(emu, extra),
  registry: `adminacr.azurecr.localhost:${emu.port}`,
  username: 'adminacr',
  password: 'adminacr-Password1~abcdefghijklmnop',
});

/** One client of the action under test: the route its request takes, a run that sends it, what its error line names. */
export interface ClientCase {
  name: string;
  route: Pick<FaultRule, 'method' | 'pathPattern'>;
  inputs(emu: Emulator): Inputs;
  /** a run before (verify needs something to verify) */
  setup?: (emu: Emulator) => Inputs;
  /** what the error line names: the service and the operation */
  names: RegExp;
}
