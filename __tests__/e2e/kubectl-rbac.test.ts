// The real kubectl against the emulator's RBAC (issue #15 item 1): as the admin it creates a
// service account, a Role and a RoleBinding (its typed clients send protobuf) and mints the
// account's token (`kubectl create token`, the TokenRequest API); as that account it asks `auth
// can-i` (SelfSubjectAccessReview), `auth can-i --list` (SelfSubjectRulesReview) and `auth
// whoami`, and meets kube-apiserver's Forbidden word for word; the admin asks the same with --as
// (impersonation). Under CI=true a missing kubectl fails these tests instead of skipping them.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { serviceAccountKubeconfig } from '../helpers/kube-rbac.ts';
import { requireBinaries, run } from '../helpers/registry.ts';

let skip: string | undefined;
let emu: Emulator;
before(async () => {
  skip = await requireBinaries(['kubectl']);
  if (!skip) emu = await startEmulator({ quiet: true });
});
after(async () => {
  await emu?.close();
});
beforeEach(() => emu?.reset());

const SA = 'system:serviceaccount:ci:deployer';

async function kubectl(kubeconfig: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('kubectl', ['--kubeconfig', kubeconfig, ...args], { input });
}
const admin = (args: string[], input?: string) => kubectl(emu.kubeconfigPath, args, input);

/** What README's least-privilege Role for a pull secret in team-a grants (secrets get/create/patch), held by ci/deployer. */
const DEPLOYER_ROLE = [
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'patch'] },
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'patch'], resourceNames: ['default'] },
];

describe('kubectl and RBAC', () => {
  test('as the admin: create sa, role, rolebinding (protobuf), create token; the token is the account', async (t) => {
    if (skip) return t.skip(skip);
    for (const args of [
      ['create', 'namespace', 'ci'],
      ['create', 'serviceaccount', 'deployer', '-n', 'ci'],
      ['create', 'role', 'secret-writer', '-n', 'team-a', '--verb=get,create,patch', '--resource=secrets'],
      ['create', 'rolebinding', 'deployer', '-n', 'team-a', '--role=secret-writer', '--serviceaccount=ci:deployer'],
    ]) {
      const r = await admin(args);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    }
    const role = emu.state.kube.roles!['team-a']['secret-writer'];
    assert.deepEqual(role.rules, [{ verbs: ['get', 'create', 'patch'], apiGroups: [''], resources: ['secrets'] }]);
    assert.deepEqual(emu.state.kube.rolebindings!['team-a'].deployer.subjects, [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' }]);
    const table = await admin(['get', 'roles,rolebindings', '-n', 'team-a', '-o', 'wide']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^role\.rbac\.authorization\.k8s\.io\/secret-writer\s+\d{4}-\d\d-\d\dT/m);
    assert.match(table.stdout, /^rolebinding\.rbac\.authorization\.k8s\.io\/deployer\s+Role\/secret-writer\s+\S+\s+ci\/deployer$/m);

    const token = await admin(['create', 'token', 'deployer', '-n', 'ci', '--duration=15m']);
    assert.equal(token.code, 0, token.stderr);
    const kubeconfig = join(emu.dir, 'deployer.kubeconfig');
    writeFileSync(kubeconfig, readFileSync(emu.kubeconfigPath, 'utf8').replace(/^(\s*token: ).*$/m, `$1${JSON.stringify(token.stdout.trim())}`), {
      mode: 0o600,
    });
    const who = await kubectl(kubeconfig, ['auth', 'whoami', '-o', 'json']);
    assert.equal(who.code, 0, who.stderr);
    const userInfo = JSON.parse(who.stdout).status.userInfo;
    assert.equal(userInfo.username, SA);
    assert.deepEqual(userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated']);
    const can = await kubectl(kubeconfig, ['auth', 'can-i', 'create', 'secrets', '-n', 'team-a']);
    assert.equal(can.stdout.trim(), 'yes');
    assert.equal(can.code, 0);
  });

  test('auth can-i answers each verb on each resource as the Role says (exit 0 yes, 1 no)', async (t) => {
    if (skip) return t.skip(skip);
    const sa = await serviceAccountKubeconfig(emu, { namespace: 'ci', name: 'deployer', roles: { 'team-a': DEPLOYER_ROLE } });
    const cases: [string[], 'yes' | 'no'][] = [
      [['get', 'secrets', '-n', 'team-a'], 'yes'],
      [['create', 'secrets', '-n', 'team-a'], 'yes'],
      [['patch', 'secrets', '-n', 'team-a'], 'yes'],
      [['update', 'secrets', '-n', 'team-a'], 'no'],
      [['list', 'secrets', '-n', 'team-a'], 'no'],
      [['delete', 'secrets', '-n', 'team-a'], 'no'],
      [['get', 'secrets', '-n', 'team-b'], 'no'],
      [['patch', 'serviceaccounts/default', '-n', 'team-a'], 'yes'],
      [['patch', 'serviceaccounts/builder', '-n', 'team-a'], 'no'],
      [['get', 'namespaces/team-a'], 'no'],
      [['create', 'namespaces'], 'no'],
      [['get', '/version'], 'yes'],
      [['get', '/metrics'], 'no'],
    ];
    for (const [args, want] of cases) {
      const r = await kubectl(sa.path, ['auth', 'can-i', ...args]);
      assert.equal(r.stdout.trim(), want, `can-i ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.code, want === 'yes' ? 0 : 1);
    }
    // the admin asks the same as the account (impersonation): the same answers
    for (const [verb, want] of [
      ['create', 'yes'],
      ['list', 'no'],
    ]) {
      const r = await admin(['auth', 'can-i', verb, 'secrets', '-n', 'team-a', `--as=${SA}`]);
      assert.equal(r.stdout.trim(), want, `--as can-i ${verb}: ${r.stderr}`);
    }
    const asGet = await admin(['get', 'secrets', '-n', 'team-a', `--as=${SA}`]);
    assert.equal(
      asGet.stderr.trim(),
      `Error from server (Forbidden): secrets is forbidden: User "${SA}" cannot list resource "secrets" in API group "" in the namespace "team-a"`,
    );
    const list = await kubectl(sa.path, ['auth', 'can-i', '--list', '-n', 'team-a']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^secrets\s+\[\]\s+\[\]\s+\[get create patch\]$/m);
    assert.match(list.stdout, /^serviceaccounts\s+\[\]\s+\[default\]\s+\[get patch\]$/m);
    assert.match(list.stdout, /^\s+\[\/api\]\s+\[\]\s+\[get\]$/m);
  });

  test('as the service account, kubectl meets the Forbidden kube-apiserver writes, word for word', async (t) => {
    if (skip) return t.skip(skip);
    const sa = await serviceAccountKubeconfig(emu, { namespace: 'ci', name: 'deployer', roles: { 'team-a': DEPLOYER_ROLE } });
    const as = (args: string[], input?: string) => kubectl(sa.path, args, input);
    const forbidden: [string[], string][] = [
      [
        ['get', 'secrets', '-n', 'team-a'],
        `secrets is forbidden: User "${SA}" cannot list resource "secrets" in API group "" in the namespace "team-a"`,
      ],
      [
        ['get', 'secret', 'x', '-n', 'team-b'],
        `secrets "x" is forbidden: User "${SA}" cannot get resource "secrets" in API group "" in the namespace "team-b"`,
      ],
      [
        ['get', 'namespace', 'team-a'],
        `namespaces "team-a" is forbidden: User "${SA}" cannot get resource "namespaces" in API group "" in the namespace "team-a"`,
      ],
      [['get', 'namespaces'], `namespaces is forbidden: User "${SA}" cannot list resource "namespaces" in API group "" at the cluster scope`],
      [
        ['create', 'namespace', 'fresh'],
        `namespaces is forbidden: User "${SA}" cannot create resource "namespaces" in API group "" at the cluster scope`,
      ],
      [
        ['get', '--raw', '/api/v1/namespaces/team-a/pods'],
        `pods is forbidden: User "${SA}" cannot list resource "pods" in API group "" in the namespace "team-a"`,
      ],
      [
        ['get', 'roles', '-n', 'team-a'],
        `roles.rbac.authorization.k8s.io is forbidden: User "${SA}" cannot list resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "team-a"`,
      ],
    ];
    for (const [args, message] of forbidden) {
      const r = await as(args);
      assert.equal(r.code, 1, `kubectl ${args.join(' ')}`);
      assert.equal(r.stderr.trim().split('\n').at(-1), `Error from server (Forbidden): ${message}`, `kubectl ${args.join(' ')}`);
    }
    // what the Role allows works
    const created = await as(['create', 'secret', 'generic', 'made', '--from-literal=k=v', '-n', 'team-a']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await as(['get', 'secret', 'made', '-n', 'team-a', '-o', 'name'])).stdout.trim(), 'secret/made');
    // server-side apply of a missing object asks for create too; with get/create/patch it creates
    const manifest = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: applied\n  namespace: team-a\nstringData:\n  k: v\n';
    const applied = await as(['apply', '--server-side', '-f', '-'], manifest);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout.trim(), 'secret/applied serverside-applied');
    const other = manifest.replace('team-a', 'team-b');
    const refused = await as(['apply', '--server-side', '-f', '-'], other);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      new RegExp(`secrets "applied" is forbidden: User "${SA}" cannot patch resource "secrets" in API group "" in the namespace "team-b"`),
    );
    // the binding removed, the same request is refused
    assert.equal((await admin(['delete', 'rolebinding', 'deployer', '-n', 'team-a'])).code, 0);
    const after = await as(['get', 'secret', 'made', '-n', 'team-a']);
    assert.equal(
      after.stderr.trim(),
      `Error from server (Forbidden): secrets "made" is forbidden: User "${SA}" cannot get resource "secrets" in API group "" in the namespace "team-a"`,
    );
  });

  test('kubectl apply -f of RBAC objects (client-side, OpenAPI-validated); escalation refused as the apiserver words it', async (t) => {
    if (skip) return t.skip(skip);
    const manifest = [
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: Role',
      'metadata:',
      '  name: reader',
      '  namespace: team-b',
      'rules:',
      '- apiGroups: [""]',
      '  resources: [secrets]',
      '  verbs: [get, list]',
      '---',
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: RoleBinding',
      'metadata:',
      '  name: reader',
      '  namespace: team-b',
      'roleRef: {kind: Role, name: reader, apiGroup: rbac.authorization.k8s.io}',
      'subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]',
      '',
    ].join('\n');
    const sa = await serviceAccountKubeconfig(emu, {
      namespace: 'ci',
      name: 'deployer',
      roles: { 'team-a': [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['create'] }] },
    });
    const applied = await admin(['apply', '-f', '-'], manifest);
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(applied.stdout.trim().split('\n'), [
      'role.rbac.authorization.k8s.io/reader created',
      'rolebinding.rbac.authorization.k8s.io/reader created',
    ]);
    assert.equal((await kubectl(sa.path, ['get', 'secrets', '-n', 'team-b', '-o', 'name'])).code, 0, 'the applied binding grants list in team-b');
    const escalate = await kubectl(sa.path, ['create', 'role', 'wider', '-n', 'team-a', '--verb=get', '--resource=secrets']);
    assert.equal(escalate.code, 1);
    assert.equal(
      escalate.stderr.trim(),
      `Error from server (Forbidden): roles.rbac.authorization.k8s.io "wider" is forbidden: user "${SA}" (groups=["system:serviceaccounts" "system:serviceaccounts:ci" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`,
    );
  });
});
