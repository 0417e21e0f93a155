// credential-type: admin. The registry's admin user (POST .../listCredentials). It works only while
// the admin user is enabled; it can push and delete on the whole registry and its password never
// expires, so a repository-scoped token is the better choice, and the error says so. Reading the
// credential writes nothing, so the plan reads it: the dry run knows whether a secret would change.
import { ApiError, CheckError } from '../../../errors.ts';
import type { CredentialSource, SourceFactory } from './credential-source.ts';
import { acrCheck, azureRegistry } from './azure-registry.ts';

/** The error for a registry whose admin user is disabled: how to enable it, and why not to. */
export function adminDisabledMessage(registryName: string): string {
  return (
    `The admin user of registry ${registryName} is disabled, so credential-type admin has no password to use. ` +
    `Enable it with \`az acr update --name ${registryName} --admin-enabled true\` (or adminUserEnabled: true on the registry), ` +
    `or better, use credential-type token (the default): a token is read-only, limited to the repositories you name, expires and rotates, ` +
    `while the admin user can push and delete anywhere in the registry and its password never expires.`
  );
}

const factory: SourceFactory = async (settings, deps) => {
  const { clients, registry, tenantId } = await azureRegistry(settings, deps);
  const acr = clients.acr(tenantId);

  async function read(): Promise<{ username: string; password: string }> {
    if (registry.adminUserEnabled === false) throw new CheckError(adminDisabledMessage(registry.name));
    try {
      const cred = await acr.listAdminCredentials(registry);
      deps.runner.setSecret(cred.password);
      return { username: cred.username, password: cred.password };
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'UnAuthorizedForCredentialOperations' || /admin user is disabled/i.test(e.message))) {
        throw new CheckError(adminDisabledMessage(registry.name));
      }
      throw e;
    }
  }

  const source: CredentialSource = {
    loginServer: registry.loginServer,
    registryId: registry.id,
    async prepare() {
      const cred = await read();
      return {
        writes: [],
        lines: [`would use the admin user of ${registry.name} (listCredentials)`],
        known: cred,
        execute: async () => ({ ...cred }),
      };
    },
    check: acrCheck(registry.loginServer, deps),
    warnings: [
      `credential-type admin puts the registry's admin password (push and delete on every repository, no expiry) into the cluster; prefer credential-type token, which is read-only, repository-scoped and expiring.`,
    ],
    signedIn: { session: clients.session, tenantId, network: registry.network },
  };
  return source;
};
export default factory;
