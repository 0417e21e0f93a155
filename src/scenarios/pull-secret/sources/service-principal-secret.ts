// credential-type: service-principal. Username: service-principal-client-id; password:
// service-principal-secret, or a new client secret on the app (Graph addPassword) with
// create-secret: true. The principal must hold a pull role the registry honours, by the same rules
// as attach (src/roles.ts: AcrPull, or Container Registry Repository Reader on ABAC registries),
// so obtaining makes sure of it with the same steps as the AKS service-principal method: the
// principal in the registry's tenant (steps/tenant-principal.ts) and the grant (steps/role-grant.ts).
//
// A created secret is kept on re-runs while it is good (the rule token passwords follow): the live
// secret holds this app's secret, the registry still accepts it and more than half of
// secret-expiry is left. So a second identical run adds no secret to the app and reports
// changed: false. Detach leaves the role assignment and the app's secrets alone: the principal
// may serve the cluster or other workloads, and attach cannot tell whether it made them.
import type { Write } from '../../../result.ts';
import { createClientSecret } from '../../steps/client-secret.ts';
import { executeGrant, grantReadsFirst, planGrant, resolveRole } from '../../steps/role-grant.ts';
import { planProvision, provision, readPrincipal, registryTenantOf } from '../../steps/tenant-principal.ts';
import type { CredentialSource, PreviousCredential, PullCredential, SourceFactory, SourcePlan } from './credential-source.ts';
import { acrCheck, azureRegistry, concreteRepository } from './azure-registry.ts';

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
  const graph = clients.graph;
  const rbac = clients.rbac(settings.registry.tenantId);
  const check = acrCheck(registry.loginServer, deps, concreteRepository(settings));
  const warnings: string[] = [];

  const source: CredentialSource = {
    loginServer: registry.loginServer,
    registryId: registry.id,
    async prepare(previous): Promise<SourcePlan> {
      const principal = await readPrincipal(graph, appId, tenant, clients.session.tenantId);
      const role = await resolveRole(settings, registry, rbac);
      warnings.push(...role.warnings.filter((w) => !warnings.includes(w)));
      const assignments =
        principal.sp && grantReadsFirst(role, settings.dryRun) ? await rbac.listForPrincipal(registry.id, principal.sp.id) : undefined;
      const provisioning = planProvision(principal);
      const grant = planGrant(registry, role, principal.sp?.id, assignments);
      const now = deps.now();
      const keep =
        !credential.secret &&
        previous &&
        keepCreatedSecret(previous, appId, now, settings.secretExpiry.ms) &&
        !(await check(previous.username, previous.password))
          ? previous
          : undefined;
      const addSecret: Write | undefined = credential.secret || keep ? undefined : { kind: 'add-client-secret', appId };

      const writes: Write[] = [];
      const lines: string[] = [];
      if (provisioning) {
        writes.push(provisioning.write);
        lines.push(provisioning.would);
      }
      const who = `service principal ${appId}${principal.sp ? ` (${principal.sp.id})` : ''}`;
      if (grant.kind === 'unchanged') lines.push(`${who} already holds ${role.displayName} on ${registry.name}`);
      else {
        writes.push(grant.write);
        lines.push(`would grant ${role.displayName} on ${registry.name} to ${who}`);
      }
      if (keep)
        lines.push(`would keep the secret's client secret of app ${appId}: valid until ${keep.record!.expiresOn}, more than half its lifetime`);
      else if (addSecret) {
        writes.push(addSecret);
        lines.push(`would create a client secret on app ${appId}, valid for ${settings.secretExpiry.text} (older secrets are left alone)`);
      } else lines.push(`would use the given service-principal-secret of app ${appId}`);
      const known = credential.secret
        ? { username: appId, password: credential.secret }
        : keep
          ? { username: appId, password: keep.password, expiresOn: keep.record!.expiresOn }
          : undefined;

      return {
        writes,
        lines,
        ...(known ? { known } : {}),
        async execute(): Promise<PullCredential> {
          const done: string[] = [];
          const made: Write[] = [];
          let changed = false;
          let sp = principal.sp;
          if (provisioning) {
            const p = await provision(graph, principal, settings.cloud.authorityHost);
            sp = p.sp;
            done.push(p.line);
            made.push(provisioning.write);
            changed = true;
          }
          const principalId = sp!.id;
          let roleAssignmentId: string | undefined;
          if (grant.kind === 'unchanged') roleAssignmentId = grant.existing.id;
          else {
            const granted = await executeGrant(rbac, grant, principalId, 'acr-kube-auth: pull for a Kubernetes pull secret');
            roleAssignmentId = granted.id;
            if (granted.changed) {
              done.push(`granted ${role.displayName} on ${registry.name} to service principal ${appId} (${principalId})`);
              made.push({ ...grant.write, principalId });
              changed = true;
            }
          }
          const result = { principalId, role: role.displayName, roleAssignmentId };
          if (known) {
            if (keep) done.push(`kept the secret's client secret of app ${appId}: valid until ${known.expiresOn}, more than half its lifetime`);
            return { ...known, changed, lines: done, writes: made, ...result };
          }
          const secret = await createClientSecret(graph, {
            appId,
            tenantId: tenant,
            homeTenantId: sp!.appOwnerOrganizationId,
            lifetimeMs: settings.secretExpiry.ms,
            now,
          });
          deps.runner.setSecret(secret.secretText);
          done.push(`created a client secret on app ${appId}, valid until ${secret.endDateTime} (older secrets are left alone)`);
          made.push({ kind: 'add-client-secret', appId });
          const expiresOn = Number.isNaN(Date.parse(secret.endDateTime)) ? secret.endDateTime : new Date(secret.endDateTime).toISOString();
          return { username: appId, password: secret.secretText, expiresOn, changed: true, lines: done, writes: made, ...result };
        },
      };
    },
    async prepareDetach() {
      const lines = [`left the role assignment and client secrets of service principal ${appId} alone: the principal may pull for other workloads`];
      return { writes: [], lines, execute: async () => ({ changed: false, lines }) };
    },
    check,
    warnings,
    signedIn: { session: az.clients.session, tenantId: az.tenantId, network: az.registry.network },
  };
  return source;
};
export default factory;
