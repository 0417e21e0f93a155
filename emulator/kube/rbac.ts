// kube-apiserver's authorizer as the emulator runs it: the system:masters short cut, then RBAC over
// the stored Roles, ClusterRoles, RoleBindings and ClusterRoleBindings, and RBAC's escalation
// check on writes of roles and bindings. Ported rule for rule from kubernetes (1.32):
//   - the chain: pkg/kubeapiserver/authorizer/config.go puts authorizerfactory.NewPrivilegedGroups
//     (user.SystemPrivilegedGroup, "system:masters") before the configured modes (Node,RBAC); the
//     union (apiserver pkg/authorization/union) stops at the first Allow and joins the other reasons;
//   - RBAC: plugin/pkg/auth/authorizer/rbac/rbac.go (Authorize, RuleAllows, the reason
//     "RBAC: allowed by ..." or "RBAC: <resolution errors>"), pkg/apis/rbac/v1/evaluation_helpers.go
//     (VerbMatches, APIGroupMatches, ResourceMatches with `*` and `*/subresource`,
//     ResourceNameMatches, NonResourceURLMatches with a trailing `*`), pkg/registry/rbac/validation/
//     rule.go (VisitRulesFor: every ClusterRoleBinding, then the RoleBindings of the request's
//     namespace; appliesToUser for User, Group and ServiceAccount subjects; GetRoleReferenceRules
//     and the listers' `role.rbac.authorization.k8s.io "x" not found`; the binding describers);
//   - escalation: pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased/
//     storage.go and pkg/registry/rbac/escalation_check.go (EscalationAllowed for system:masters,
//     the `escalate` and `bind` verbs), ConfirmNoEscalation in pkg/registry/rbac/validation/rule.go,
//     and Covers / BreakdownRule in k8s.io/component-helpers/auth/rbac/validation/policy_comparator.go.
// Pure: no I/O; it reads the state it is given.
import { RBAC_GROUP } from './resources.ts';
import { deepEqual } from './schema.ts';
import type { ResourceInfo } from './resources.ts';
import { forbiddenError, q } from './status.ts';
import type { ApiError } from './status.ts';
import type { KubeObject, KubeState } from '../types.ts';

/** user.Info: who a request is from. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** authorizer.Attributes: what a request asks (see attributes.ts for how a request becomes these). */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  /** the URL path (non-resource requests are authorized on it) */
  path: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind?: string;
  apiGroup?: string;
  name?: string;
  namespace?: string;
}

interface RoleRef {
  apiGroup?: string;
  kind?: string;
  name?: string;
}

export const SYSTEM_MASTERS = 'system:masters';
export const ALL_AUTHENTICATED = 'system:authenticated';
export const ALL_UNAUTHENTICATED = 'system:unauthenticated';

export const isPrivileged = (user: UserInfo): boolean => user.groups.includes(SYSTEM_MASTERS);

// ---------------------------------------------------------------- matching one rule

const has = (set: readonly string[] | undefined, x: string): boolean => (set ?? []).includes(x);

function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (!subresource) continue;
    if (r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

/** RuleAllows: verb, group, resource (resource/subresource) and name, or verb and path for a non-resource request. */
export function ruleAllows(a: Omit<Attributes, 'user'>, rule: PolicyRule): boolean {
  const verb = has(rule.verbs, '*') || has(rule.verbs, a.verb);
  if (!a.resourceRequest) return verb && nonResourceURLMatches(rule, a.path);
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const group = has(rule.apiGroups, '*') || has(rule.apiGroups, a.apiGroup);
  const names = !rule.resourceNames?.length || rule.resourceNames.includes(a.name);
  return verb && group && resourceMatches(rule, combined, a.subresource) && names;
}

// ---------------------------------------------------------------- which rules apply to a user

const serviceAccountUser = (ns: string, name: string): string => `system:serviceaccount:${ns}:${name}`;

function appliesToUser(user: UserInfo, s: Subject, namespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.name === s.name;
    case 'Group':
      return has(user.groups, s.name ?? '');
    case 'ServiceAccount': {
      // a subject without a namespace means the binding's own
      const ns = s.namespace || namespace;
      return ns !== '' && user.name === serviceAccountUser(ns, s.name ?? '');
    }
    default:
      return false;
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${q(`${s.name ?? ''}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind ?? ''} ${q(s.name ?? '')}`;
}

function roleRules(kube: KubeState, ref: RoleRef, bindingNamespace: string): PolicyRule[] | string {
  const name = ref.name ?? '';
  switch (ref.kind) {
    case 'Role': {
      const role = kube.roles?.[bindingNamespace]?.[name];
      return role ? ((role.rules as PolicyRule[] | undefined) ?? []) : `role.${RBAC_GROUP} ${q(name)} not found`;
    }
    case 'ClusterRole': {
      const role = kube.clusterroles?.[name];
      return role ? ((role.rules as PolicyRule[] | undefined) ?? []) : `clusterrole.${RBAC_GROUP} ${q(name)} not found`;
    }
    default:
      return `unsupported role reference kind: ${q(ref.kind ?? '')}`;
  }
}

const byName = (objs: Record<string, KubeObject> | undefined): [string, KubeObject][] =>
  Object.entries(objs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * Each rule that applies to the user in the namespace (every ClusterRoleBinding's, then the
 * namespace's RoleBindings'), with where it comes from, and each error met resolving them. The
 * visitor returns false to stop.
 */
export function visitRulesFor(
  kube: KubeState,
  user: UserInfo,
  namespace: string,
  visit: (source: string | undefined, rule: PolicyRule | undefined, err: string | undefined) => boolean,
): void {
  const bindings: [KubeObject, string, string][] = byName(kube.clusterrolebindings).map(([n, b]) => [b, '', `ClusterRoleBinding ${q(n)}`]);
  if (namespace) {
    for (const [n, b] of byName(kube.rolebindings?.[namespace])) bindings.push([b, namespace, `RoleBinding ${q(`${n}/${namespace}`)}`]);
  }
  for (const [binding, ns, describe] of bindings) {
    const subjects = (binding.subjects as Subject[] | undefined) ?? [];
    const subject = subjects.find((s) => appliesToUser(user, s, ns));
    if (!subject) continue;
    const ref = (binding.roleRef as RoleRef | undefined) ?? {};
    const rules = roleRules(kube, ref, ns);
    if (typeof rules === 'string') {
      if (!visit(undefined, undefined, rules)) return;
      continue;
    }
    const source = `${describe} of ${ref.kind} ${q(ref.name ?? '')} to ${describeSubject(subject, ns)}`;
    for (const rule of rules) if (!visit(source, rule, undefined)) return;
  }
}

/** utilerrors.NewAggregate(...).Error(): one message as it is, several deduplicated in brackets. */
export function aggregate(errors: string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

export interface RulesFor {
  rules: PolicyRule[];
  errors: string[];
}

/** RulesFor: every rule that applies to the user in the namespace, and the resolution errors. */
export function rulesFor(kube: KubeState, user: UserInfo, namespace: string): RulesFor {
  const out: RulesFor = { rules: [], errors: [] };
  visitRulesFor(kube, user, namespace, (_source, rule, err) => {
    if (rule) out.rules.push(rule);
    if (err) out.errors.push(err);
    return true;
  });
  return out;
}

export interface Decision {
  allowed: boolean;
  /** why, as the authorizer says it: "RBAC: allowed by ...", the resolution errors, or "" */
  reason: string;
}

/** The authorizer chain: system:masters is allowed everything; otherwise RBAC decides (no opinion is a denial). */
export function authorize(kube: KubeState, a: Attributes): Decision {
  if (isPrivileged(a.user)) return { allowed: true, reason: '' };
  let allowedBy: string | undefined;
  const errors: string[] = [];
  visitRulesFor(kube, a.user, a.namespace, (source, rule, err) => {
    if (rule && ruleAllows(a, rule)) {
      allowedBy = source;
      return false;
    }
    if (err) errors.push(err);
    return true;
  });
  if (allowedBy !== undefined) return { allowed: true, reason: `RBAC: allowed by ${allowedBy}` };
  return { allowed: false, reason: errors.length ? `RBAC: ${aggregate(errors)}` : '' };
}

// ---------------------------------------------------------------- the 403

/** Go's strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;") that responsewriters applies to the message. */
const sanitize = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** responsewriters.forbiddenMessage (apiserver pkg/endpoints/handlers/responsewriters/errors.go, 1.32). */
export function forbiddenMessage(a: Attributes): string {
  const user = q(a.user.name);
  if (!a.resourceRequest) return `User ${user} cannot ${a.verb} path ${q(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const what = `User ${user} cannot ${a.verb} resource ${q(resource)} in API group ${q(a.apiGroup)}`;
  return a.namespace ? `${what} in the namespace ${q(a.namespace)}` : `${what} at the cluster scope`;
}

/**
 * responsewriters.ForbiddenStatusError: apierrors.NewForbidden of the request's group, resource and
 * name, its message the sanitized forbiddenMessage and, when the authorizer gave one, `: reason`.
 */
export function forbidden(a: Attributes, reason: string): ApiError {
  const msg = sanitize(forbiddenMessage(a));
  return forbiddenError({ resource: a.resource, group: a.apiGroup }, a.name, reason ? `${msg}: ${reason}` : msg);
}

// ---------------------------------------------------------------- escalation

/** BreakdownRule: one rule per group, resource, verb and name (non-resource URLs per URL and verb). */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs ?? []) {
        if (rule.resourceNames?.length) {
          for (const n of rule.resourceNames) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [n] });
        } else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs ?? []) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

const hasAll = (set: readonly string[] | undefined, xs: readonly string[] | undefined): boolean => (xs ?? []).every((x) => has(set, x));

function resourceCoversAll(set: string[] | undefined, covers: string[] | undefined): boolean {
  if (has(set, '*') || hasAll(set, covers)) return true;
  for (const path of covers ?? []) {
    if (has(set, path)) continue;
    if (!path.includes('/')) return false;
    if (!has(set, `*/${path.slice(path.indexOf('/') + 1)}`)) return false;
  }
  return true;
}

const urlCovers = (owner: string, sub: string): boolean => owner === sub || (owner.endsWith('*') && sub.startsWith(owner.replace(/\*+$/, '')));

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = has(owner.verbs, '*') || hasAll(owner.verbs, sub.verbs);
  const groups = has(owner.apiGroups, '*') || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = resourceCoversAll(owner.resources, sub.resources);
  const urls = (sub.nonResourceURLs ?? []).every((s) => (owner.nonResourceURLs ?? []).some((o) => urlCovers(o, s)));
  const names = sub.resourceNames?.length
    ? !owner.resourceNames?.length || hasAll(owner.resourceNames, sub.resourceNames)
    : !owner.resourceNames?.length;
  return verbs && groups && resources && names && urls;
}

/** Covers: whether the owner's rules cover every one of the servant's, and the broken-down ones they do not. */
export function covers(owner: PolicyRule[], servant: PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing = servant.flatMap(breakdown).filter((sub) => !owner.some((o) => ruleCovers(o, sub)));
  return { covered: missing.length === 0, missing };
}

/** Go's %q of a []string: `["a" "b"]`. */
const qList = (xs: readonly string[]): string => `[${xs.map(q).join(' ')}]`;

/** rbacv1helpers.CompactString: `{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${qList(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${qList(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${qList(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${qList(r.resourceNames)}`);
  if (r.verbs?.length) parts.push(`Verbs:${qList(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** CompactRules: the broken-down rules of one group, resource and (at most one) name merged into one with all their verbs. */
function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple = (r.resourceNames?.length ?? 0) <= 1 && !r.nonResourceURLs?.length && r.apiGroups?.length === 1 && r.resources?.length === 1;
    if (!isSimple) {
      out.push(r);
      continue;
    }
    const key = JSON.stringify([r.apiGroups, r.resources, r.resourceNames ?? null]);
    const existing = simple.get(key);
    if (existing) existing.verbs = [...existing.verbs, ...r.verbs];
    else simple.set(key, structuredClone(r));
  }
  return [...out, ...simple.values()];
}

/** ConfirmNoEscalation: undefined when the user holds every rule in the namespace, else the apiserver's message. */
export function confirmNoEscalation(kube: KubeState, user: UserInfo, namespace: string, rules: PolicyRule[]): string | undefined {
  const owner = rulesFor(kube, user, namespace);
  const { covered, missing } = covers(owner.rules, rules);
  if (covered) return undefined;
  const descriptions = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user ${q(user.name)} (groups=${qList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  // the resolver's errors, printed as Go prints a []error
  if (owner.errors.length) msg += `; resolution errors: [${aggregate(owner.errors)}]`;
  return msg;
}

/** RBAC's write guard on roles and bindings (the policybased storages): throws the apiserver's 403 when the write would escalate. */
export function guardRbacWrite(kube: KubeState, a: Attributes, info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined): void {
  if (info.group !== RBAC_GROUP || isPrivileged(a.user)) return;
  if (old && onlyGcFieldsChange(obj, old)) return;
  const name = obj.metadata.name;
  const ns = info.namespaced ? (obj.metadata.namespace ?? a.namespace) : '';
  const gr = { resource: info.resource, group: RBAC_GROUP };
  const allowedVerb = (verb: string, resource: string, resourceName: string, namespace: string): boolean =>
    authorize(kube, {
      ...a,
      verb,
      apiGroup: RBAC_GROUP,
      apiVersion: '*',
      resource,
      subresource: '',
      name: resourceName,
      namespace,
      resourceRequest: true,
    }).allowed;
  if (info.resource === 'roles' || info.resource === 'clusterroles') {
    // RoleEscalationAuthorized: `escalate` on the request's resource (the name the URL carries)
    if (allowedVerb('escalate', a.resource, a.name, a.namespace)) return;
    const why = confirmNoEscalation(kube, a.user, a.namespace, (obj.rules as PolicyRule[] | undefined) ?? []);
    if (why) throw forbiddenError(gr, name, why);
    return;
  }
  // bindings: BindingAuthorized (`bind` on the referenced role, in the binding's namespace), else hold every rule it grants
  const ref = (obj.roleRef as RoleRef | undefined) ?? {};
  const refResource = ref.kind === 'ClusterRole' ? 'clusterroles' : ref.kind === 'Role' ? 'roles' : undefined;
  if (refResource && allowedVerb('bind', refResource, ref.name ?? '', ns)) return;
  const rules = roleRules(kube, ref, ns);
  if (typeof rules === 'string') throw forbiddenError(gr, name, rules);
  const why = confirmNoEscalation(kube, a.user, a.namespace, rules);
  if (why) throw forbiddenError(gr, name, why);
}

/** rbacregistry.IsOnlyMutatingGCFields: the update changes nothing but owner references and finalizers. */
function onlyGcFieldsChange(obj: KubeObject, old: KubeObject): boolean {
  const copy = structuredClone(obj);
  for (const k of ['ownerReferences', 'finalizers', 'selfLink', 'managedFields']) {
    if (old.metadata[k] !== undefined) copy.metadata[k] = old.metadata[k];
    else delete copy.metadata[k];
  }
  return deepEqual(copy, old);
}
