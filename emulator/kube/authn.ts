// Who a request to the emulated API server is from, as kube-apiserver's authenticators decide it:
//   - the cluster's own bearer token (state.kube.token, the one the emulator's kubeconfig holds) is
//     its admin, user "kubernetes-admin" in group system:masters (kubeadm's admin.conf identity);
//   - static tokens (state.kube.tokens, kube-apiserver's --token-auth-file: token -> user, uid,
//     groups);
//   - service account tokens the TokenRequest API issued (tokens.ts): user
//     system:serviceaccount:<ns>:<name>, groups system:serviceaccounts and
//     system:serviceaccounts:<ns> (apiserver pkg/authentication/serviceaccount/util.go
//     UserInfo/MakeGroupNames);
//   - every authenticated user also gets system:authenticated (kube-apiserver's authenticator
//     chain ends in group.NewAuthenticatedGroupAdder, pkg/kubeapiserver/authenticator/config.go);
//   - no credentials at all: system:anonymous in system:unauthenticated when state.kube.anonymous
//     (--anonymous-auth), else, like a bearer token nobody issued, 401 Unauthorized;
//   - then impersonation (kubectl --as, --as-group, --as-uid): apiserver pkg/endpoints/filters/
//     impersonation.go, the `impersonate` verb on users, groups, serviceaccounts, uids and
//     userextras authorized for the caller, each refusal the Forbidden of that check.
import { ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, SYSTEM_MASTERS, authorize, forbidden } from './rbac.ts';
import type { Attributes, UserInfo } from './rbac.ts';
import type { ApiError } from './status.ts';
import { serviceAccountFromToken } from './tokens.ts';
import type { EmuContext, EmuRequest, KubeState } from '../types.ts';

export const ADMIN_USER: UserInfo = { name: 'kubernetes-admin', groups: [SYSTEM_MASTERS, ALL_AUTHENTICATED] };
export const ANONYMOUS_USER: UserInfo = { name: 'system:anonymous', groups: [ALL_UNAUTHENTICATED] };

const withAuthenticated = (user: UserInfo): UserInfo =>
  user.groups.includes(ALL_AUTHENTICATED) ? user : { ...user, groups: [...user.groups, ALL_AUTHENTICATED] };

/** The user a request is from, or undefined when its credentials are not accepted (401). */
export function authenticate(req: EmuRequest, ctx: EmuContext): UserInfo | undefined {
  const kube = ctx.state.kube;
  if (!kube) return undefined;
  const bearer = req.bearer;
  if (!bearer) return kube.anonymous && !req.headers.authorization ? ANONYMOUS_USER : undefined;
  if (bearer === kube.token) return ADMIN_USER;
  const fixed = kube.tokens?.[bearer];
  if (fixed) return withAuthenticated({ name: fixed.user, uid: fixed.uid, groups: [...(fixed.groups ?? [])] });
  const sa = serviceAccountFromToken(bearer, ctx);
  return sa ? withAuthenticated(sa) : undefined;
}

const headerValues = (req: EmuRequest, name: string): string[] => {
  const v = req.headers[name];
  // Node joins a repeated header with ", " (a group name holding ", " cannot be told apart)
  return (Array.isArray(v) ? v : v === undefined ? [] : String(v).split(/,\s*/)).filter((x) => x !== '');
};

/** The user the request acts as: the authenticated one, or the one its Impersonate-* headers name when it may impersonate them. */
export function impersonate(req: EmuRequest, kube: KubeState, requestor: UserInfo): UserInfo | ApiError | string {
  const userName = headerValues(req, 'impersonate-user')[0];
  const groups = headerValues(req, 'impersonate-group');
  const uid = headerValues(req, 'impersonate-uid')[0];
  const extras = Object.keys(req.headers)
    .filter((h) => h.startsWith('impersonate-extra-'))
    .flatMap((h) => headerValues(req, h).map((value) => [decodeURIComponent(h.slice('impersonate-extra-'.length)), value] as const));
  if (!userName)
    return groups.length || uid || extras.length ? 'requested impersonation of groups, extras or a uid without impersonating a user' : requestor;
  const checks: Omit<Attributes, 'user' | 'verb' | 'resourceRequest' | 'path'>[] = [];
  const base = { apiGroup: '', apiVersion: '', namespace: '', subresource: '' };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(userName);
  let user: UserInfo;
  if (sa) {
    checks.push({ ...base, namespace: sa[1], resource: 'serviceaccounts', name: sa[2] });
    user = { name: userName, groups: groups.length ? [] : ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] };
  } else {
    checks.push({ ...base, resource: 'users', name: userName });
    user = { name: userName, groups: [] };
  }
  for (const g of groups) {
    checks.push({ ...base, resource: 'groups', name: g });
    user.groups.push(g);
  }
  for (const [key, value] of extras) {
    checks.push({ ...base, apiGroup: 'authentication.k8s.io', apiVersion: 'v1', resource: 'userextras', subresource: key, name: value });
    (user.extra ??= {})[key] = [...(user.extra?.[key] ?? []), value];
  }
  if (uid) {
    checks.push({ ...base, apiGroup: 'authentication.k8s.io', apiVersion: 'v1', resource: 'uids', name: uid });
    user.uid = uid;
  }
  for (const check of checks) {
    const a: Attributes = { ...check, user: requestor, verb: 'impersonate', resourceRequest: true, path: req.path };
    const decision = authorize(kube, a);
    if (!decision.allowed) return forbidden(a, decision.reason);
  }
  // system:authenticated is added unless a group says authenticated or not (system:unauthenticated for system:anonymous)
  if (userName === ANONYMOUS_USER.name) {
    if (!user.groups.includes(ALL_UNAUTHENTICATED)) user.groups.push(ALL_UNAUTHENTICATED);
  } else if (!user.groups.includes(ALL_AUTHENTICATED) && !user.groups.includes(ALL_UNAUTHENTICATED)) user.groups.push(ALL_AUTHENTICATED);
  return user;
}

/** What the service's `before` hook decided about a request: who it is from and what it asks. */
export interface RequestAuth {
  user: UserInfo;
  attributes: Attributes;
}

const decided = new WeakMap<EmuRequest, RequestAuth>();

export function rememberAuth(req: EmuRequest, auth: RequestAuth): void {
  decided.set(req, auth);
}

/** The request's user and attributes; the admin when the handler runs without the service's hook (direct calls in tests). */
export function authOf(req: EmuRequest): RequestAuth | undefined {
  return decided.get(req);
}
