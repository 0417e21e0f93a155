// Picks the credential source for `credential-type`. Azure-backed sources are loaded only when
// chosen (they bring the Azure SDKs); basic needs none.
import type { PullSecretSettings } from '../../../settings.ts';
import type { Deps } from '../../../deps.ts';
import type { CredentialSource, SourceFactory } from './credential-source.ts';
import { basicSource } from './basic.ts';

const SOURCES: Record<string, () => Promise<{ default: SourceFactory }>> = {
  token: () => import('./token.ts'),
  'service-principal': () => import('./service-principal-secret.ts'),
  admin: () => import('./admin.ts'),
  exchange: () => import('./exchange.ts'),
};

export async function credentialSource(settings: PullSecretSettings, deps: Deps): Promise<CredentialSource> {
  const type = settings.pullSecret.credential.type;
  if (type === 'basic') return basicSource(settings);
  const mod = await SOURCES[type]();
  return mod.default(settings, deps);
}
