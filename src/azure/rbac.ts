// Role definitions and role assignments (Microsoft.Authorization 2022-04-01) over the Azure SDK's
// REST client, @azure-rest/core-client: the same base the modular @azure/arm-* APIs (AKS, ACR) are
// generated on. @azure/arm-authorization has no modular API, and its classic client builds ~100 KB
// of operation specs and mappers when loaded: 70 ms, an eighth of an attach (bench/RESULTS.md),
// for the five requests below. Shared by the managed-identity, service-principal and pull-secret
// scenarios. Rules every caller gets for free:
//   - principalType ServicePrincipal on every assignment (no Graph lookup, no replication trap);
//   - deterministic names (src/roles.ts assignmentName), created with one PUT straight away;
//     201 = created; 200 (same name) or 409 RoleAssignmentExists (another name) = unchanged;
//   - PrincipalNotFound (a new identity not yet replicated) retried with bounded backoff;
//   - AuthorizationFailed explained: the least-privilege role the caller needs on the scope, as a command;
//   - the description says what the grant is for and which workflow run wrote it (src/provenance.ts).
// The deterministic name is also how detach knows the assignments this action made
// (src/scenarios/steps/role-grant.ts madeByAction).
import type { AzureSession, RbacClient, RoleAssignment } from './types.ts';
import { armBody as expect, armCall, armPages, armRestClient } from './arm.ts';
import { ApiError } from '../errors.ts';
import { withRetry } from '../retry.ts';
import { ACR_PULL, REPOSITORY_READER, assignmentName, roleDefinitionId, roleGuidOf, roleName } from '../roles.ts';
import { describedWrite, provenance } from '../provenance.ts';

export const RBAC_SERVICE = 'Azure RBAC';

export interface RbacOptions {
  /** the tenant to ask for tokens in (e.g. the registry's, cross-tenant); default: the login's */
  tenantId?: string;
  /** PrincipalNotFound retry: total budget (default 120 s) and first delay (default 2 s) */
  principalRetry?: { budgetMs?: number; baseMs?: number; maxDelayMs?: number };
  sleep?: (ms: number) => Promise<void>;
  /** called before each PrincipalNotFound retry (for a log line) */
  onRetry?: (message: string) => void;
}

export const PRINCIPAL_RETRY_BUDGET_MS = 120_000;

/**
 * The PrincipalNotFound retry timing, overridable through ACR_KUBE_AUTH_PRINCIPAL_RETRY_BUDGET_MS
 * and ACR_KUBE_AUTH_PRINCIPAL_RETRY_BASE_MS (tests shorten it; values are clamped to sane bounds).
 */
export function principalRetryFromEnv(env: Record<string, string | undefined>): RbacOptions['principalRetry'] {
  const num = (v: string | undefined, min: number, max: number) => {
    const n = v && /^\d{1,7}$/.test(v.trim()) ? Number(v.trim()) : NaN;
    return Number.isNaN(n) ? undefined : Math.min(max, Math.max(min, n));
  };
  return {
    budgetMs: num(env.ACR_KUBE_AUTH_PRINCIPAL_RETRY_BUDGET_MS, 0, 600_000),
    baseMs: num(env.ACR_KUBE_AUTH_PRINCIPAL_RETRY_BASE_MS, 1, 60_000),
  };
}

/** The role that lets an identity write role assignments, which README's least privilege constrains to the pull roles. */
export const ASSIGNMENT_WRITER_ROLE = 'Role Based Access Control Administrator';

/**
 * The ABAC condition (version 2.0) on a Role Based Access Control Administrator assignment that
 * lets it create and delete assignments of the given roles only: Azure's "Constrain roles"
 * delegation example (learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-examples),
 * the same condition README's "Least-privilege permissions" gives, on one line.
 */
export function pullRolesCondition(roleGuids: readonly string[]): string {
  const guids = [...new Set(roleGuids.map((g) => g.toLowerCase()))].join(', ');
  return (
    `((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${guids}}))` +
    ` AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${guids}}))`
  );
}

/**
 * Who ARM refused, from its AuthorizationFailed message ("The client '<app id or user>' with object
 * id '<oid>' does not have authorization to perform action ..."): the object id, and whether the
 * client is an app (a GUID) or a user (a sign-in name). Undefined when the message does not say.
 */
export function refusedCaller(message: string | undefined): { objectId: string; type: 'ServicePrincipal' | 'User' } | undefined {
  const m = /The client '([^']*)' with object id '([0-9a-f-]{36})'/i.exec(message ?? '');
  if (!m) return undefined;
  return { objectId: m[2].toLowerCase(), type: /^[0-9a-f-]{36}$/i.test(m[1]) ? 'ServicePrincipal' : 'User' };
}

/**
 * `az role assignment create` for the signed-in identity on `scope`, with the role (and condition)
 * given. --assignee-object-id with --assignee-principal-type asks Graph nothing (azure-cli,
 * src/azure-cli/azure/cli/command_modules/role/_params.py), so it works where Graph may not be read.
 */
export function roleAssignmentCommand(caller: ReturnType<typeof refusedCaller>, scope: string, role: string, condition?: string): string {
  const who = caller
    ? `--assignee-object-id ${caller.objectId} --assignee-principal-type ${caller.type}`
    : '--assignee "<the client id this step signs in with>"';
  const cond = condition ? ` --condition-version 2.0 --condition "${condition}"` : '';
  return `az role assignment create ${who} --role "${role}" --scope "${scope}"${cond}`;
}

/**
 * The hint for a 403 on role assignments: the least privilege that lets this run through, as a
 * command to copy. Writes need Role Based Access Control Administrator constrained to the pull
 * roles (and `roleGuid`, the role this run assigns, when it is another); reads need only Reader.
 */
export function writeHint(scope: string, verb: 'create' | 'delete' | 'read', roleGuid?: string) {
  return (info: { status?: number; code?: string; message?: string }) => {
    if (info.status === 403 || info.code === 'AuthorizationFailed') {
      const caller = refusedCaller(info.message);
      const who = caller ? `The signed-in identity (object id ${caller.objectId})` : 'The signed-in identity';
      const by = 'run as an Owner or User Access Administrator of the registry';
      if (verb === 'read') {
        return (
          `${who} may not read role assignments on ${scope}. Give it Reader there (${by}): ${roleAssignmentCommand(caller, scope, 'Reader')}. ` +
          `attach and detach need the constrained ${ASSIGNMENT_WRITER_ROLE} instead (README, Least-privilege permissions).`
        );
      }
      const roles = [ACR_PULL, REPOSITORY_READER, ...(roleGuid ? [roleGuid] : [])];
      return (
        `${who} may not ${verb} role assignments on ${scope}. Least privilege: ${ASSIGNMENT_WRITER_ROLE} there, constrained to assigning ` +
        `${[...new Set(roles.map((g) => roleName(g.toLowerCase())))].join(' and ')} (${by}): ` +
        `${roleAssignmentCommand(caller, scope, ASSIGNMENT_WRITER_ROLE, pullRolesCondition(roles))}. Then run this step again.`
      );
    }
    if (info.code === 'PrincipalNotFound') {
      return 'The identity was not found in the directory; it may have been created moments ago (replication delay) or deleted.';
    }
    return undefined;
  };
}

/** '/subscriptions/{id}' prefix of a scope, or undefined above subscriptions. */
export function subscriptionOf(scope: string): string | undefined {
  return /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
}

export const AUTHORIZATION_API_VERSION = '2022-04-01';

/** A role assignment as ARM sends it (RoleAssignment in the 2022-04-01 spec). */
interface WireAssignment {
  id?: string;
  name?: string;
  properties?: {
    scope?: string;
    roleDefinitionId?: string;
    principalId?: string;
    principalType?: string;
    condition?: string | null;
    createdOn?: string;
  };
}

/** Wire shape -> ours. Pure. */
export function toAssignment(a: WireAssignment): RoleAssignment {
  const p = a.properties ?? {};
  const roleDef = p.roleDefinitionId ?? '';
  const created = p.createdOn ? new Date(p.createdOn) : undefined;
  return {
    id: a.id ?? '',
    name: a.name ?? '',
    scope: p.scope ?? '',
    roleDefinitionId: roleDef,
    roleGuid: roleGuidOf(roleDef),
    principalId: (p.principalId ?? '').toLowerCase(),
    principalType: p.principalType,
    condition: p.condition ?? null,
    createdOn: created && !Number.isNaN(created.getTime()) ? created.toISOString() : undefined,
  };
}

export const isPrincipalNotFound = (e: unknown) => e instanceof ApiError && e.code === 'PrincipalNotFound';
const isExists = (e: unknown) => e instanceof ApiError && e.status === 409 && e.code === 'RoleAssignmentExists';
const isNotFound = (e: unknown) => e instanceof ApiError && e.status === 404;

export function createRbacClient(session: AzureSession, opts: RbacOptions = {}): RbacClient {
  const client = armRestClient(session, opts.tenantId);
  // `{scope}/providers/Microsoft.Authorization/...`: the scope's segments encoded, its slashes kept
  const at = (scope: string, rest: string) =>
    client.pathUnchecked(`/${scope.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')}/providers/Microsoft.Authorization/${rest}`);
  const query = (filter?: string) => ({ queryParameters: { 'api-version': AUTHORIZATION_API_VERSION, ...(filter ? { $filter: filter } : {}) } });
  const retry = opts.principalRetry ?? {};

  const rbac: RbacClient = {
    async roleIdByName(scope, name) {
      const found: string[] = [];
      await armCall(
        RBAC_SERVICE,
        `find role '${name}'`,
        async () => {
          const filter = `roleName eq '${name.replace(/'/g, "''")}'`;
          for (const d of await armPages<{ id?: string; name?: string }>(client, () => at(scope, 'roleDefinitions').get(query(filter)))) {
            if (d.name || d.id) found.push(roleGuidOf(d.name ?? d.id ?? ''));
          }
        },
        writeHint(scope, 'read'),
      );
      if (!found.length) {
        throw new ApiError({
          service: RBAC_SERVICE,
          operation: `find role '${name}'`,
          code: 'RoleDefinitionDoesNotExist',
          message: `no role named '${name}' is visible at ${scope}.`,
          hint: 'Check the role input: a built-in or custom role name, or a role definition id (GUID).',
        });
      }
      return found[0];
    },

    async listForPrincipal(scope, principalId) {
      const out: RoleAssignment[] = [];
      await armCall(
        RBAC_SERVICE,
        `list role assignments of ${principalId}`,
        async () => {
          const list = await armPages<WireAssignment>(client, () => at(scope, 'roleAssignments').get(query(`principalId eq '${principalId}'`)));
          out.push(...list.map(toAssignment));
        },
        writeHint(scope, 'read'),
      );
      return out;
    },

    async ensure(req) {
      const sub = subscriptionOf(req.scope);
      if (!sub) throw new Error(`role assignments are made on a resource, not '${req.scope}'`);
      const name = assignmentName(req.scope, req.roleGuid, req.principalId);
      const started = Date.now();
      const properties = {
        roleDefinitionId: roleDefinitionId(sub, req.roleGuid),
        principalId: req.principalId,
        principalType: 'ServicePrincipal' as const,
        ...(req.condition ? { condition: req.condition, conditionVersion: '2.0' } : {}),
        ...(req.description ? { description: describedWrite(req.description, provenance()) } : {}),
      };
      const operation = `assign ${roleName(req.roleGuid)} to ${req.principalId}`;
      // Whether an equal grant is there already is the plan's decision (it reads the principal's
      // assignments first where that matters: src/scenarios/steps/role-grant.ts); this is one PUT.
      let status = 0;
      try {
        const created = await withRetry(
          () =>
            armCall(
              RBAC_SERVICE,
              operation,
              async () => {
                const res = await at(req.scope, `roleAssignments/${encodeURIComponent(name)}`).put({ ...query(), body: { properties } });
                status = Number(res.status);
                return expect<WireAssignment>(res, ['200', '201']);
              },
              writeHint(req.scope, 'create', req.roleGuid),
            ),
          {
            attempts: 1000,
            baseMs: retry.baseMs ?? 2000,
            maxDelayMs: retry.maxDelayMs ?? 15_000,
            budgetMs: retry.budgetMs ?? PRINCIPAL_RETRY_BUDGET_MS,
            retryable: isPrincipalNotFound,
            sleep: opts.sleep,
            onRetry: (_e, attempt, delay) =>
              opts.onRetry?.(
                `principal ${req.principalId} is not in the directory yet (replication delay); retrying the role assignment in ${Math.round(delay / 100) / 10} s (attempt ${attempt + 1})`,
              ),
          },
        );
        const assignment = toAssignment(created);
        // 201 is a new assignment; 200 is the same-named one, already there. A 201 for an
        // assignment created well before this call is also an existing one (ARM may answer so).
        const createdOn = assignment.createdOn ? Date.parse(assignment.createdOn) : NaN;
        const old = !Number.isNaN(createdOn) && createdOn < started - 120_000;
        const changed = (status === 201 && !old) || !!req.updates;
        return { id: assignment.id || `${req.scope}/providers/Microsoft.Authorization/roleAssignments/${name}`, changed, assignment };
      } catch (e) {
        if (isPrincipalNotFound(e) && e instanceof ApiError) {
          throw new ApiError({
            service: RBAC_SERVICE,
            operation,
            status: e.status,
            code: e.code,
            message: `principal ${req.principalId} was still not in the directory after retrying for ${Math.round((Date.now() - started) / 1000)} s.`,
            hint: 'A new identity can take a few minutes to replicate (run the step again), or the principal id is wrong or was deleted.',
          });
        }
        if (!isExists(e)) throw e;
        // the same role for the same principal at the same scope, under another name (az aks --attach-acr, the portal)
        const existing = (await rbac.listForPrincipal(req.scope, req.principalId)).find(
          (a) => a.scope.toLowerCase() === req.scope.toLowerCase() && a.roleGuid === req.roleGuid.toLowerCase(),
        );
        return { id: existing?.id ?? '', changed: false, assignment: existing };
      }
    },

    async delete(id) {
      const m = /^(.*)\/providers\/Microsoft\.Authorization\/roleAssignments\/([^/]+)$/i.exec(id);
      if (!m) throw new Error(`not a role assignment id: ${id}`);
      const scope = m[1] || '/';
      let status = 0;
      try {
        await armCall(
          RBAC_SERVICE,
          `delete role assignment ${m[2]}`,
          async () => {
            const res = await at(scope, `roleAssignments/${encodeURIComponent(m[2])}`).delete(query());
            status = Number(res.status);
            return res.status === '204' ? undefined : expect<WireAssignment>(res, ['200']);
          },
          writeHint(scope, 'delete'),
        );
        // 200 with the deleted assignment; 204 when there was none
        return status !== 204;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    },
  };
  return rbac;
}
