// Which pull role a registry honours, the ABAC repository condition, the `role` input override,
// deterministic role assignment names, and what counts as "honoured" for verify. Pure: shared by
// the managed-identity, service-principal and pull-secret scenarios. No SDK import, no I/O.
import { createHash } from 'node:crypto';
import { CheckError } from './errors.ts';

export const ACR_PULL = '7f951dda-4ed3-4680-a7ca-43fe172d538d';
export const ACR_PUSH = '8311e382-0749-4cb8-b61a-304f252e45ec';
export const REPOSITORY_READER = 'b93aa761-3e63-49ed-ac28-beffa264f7ac';
export const REPOSITORY_WRITER = '2a1e307c-b015-4ebd-883e-5b7698a07328';
export const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
export const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
export const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

/** The registry's `roleAssignmentMode` under which AcrPull is not honoured. */
export const ABAC_MODE = 'AbacRepositoryPermissions';

/** Built-in roles we know by name, so a role given by one of these names needs no lookup. */
export const BUILT_IN_ROLES: Readonly<Record<string, string>> = {
  [ACR_PULL]: 'AcrPull',
  [ACR_PUSH]: 'AcrPush',
  [REPOSITORY_READER]: 'Container Registry Repository Reader',
  [REPOSITORY_WRITER]: 'Container Registry Repository Writer',
  [OWNER]: 'Owner',
  [CONTRIBUTOR]: 'Contributor',
  [READER]: 'Reader',
};

/** Roles that let a principal pull on a registry in RBAC-only mode (legacy ACR roles and the privileged ones). */
const PULL_ON_RBAC = new Set([ACR_PULL, ACR_PUSH, OWNER, CONTRIBUTOR, READER, REPOSITORY_READER, REPOSITORY_WRITER]);
/** In ABAC mode only the repository data-plane roles grant pull; Owner/Contributor/Reader are control plane only. */
const PULL_ON_ABAC = new Set([REPOSITORY_READER, REPOSITORY_WRITER]);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isAbac(roleAssignmentMode: string | undefined): boolean {
  return (roleAssignmentMode ?? '').toLowerCase() === ABAC_MODE.toLowerCase();
}

/** The GUID at the end of a role definition id (or the id itself when it is a bare GUID), lower case. */
export function roleGuidOf(roleDefinitionId: string): string {
  return (roleDefinitionId.split('/').filter(Boolean).pop() ?? '').toLowerCase();
}

/** `/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}`: built-in ids need no lookup. */
export function roleDefinitionId(subscriptionId: string, guid: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid.toLowerCase()}`;
}

/** A display name for a role GUID (the built-in name, else the GUID). */
export function roleName(guid: string): string {
  return BUILT_IN_ROLES[guid.toLowerCase()] ?? guid.toLowerCase();
}

/** The role to grant, as far as it can be known without asking Azure. */
export interface RolePlan {
  /** definition GUID; undefined when `role` named a role we must look up by name */
  guid?: string;
  /** the role name to look up (custom roles, built-ins we do not know by name) */
  lookupName?: string;
  /** for messages and the `role` output */
  displayName: string;
  /** ABAC repository condition (version 2.0), when `repositories` narrows the grant */
  condition?: string;
  /** true when the role came from the registry's mode (role: auto) */
  auto: boolean;
  /** warnings for the run (e.g. a role the registry does not honour) */
  warnings: string[];
}

export interface RoleRegistry {
  name: string;
  roleAssignmentMode?: string;
}

/** Thrown for a combination that cannot grant what was asked (a CheckError: the step fails with its message). */
export class RoleChoiceError extends CheckError {
  override name = 'RoleChoiceError';
}

/**
 * The pull role for a registry: AcrPull, or Container Registry Repository Reader on ABAC registries;
 * `role` (a GUID or a name; 'auto' for the default) overrides. `repositories` adds an ABAC
 * condition, which only ABAC registries honour.
 */
export function chooseRole(registry: RoleRegistry, roleInput: string, repositories: readonly string[]): RolePlan {
  const abac = isAbac(registry.roleAssignmentMode);
  const warnings: string[] = [];
  let guid: string | undefined;
  let lookupName: string | undefined;
  const auto = roleInput.trim() === '' || roleInput.trim().toLowerCase() === 'auto';
  if (auto) {
    guid = abac ? REPOSITORY_READER : ACR_PULL;
  } else if (GUID.test(roleInput.trim())) {
    guid = roleInput.trim().toLowerCase();
  } else {
    const known = Object.entries(BUILT_IN_ROLES).find(([, n]) => n.toLowerCase() === roleInput.trim().toLowerCase());
    if (known) guid = known[0];
    else lookupName = roleInput.trim();
  }
  const displayName = guid ? roleName(guid) : lookupName!;
  if (guid && BUILT_IN_ROLES[guid] && !honours(registry.roleAssignmentMode, guid)) {
    warnings.push(
      abac
        ? `${displayName} is not honoured on ${registry.name}: its roleAssignmentMode is ${ABAC_MODE}, where pulls need Container Registry Repository Reader (role: auto picks it).`
        : `${displayName} does not grant pull on ${registry.name}, so pulls with this grant fail: use role: auto (AcrPull here).`,
    );
  }
  let condition: string | undefined;
  if (repositories.length) {
    if (!abac) {
      throw new RoleChoiceError(
        `repositories can only narrow a role assignment on a registry whose roleAssignmentMode is ${ABAC_MODE}; ${registry.name} uses ${registry.roleAssignmentMode || 'LegacyRegistryPermissions'}. ` +
          'Remove repositories to grant pull on the whole registry, switch the registry to RBAC Registry + ABAC Repository Permissions, or use auth-method: pull-secret with a repository-scoped token.',
      );
    }
    condition = repositoryCondition(repositories);
  }
  return { guid, lookupName, displayName, condition, auto, warnings };
}

/** Whether a role GUID lets its holder pull on a registry in this mode (conditions aside). */
export function honours(roleAssignmentMode: string | undefined, guid: string): boolean {
  return (isAbac(roleAssignmentMode) ? PULL_ON_ABAC : PULL_ON_RBAC).has(guid.toLowerCase());
}

/** The pull roles a detach may remove for `role: auto` (whichever mode the registry was in when attached). */
export function autoPullRoles(): string[] {
  return [ACR_PULL, REPOSITORY_READER];
}

const READ_ACTIONS = [
  'Microsoft.ContainerRegistry/registries/repositories/content/read',
  'Microsoft.ContainerRegistry/registries/repositories/metadata/read',
];
const REPO_ATTR = '@Request[Microsoft.ContainerRegistry/registries/repositories:name]';

/**
 * ABAC condition (version 2.0) limiting pull to `repositories`: `app/web` exactly, `app/*` as a
 * prefix; `*` (every repository) needs no condition: undefined.
 */
export function repositoryCondition(repositories: readonly string[]): string | undefined {
  const repos = [...new Set(repositories.map((r) => r.trim().toLowerCase()).filter(Boolean))].sort();
  if (!repos.length || repos.includes('*')) return undefined;
  const clauses = repos.map((r) =>
    r.endsWith('/*') ? `${REPO_ATTR} StringStartsWithIgnoreCase '${r.slice(0, -1)}'` : `${REPO_ATTR} StringEqualsIgnoreCase '${r}'`,
  );
  const actions = READ_ACTIONS.map((a) => `!(ActionMatches{'${a}'})`).join(' AND ');
  return `((${actions}) OR (${clauses.join(' OR ')}))`;
}

/** Two conditions are the same when they differ in whitespace only. */
export function sameCondition(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? '').replace(/\s+/g, ' ').trim() === (b ?? '').replace(/\s+/g, ' ').trim();
}

/** Which of `repositories` a condition (as repositoryCondition writes them) lets through; all for no condition. */
export function conditionCovers(condition: string | null | undefined, repositories: readonly string[]): string[] {
  if (!condition) return [...repositories];
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const m of condition.matchAll(
    /repositories:name\]\s+(StringEqualsIgnoreCase|StringEquals|StringStartsWithIgnoreCase|StringStartsWith)\s+'([^']*)'/g,
  )) {
    if (m[1].startsWith('StringEquals')) exact.add(m[2].toLowerCase());
    else prefixes.push(m[2].toLowerCase());
  }
  return repositories.filter((r) => {
    const repo = r.toLowerCase();
    if (repo === '*') return false;
    if (repo.endsWith('/*')) return prefixes.some((p) => repo.slice(0, -1).startsWith(p));
    return exact.has(repo) || prefixes.some((p) => repo.startsWith(p));
  });
}

// ------------------------------------------------------------------------ deterministic names

/** Namespace for role assignment names (a fixed random UUID: names stay stable across versions). */
export const ASSIGNMENT_NAMESPACE = '5b3c8a52-2f0e-4c4b-9d43-6a2c1f7e0d19';

/** RFC 4122 UUID version 5 (SHA-1) of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`not a UUID: ${namespace}`);
  const hash = createHash('sha1').update(ns).update(Buffer.from(name, 'utf8')).digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The role assignment name for (scope, role, principal): the same inputs always give the same name. */
export function assignmentName(scope: string, roleGuid: string, principalId: string): string {
  return uuidV5(`${scope.replace(/\/+$/, '').toLowerCase()}|${roleGuid.toLowerCase()}|${principalId.toLowerCase()}`, ASSIGNMENT_NAMESPACE);
}

// ----------------------------------------------------------------------------------- verify

/** A role assignment as rbac.ts reports it. */
export interface AssignmentLike {
  id: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
  condition?: string | null;
}

/** Whether `scope` is `resource` or one of its parents (subscription, resource group, management group, root). */
export function scopeCovers(scope: string, resource: string): boolean {
  const s = scope.replace(/\/+$/, '').toLowerCase();
  const r = resource.replace(/\/+$/, '').toLowerCase();
  if (s === '' || s === '/') return true;
  if (s.startsWith('/providers/microsoft.management/managementgroups/')) return true;
  return r === s || r.startsWith(`${s}/`);
}

export interface PullCheck {
  ok: boolean;
  /** the assignments that grant pull */
  granting: AssignmentLike[];
  /** what is wrong, for the error (empty when ok) */
  problems: string[];
  /** findings for the summary */
  details: string[];
}

/**
 * Verify: does the principal hold, on the registry or a scope above it, a pull role the registry
 * honours, covering `repositories` when given? `extraRole` counts a role given by the `role`
 * input (custom roles we cannot judge by GUID).
 */
export function checkPull(
  registry: RoleRegistry & { id: string },
  principalId: string,
  assignments: readonly AssignmentLike[],
  repositories: readonly string[],
  extraRole?: string,
): PullCheck {
  const mine = assignments.filter((a) => a.principalId.toLowerCase() === principalId.toLowerCase() && scopeCovers(a.scope, registry.id));
  const abac = isAbac(registry.roleAssignmentMode);
  const details: string[] = [];
  const granting: AssignmentLike[] = [];
  const partial: string[] = [];
  for (const a of mine) {
    const guid = roleGuidOf(a.roleDefinitionId);
    const counted = honours(registry.roleAssignmentMode, guid) || (extraRole !== undefined && guid === extraRole.toLowerCase());
    if (!counted) {
      if (BUILT_IN_ROLES[guid])
        details.push(`${roleName(guid)} on ${a.scope} is not honoured for pulls${abac ? ` (roleAssignmentMode ${ABAC_MODE})` : ''}`);
      continue;
    }
    const conditioned = abac && !!a.condition;
    if (!conditioned) {
      granting.push(a);
      continue;
    }
    if (repositories.length && conditionCovers(a.condition, repositories).length === repositories.length) {
      granting.push(a);
      continue;
    }
    partial.push(
      `${roleName(guid)} on ${a.scope} is limited by a condition${repositories.length ? ` that does not cover ${repositories.filter((r) => !conditionCovers(a.condition, [r]).length).join(', ')}` : ' to some repositories'}`,
    );
  }
  details.push(...partial);
  if (granting.length) {
    details.unshift(
      ...granting.map((a) => `${roleName(roleGuidOf(a.roleDefinitionId))} on ${a.scope}${a.condition ? ' (repository condition)' : ''}`),
    );
    return { ok: true, granting, problems: [], details };
  }
  const want = abac ? 'Container Registry Repository Reader (the registry is in ABAC mode: AcrPull is not honoured)' : 'AcrPull';
  const problems = [
    `principal ${principalId} holds no pull role on ${registry.name} that the registry honours: it needs ${want} on ${registry.id}`,
    ...details,
  ];
  return { ok: false, granting, problems, details };
}
