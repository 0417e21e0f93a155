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
//     (--anonymous-auth), else, like a bearer token nobody issued, 401 Unauthorized.
import { ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, SYSTEM_MASTERS } from './rbac.ts';
import type { Attributes, UserInfo } from './rbac.ts';
import { serviceAccountFromToken } from './tokens.ts';
import type { EmuContext, EmuRequest } from '../types.ts';

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
