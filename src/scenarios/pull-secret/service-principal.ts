// credential-type: service-principal. Username: service-principal-client-id; password:
// service-principal-secret, or a new client secret on the app (Graph addPassword) with
// create-secret: true. The principal must hold a pull role the registry honours, by the same rules
// as attach (src/roles.ts: AcrPull, or Container Registry Repository Reader on ABAC registries),
// so obtain() makes sure of it: deterministic assignment name, idempotent.
//
// A created secret is kept on re-runs while it is good (the rule token passwords follow): the live
// secret holds this app's secret, the registry still accepts it and more than half of
// secret-expiry is left. So a second identical run adds no secret to the app and reports
// changed: false. Detach leaves the role assignment and the app's secrets alone: the principal
// may serve the cluster or other workloads, and attach cannot tell whether it made them.
import { ApiError, CheckError } from '../../errors.ts';
import { adminConsentUrl, createClientSecret } from '../../azure/graph.ts';
import type { GraphServicePrincipal } from '../../azure/graph.ts';
import { checkAcrCredential } from '../../azure/acr-data.ts';
import { chooseRole, roleName } from '../../roles.ts';
import { consentMessage, registryTenantOf } from '../service-principal.ts';
import type { CredentialSource, PreviousCredential, PullCredential, SourceFactory } from './credentials.ts';
import { azureRegistry } from './credentials.ts';

/** Keep the live created secret? Only ours, for this app, with more than half of `lifetimeMs` left. Pure. */
export function keepCreatedSecret(previous: PreviousCredential | undefined, appId: string, now: Date, lifetimeMs: number): boolean {
  const rec = previous?.record;
  if (!previous || !rec || rec.credentialType !== 'service-principal' || previous.username.toLowerCase() !== appId.toLowerCase() || !rec.expiresOn)
    return false;
  const left = Date.parse(rec.expiresOn) - now.getTime();
  return !Number.isNaN(left) && left > lifetimeMs / 2;
}

const factory: SourceFactory = async (settings, deps) => {
  const credential = settings.pullSecret.credential as Extract<typeof settings.pullSecret.credential, { type: 'service-principal' }>;
  const appId = credential.clientId.toLowerCase();
  const az = await azureRegistry(settings, deps);
  const { clients, registry } = az;
  const tenant = registryTenantOf(settings);
  const tenantLabel = tenant ?? clients.session.tenantId ?? 'organizations';
  const graph = clients.graph;
  const rbac = clients.rbac(settings.registry.tenantId);
  const trace = (l: string) => deps.runner.debug(l);
  const concreteRepo = settings.repositories.find((r) => !r.includes('*'));
  const warnings: string[] = [];

  const rolePlan = chooseRole(registry, settings.role, settings.repositories);
  warnings.push(...rolePlan.warnings);

  async function principal(lines: string[]): Promise<{ sp: GraphServicePrincipal; changed: boolean }> {
    const found = await graph.servicePrincipal(appId, tenant);
    if (found) return { sp: found, changed: false };
    try {
      const sp = await graph.provisionServicePrincipal(appId, tenant);
      lines.push(`created the service principal ${sp.id} of app ${appId} in tenant ${tenantLabel}`);
      return { sp, changed: true };
    } catch (e) {
      if (e instanceof ApiError && (e.status === 403 || e.status === 401)) {
        const url = adminConsentUrl(settings.cloud.authorityHost, tenantLabel, appId);
        throw new CheckError(consentMessage(appId, tenantLabel, url, `Microsoft Graph answered ${e.status}${e.code ? ` ${e.code}` : ''}`));
      }
      throw e;
    }
  }

  async function check(username: string, password: string): Promise<string | undefined> {
    const r = await checkAcrCredential(registry.loginServer, username, password, { repository: concreteRepo, trace });
    return r.ok ? undefined : r.reason;
  }

  const source: CredentialSource = {
    loginServer: async () => registry.loginServer,
    registryId: async () => registry.id,
    describe: () =>
      `make sure service principal ${appId} holds ${rolePlan.displayName} on ${registry.name}, and use ${credential.createSecret ? `a new client secret valid for ${settings.secretExpiry.text}` : 'the given service-principal-secret'}`,
    async obtain(previous): Promise<PullCredential> {
      const lines: string[] = [];
      const { sp, changed: provisioned } = await principal(lines);
      let changed = provisioned;
      const guid = rolePlan.guid ?? (await rbac.roleIdByName(registry.id, rolePlan.lookupName!));
      const granted = await rbac.ensure({
        scope: registry.id,
        roleGuid: guid,
        principalId: sp.id,
        condition: rolePlan.condition,
        description: 'acr-kube-auth: pull for a Kubernetes pull secret',
      });
      const role = rolePlan.guid ? rolePlan.displayName : (rolePlan.lookupName ?? roleName(guid));
      if (granted.changed) {
        lines.push(`granted ${role} on ${registry.name} to service principal ${appId} (${sp.id})`);
        changed = true;
      }
      const given = credential.secret;
      if (given) return { username: appId, password: given, changed, lines, principalId: sp.id, role, roleAssignmentId: granted.id };

      const now = deps.now();
      if (previous && keepCreatedSecret(previous, appId, now, settings.secretExpiry.ms) && !(await check(previous.username, previous.password))) {
        lines.push(`kept the secret's client secret of app ${appId}: valid until ${previous.record!.expiresOn}, more than half its lifetime`);
        return {
          username: appId,
          password: previous.password,
          expiresOn: previous.record!.expiresOn,
          changed,
          lines,
          principalId: sp.id,
          role,
          roleAssignmentId: granted.id,
        };
      }
      const secret = await createClientSecret(graph, {
        appId,
        tenantId: tenant,
        homeTenantId: sp.appOwnerOrganizationId,
        lifetimeMs: settings.secretExpiry.ms,
        now,
      });
      deps.runner.setSecret(secret.secretText);
      lines.push(`created a client secret on app ${appId}, valid until ${secret.endDateTime} (older secrets are left alone)`);
      const expiresOn = Number.isNaN(Date.parse(secret.endDateTime)) ? secret.endDateTime : new Date(secret.endDateTime).toISOString();
      return {
        username: appId,
        password: secret.secretText,
        expiresOn,
        changed: true,
        lines,
        principalId: sp.id,
        role,
        roleAssignmentId: granted.id,
      };
    },
    async detach() {
      return {
        changed: false,
        lines: [`left the role assignment and client secrets of service principal ${appId} alone: the principal may pull for other workloads`],
      };
    },
    check,
    warnings,
  };
  return source;
};
export default factory;
