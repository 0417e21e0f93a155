// credential-type: basic. The given username and password, no Azure at all (any registry host).
import type { PullSecretSettings } from '../../../settings.ts';
import { checkRegistryCredential } from '../../../registry-login.ts';
import type { CredentialSource } from './credential-source.ts';

export function basicSource(settings: PullSecretSettings): CredentialSource {
  const { registry, cloud } = settings;
  const given = settings.pullSecret.credential as { username: string; password: string };
  const server = registry.kind === 'loginServer' ? registry.loginServer : `${registry.name}${cloud.acrSuffix}`;
  const credential = { username: given.username, password: given.password };
  return {
    loginServer: server,
    prepare: async () => ({
      writes: [],
      lines: [`would use the given username '${given.username}'`],
      known: credential,
      execute: async () => ({ ...credential }),
    }),
    check: async (u, p) => {
      const r = await checkRegistryCredential(server, u, p);
      return r.ok ? undefined : r.reason;
    },
    warnings: [],
  };
}
