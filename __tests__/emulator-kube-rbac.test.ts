// The emulated API server authorizes as kube-apiserver's RBAC does (issue #15 item 1): the
// request's attributes (RequestInfoFactory), the rules (verbs, groups, resources and
// subresources, resourceNames, wildcards, non-resource URLs), the subjects of bindings (User, Group,
// ServiceAccount), the 403 Status word for word, authentication by static and TokenRequest tokens,
// server-side apply authorized as patch and as create for a missing object, the RBAC resources
// themselves (validation, defaults, escalation), the self reviews, and the controllers that act
// after a delay (item 2). Pure parts are called directly; the rest goes through the HTTPS server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { requestInfo } from '../emulator/kube/attributes.ts';
import { compactString, covers, ruleAllows } from '../emulator/kube/rbac.ts';
import type { PolicyRule } from '../emulator/kube/rbac.ts';
import { createJwtSigner } from '../emulator/server.ts';
import { useEmulator } from './helpers/emulator.ts';
import { kubeRequest, serviceAccountKubeconfig } from './helpers/kube-rbac.ts';

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const SA_USER = 'system:serviceaccount:ci:deployer';
const GROUP = 'rbac.authorization.k8s.io';

// ------------------------------------------------------------------ request attributes

describe('request attributes (RequestInfoFactory)', () => {
  const info = (method: string, url: string) => {
    const u = new URL(`https://x${url}`);
    const a = requestInfo({ method, path: decodeURIComponent(u.pathname), query: u.searchParams });
    return a.resourceRequest ? [a.verb, a.apiGroup, a.resource, a.subresource, a.namespace, a.name].join(' | ') : `non-resource ${a.verb} ${a.path}`;
  };
  const cases: [string, string, string][] = [
    ['GET', '/api/v1/namespaces/team-a/secrets/s1', 'get |  | secrets |  | team-a | s1'],
    ['HEAD', '/api/v1/namespaces/team-a/secrets/s1', 'get |  | secrets |  | team-a | s1'],
    ['GET', '/api/v1/namespaces/team-a/secrets', 'list |  | secrets |  | team-a | '],
    ['GET', '/api/v1/namespaces/team-a/secrets?watch=true', 'watch |  | secrets |  | team-a | '],
    ['GET', '/api/v1/namespaces/team-a/secrets?watch=0', 'list |  | secrets |  | team-a | '],
    ['GET', '/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds1', 'list |  | secrets |  | team-a | s1'],
    ['GET', '/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3D%3Ds1,type%3DOpaque', 'list |  | secrets |  | team-a | s1'],
    ['GET', '/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name!%3Ds1', 'list |  | secrets |  | team-a | '],
    ['GET', '/api/v1/secrets', 'list |  | secrets |  |  | '],
    ['POST', '/api/v1/namespaces/team-a/secrets', 'create |  | secrets |  | team-a | '],
    ['PUT', '/api/v1/namespaces/team-a/secrets/s1', 'update |  | secrets |  | team-a | s1'],
    ['PATCH', '/api/v1/namespaces/team-a/secrets/s1', 'patch |  | secrets |  | team-a | s1'],
    ['DELETE', '/api/v1/namespaces/team-a/secrets/s1', 'delete |  | secrets |  | team-a | s1'],
    ['DELETE', '/api/v1/namespaces/team-a/secrets', 'deletecollection |  | secrets |  | team-a | '],
    // a namespace is authorized in its own namespace
    ['GET', '/api/v1/namespaces/team-a', 'get |  | namespaces |  | team-a | team-a'],
    ['PUT', '/api/v1/namespaces/team-a/finalize', 'update |  | namespaces | finalize | team-a | team-a'],
    ['GET', '/api/v1/namespaces', 'list |  | namespaces |  |  | '],
    ['POST', '/api/v1/namespaces', 'create |  | namespaces |  |  | '],
    ['POST', '/api/v1/namespaces/ci/serviceaccounts/deployer/token', 'create |  | serviceaccounts | token | ci | deployer'],
    ['GET', '/api/v1/namespaces/team-a/pods/web/log', 'get |  | pods | log | team-a | web'],
    ['GET', '/api/v1/watch/namespaces/team-a/secrets', 'watch |  | secrets |  | team-a | '],
    ['GET', `${RBAC}/namespaces/team-a/roles/r`, `get | ${GROUP} | roles |  | team-a | r`],
    ['GET', `${RBAC}/clusterroles`, `list | ${GROUP} | clusterroles |  |  | `],
    ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', 'create | authorization.k8s.io | selfsubjectaccessreviews |  |  | '],
    ['GET', '/api', 'non-resource get /api'],
    ['GET', '/api/v1', 'non-resource get /api/v1'],
    ['GET', `${RBAC}`, `non-resource get ${RBAC}`],
    ['GET', '/version', 'non-resource get /version'],
    ['GET', '/openapi/v3/api/v1', 'non-resource get /openapi/v3/api/v1'],
    ['POST', '/healthz', 'non-resource post /healthz'],
  ];
  for (const [method, url, want] of cases) {
    test(`${method} ${url}`, () => assert.equal(info(method, url), want));
  }
});

// ------------------------------------------------------------------ one rule

describe('RuleAllows: verbs, groups, resources, subresources, names, non-resource URLs', () => {
  const attrs = (verb: string, resource: string, subresource = '', name = '', apiGroup = '') => ({
    verb,
    resourceRequest: true,
    path: '',
    apiGroup,
    apiVersion: 'v1',
    namespace: 'team-a',
    resource,
    subresource,
    name,
  });
  const path = (verb: string, p: string) => ({ ...attrs(verb, ''), resourceRequest: false, path: p });
  const cases: [string, PolicyRule, ReturnType<typeof attrs>, boolean][] = [
    ['exact verb and resource', { verbs: ['get'], apiGroups: [''], resources: ['secrets'] }, attrs('get', 'secrets'), true],
    ['another verb', { verbs: ['get'], apiGroups: [''], resources: ['secrets'] }, attrs('list', 'secrets'), false],
    ['patch is not update', { verbs: ['update'], apiGroups: [''], resources: ['secrets'] }, attrs('patch', 'secrets'), false],
    ['update is not patch', { verbs: ['patch'], apiGroups: [''], resources: ['secrets'] }, attrs('update', 'secrets'), false],
    ['another group', { verbs: ['get'], apiGroups: ['apps'], resources: ['secrets'] }, attrs('get', 'secrets'), false],
    ['no groups at all', { verbs: ['get'], resources: ['secrets'] }, attrs('get', 'secrets'), false],
    ['verb *', { verbs: ['*'], apiGroups: [''], resources: ['secrets'] }, attrs('deletecollection', 'secrets'), true],
    ['group *', { verbs: ['get'], apiGroups: ['*'], resources: ['roles'] }, attrs('get', 'roles', '', '', GROUP), true],
    ['resource * covers subresources', { verbs: ['create'], apiGroups: [''], resources: ['*'] }, attrs('create', 'serviceaccounts', 'token'), true],
    [
      'a resource is not its subresource',
      { verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts'] },
      attrs('create', 'serviceaccounts', 'token'),
      false,
    ],
    [
      'resource/subresource',
      { verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'] },
      attrs('create', 'serviceaccounts', 'token'),
      true,
    ],
    ['*/subresource', { verbs: ['get'], apiGroups: [''], resources: ['*/log'] }, attrs('get', 'pods', 'log'), true],
    ['resource/* is no wildcard', { verbs: ['get'], apiGroups: [''], resources: ['pods/*'] }, attrs('get', 'pods', 'log'), false],
    ['a subresource is not its resource', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, attrs('get', 'pods'), false],
    [
      'resourceNames: the name',
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['s1'] },
      attrs('get', 'secrets', '', 's1'),
      true,
    ],
    [
      'resourceNames: another name',
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['s1'] },
      attrs('get', 'secrets', '', 's2'),
      false,
    ],
    [
      'resourceNames: no name (list, create)',
      { verbs: ['list'], apiGroups: [''], resources: ['secrets'], resourceNames: ['s1'] },
      attrs('list', 'secrets'),
      false,
    ],
    ['a resource rule is no path rule', { verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, path('get', '/api'), false],
    ['path: exact', { verbs: ['get'], nonResourceURLs: ['/version'] }, path('get', '/version'), true],
    ['path: no prefix match without *', { verbs: ['get'], nonResourceURLs: ['/api'] }, path('get', '/api/v1'), false],
    ['path: trailing *', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, path('get', `${RBAC}`), true],
    ['path: *', { verbs: ['*'], nonResourceURLs: ['*'] }, path('post', '/anything'), true],
    ['path: a path rule is no resource rule', { verbs: ['*'], nonResourceURLs: ['*'] }, attrs('get', 'secrets'), false],
  ];
  for (const [name, rule, a, want] of cases) test(name, () => assert.equal(ruleAllows(a, rule), want));
});

describe('Covers: what a user must hold to grant a rule', () => {
  test('each verb, group, resource and name must be covered by one owner rule', () => {
    const owner: PolicyRule[] = [
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'] },
      { verbs: ['get'], apiGroups: [''], resources: ['*/log'] },
      { verbs: ['update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] },
    ];
    assert.deepEqual(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets', 'pods/log'] }]), { covered: true, missing: [] });
    assert.deepEqual(covers(owner, [{ verbs: ['update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }]).covered, true);
    assert.deepEqual(covers(owner, [{ verbs: ['update'], apiGroups: [''], resources: ['configmaps'] }]).missing, [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['update'] },
    ]);
    assert.deepEqual(covers(owner, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['secrets'] }]).missing, [
      { apiGroups: [''], resources: ['secrets'], verbs: ['delete'] },
    ]);
    assert.equal(
      compactString({ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'] }),
      '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
    );
  });
});

// ------------------------------------------------------------------ through the server

const emu = useEmulator();

const asToken = (token: string) => (method: string, path: string, body?: unknown, contentType?: string) =>
  kubeRequest(emu, method, path, body, { token, contentType });

const statusOf = (message: string, details: Record<string, unknown>) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason: 'Forbidden',
  details,
  code: 403,
});

const secretBody = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { k: 'v' } });
const applyBody = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { k: 'applied' } });
const APPLY = 'application/apply-patch+yaml';
const MERGE = 'application/merge-patch+json';

/** Seed team-a/s1, and a static token for user alice in group dev (kube-apiserver's --token-auth-file). */
function seedUsers(): void {
  emu.state.kube.tokens = { 'alice-token': { user: 'alice', uid: 'alice-uid', groups: ['dev'] }, 'odd-token': { user: 'o<d>&d' } };
  emu.state.kube.secrets['team-a'].s1 = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's1', namespace: 'team-a', uid: 's1-uid', resourceVersion: '50' },
    type: 'Opaque',
  };
}

describe('403 Forbidden as kube-apiserver writes it', () => {
  /** [what, method, path, body, content type, the message, the details] for a user holding nothing */
  const denied: [string, string, string, unknown, string | undefined, string, Record<string, unknown>][] = [
    [
      'get',
      'GET',
      '/api/v1/namespaces/team-a/secrets/s1',
      undefined,
      undefined,
      `secrets "s1" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "team-a"`,
      { name: 's1', kind: 'secrets' },
    ],
    [
      'list',
      'GET',
      '/api/v1/namespaces/team-a/secrets',
      undefined,
      undefined,
      `secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "team-a"`,
      { kind: 'secrets' },
    ],
    [
      'watch',
      'GET',
      '/api/v1/namespaces/team-a/secrets?watch=1',
      undefined,
      undefined,
      `secrets is forbidden: User "alice" cannot watch resource "secrets" in API group "" in the namespace "team-a"`,
      { kind: 'secrets' },
    ],
    [
      'list across namespaces',
      'GET',
      '/api/v1/secrets',
      undefined,
      undefined,
      `secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" at the cluster scope`,
      { kind: 'secrets' },
    ],
    [
      'create',
      'POST',
      '/api/v1/namespaces/team-a/secrets',
      secretBody('n'),
      undefined,
      `secrets is forbidden: User "alice" cannot create resource "secrets" in API group "" in the namespace "team-a"`,
      { kind: 'secrets' },
    ],
    [
      'update',
      'PUT',
      '/api/v1/namespaces/team-a/secrets/s1',
      secretBody('s1'),
      undefined,
      `secrets "s1" is forbidden: User "alice" cannot update resource "secrets" in API group "" in the namespace "team-a"`,
      { name: 's1', kind: 'secrets' },
    ],
    [
      'merge patch',
      'PATCH',
      '/api/v1/namespaces/team-a/secrets/s1',
      '{}',
      MERGE,
      `secrets "s1" is forbidden: User "alice" cannot patch resource "secrets" in API group "" in the namespace "team-a"`,
      { name: 's1', kind: 'secrets' },
    ],
    [
      'server-side apply',
      'PATCH',
      '/api/v1/namespaces/team-a/secrets/s1?fieldManager=t',
      applyBody('s1'),
      APPLY,
      `secrets "s1" is forbidden: User "alice" cannot patch resource "secrets" in API group "" in the namespace "team-a"`,
      { name: 's1', kind: 'secrets' },
    ],
    [
      'delete',
      'DELETE',
      '/api/v1/namespaces/team-a/secrets/s1',
      undefined,
      undefined,
      `secrets "s1" is forbidden: User "alice" cannot delete resource "secrets" in API group "" in the namespace "team-a"`,
      { name: 's1', kind: 'secrets' },
    ],
    [
      'deletecollection',
      'DELETE',
      '/api/v1/namespaces/team-a/secrets',
      undefined,
      undefined,
      `secrets is forbidden: User "alice" cannot deletecollection resource "secrets" in API group "" in the namespace "team-a"`,
      { kind: 'secrets' },
    ],
    [
      'get namespace',
      'GET',
      '/api/v1/namespaces/team-a',
      undefined,
      undefined,
      `namespaces "team-a" is forbidden: User "alice" cannot get resource "namespaces" in API group "" in the namespace "team-a"`,
      { name: 'team-a', kind: 'namespaces' },
    ],
    [
      'create namespace',
      'POST',
      '/api/v1/namespaces',
      { metadata: { name: 'x' } },
      undefined,
      `namespaces is forbidden: User "alice" cannot create resource "namespaces" in API group "" at the cluster scope`,
      { kind: 'namespaces' },
    ],
    [
      'patch service account',
      'PATCH',
      '/api/v1/namespaces/team-a/serviceaccounts/default',
      '{}',
      MERGE,
      `serviceaccounts "default" is forbidden: User "alice" cannot patch resource "serviceaccounts" in API group "" in the namespace "team-a"`,
      { name: 'default', kind: 'serviceaccounts' },
    ],
    [
      'token subresource',
      'POST',
      '/api/v1/namespaces/team-a/serviceaccounts/default/token',
      {},
      undefined,
      `serviceaccounts "default" is forbidden: User "alice" cannot create resource "serviceaccounts/token" in API group "" in the namespace "team-a"`,
      { name: 'default', kind: 'serviceaccounts' },
    ],
    [
      'pods/log (not served: authorized first)',
      'GET',
      '/api/v1/namespaces/team-a/pods/web/log',
      undefined,
      undefined,
      `pods "web" is forbidden: User "alice" cannot get resource "pods/log" in API group "" in the namespace "team-a"`,
      { name: 'web', kind: 'pods' },
    ],
    [
      'events',
      'GET',
      '/api/v1/namespaces/team-a/events',
      undefined,
      undefined,
      `events is forbidden: User "alice" cannot list resource "events" in API group "" in the namespace "team-a"`,
      { kind: 'events' },
    ],
    [
      'roles',
      'GET',
      `${RBAC}/namespaces/team-a/roles`,
      undefined,
      undefined,
      `roles.rbac.authorization.k8s.io is forbidden: User "alice" cannot list resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "team-a"`,
      { group: GROUP, kind: 'roles' },
    ],
    [
      'clusterrole',
      'GET',
      `${RBAC}/clusterroles/edit`,
      undefined,
      undefined,
      `clusterroles.rbac.authorization.k8s.io "edit" is forbidden: User "alice" cannot get resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope`,
      { name: 'edit', group: GROUP, kind: 'clusterroles' },
    ],
    ['a path', 'GET', '/healthz/etcd', undefined, undefined, `forbidden: User "alice" cannot get path "/healthz/etcd"`, {}],
  ];
  for (const [what, method, path, body, ct, message, details] of denied) {
    test(`${what}: ${method} ${path}`, async () => {
      seedUsers();
      const before = structuredClone(emu.state.kube.secrets);
      const r = await asToken('alice-token')(method, path, body, ct);
      assert.equal(r.status, 403);
      assert.deepEqual(r.body, statusOf(message, details));
      assert.deepEqual(emu.state.kube.secrets, before, 'a refused request changes nothing');
    });
  }

  test('the message is sanitized as responsewriters does (& < >), and a binding to a missing role is the reason', async () => {
    seedUsers();
    const odd = await asToken('odd-token')('GET', '/api/v1/namespaces/team-a/secrets/s1');
    assert.equal(
      odd.body.message,
      'secrets "s1" is forbidden: User "o&lt;d&gt;&amp;d" cannot get resource "secrets" in API group "" in the namespace "team-a"',
    );
    emu.state.kube.rolebindings = {
      'team-a': {
        a: {
          apiVersion: `${GROUP}/v1`,
          kind: 'RoleBinding',
          metadata: { name: 'a', namespace: 'team-a' },
          roleRef: { apiGroup: GROUP, kind: 'Role', name: 'gone' },
          subjects: [{ kind: 'User', apiGroup: GROUP, name: 'alice' }],
        },
      },
    };
    const one = await asToken('alice-token')('GET', '/api/v1/namespaces/team-a/secrets/s1');
    assert.equal(
      one.body.message,
      `secrets "s1" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "team-a": RBAC: role.rbac.authorization.k8s.io "gone" not found`,
    );
    emu.state.kube.clusterrolebindings!.b = {
      apiVersion: `${GROUP}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'b' },
      roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: 'absent' },
      subjects: [{ kind: 'Group', apiGroup: GROUP, name: 'dev' }],
    };
    const two = await asToken('alice-token')('GET', '/api/v1/namespaces/team-a/secrets/s1');
    assert.equal(
      two.body.message,
      `secrets "s1" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "team-a": RBAC: [clusterrole.rbac.authorization.k8s.io "absent" not found, role.rbac.authorization.k8s.io "gone" not found]`,
    );
  });
});

/** A Role in team-a (or a ClusterRole for cluster-scoped resources) holding `rules`, bound to alice. */
function grantAlice(rules: PolicyRule[], scope: 'team-a' | 'cluster' = 'team-a'): void {
  const binding = {
    roleRef: { apiGroup: GROUP, kind: scope === 'cluster' ? 'ClusterRole' : 'Role', name: 'r' },
    subjects: [{ kind: 'User', apiGroup: GROUP, name: 'alice' }],
  };
  if (scope === 'cluster') {
    emu.state.kube.clusterroles!.r = { apiVersion: `${GROUP}/v1`, kind: 'ClusterRole', metadata: { name: 'r' }, rules };
    emu.state.kube.clusterrolebindings!.r = { apiVersion: `${GROUP}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'r' }, ...binding };
  } else {
    emu.state.kube.roles = { 'team-a': { r: { apiVersion: `${GROUP}/v1`, kind: 'Role', metadata: { name: 'r', namespace: 'team-a' }, rules } } };
    emu.state.kube.rolebindings = {
      'team-a': { r: { apiVersion: `${GROUP}/v1`, kind: 'RoleBinding', metadata: { name: 'r', namespace: 'team-a' }, ...binding } },
    };
  }
}

describe('each verb on each resource needs exactly its own permission', () => {
  /** [verb, resource as rules name it, scope, request, what a granted request answers] */
  const cases: [string, string, 'team-a' | 'cluster', [string, string, unknown?, string?], number][] = [
    ['get', 'secrets', 'team-a', ['GET', '/api/v1/namespaces/team-a/secrets/s1'], 200],
    ['list', 'secrets', 'team-a', ['GET', '/api/v1/namespaces/team-a/secrets'], 200],
    ['create', 'secrets', 'team-a', ['POST', '/api/v1/namespaces/team-a/secrets', secretBody('n')], 201],
    ['update', 'secrets', 'team-a', ['PUT', '/api/v1/namespaces/team-a/secrets/s1', secretBody('s1')], 200],
    ['patch', 'secrets', 'team-a', ['PATCH', '/api/v1/namespaces/team-a/secrets/s1', '{"metadata":{"labels":{"a":"b"}}}', MERGE], 200],
    ['patch', 'secrets', 'team-a', ['PATCH', '/api/v1/namespaces/team-a/secrets/s1?fieldManager=t', applyBody('s1'), APPLY], 200],
    ['delete', 'secrets', 'team-a', ['DELETE', '/api/v1/namespaces/team-a/secrets/s1'], 200],
    ['deletecollection', 'secrets', 'team-a', ['DELETE', '/api/v1/namespaces/team-a/secrets'], 200],
    ['list', 'secrets', 'cluster', ['GET', '/api/v1/secrets'], 200],
    ['get', 'serviceaccounts', 'team-a', ['GET', '/api/v1/namespaces/team-a/serviceaccounts/default'], 200],
    [
      'patch',
      'serviceaccounts',
      'team-a',
      ['PATCH', '/api/v1/namespaces/team-a/serviceaccounts/default', '{"imagePullSecrets":[{"name":"x"}]}', MERGE],
      200,
    ],
    ['create', 'serviceaccounts/token', 'team-a', ['POST', '/api/v1/namespaces/team-a/serviceaccounts/default/token', {}], 201],
    ['get', 'namespaces', 'team-a', ['GET', '/api/v1/namespaces/team-a'], 200],
    ['list', 'namespaces', 'cluster', ['GET', '/api/v1/namespaces'], 200],
    ['create', 'namespaces', 'cluster', ['POST', '/api/v1/namespaces', { metadata: { name: 'n1' } }], 201],
    ['get', 'pods/log', 'team-a', ['GET', '/api/v1/namespaces/team-a/pods/web/log'], 404],
    ['list', 'events', 'team-a', ['GET', '/api/v1/namespaces/team-a/events'], 200],
    ['get', 'pods', 'team-a', ['GET', '/api/v1/namespaces/team-a/pods/web'], 404],
  ];
  const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
  for (const [verb, resource, scope, [method, path, body, ct], ok] of cases) {
    test(`${verb} ${resource} (${scope}): ${method} ${path}${ct === APPLY ? ' (apply)' : ''}`, async () => {
      seedUsers();
      // every other verb on the resource, and the verb on another resource: still 403
      grantAlice(
        [
          { verbs: verbs.filter((v) => v !== verb), apiGroups: [''], resources: [resource] },
          { verbs: [verb], apiGroups: [''], resources: ['configmaps'] },
        ],
        scope,
      );
      assert.equal((await asToken('alice-token')(method, path, body, ct)).status, 403);
      grantAlice([{ verbs: [verb], apiGroups: [''], resources: [resource] }], scope);
      const r = await asToken('alice-token')(method, path, body, ct);
      assert.equal(r.status, ok, JSON.stringify(r.body));
    });
  }

  test('a RoleBinding grants in its own namespace only', async () => {
    seedUsers();
    grantAlice([{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]);
    emu.state.kube.secrets['team-b'].s1 = { ...emu.state.kube.secrets['team-a'].s1, metadata: { name: 's1', namespace: 'team-b' } };
    assert.equal((await asToken('alice-token')('GET', '/api/v1/namespaces/team-a/secrets/s1')).status, 200);
    assert.equal((await asToken('alice-token')('GET', '/api/v1/namespaces/team-b/secrets/s1')).status, 403);
    assert.equal((await asToken('alice-token')('GET', '/api/v1/secrets')).status, 403, 'nor across namespaces');
  });
});

describe('subjects: User, Group and ServiceAccount, through RoleBindings and ClusterRoleBindings', () => {
  type Subject = Record<string, string>;
  const READ_SECRETS = {
    apiVersion: `${GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: { name: 'read-secrets' },
    rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }],
  };
  const bind = (kind: 'RoleBinding' | 'ClusterRoleBinding', subjects: Subject[], ns = 'team-a') => {
    emu.state.kube.clusterroles!['read-secrets'] = structuredClone(READ_SECRETS);
    const b = {
      apiVersion: `${GROUP}/v1`,
      kind,
      metadata: { name: 'b', ...(kind === 'RoleBinding' ? { namespace: ns } : {}) },
      roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: 'read-secrets' },
      subjects,
    };
    if (kind === 'RoleBinding') emu.state.kube.rolebindings = { [ns]: { b } };
    else emu.state.kube.clusterrolebindings!.b = b;
  };
  const who = async (): Promise<Record<string, number>> => {
    const users: Record<string, string> = {
      alice: 'alice-token',
      bob: 'bob-token',
      'ci:deployer': (await serviceAccountKubeconfig(emu, { namespace: 'ci', name: 'deployer' })).token,
      'team-a:builder': (await serviceAccountKubeconfig(emu, { namespace: 'team-a', name: 'builder' })).token,
    };
    const out: Record<string, number> = {};
    for (const [u, t] of Object.entries(users)) out[u] = (await asToken(t)('GET', '/api/v1/namespaces/team-a/secrets/s1')).status;
    return out;
  };
  const cases: [string, 'RoleBinding' | 'ClusterRoleBinding', Subject[], Record<string, number>, string?][] = [
    [
      'User alice',
      'RoleBinding',
      [{ kind: 'User', apiGroup: GROUP, name: 'alice' }],
      { alice: 200, bob: 403, 'ci:deployer': 403, 'team-a:builder': 403 },
    ],
    [
      'Group dev',
      'RoleBinding',
      [{ kind: 'Group', apiGroup: GROUP, name: 'dev' }],
      { alice: 200, bob: 403, 'ci:deployer': 403, 'team-a:builder': 403 },
    ],
    [
      'ServiceAccount ci/deployer',
      'RoleBinding',
      [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' }],
      { alice: 403, bob: 403, 'ci:deployer': 200, 'team-a:builder': 403 },
    ],
    [
      'ServiceAccount without namespace: the binding namespace',
      'RoleBinding',
      [{ kind: 'ServiceAccount', name: 'builder' }],
      { alice: 403, bob: 403, 'ci:deployer': 403, 'team-a:builder': 200 },
    ],
    [
      'Group system:serviceaccounts:ci',
      'RoleBinding',
      [{ kind: 'Group', apiGroup: GROUP, name: 'system:serviceaccounts:ci' }],
      { alice: 403, bob: 403, 'ci:deployer': 200, 'team-a:builder': 403 },
    ],
    [
      'Group system:serviceaccounts',
      'ClusterRoleBinding',
      [{ kind: 'Group', apiGroup: GROUP, name: 'system:serviceaccounts' }],
      { alice: 403, bob: 403, 'ci:deployer': 200, 'team-a:builder': 200 },
    ],
    [
      'Group system:authenticated',
      'ClusterRoleBinding',
      [{ kind: 'Group', apiGroup: GROUP, name: 'system:authenticated' }],
      { alice: 200, bob: 200, 'ci:deployer': 200, 'team-a:builder': 200 },
    ],
    [
      'User named as the service account',
      'ClusterRoleBinding',
      [{ kind: 'User', apiGroup: GROUP, name: SA_USER }],
      { alice: 403, bob: 403, 'ci:deployer': 200, 'team-a:builder': 403 },
    ],
    [
      'a RoleBinding in team-b',
      'RoleBinding',
      [{ kind: 'User', apiGroup: GROUP, name: 'alice' }],
      { alice: 403, bob: 403, 'ci:deployer': 403, 'team-a:builder': 403 },
      'team-b',
    ],
  ];
  for (const [name, kind, subjects, want, ns] of cases) {
    test(`${kind} to ${name}`, async () => {
      seedUsers();
      emu.state.kube.tokens!['bob-token'] = { user: 'bob' };
      bind(kind, subjects, ns);
      assert.deepEqual(await who(), want);
    });
  }
});

describe('resourceNames', () => {
  const NAMED: PolicyRule[] = [
    {
      verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'],
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: ['s1', 'fresh'],
    },
  ];
  const cases: [string, string, string, unknown, string | undefined, number][] = [
    ['get the named one', 'GET', '/api/v1/namespaces/team-a/secrets/s1', undefined, undefined, 200],
    ['get another', 'GET', '/api/v1/namespaces/team-a/secrets/s2', undefined, undefined, 403],
    ['list', 'GET', '/api/v1/namespaces/team-a/secrets', undefined, undefined, 403],
    [
      'list with its metadata.name field selector',
      'GET',
      '/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds1',
      undefined,
      undefined,
      200,
    ],
    ['list with another name', 'GET', '/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds2', undefined, undefined, 403],
    [
      'watch with its field selector (authorized; the emulator serves no watch)',
      'GET',
      '/api/v1/namespaces/team-a/secrets?watch=true&fieldSelector=metadata.name%3Ds1',
      undefined,
      undefined,
      405,
    ],
    ['create (POST carries no name)', 'POST', '/api/v1/namespaces/team-a/secrets', secretBody('fresh'), undefined, 403],
    ['deletecollection', 'DELETE', '/api/v1/namespaces/team-a/secrets', undefined, undefined, 403],
    ['update the named one', 'PUT', '/api/v1/namespaces/team-a/secrets/s1', secretBody('s1'), undefined, 200],
    ['delete the named one', 'DELETE', '/api/v1/namespaces/team-a/secrets/s1', undefined, undefined, 200],
    // apply of a missing object is authorized as create with the name the URL carries (patch.go's createAuthorizerAttributes)
    ['apply that creates the named one', 'PATCH', '/api/v1/namespaces/team-a/secrets/fresh?fieldManager=t', applyBody('fresh'), APPLY, 201],
    ['apply that creates another', 'PATCH', '/api/v1/namespaces/team-a/secrets/other?fieldManager=t', applyBody('other'), APPLY, 403],
  ];
  for (const [name, method, path, body, ct, want] of cases) {
    test(name, async () => {
      seedUsers();
      grantAlice(NAMED);
      const r = await asToken('alice-token')(method, path, body, ct);
      assert.equal(r.status, want, JSON.stringify(r.body));
    });
  }
});

describe('server-side apply is authorized as patch, and as create when the object does not exist yet', () => {
  const apply = (name: string, ns = 'team-a') =>
    asToken('alice-token')('PATCH', `/api/v1/namespaces/${ns}/secrets/${name}?fieldManager=t`, applyBody(name), APPLY);

  test('patch alone: applies to an existing secret; a missing one is a 403 on create, and nothing is stored', async () => {
    seedUsers();
    grantAlice([{ verbs: ['patch'], apiGroups: [''], resources: ['secrets'] }]);
    assert.equal((await apply('s1')).status, 200);
    const r = await apply('new');
    assert.equal(r.status, 403);
    assert.deepEqual(
      r.body,
      statusOf(`secrets "new" is forbidden: User "alice" cannot create resource "secrets" in API group "" in the namespace "team-a"`, {
        name: 'new',
        kind: 'secrets',
      }),
    );
    assert.equal(emu.state.kube.secrets['team-a'].new, undefined);
  });

  test('create alone: a 403 on patch (the request itself is a patch)', async () => {
    seedUsers();
    grantAlice([{ verbs: ['create'], apiGroups: [''], resources: ['secrets'] }]);
    const r = await apply('new');
    assert.equal(r.status, 403);
    assert.match(r.body.message, /cannot patch resource "secrets"/);
  });

  test('patch and create: creates it (201)', async () => {
    seedUsers();
    grantAlice([{ verbs: ['patch', 'create'], apiGroups: [''], resources: ['secrets'] }]);
    assert.equal((await apply('new')).status, 201);
    assert.ok(emu.state.kube.secrets['team-a'].new);
  });

  test('the order: validation (422), then the create check (403), then the namespace (404)', async () => {
    seedUsers();
    grantAlice([{ verbs: ['patch'], apiGroups: [''], resources: ['secrets'] }], 'cluster');
    const invalid = await asToken('alice-token')(
      'PATCH',
      '/api/v1/namespaces/team-a/secrets/new?fieldManager=t',
      JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'new', labels: { 'bad key!': 'x' } } }),
      APPLY,
    );
    assert.equal(invalid.status, 422);
    assert.equal((await apply('new', 'nope')).status, 403, 'no create permission: 403 before the missing namespace');
    grantAlice([{ verbs: ['patch', 'create'], apiGroups: [''], resources: ['secrets'] }], 'cluster');
    const missing = await apply('new', 'nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'namespaces "nope" not found');
  });

  test('PUT of a missing Role creates it (AllowCreateOnUpdate) and so needs create too', async () => {
    seedUsers();
    emu.state.kube.tokens!['alice-token'].groups = ['dev', 'system:masters'];
    const role = {
      apiVersion: `${GROUP}/v1`,
      kind: 'Role',
      metadata: { name: 'put' },
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }],
    };
    const admin = await asToken('alice-token')('PUT', `${RBAC}/namespaces/team-a/roles/put`, role);
    assert.equal(admin.status, 201);
    emu.state.kube.tokens!['alice-token'].groups = ['dev'];
    grantAlice([{ verbs: ['update', 'escalate'], apiGroups: [GROUP], resources: ['roles'] }], 'cluster');
    const r = await asToken('alice-token')('PUT', `${RBAC}/namespaces/team-a/roles/other`, { ...role, metadata: { name: 'other' } });
    assert.equal(r.status, 403);
    assert.equal(
      r.body.message,
      `roles.rbac.authorization.k8s.io "other" is forbidden: User "alice" cannot create resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "team-a"`,
    );
    assert.equal(emu.state.kube.roles!['team-a'].other, undefined);
    assert.equal(
      (await asToken('alice-token')('PUT', `${RBAC}/namespaces/team-a/roles/put`, role)).status,
      200,
      'update of an existing one needs update only',
    );
  });
});

describe('authentication', () => {
  test('a TokenRequest token acts as its service account, with its groups; kubectl auth whoami reads the same', async () => {
    const sa = await serviceAccountKubeconfig(emu, { namespace: 'ci', name: 'deployer' });
    const [, payload] = sa.token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const uid = emu.state.kube.serviceaccounts.ci.deployer.metadata.uid;
    assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
    assert.equal(claims.sub, SA_USER);
    assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(claims.exp - claims.iat, 3600);
    assert.deepEqual(claims['kubernetes.io'], { namespace: 'ci', serviceaccount: { name: 'deployer', uid } });
    const who = await asToken(sa.token)('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    assert.equal(who.status, 201);
    assert.deepEqual(who.body.status.userInfo, {
      username: SA_USER,
      uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] },
    });
  });

  test('TokenRequest: its lifetime is checked, the account must exist, and the answer is the request with its status', async () => {
    const tr = (name: string, spec: Record<string, unknown>) =>
      kubeRequest(emu, 'POST', `/api/v1/namespaces/team-a/serviceaccounts/${name}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec,
      });
    const short = await tr('default', { expirationSeconds: 599 });
    assert.equal(short.status, 422);
    assert.equal(
      short.body.message,
      'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes',
    );
    const missing = await tr('nobody', {});
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'serviceaccounts "nobody" not found');
    const ok = await tr('default', { expirationSeconds: 600, audiences: ['https://kubernetes.default.svc.cluster.local', 'vault'] });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.kind, 'TokenRequest');
    assert.deepEqual(ok.body.spec, {
      audiences: ['https://kubernetes.default.svc.cluster.local', 'vault'],
      expirationSeconds: 600,
      boundObjectRef: null,
    });
    assert.match(ok.body.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const other = await tr('default', { audiences: ['vault'] });
    assert.equal((await asToken(other.body.status.token)('GET', '/api')).status, 401, "a token for another audience is not the API server's");
  });

  test("401 when the account is deleted, recreated (another uid), the token expired, or it is another issuer's", async () => {
    const sa = await serviceAccountKubeconfig(emu, { namespace: 'ci', name: 'deployer' });
    const call = (token: string) => asToken(token)('GET', '/api');
    assert.equal((await call(sa.token)).status, 200);
    const signer = await createJwtSigner();
    const claims = JSON.parse(Buffer.from(sa.token.split('.')[1], 'base64url').toString('utf8'));
    assert.equal((await call(signer.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 5 }))).status, 401, 'expired');
    assert.equal((await call(signer.sign({ ...claims, iss: `${emu.url}/tenant/v2.0` }))).status, 401, 'another issuer');
    assert.equal(
      (await call(signer.sign({ aud: 'https://management.azure.com', iss: `${emu.url}/t/v2.0`, tid: 't', oid: 'o', exp: claims.exp }))).status,
      401,
      'an Entra-shaped token',
    );
    await kubeRequest(emu, 'DELETE', '/api/v1/namespaces/ci/serviceaccounts/deployer');
    const gone = await call(sa.token);
    assert.equal(gone.status, 401);
    assert.deepEqual(gone.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    await kubeRequest(emu, 'POST', '/api/v1/namespaces/ci/serviceaccounts', { metadata: { name: 'deployer' } });
    assert.equal((await call(sa.token)).status, 401, 'the same name with another uid');
  });

  test('no credentials: 401, or system:anonymous when anonymous requests are enabled', async () => {
    const bare = (path: string) => kubeRequest(emu, 'GET', path, undefined, { token: '' });
    assert.equal((await bare('/version')).status, 401);
    emu.state.kube.anonymous = true;
    assert.equal((await bare('/version')).status, 200, 'system:public-info-viewer is bound to system:unauthenticated');
    const api = await bare('/api');
    assert.equal(api.status, 403);
    assert.deepEqual(api.body, statusOf('forbidden: User "system:anonymous" cannot get path "/api"', {}));
    assert.equal(
      (await bare('/api/v1/namespaces')).body.message,
      'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope',
    );
  });

  test('the default cluster roles: discovery for every authenticated user, and the admin in system:masters', async () => {
    const sa = await serviceAccountKubeconfig(emu, { namespace: 'ci', name: 'deployer' });
    for (const path of [
      '/api',
      '/api/v1',
      '/apis',
      `${RBAC}`,
      '/apis/rbac.authorization.k8s.io',
      '/version',
      '/openapi/v3',
      '/openapi/v3/api/v1',
      '/healthz',
      '/livez',
      '/readyz',
    ]) {
      assert.equal((await asToken(sa.token)('GET', path)).status, 200, path);
    }
    const names = Object.keys(emu.state.kube.clusterroles!).sort();
    assert.deepEqual(names, ['admin', 'cluster-admin', 'edit', 'system:basic-user', 'system:discovery', 'system:public-info-viewer', 'view']);
    assert.deepEqual(emu.state.kube.clusterrolebindings!['cluster-admin'].subjects, [{ kind: 'Group', apiGroup: GROUP, name: 'system:masters' }]);
    // the admin's rules, as the self rules review lists them
    const rules = await kubeRequest(emu, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      spec: { namespace: 'team-a' },
    });
    assert.deepEqual(rules.body.status.resourceRules[0], { verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
  });

  test('built-in edit, bound in a namespace, writes secrets and mints tokens there; view reads no secrets', async () => {
    seedUsers();
    emu.state.kube.rolebindings = {
      'team-a': {
        e: {
          apiVersion: `${GROUP}/v1`,
          kind: 'RoleBinding',
          metadata: { name: 'e', namespace: 'team-a' },
          roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: 'edit' },
          subjects: [{ kind: 'User', apiGroup: GROUP, name: 'alice' }],
        },
      },
      'team-b': {
        v: {
          apiVersion: `${GROUP}/v1`,
          kind: 'RoleBinding',
          metadata: { name: 'v', namespace: 'team-b' },
          roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: 'view' },
          subjects: [{ kind: 'User', apiGroup: GROUP, name: 'alice' }],
        },
      },
    };
    const alice = asToken('alice-token');
    assert.equal((await alice('POST', '/api/v1/namespaces/team-a/secrets', secretBody('e'))).status, 201);
    assert.equal((await alice('POST', '/api/v1/namespaces/team-a/serviceaccounts/default/token', {})).status, 201);
    assert.equal((await alice('GET', '/api/v1/namespaces/team-a')).status, 200, 'edit reads its own namespace');
    assert.equal((await alice('GET', '/api/v1/namespaces/team-b/serviceaccounts/default')).status, 200);
    assert.equal((await alice('GET', '/api/v1/namespaces/team-b/secrets')).status, 403);
    assert.equal((await alice('GET', `${RBAC}/namespaces/team-a/roles`)).status, 403, 'edit does not read roles (admin does)');
  });
});

describe('impersonation (kubectl --as, --as-group)', () => {
  /** A GET as the admin (or `token`) with Impersonate-* headers. */
  const asAdmin = ({ token, ...headers }: Record<string, string>, path = '/api/v1/namespaces/team-a/secrets/s1') =>
    kubeRequest(emu, 'GET', path, undefined, { token, headers });

  test('the admin acts as a service account (its groups implied) or as a user with groups; authorization is then theirs', async () => {
    seedUsers();
    grantAlice([{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]);
    const sa = await asAdmin({ 'Impersonate-User': SA_USER });
    assert.equal(sa.status, 403);
    assert.equal(
      sa.body.message,
      `secrets "s1" is forbidden: User "${SA_USER}" cannot get resource "secrets" in API group "" in the namespace "team-a"`,
    );
    assert.equal((await asAdmin({ 'Impersonate-User': 'alice' })).status, 200);
    const who = await kubeRequest(emu, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    assert.equal(who.body.status.userInfo.username, 'kubernetes-admin', 'without the headers, the admin');
    emu.state.kube.clusterroles!['read-dev'] = {
      apiVersion: `${GROUP}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'read-dev' },
      rules: [{ verbs: ['list'], apiGroups: [''], resources: ['secrets'] }],
    };
    emu.state.kube.clusterrolebindings!['read-dev'] = {
      apiVersion: `${GROUP}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'read-dev' },
      roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: 'read-dev' },
      subjects: [{ kind: 'Group', apiGroup: GROUP, name: 'qa' }],
    };
    assert.equal((await asAdmin({ 'Impersonate-User': 'carol', 'Impersonate-Group': 'qa' }, '/api/v1/secrets')).status, 200);
    assert.equal((await asAdmin({ 'Impersonate-User': 'carol' }, '/api/v1/secrets')).status, 403);
  });

  test('impersonating needs the impersonate verb on users, groups or serviceaccounts: the Forbidden names what was asked', async () => {
    const sa = await serviceAccountKubeconfig(emu, {
      namespace: 'ci',
      name: 'deployer',
      roles: { 'team-a': [{ verbs: ['impersonate'], apiGroups: [''], resources: ['serviceaccounts'], resourceNames: ['builder'] }] },
    });
    const user = await asAdmin({ token: sa.token, 'Impersonate-User': 'alice' });
    assert.equal(user.status, 403);
    assert.deepEqual(
      user.body,
      statusOf(`users "alice" is forbidden: User "${SA_USER}" cannot impersonate resource "users" in API group "" at the cluster scope`, {
        name: 'alice',
        kind: 'users',
      }),
    );
    const other = await asAdmin({ token: sa.token, 'Impersonate-User': 'system:serviceaccount:team-a:other' });
    assert.equal(
      other.body.message,
      `serviceaccounts "other" is forbidden: User "${SA_USER}" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team-a"`,
    );
    const group = await asAdmin({
      token: sa.token,
      'Impersonate-User': 'system:serviceaccount:team-a:builder',
      'Impersonate-Group': 'system:masters',
    });
    assert.equal(
      group.body.message,
      `groups "system:masters" is forbidden: User "${SA_USER}" cannot impersonate resource "groups" in API group "" at the cluster scope`,
    );
    await kubeRequest(emu, 'POST', '/api/v1/namespaces/team-a/serviceaccounts', { metadata: { name: 'builder' } });
    const allowed = await asAdmin({ token: sa.token, 'Impersonate-User': 'system:serviceaccount:team-a:builder' });
    assert.equal(
      allowed.body.message,
      'secrets "s1" is forbidden: User "system:serviceaccount:team-a:builder" cannot get resource "secrets" in API group "" in the namespace "team-a"',
    );
    const noUser = await asAdmin({ 'Impersonate-Group': 'qa' });
    assert.equal(noUser.status, 500);
  });
});

describe('the RBAC resources', () => {
  const create = (path: string, body: unknown, token?: string) => kubeRequest(emu, 'POST', path, body, { token });

  test('create, get, list, update, delete; defaults for roleRef and subjects; managed fields in rbac.authorization.k8s.io/v1', async () => {
    const binding = await create(`${RBAC}/namespaces/team-a/rolebindings`, {
      apiVersion: `${GROUP}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'b' },
      roleRef: { kind: 'ClusterRole', name: 'view' },
      subjects: [
        { name: 'alice', kind: 'User' },
        { kind: 'ServiceAccount', name: 'default' },
      ],
    });
    assert.equal(binding.status, 201, JSON.stringify(binding.body));
    assert.deepEqual(binding.body.roleRef, { apiGroup: GROUP, kind: 'ClusterRole', name: 'view' });
    assert.deepEqual(binding.body.subjects, [
      { kind: 'User', apiGroup: GROUP, name: 'alice' },
      { kind: 'ServiceAccount', name: 'default' },
    ]);
    assert.equal(binding.body.metadata.managedFields[0].apiVersion, `${GROUP}/v1`);
    const got = await kubeRequest(emu, 'GET', `${RBAC}/namespaces/team-a/rolebindings/b`);
    assert.equal(got.body.apiVersion, `${GROUP}/v1`);
    const list = await kubeRequest(emu, 'GET', `${RBAC}/rolebindings`);
    assert.equal(list.body.kind, 'RoleBindingList');
    assert.equal(list.body.apiVersion, `${GROUP}/v1`);
    assert.deepEqual(
      list.body.items.map((i: { metadata: { name: string } }) => i.metadata.name),
      ['b'],
    );
    const upd = await kubeRequest(emu, 'PUT', `${RBAC}/namespaces/team-a/rolebindings/b`, { ...got.body, subjects: [] });
    assert.equal(upd.status, 200);
    const changed = await kubeRequest(emu, 'PUT', `${RBAC}/namespaces/team-a/rolebindings/b`, {
      ...got.body,
      roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: 'edit' },
      metadata: { name: 'b' },
    });
    assert.equal(changed.status, 422);
    assert.equal(
      changed.body.message,
      'RoleBinding.rbac.authorization.k8s.io "b" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
    );
    assert.deepEqual({ group: changed.body.details.group, kind: changed.body.details.kind }, { group: GROUP, kind: 'RoleBinding' });
    const del = await kubeRequest(emu, 'DELETE', `${RBAC}/namespaces/team-a/rolebindings/b`);
    assert.equal(del.status, 200);
    assert.deepEqual(del.body.details, { name: 'b', group: GROUP, kind: 'rolebindings', uid: got.body.metadata.uid });
    const again = await kubeRequest(emu, 'GET', `${RBAC}/namespaces/team-a/rolebindings/b`);
    assert.equal(again.status, 404);
    assert.deepEqual(again.body.details, { name: 'b', group: GROUP, kind: 'rolebindings' });
    assert.equal(again.body.message, 'rolebindings.rbac.authorization.k8s.io "b" not found');
  });

  const invalid: [string, string, unknown, string][] = [
    [
      'a rule without verbs, groups or resources',
      `${RBAC}/namespaces/team-a/roles`,
      { metadata: { name: 'r' }, rules: [{}] },
      'Role.rbac.authorization.k8s.io "r" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, rules[0].apiGroups: Required value: resource rules must supply at least one api group, rules[0].resources: Required value: resource rules must supply at least one resource]',
    ],
    [
      'non-resource URLs in a Role',
      `${RBAC}/namespaces/team-a/roles`,
      { metadata: { name: 'r' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }] },
      'Role.rbac.authorization.k8s.io "r" is invalid: rules[0].nonResourceURLs: Invalid value: []string{"/metrics"}: namespaced rules cannot apply to non-resource URLs',
    ],
    [
      'URLs and resources together',
      `${RBAC}/clusterroles`,
      { metadata: { name: 'r' }, rules: [{ verbs: ['get'], resources: ['x'], nonResourceURLs: ['/a', '/b'] }] },
      'ClusterRole.rbac.authorization.k8s.io "r" is invalid: rules[0].nonResourceURLs: Invalid value: []string{"/a", "/b"}: rules cannot apply to both regular resources and non-resource URLs',
    ],
    [
      'a name with a slash',
      `${RBAC}/clusterroles`,
      { metadata: { name: 'a/b' }, rules: [] },
      `ClusterRole.rbac.authorization.k8s.io "a/b" is invalid: metadata.name: Invalid value: "a/b": may not contain '/'`,
    ],
    [
      'a binding to a kind that is not a role',
      `${RBAC}/namespaces/team-a/rolebindings`,
      { metadata: { name: 'b' }, roleRef: { apiGroup: GROUP, kind: 'Secret', name: 'x' } },
      'RoleBinding.rbac.authorization.k8s.io "b" is invalid: roleRef.kind: Unsupported value: "Secret": supported values: "Role", "ClusterRole"',
    ],
    [
      'a cluster binding to a Role',
      `${RBAC}/clusterrolebindings`,
      { metadata: { name: 'b' }, roleRef: { apiGroup: GROUP, kind: 'Role', name: 'x' } },
      'ClusterRoleBinding.rbac.authorization.k8s.io "b" is invalid: roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    ],
    [
      'subjects: a service account without namespace in a cluster binding, a user in the core group, an unknown kind',
      `${RBAC}/clusterrolebindings`,
      {
        metadata: { name: 'b' },
        roleRef: { kind: 'ClusterRole', name: 'view' },
        subjects: [
          { kind: 'ServiceAccount', name: 'x' },
          { kind: 'User', apiGroup: 'v1', name: 'a' },
          { kind: 'Robot', name: 'r' },
        ],
      },
      'ClusterRoleBinding.rbac.authorization.k8s.io "b" is invalid: [subjects[0].namespace: Required value, subjects[1].apiGroup: Unsupported value: "v1": supported values: "rbac.authorization.k8s.io", subjects[2].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"]',
    ],
  ];
  test('unknown fields in rules, subjects and roleRef: refused under fieldValidation=Strict, else dropped with a warning', async () => {
    const role = { metadata: { name: 'typo' }, rules: [{ verb: ['get'], verbs: ['get'], apiGroups: [''], resources: ['secrets'] }] };
    const strict = await kubeRequest(emu, 'POST', `${RBAC}/namespaces/team-a/roles?fieldValidation=Strict`, role);
    assert.equal(strict.status, 400);
    assert.equal(strict.body.message, 'strict decoding error: unknown field "rules[0].verb"');
    const warned = await kubeRequest(emu, 'POST', `${RBAC}/namespaces/team-a/roles`, role);
    assert.equal(warned.status, 201);
    assert.deepEqual(warned.body.rules, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]);
  });

  for (const [name, path, body, message] of invalid) {
    test(`422: ${name}`, async () => {
      const r = await create(path, body);
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.message, message);
      assert.equal(r.body.details.group, GROUP);
    });
  }

  test('escalation: a user may grant only what it holds, unless it may escalate or bind', async () => {
    const sa = await serviceAccountKubeconfig(emu, { namespace: 'ci', name: 'deployer' });
    emu.state.kube.rolebindings = {
      'team-a': {
        a: {
          apiVersion: `${GROUP}/v1`,
          kind: 'RoleBinding',
          metadata: { name: 'a', namespace: 'team-a' },
          roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: 'admin' },
          subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' }],
        },
      },
    };
    const as = (path: string, body: unknown) => create(path, body, sa.token);
    const held = await as(`${RBAC}/namespaces/team-a/roles`, {
      metadata: { name: 'held' },
      rules: [{ verbs: ['get', 'create'], apiGroups: [''], resources: ['secrets'] }],
    });
    assert.equal(held.status, 201, JSON.stringify(held.body));
    const more = await as(`${RBAC}/namespaces/team-a/roles`, {
      metadata: { name: 'more' },
      rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['nodes', 'secrets'] }],
    });
    assert.equal(more.status, 403);
    assert.equal(
      more.body.message,
      `roles.rbac.authorization.k8s.io "more" is forbidden: user "${SA_USER}" (groups=["system:serviceaccounts" "system:serviceaccounts:ci" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get" "list"]}`,
    );
    const toAdmin = await as(`${RBAC}/namespaces/team-a/rolebindings`, {
      metadata: { name: 'up' },
      roleRef: { kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'User', name: 'mallory' }],
    });
    assert.equal(toAdmin.status, 403);
    assert.equal(
      toAdmin.body.message,
      `rolebindings.rbac.authorization.k8s.io "up" is forbidden: user "${SA_USER}" (groups=["system:serviceaccounts" "system:serviceaccounts:ci" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}`,
    );
    const toMissing = await as(`${RBAC}/namespaces/team-a/rolebindings`, {
      metadata: { name: 'm' },
      roleRef: { kind: 'Role', name: 'none' },
      subjects: [],
    });
    assert.equal(toMissing.body.message, 'rolebindings.rbac.authorization.k8s.io "m" is forbidden: role.rbac.authorization.k8s.io "none" not found');
    emu.state.kube.clusterroles!.binder = {
      apiVersion: `${GROUP}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'binder' },
      rules: [
        { verbs: ['bind'], apiGroups: [GROUP], resources: ['clusterroles'], resourceNames: ['cluster-admin'] },
        { verbs: ['escalate'], apiGroups: [GROUP], resources: ['roles'] },
      ],
    };
    emu.state.kube.rolebindings['team-a'].binder = {
      apiVersion: `${GROUP}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'binder', namespace: 'team-a' },
      roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: 'binder' },
      subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' }],
    };
    assert.equal(
      (
        await as(`${RBAC}/namespaces/team-a/rolebindings`, {
          metadata: { name: 'up' },
          roleRef: { kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ kind: 'User', name: 'mallory' }],
        })
      ).status,
      201,
      'bind on cluster-admin',
    );
    assert.equal(
      (
        await as(`${RBAC}/namespaces/team-a/roles`, {
          metadata: { name: 'more' },
          rules: [{ verbs: ['list'], apiGroups: [''], resources: ['nodes'] }],
        })
      ).status,
      201,
      'escalate on roles',
    );
  });
});

describe('self reviews', () => {
  const ssar = (token: string, spec: unknown) =>
    asToken(token)('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec,
    });

  test('SelfSubjectAccessReview: allowed with the binding that allows it, denied without a reason; a path; invalid specs', async () => {
    seedUsers();
    grantAlice([{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]);
    const yes = await ssar('alice-token', { resourceAttributes: { namespace: 'team-a', verb: 'get', resource: 'secrets' } });
    assert.equal(yes.status, 201);
    assert.deepEqual(yes.body.status, { allowed: true, reason: 'RBAC: allowed by RoleBinding "r/team-a" of Role "r" to User "alice"' });
    const no = await ssar('alice-token', { resourceAttributes: { namespace: 'team-a', verb: 'list', resource: 'secrets' } });
    assert.deepEqual(no.body.status, { allowed: false });
    const pods = await ssar('alice-token', { resourceAttributes: { namespace: 'team-a', verb: 'get', resource: 'pods', subresource: 'log' } });
    assert.deepEqual(pods.body.status, { allowed: false });
    const path = await ssar('alice-token', { nonResourceAttributes: { path: '/version', verb: 'get' } });
    assert.deepEqual(path.body.status, {
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"',
    });
    const neither = await ssar('alice-token', {});
    assert.equal(neither.status, 422);
    assert.equal(
      neither.body.message,
      'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  });

  test('SelfSubjectRulesReview lists the rules in the namespace; needs a namespace', async () => {
    seedUsers();
    grantAlice([{ verbs: ['get', 'patch'], apiGroups: [''], resources: ['secrets'], resourceNames: ['s1'] }]);
    const r = await asToken('alice-token')('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      spec: { namespace: 'team-a' },
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.status.resourceRules.at(-1), { verbs: ['get', 'patch'], apiGroups: [''], resources: ['secrets'], resourceNames: ['s1'] });
    assert.ok(r.body.status.nonResourceRules.some((x: { nonResourceURLs: string[] }) => x.nonResourceURLs.includes('/api')));
    assert.equal(r.body.status.incomplete, false);
    const none = await asToken('alice-token')('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      spec: {},
    });
    assert.equal(none.status, 400);
    assert.equal(none.body.message, 'no namespace on request');
  });
});

describe('controllers act after their delay (issue #15 item 2)', () => {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const sa = (ns: string) => kubeRequest(emu, 'GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`);

  test('by default the default service account exists as soon as the namespace does', async () => {
    assert.equal((await kubeRequest(emu, 'POST', '/api/v1/namespaces', { metadata: { name: 'now' } })).status, 201);
    assert.equal((await sa('now')).status, 200);
  });

  test('with serviceAccountDelayMs the service account controller creates it later; deleted, it comes back later', async () => {
    emu.state.kube.controllers = { serviceAccountDelayMs: 300 };
    assert.equal((await kubeRequest(emu, 'POST', '/api/v1/namespaces', { metadata: { name: 'later' } })).status, 201);
    const early = await sa('later');
    assert.equal(early.status, 404);
    assert.equal(early.body.message, 'serviceaccounts "default" not found');
    await wait(500);
    const made = await sa('later');
    assert.equal(made.status, 200);
    assert.match(made.body.metadata.uid, /^[0-9a-f-]{36}$/);
    await kubeRequest(emu, 'DELETE', '/api/v1/namespaces/later/serviceaccounts/default');
    assert.equal((await sa('later')).status, 404);
    await wait(500);
    const back = await sa('later');
    assert.equal(back.status, 200);
    assert.notEqual(back.body.metadata.uid, made.body.metadata.uid);
  });

  test('a reset cancels what the controllers had yet to do', async () => {
    emu.state.kube.controllers = { serviceAccountDelayMs: 200 };
    await kubeRequest(emu, 'POST', '/api/v1/namespaces', { metadata: { name: 'team-c' } });
    emu.reset();
    emu.state.kube.namespaces['team-c'] = structuredClone(emu.state.kube.namespaces['team-b']);
    await wait(400);
    assert.equal(emu.state.kube.serviceaccounts['team-c'], undefined);
  });

  test('with namespaceDeletionDelayMs a deleted namespace stays Terminating: no new content, a second delete is a 409, then it is gone', async () => {
    emu.state.kube.controllers = { namespaceDeletionDelayMs: 300 };
    const del = await kubeRequest(emu, 'DELETE', '/api/v1/namespaces/team-b');
    assert.equal(del.status, 200);
    assert.equal(del.body.status.phase, 'Terminating');
    assert.equal((await kubeRequest(emu, 'GET', '/api/v1/namespaces/team-b')).body.status.phase, 'Terminating');
    const write = await kubeRequest(emu, 'POST', '/api/v1/namespaces/team-b/secrets', secretBody('x'));
    assert.equal(write.status, 403);
    assert.equal(write.body.message, 'unable to create new content in namespace team-b because it is being terminated');
    const again = await kubeRequest(emu, 'DELETE', '/api/v1/namespaces/team-b');
    assert.equal(again.status, 409);
    assert.equal(
      again.body.message,
      'Operation cannot be fulfilled on namespaces "team-b": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
    );
    assert.equal((await sa('team-b')).status, 200, 'its content is still there');
    await wait(500);
    assert.equal((await kubeRequest(emu, 'GET', '/api/v1/namespaces/team-b')).status, 404);
    assert.equal((await sa('team-b')).status, 404);
  });
});
