// Service account tokens: the TokenRequest API (POST /api/v1/namespaces/<ns>/serviceaccounts/
// <name>/token, what `kubectl create token` calls) and the authenticator that accepts its tokens.
// Shaped on kubernetes 1.32:
//   - TokenRequest: pkg/registry/core/serviceaccount/storage/token.go (the service account must
//     exist; audiences default to the API server's; the answer is the request with status.token and
//     status.expirationTimestamp, 201), defaults in pkg/apis/authentication/v1/defaults.go
//     (expirationSeconds 3600) and pkg/apis/authentication/validation (at least 10 minutes, at
//     most 2^32 s);
//   - the token: a JWT with the claims of pkg/serviceaccount/claims.go (iss, sub
//     system:serviceaccount:<ns>:<name>, aud, exp, iat, nbf, jti and kubernetes.io.namespace /
//     serviceaccount.name / serviceaccount.uid), issuer https://kubernetes.default.svc.cluster.local
//     (kubeadm's and kind's --service-account-issuer, also the default API audience);
//   - accepting it (pkg/serviceaccount/jwt.go, claims.go): our signature, not expired, our issuer,
//     an audience the API server accepts, and a service account that still exists with the uid the
//     token names; anything else is 401.
// Signed with the emulator's one key (jwt.ts), as a cluster signs with its service-account key. An
// Entra token carries no kubernetes.io claim and another issuer, so it is never a Kubernetes token.
import { randomUUID } from 'node:crypto';
import { isObj } from './schema.ts';
import { parseBody } from './request.ts';
import { RESOURCES } from './resources.ts';
import type { UserInfo } from './rbac.ts';
import { badRequest, invalid, json, notFound, q, undecodable } from './status.ts';
import type { Obj } from './status.ts';
import { getObject } from './storage.ts';
import type { EmuContext, EmuRequest, EmuResponse } from '../types.ts';

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** --api-audiences: unset, the issuer */
export const API_AUDIENCES: readonly string[] = [SERVICE_ACCOUNT_ISSUER];

const AUTHENTICATION_V1 = 'authentication.k8s.io/v1';
const MIN_EXPIRATION = 600;
const MAX_EXPIRATION = 2 ** 32;

interface KubernetesClaims {
  namespace?: unknown;
  serviceaccount?: { name?: unknown; uid?: unknown };
}

/** The service account user a TokenRequest token names, or undefined when the token is not one (or no longer valid). */
export function serviceAccountFromToken(bearer: string, ctx: EmuContext): UserInfo | undefined {
  // a JWT has three parts; any other token is not one of these
  if (bearer.split('.').length !== 3) return undefined;
  const claims = ctx.verifyJwt(bearer);
  if (!claims || claims.iss !== SERVICE_ACCOUNT_ISSUER) return undefined;
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => API_AUDIENCES.includes(String(a)))) return undefined;
  const k8s = claims['kubernetes.io'] as KubernetesClaims | undefined;
  const ns = typeof k8s?.namespace === 'string' ? k8s.namespace : '';
  const name = typeof k8s?.serviceaccount?.name === 'string' ? k8s.serviceaccount.name : '';
  const sa = ns && name ? ctx.state.kube.serviceaccounts?.[ns]?.[name] : undefined;
  // "service account UID (%s) does not match claim (%s)", or the account was deleted
  if (!sa || sa.metadata.uid !== k8s?.serviceaccount?.uid) return undefined;
  const user: UserInfo = {
    name: `system:serviceaccount:${ns}:${name}`,
    uid: sa.metadata.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`],
  };
  if (typeof claims.jti === 'string') user.extra = { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] };
  return user;
}

/** POST .../serviceaccounts/<name>/token: a TokenRequest answered with a signed token (authorized as create serviceaccounts/token). */
export function createToken(req: EmuRequest, ctx: EmuContext, namespace: string, name: string): EmuResponse {
  const body = parseBody(req, 'TokenRequest');
  if (!isObj(body)) throw undecodable('TokenRequest', 'the request body is not a JSON or YAML object');
  if (body.kind !== undefined && body.kind !== 'TokenRequest') {
    throw undecodable('TokenRequest', `the kind in the data (${String(body.kind)}) does not match the expected kind (TokenRequest)`);
  }
  if (body.apiVersion !== undefined && body.apiVersion !== AUTHENTICATION_V1) {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${AUTHENTICATION_V1})`);
  }
  const spec: Obj = isObj(body.spec) ? body.spec : {};
  // the TokenRequest's own name (kubectl sends none): validation errors name it, the answer echoes it
  const requestName = isObj(body.metadata) && typeof body.metadata.name === 'string' ? body.metadata.name : '';
  const seconds = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : 3600;
  const why =
    seconds < MIN_EXPIRATION
      ? 'may not specify a duration less than 10 minutes'
      : seconds > MAX_EXPIRATION
        ? 'may not specify a duration larger than 2^32 seconds'
        : undefined;
  if (why) {
    throw invalid(
      'TokenRequest',
      requestName,
      [{ field: 'spec.expirationSeconds', type: 'FieldValueInvalid', detail: `Invalid value: ${seconds}: ${why}` }],
      'authentication.k8s.io',
    );
  }
  if (isObj(spec.boundObjectRef)) {
    // binding to a Pod, Secret or Node needs those objects, which the emulator does not serve
    throw badRequest(
      `cannot bind token for serviceaccount ${q(name)} to object of kind ${q(String(spec.boundObjectRef.kind ?? ''))}: the emulator serves no such objects`,
    );
  }
  const sa = getObject(ctx.state.kube, RESOURCES.serviceaccounts, namespace, name);
  if (!sa) throw notFound('serviceaccounts', name);
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences.map(String) : [...API_AUDIENCES];
  const now = Math.floor(ctx.now().getTime() / 1000);
  const exp = now + seconds;
  const token = ctx.signJwt({
    aud: audiences,
    exp,
    iat: now,
    iss: SERVICE_ACCOUNT_ISSUER,
    jti: randomUUID(),
    'kubernetes.io': { namespace, serviceaccount: { name, uid: sa.metadata.uid } },
    nbf: now,
    sub: `system:serviceaccount:${namespace}:${name}`,
  });
  // RFC 3339 in seconds, as metav1.Time marshals
  const expires = new Date(exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  return json(201, {
    kind: 'TokenRequest',
    apiVersion: AUTHENTICATION_V1,
    // the request's metadata, its namespace the request's (EnsureObjectNamespaceMatchesRequestNamespace)
    metadata: { ...(requestName ? { name: requestName } : {}), namespace, creationTimestamp: null },
    spec: { audiences, expirationSeconds: seconds, boundObjectRef: null },
    status: { token, expirationTimestamp: expires },
  });
}
