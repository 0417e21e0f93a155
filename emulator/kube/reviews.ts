// The self-review APIs kubectl asks about its own user (`kubectl auth can-i`, `kubectl auth can-i
// --list`, `kubectl auth whoami`), shaped on kubernetes 1.32 pkg/registry/authorization/
// selfsubjectaccessreview/rest.go (the spec's attributes authorized for the caller: status.allowed,
// status.denied, status.reason), selfsubjectrulesreview/rest.go (the caller's rules in
// spec.namespace, "no namespace on request" without one) and pkg/registry/authentication/
// selfsubjectreview/rest.go (status.userInfo), with the validation of
// pkg/apis/authorization/validation (exactly one of resourceAttributes and nonResourceAttributes).
import { nonResourceAttributes } from './attributes.ts';
import { authOf } from './authn.ts';
import { aggregate, authorize, isPrivileged, rulesFor } from './rbac.ts';
import type { Attributes, PolicyRule, UserInfo } from './rbac.ts';
import { parseBody } from './request.ts';
import { isObj } from './schema.ts';
import { badRequest, invalid, json, undecodable } from './status.ts';
import type { Obj } from './status.ts';
import type { EmuContext, EmuRequest, EmuResponse } from '../types.ts';

const AUTHORIZATION_V1 = 'authorization.k8s.io/v1';
const AUTHENTICATION_V1 = 'authentication.k8s.io/v1';

function reviewBody(req: EmuRequest, kind: string, apiVersion: string): Obj {
  const body = parseBody(req, kind);
  if (!isObj(body)) throw undecodable(kind, 'the request body is not a JSON or YAML object');
  if (body.kind !== undefined && body.kind !== kind) {
    throw undecodable(kind, `the kind in the data (${String(body.kind)}) does not match the expected kind (${kind})`);
  }
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  return body;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function caller(req: EmuRequest): UserInfo {
  const auth = authOf(req);
  if (!auth) throw new Error('a self review without an authenticated user (the kube service authenticates every request first)');
  return auth.user;
}

/** POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews */
export function selfSubjectAccessReview(req: EmuRequest, ctx: EmuContext): EmuResponse {
  const body = reviewBody(req, 'SelfSubjectAccessReview', AUTHORIZATION_V1);
  const spec: Obj = isObj(body.spec) ? body.spec : {};
  const ra = isObj(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nra = isObj(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if (!ra === !nra) {
    throw invalid(
      'SelfSubjectAccessReview',
      '',
      [
        ra
          ? {
              field: 'spec.nonResourceAttributes',
              type: 'FieldValueInvalid',
              detail: `Invalid value: ${JSON.stringify(nra)}: cannot be specified in combination with resourceAttributes`,
            }
          : {
              field: 'spec.resourceAttributes',
              type: 'FieldValueInvalid',
              detail: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
            },
      ],
      'authorization.k8s.io',
    );
  }
  const user = caller(req);
  // authorizationutil.ResourceAttributesFrom / NonResourceAttributesFrom
  const attributes: Attributes = ra
    ? {
        user,
        verb: str(ra.verb),
        resourceRequest: true,
        path: '',
        apiGroup: str(ra.group),
        apiVersion: str(ra.version) || '*',
        namespace: str(ra.namespace),
        resource: str(ra.resource),
        subresource: str(ra.subresource),
        name: str(ra.name),
      }
    : { ...nonResourceAttributes(str(nra!.verb), str(nra!.path)), user };
  const decision = authorize(ctx.state.kube, attributes);
  const status: Obj = { allowed: decision.allowed };
  if (decision.reason) status.reason = decision.reason;
  return json(201, { kind: 'SelfSubjectAccessReview', apiVersion: AUTHORIZATION_V1, metadata: { creationTimestamp: null }, spec, status });
}

/** POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews */
export function selfSubjectRulesReview(req: EmuRequest, ctx: EmuContext): EmuResponse {
  const body = reviewBody(req, 'SelfSubjectRulesReview', AUTHORIZATION_V1);
  const namespace = str((isObj(body.spec) ? body.spec : {}).namespace);
  if (!namespace) throw badRequest('no namespace on request');
  const user = caller(req);
  const resourceRules: Obj[] = [];
  const nonResourceRules: Obj[] = [];
  const add = (r: PolicyRule): void => {
    if (r.resources?.length) {
      const rule: Obj = { verbs: r.verbs };
      if (r.apiGroups?.length) rule.apiGroups = r.apiGroups;
      rule.resources = r.resources;
      if (r.resourceNames?.length) rule.resourceNames = r.resourceNames;
      resourceRules.push(rule);
    }
    if (r.nonResourceURLs?.length) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
  };
  // the privileged-group authorizer's rules come first in the union, then RBAC's
  if (isPrivileged(user)) add({ verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: ['*'] });
  const found = rulesFor(ctx.state.kube, user, namespace);
  for (const r of found.rules) add(r);
  const status: Obj = { resourceRules, nonResourceRules, incomplete: false };
  if (found.errors.length) status.evaluationError = aggregate(found.errors);
  return json(201, { kind: 'SelfSubjectRulesReview', apiVersion: AUTHORIZATION_V1, metadata: { creationTimestamp: null }, spec: {}, status });
}

/** POST /apis/authentication.k8s.io/v1/selfsubjectreviews */
export function selfSubjectReview(req: EmuRequest): EmuResponse {
  reviewBody(req, 'SelfSubjectReview', AUTHENTICATION_V1);
  const user = caller(req);
  const userInfo: Obj = { username: user.name };
  if (user.uid) userInfo.uid = user.uid;
  userInfo.groups = user.groups;
  if (user.extra) userInfo.extra = user.extra;
  return json(201, { kind: 'SelfSubjectReview', apiVersion: AUTHENTICATION_V1, metadata: { creationTimestamp: null }, status: { userInfo } });
}
