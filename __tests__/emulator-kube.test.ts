// The emulator's Kubernetes API server: the pure apply/patch logic, the handler on its own, and the
// whole server driven by the unmodified kubectl and @kubernetes/client-node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { handlers } from '../emulator/kube/index.ts';
import { fromFieldsV1, toFieldsV1 } from '../emulator/kube/fieldsets.ts';
import { conflictStatus, serverSideApply, updateManagedFields } from '../emulator/kube/managed-fields.ts';
import { PatchError, jsonMergePatch, jsonPatch, strategicMergePatch } from '../emulator/kube/patch.ts';
import { startEmulator } from '../emulator/server.ts';
import type { Emulator } from '../emulator/server.ts';
import type { EmuContext, EmuRequest, EmulatorState, KubeObject } from '../emulator/types.ts';

const NOW = '2025-01-01T00:00:00Z';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

// ------------------------------------------------------------------ pure logic (kube-apply.ts)

describe('kube-apply: managed fields and server-side apply', () => {
  const created = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's', namespace: 'n' },
    data: { '.dockerconfigjson': b64('{}') },
    type: 'kubernetes.io/dockerconfigjson',
  };

  test('an Update on create owns what it set, in the FieldsV1 format (metadata names stripped)', () => {
    const mf = updateManagedFields({ kind: 'Secret', live: undefined, next: created, manager: 'kubectl-create', now: NOW });
    assert.deepEqual(mf, [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: NOW,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { '.': {}, 'f:.dockerconfigjson': {} }, 'f:type': {} },
      },
    ]);
    assert.deepEqual([...fromFieldsV1(mf[0].fieldsV1)].length, 3);
    assert.deepEqual(toFieldsV1(fromFieldsV1(mf[0].fieldsV1)), mf[0].fieldsV1);
  });

  test('apply of a field another manager owns with another value conflicts; same value is shared; force takes it', () => {
    const live = {
      ...created,
      metadata: {
        ...created.metadata,
        managedFields: updateManagedFields({ kind: 'Secret', live: undefined, next: created, manager: 'kubectl-create', now: NOW }),
      },
    };
    const differing = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'n' },
      data: { '.dockerconfigjson': b64('{"auths":{}}') },
    };
    const r = serverSideApply({ kind: 'Secret', live, config: differing, manager: 'acr', force: false, now: NOW });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.conflicts, [
      { manager: 'kubectl-create', operation: 'Update', apiVersion: 'v1', subresource: undefined, path: '.data..dockerconfigjson' },
    ]);
    const st = conflictStatus(r.conflicts);
    assert.equal(st.message, 'Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data..dockerconfigjson');
    assert.deepEqual(st.causes, [
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-create" using v1', field: '.data..dockerconfigjson' },
    ]);

    const same = serverSideApply({ kind: 'Secret', live, config: { ...differing, data: created.data }, manager: 'acr', force: false, now: NOW });
    assert.ok(same.ok);
    if (!same.ok) return;
    assert.equal(same.changed, false);
    const owners = same.managedFields.filter((m) => JSON.stringify(m.fieldsV1).includes('f:.dockerconfigjson')).map((m) => m.manager);
    assert.deepEqual(owners.sort(), ['acr', 'kubectl-create']);

    const forced = serverSideApply({ kind: 'Secret', live, config: differing, manager: 'acr', force: true, now: NOW });
    assert.ok(forced.ok);
    if (!forced.ok) return;
    assert.deepEqual((forced.object.data as Record<string, string>)['.dockerconfigjson'], b64('{"auths":{}}'));
    assert.deepEqual(
      forced.managedFields.map((m) => [m.manager, m.operation, m.fieldsV1]),
      [
        ['acr', 'Apply', { 'f:data': { 'f:.dockerconfigjson': {} } }],
        ['kubectl-create', 'Update', { 'f:data': {}, 'f:type': {} }],
      ],
    );
  });

  test('apply prunes what the manager applied before and omits now, unless someone else owns it', () => {
    const base = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', labels: { a: '1', b: '2' } }, data: { x: b64('1'), y: b64('2') } };
    const first = serverSideApply({ kind: 'Secret', live: undefined, config: base, manager: 'm1', force: false, now: NOW });
    assert.ok(first.ok);
    if (!first.ok) return;
    // m2 co-owns label b by applying the same value
    const live1 = { ...first.object, metadata: { ...(first.object.metadata as object), managedFields: first.managedFields } };
    const second = serverSideApply({
      kind: 'Secret',
      live: live1,
      config: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', labels: { b: '2' } } },
      manager: 'm2',
      force: false,
      now: NOW,
    });
    assert.ok(second.ok);
    if (!second.ok) return;
    const live2 = { ...second.object, metadata: { ...(second.object.metadata as object), managedFields: second.managedFields } };
    const third = serverSideApply({
      kind: 'Secret',
      live: live2,
      config: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { x: b64('1') } },
      manager: 'm1',
      force: false,
      now: NOW,
    });
    assert.ok(third.ok);
    if (!third.ok) return;
    assert.deepEqual((third.object.metadata as { labels: unknown }).labels, { b: '2' });
    assert.deepEqual(third.object.data, { x: b64('1') });
    assert.equal(third.changed, true);
  });
});

describe('kube-apply: patches', () => {
  const sa = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'default', labels: { keep: 'me', drop: 'me' } },
    secrets: [{ name: 'a' }],
    imagePullSecrets: [{ name: 'old' }],
  };

  test('JSON merge patch (RFC 7386): objects merge, null deletes, lists replace', () => {
    const out = jsonMergePatch(sa, { metadata: { labels: { drop: null, add: 'x' } }, secrets: [{ name: 'b' }] }) as typeof sa;
    assert.deepEqual(out.metadata.labels, { keep: 'me', add: 'x' });
    assert.deepEqual(out.secrets, [{ name: 'b' }]);
  });

  test('strategic merge patch: `secrets` merges by name, `imagePullSecrets` (no patch strategy) is replaced, $patch: delete removes', () => {
    const out = strategicMergePatch(sa, { secrets: [{ name: 'b' }], imagePullSecrets: [{ name: 'new' }] }, 'ServiceAccount') as typeof sa;
    assert.deepEqual(out.secrets, [{ name: 'a' }, { name: 'b' }]);
    assert.deepEqual(out.imagePullSecrets, [{ name: 'new' }]);
    const del = strategicMergePatch(out, { secrets: [{ name: 'a', $patch: 'delete' }] }, 'ServiceAccount') as typeof sa;
    assert.deepEqual(del.secrets, [{ name: 'b' }]);
  });

  test('JSON patch (RFC 6902) applies in order and a failed test is a 422 naming the path', () => {
    const out = jsonPatch(sa, [
      { op: 'test', path: '/metadata/name', value: 'default' },
      { op: 'add', path: '/imagePullSecrets/-', value: { name: 'x' } },
      { op: 'remove', path: '/metadata/labels/drop' },
      { op: 'replace', path: '/secrets/0/name', value: 'z' },
    ]) as typeof sa;
    assert.deepEqual(out.imagePullSecrets, [{ name: 'old' }, { name: 'x' }]);
    assert.deepEqual(out.metadata.labels, { keep: 'me' });
    assert.deepEqual(out.secrets, [{ name: 'z' }]);
    assert.throws(
      () => jsonPatch(sa, [{ op: 'test', path: '/metadata/name', value: 'other' }]),
      (e: unknown) => e instanceof PatchError && e.code === 422 && e.message === 'testing value /metadata/name failed: test failed',
    );
    assert.throws(
      () => jsonPatch(sa, [{ op: 'remove', path: '/nope' }]),
      (e: unknown) => e instanceof PatchError && e.code === 422,
    );
  });
});

// ------------------------------------------------------------------ the handler on its own

describe('kube handler (direct calls)', () => {
  const state = { kube: { token: 'tok', resourceVersion: 5, namespaces: {}, secrets: {}, serviceaccounts: {} } } as unknown as EmulatorState;
  let guid = 0;
  const ctx = {
    state,
    baseUrl: 'https://127.0.0.1:1',
    port: 1,
    newGuid: () => `00000000-0000-4000-8000-${String(++guid).padStart(12, '0')}`,
    now: () => new Date(NOW),
  } as unknown as EmuContext;
  const call = (method: string, path: string, opts: { bearer?: string; body?: unknown; contentType?: string } = {}) => {
    const url = new URL(`https://127.0.0.1:1${path}`);
    const body = opts.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(opts.body));
    const req: EmuRequest = {
      method,
      url,
      path: url.pathname,
      query: url.searchParams,
      headers: { 'content-type': opts.contentType ?? 'application/json', 'user-agent': 'unit-test/1.0' },
      hostname: '127.0.0.1',
      body,
      json: opts.body,
      bearer: opts.bearer ?? 'tok',
    };
    return handlers[0](req, ctx) as { status: number; body: any } | undefined;
  };

  test('leaves non-Kubernetes paths alone and answers 401 Status without the cluster token', () => {
    assert.equal(call('GET', '/subscriptions/x'), undefined);
    assert.equal(call('GET', '/graph/v1.0/applications'), undefined);
    const r = call('GET', '/api/v1/namespaces', { bearer: 'wrong' });
    assert.equal(r?.status, 401);
    assert.deepEqual(r?.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
  });

  test('create namespace then secret; the manager defaults to the User-Agent; resourceVersion comes from the counter', () => {
    assert.equal(call('POST', '/api/v1/namespaces', { body: { metadata: { name: 'n1' } } })?.status, 201);
    const ns = state.kube.namespaces.n1;
    assert.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'n1' });
    assert.equal(ns.metadata.resourceVersion, '5');
    assert.ok(state.kube.serviceaccounts.n1.default, 'a new namespace gets its default service account');
    const r = call('POST', '/api/v1/namespaces/n1/secrets', { body: { metadata: { name: 's1' }, stringData: { k: 'v' } } });
    assert.equal(r?.status, 201);
    const s = state.kube.secrets.n1.s1;
    assert.deepEqual(s.data, { k: b64('v') });
    assert.equal(s.type, 'Opaque');
    assert.equal(s.stringData, undefined);
    assert.equal((s.metadata.managedFields as { manager: string }[])[0].manager, 'unit-test');
    assert.equal(s.metadata.resourceVersion, '7');
    assert.equal(state.kube.resourceVersion, 8);
    const missing = call('POST', '/api/v1/namespaces/nope/secrets', { body: { metadata: { name: 's1' } } });
    assert.equal(missing?.status, 404);
    assert.deepEqual(missing?.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'namespaces "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'namespaces' },
      code: 404,
    });
  });

  test('validation: names, dockerconfigjson JSON, immutable type, bad base64', () => {
    const bad = call('POST', '/api/v1/namespaces/n1/secrets', { body: { metadata: { name: 'Bad_Name' } } });
    assert.equal(bad?.status, 422);
    assert.equal(bad?.body.reason, 'Invalid');
    assert.equal(bad?.body.details.causes[0].field, 'metadata.name');
    const badNs = call('POST', '/api/v1/namespaces', { body: { metadata: { name: 'a.b' } } });
    assert.equal(badNs?.status, 422, 'namespace names are DNS-1123 labels');
    const dcj = call('POST', '/api/v1/namespaces/n1/secrets', {
      body: { metadata: { name: 'd' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{not json') } },
    });
    assert.equal(dcj?.status, 422);
    assert.equal(dcj?.body.details.causes[0].field, 'data[.dockerconfigjson]');
    assert.match(
      dcj?.body.message,
      /^Secret "d" is invalid: data\[\.dockerconfigjson\]: Invalid value: "<secret contents redacted>": invalid character/,
    );
    const immut = call('PUT', '/api/v1/namespaces/n1/secrets/s1', {
      body: { metadata: { name: 's1' }, type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } },
    });
    assert.equal(immut?.status, 422);
    assert.match(immut?.body.message, /type: Invalid value: "kubernetes\.io\/tls": field is immutable/);
    const b = call('POST', '/api/v1/namespaces/n1/secrets', { body: { metadata: { name: 'b' }, data: { k: 'not base64!' } } });
    assert.equal(b?.status, 400);
    assert.equal(state.kube.secrets.n1.b, undefined);
  });

  test('server-side apply takes a YAML body; a second apply of the same YAML stores nothing', () => {
    const yaml = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\n  labels:\n    team: a\nimagePullSecrets:\n- name: acr\n';
    const url = new URL('https://127.0.0.1:1/api/v1/namespaces/n1/serviceaccounts/builder?fieldManager=acr-kube-auth');
    const req = (): EmuRequest => ({
      method: 'PATCH',
      url,
      path: url.pathname,
      query: url.searchParams,
      headers: { 'content-type': 'application/apply-patch+yaml' },
      hostname: '127.0.0.1',
      body: Buffer.from(yaml),
      json: undefined,
      bearer: 'tok',
    });
    const first = handlers[0](req(), ctx) as { status: number };
    assert.equal(first.status, 201);
    const sa = state.kube.serviceaccounts.n1.builder;
    assert.deepEqual(sa.imagePullSecrets, [{ name: 'acr' }]);
    assert.deepEqual(sa.metadata.managedFields, [
      {
        manager: 'acr-kube-auth',
        operation: 'Apply',
        apiVersion: 'v1',
        time: NOW,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:imagePullSecrets': {}, 'f:metadata': { 'f:labels': { 'f:team': {} } } },
      },
    ]);
    const rv = sa.metadata.resourceVersion;
    const second = handlers[0](req(), ctx) as { status: number };
    assert.equal(second.status, 200);
    assert.equal(state.kube.serviceaccounts.n1.builder.metadata.resourceVersion, rv);
  });

  test('a protobuf body (what kubectl create sends) is decoded', () => {
    const varint = (n: number): Buffer => {
      const out: number[] = [];
      do {
        let b = n & 0x7f;
        n >>>= 7;
        if (n) b |= 0x80;
        out.push(b);
      } while (n);
      return Buffer.from(out);
    };
    const field = (num: number, value: Buffer | string): Buffer => {
      const v = typeof value === 'string' ? Buffer.from(value) : value;
      return Buffer.concat([varint((num << 3) | 2), varint(v.length), v]);
    };
    const meta = Buffer.concat([field(1, 'pb'), field(2, ''), field(11, Buffer.concat([field(1, 'app'), field(2, 'x')]))]);
    const secret = Buffer.concat([field(1, meta), field(2, Buffer.concat([field(1, 'k'), field(2, 'v')])), field(3, 'Opaque')]);
    const unknown = Buffer.concat([field(1, Buffer.concat([field(1, 'v1'), field(2, 'Secret')])), field(2, secret)]);
    const url = new URL('https://127.0.0.1:1/api/v1/namespaces/n1/secrets?fieldManager=kubectl-create');
    const r = handlers[0](
      {
        method: 'POST',
        url,
        path: url.pathname,
        query: url.searchParams,
        headers: { 'content-type': 'application/vnd.kubernetes.protobuf' },
        hostname: '127.0.0.1',
        body: Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), unknown]),
        json: undefined,
        bearer: 'tok',
      },
      ctx,
    ) as { status: number };
    assert.equal(r.status, 201);
    const s = state.kube.secrets.n1.pb;
    assert.deepEqual(s.data, { k: b64('v') });
    assert.deepEqual(s.metadata.labels, { app: 'x' });
    assert.equal(s.metadata.generateName, undefined, 'empty proto strings are unset');
  });

  test('discovery lists the core resources (pods and events too) and the token and status subresources, and the groups beyond core', () => {
    const legacy = call('GET', '/api/v1');
    assert.deepEqual(
      legacy?.body.resources.map((r: { name: string; namespaced: boolean }) => [r.name, r.namespaced]),
      [
        ['namespaces', false],
        ['secrets', true],
        ['serviceaccounts', true],
        ['serviceaccounts/token', true],
        ['pods', true],
        ['pods/status', true],
        ['events', true],
      ],
    );
    const groups = call('GET', '/apis')?.body;
    assert.equal(groups.kind, 'APIGroupList');
    assert.deepEqual(
      groups.groups.map((g: { name: string }) => g.name),
      ['authentication.k8s.io', 'authorization.k8s.io', 'rbac.authorization.k8s.io'],
    );
    assert.equal(call('GET', '/version')?.body.gitVersion, 'v1.32.0');
  });
});

// ------------------------------------------------------------------ the whole server, real clients

function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
// Locally a machine without kubectl skips these; CI must have it (it fails there instead).
const kubectlSkip = !kubectlAvailable() && process.env.CI !== 'true' ? 'kubectl is not on PATH' : false;

describe('through startEmulator()', () => {
  let emu: Emulator;
  let cacheDir: string;
  let core: k8s.CoreV1Api;

  before(async () => {
    emu = await startEmulator({ quiet: true });
    cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(emu.kubeconfigPath);
    core = kc.makeApiClient(k8s.CoreV1Api);
  });
  after(async () => {
    await emu?.close();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  const kube = () => emu.state.kube;
  const secret = (ns: string, name: string): KubeObject | undefined => kube().secrets[ns]?.[name];

  function kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        'kubectl',
        ['--kubeconfig', emu.kubeconfigPath, '--cache-dir', cacheDir, ...args],
        { timeout: 20_000, env: { ...process.env, KUBECONFIG: emu.kubeconfigPath } },
        (err, stdout, stderr) => {
          if (err && typeof (err as { code?: unknown }).code !== 'number') return reject(err);
          resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout: String(stdout), stderr: String(stderr) });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  }

  test('kubectl get ns prints the seeded namespaces', { skip: kubectlSkip }, async () => {
    const r = await kubectl(['get', 'ns']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^NAME\s+STATUS\s+AGE$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2)),
      [
        ['default', 'Active'],
        ['kube-system', 'Active'],
        ['team-a', 'Active'],
        ['team-b', 'Active'],
      ],
    );
  });

  test('kubectl create secret docker-registry (protobuf body), get -o json, managed fields', { skip: kubectlSkip }, async () => {
    const rvBefore = kube().resourceVersion;
    const c = await kubectl([
      'create',
      'secret',
      'docker-registry',
      'x',
      '--docker-server=myreg.azurecr.io',
      '--docker-username=u',
      '--docker-password=p',
      '-n',
      'team-a',
    ]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout.trim(), 'secret/x created');
    const g = await kubectl(['get', 'secret', 'x', '-n', 'team-a', '-o', 'json']);
    assert.equal(g.code, 0, g.stderr);
    const got = JSON.parse(g.stdout) as { type: string; data: Record<string, string>; metadata: { resourceVersion: string; uid: string } };
    assert.equal(got.type, 'kubernetes.io/dockerconfigjson');
    assert.deepEqual(JSON.parse(unb64(got.data['.dockerconfigjson'])), {
      auths: { 'myreg.azurecr.io': { username: 'u', password: 'p', auth: b64('u:p') } },
    });
    const stored = secret('team-a', 'x')!;
    assert.equal(stored.metadata.resourceVersion, String(rvBefore));
    assert.equal(got.metadata.uid, stored.metadata.uid);
    assert.deepEqual(stored.metadata.managedFields, [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: (stored.metadata.managedFields![0] as { time: string }).time,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { '.': {}, 'f:.dockerconfigjson': {} }, 'f:type': {} },
      },
    ]);
    const again = await kubectl([
      'create',
      'secret',
      'docker-registry',
      'x',
      '--docker-server=a',
      '--docker-username=u',
      '--docker-password=p',
      '-n',
      'team-a',
    ]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /secrets "x" already exists/);
  });

  test('kubectl patch sa default adds imagePullSecrets; the same patch again changes nothing', { skip: kubectlSkip }, async () => {
    const p = await kubectl(['patch', 'sa', 'default', '-n', 'team-a', '-p', '{"imagePullSecrets":[{"name":"x"}]}']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout.trim(), 'serviceaccount/default patched');
    const sa = kube().serviceaccounts['team-a'].default;
    assert.deepEqual(sa.imagePullSecrets, [{ name: 'x' }]);
    assert.deepEqual(
      (sa.metadata.managedFields as { manager: string; fieldsV1: unknown }[]).map((m) => [m.manager, m.fieldsV1]),
      [['kubectl-patch', { 'f:imagePullSecrets': {} }]],
    );
    const rv = sa.metadata.resourceVersion;
    const again = await kubectl(['patch', 'sa', 'default', '-n', 'team-a', '-p', '{"imagePullSecrets":[{"name":"x"}]}']);
    assert.equal(again.stdout.trim(), 'serviceaccount/default patched (no change)');
    assert.equal(kube().serviceaccounts['team-a'].default.metadata.resourceVersion, rv);
  });

  test('kubectl apply --server-side: conflict with the kubectl-create owner, then --force-conflicts', { skip: kubectlSkip }, async () => {
    const manifest = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'x', namespace: 'team-a', labels: { app: 'demo' } },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': b64('{"auths":{"other.azurecr.io":{"auth":"eDp5"}}}') },
    });
    const before = structuredClone(secret('team-a', 'x'));
    assert.ok(before, 'the secret from the create test');
    const refused = await kubectl(['apply', '--server-side', '-f', '-'], manifest);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Apply failed with 1 conflict: conflict with "kubectl-create" using v1: \.data\.\.dockerconfigjson/);
    assert.deepEqual(secret('team-a', 'x'), before, 'a refused apply writes nothing');

    const forced = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], manifest);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout.trim(), 'secret/x serverside-applied');
    const after1 = secret('team-a', 'x')!;
    assert.equal(unb64((after1.data as Record<string, string>)['.dockerconfigjson']), '{"auths":{"other.azurecr.io":{"auth":"eDp5"}}}');
    assert.deepEqual(after1.metadata.labels, { app: 'demo' });
    const mf = after1.metadata.managedFields as { manager: string; operation: string; fieldsV1: unknown }[];
    assert.deepEqual(
      mf.map((m) => [m.manager, m.operation, m.fieldsV1]),
      [
        ['kubectl', 'Apply', { 'f:data': { 'f:.dockerconfigjson': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:type': {} }],
        ['kubectl-create', 'Update', { 'f:data': {}, 'f:type': {} }],
      ],
    );
    const rv = after1.metadata.resourceVersion;
    const noop = await kubectl(['apply', '--server-side', '-f', '-'], manifest);
    assert.equal(noop.code, 0, noop.stderr);
    assert.equal(secret('team-a', 'x')!.metadata.resourceVersion, rv, 'an identical apply stores nothing');
  });

  test('kubectl apply --server-side creates a missing object; kubectl delete secret removes it', { skip: kubectlSkip }, async () => {
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: pulled\n  namespace: team-b\nstringData:\n  token: abc\n`;
    const a = await kubectl(['apply', '--server-side', '-f', '-'], manifest);
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(secret('team-b', 'pulled')?.data, { token: b64('abc') });
    const d = await kubectl(['delete', 'secret', 'pulled', '-n', 'team-b']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout.trim(), 'secret "pulled" deleted');
    assert.equal(secret('team-b', 'pulled'), undefined);
    const gone = await kubectl(['delete', 'secret', 'pulled', '-n', 'team-b']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /secrets "pulled" not found/);
    const noNs = await kubectl(['create', 'secret', 'generic', 'g', '--from-literal=a=b', '-n', 'nope']);
    assert.notEqual(noNs.code, 0);
    assert.match(noNs.stderr, /namespaces "nope" not found/);
  });

  // ---------------------------------------------------------------- @kubernetes/client-node

  const apiError = async (p: Promise<unknown>): Promise<{ code: number; body: any }> => {
    try {
      await p;
    } catch (e) {
      const err = e as k8s.ApiException<string>;
      return { code: err.code, body: typeof err.body === 'string' ? JSON.parse(err.body) : err.body };
    }
    throw new Error('expected the call to fail');
  };

  test('client-node: read, create (409 when it exists), replace with a stale resourceVersion (409)', async () => {
    const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'team-b' });
    assert.equal(sa.metadata?.uid, kube().serviceaccounts['team-b'].default.metadata.uid);

    const created = await core.createNamespacedSecret({
      namespace: 'team-b',
      body: { metadata: { name: 'cn', labels: { tier: 'a' } }, stringData: { k: 'v1' } },
    });
    assert.equal(created.data?.k, b64('v1'));
    assert.equal(secret('team-b', 'cn')?.metadata.resourceVersion, created.metadata?.resourceVersion);

    const dup = await apiError(core.createNamespacedSecret({ namespace: 'team-b', body: { metadata: { name: 'cn' } } }));
    assert.equal(dup.code, 409);
    assert.equal(dup.body.reason, 'AlreadyExists');

    const fresh = await core.replaceNamespacedSecret({ name: 'cn', namespace: 'team-b', body: { ...created, data: { k: b64('v2') } } });
    assert.notEqual(fresh.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.equal(secret('team-b', 'cn')?.data?.['k' as never], b64('v2'));

    const stale = await apiError(core.replaceNamespacedSecret({ name: 'cn', namespace: 'team-b', body: { ...created, data: { k: b64('v3') } } }));
    assert.equal(stale.code, 409);
    assert.equal(stale.body.reason, 'Conflict');
    assert.equal(
      stale.body.message,
      'Operation cannot be fulfilled on secrets "cn": the object has been modified; please apply your changes to the latest version and try again',
    );
    assert.equal((secret('team-b', 'cn')?.data as Record<string, string>).k, b64('v2'), 'the stale write was refused');

    const preDelete = await apiError(
      core.deleteNamespacedSecret({
        name: 'cn',
        namespace: 'team-b',
        body: { preconditions: { resourceVersion: created.metadata!.resourceVersion } },
      }),
    );
    assert.equal(preDelete.code, 409);
    assert.ok(secret('team-b', 'cn'));
  });

  test('client-node: list with label and field selectors', async () => {
    await core.createNamespacedSecret({ namespace: 'team-b', body: { metadata: { name: 'other', labels: { tier: 'b' } } } });
    const byLabel = await core.listNamespacedSecret({ namespace: 'team-b', labelSelector: 'tier=a' });
    assert.deepEqual(
      byLabel.items.map((s) => s.metadata?.name),
      ['cn'],
    );
    const byField = await core.listNamespacedSecret({ namespace: 'team-b', fieldSelector: 'metadata.name=other' });
    assert.deepEqual(
      byField.items.map((s) => s.metadata?.name),
      ['other'],
    );
    const all = await core.listSecretForAllNamespaces({ labelSelector: 'tier in (a,b)' });
    assert.deepEqual(
      all.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`),
      ['team-b/cn', 'team-b/other'],
    );
  });

  test('client-node: each patch type', async () => {
    const opts = (ct: string) => k8s.setHeaderOptions('Content-Type', ct);
    await core.patchNamespacedSecret(
      { name: 'cn', namespace: 'team-b', body: { metadata: { labels: { tier: null, merged: 'yes' } } } },
      opts(k8s.PatchStrategy.MergePatch),
    );
    assert.deepEqual(secret('team-b', 'cn')?.metadata.labels, { merged: 'yes' });

    await core.patchNamespacedServiceAccount(
      { name: 'default', namespace: 'team-b', body: { secrets: [{ name: 's1' }], imagePullSecrets: [{ name: 'p1' }] } },
      opts(k8s.PatchStrategy.StrategicMergePatch),
    );
    await core.patchNamespacedServiceAccount(
      { name: 'default', namespace: 'team-b', body: { secrets: [{ name: 's2' }], imagePullSecrets: [{ name: 'p2' }] } },
      opts(k8s.PatchStrategy.StrategicMergePatch),
    );
    const sa = kube().serviceaccounts['team-b'].default;
    assert.deepEqual(sa.secrets, [{ name: 's1' }, { name: 's2' }], 'secrets merge by name');
    assert.deepEqual(sa.imagePullSecrets, [{ name: 'p2' }], 'imagePullSecrets has no merge strategy: replaced');

    const rv = sa.metadata.resourceVersion!;
    await core.patchNamespacedServiceAccount(
      {
        name: 'default',
        namespace: 'team-b',
        body: [
          { op: 'test', path: '/metadata/resourceVersion', value: rv },
          { op: 'add', path: '/imagePullSecrets/-', value: { name: 'p3' } },
        ],
      },
      opts(k8s.PatchStrategy.JsonPatch),
    );
    assert.deepEqual(kube().serviceaccounts['team-b'].default.imagePullSecrets, [{ name: 'p2' }, { name: 'p3' }]);
    const failed = await apiError(
      core.patchNamespacedServiceAccount(
        {
          name: 'default',
          namespace: 'team-b',
          body: [
            { op: 'test', path: '/metadata/resourceVersion', value: rv },
            { op: 'add', path: '/imagePullSecrets/-', value: { name: 'p4' } },
          ],
        },
        opts(k8s.PatchStrategy.JsonPatch),
      ),
    );
    assert.equal(failed.code, 422);
    assert.equal(failed.body.reason, 'Invalid');
    assert.deepEqual(kube().serviceaccounts['team-b'].default.imagePullSecrets, [{ name: 'p2' }, { name: 'p3' }]);
  });

  test('client-node: server-side apply with fieldManager, conflict causes, force', async () => {
    const apply = (body: object, force?: boolean) =>
      core.patchNamespacedSecret(
        { name: 'ssa', namespace: 'team-b', body, fieldManager: 'acr-kube-auth', force },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      );
    const cfg = (v: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'ssa', namespace: 'team-b' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': b64(v) },
    });

    const created = await apply(cfg('{"auths":{"a":{}}}'));
    assert.equal(secret('team-b', 'ssa')?.metadata.resourceVersion, created.metadata?.resourceVersion);
    // another writer takes the field with a plain update
    await core.patchNamespacedSecret(
      { name: 'ssa', namespace: 'team-b', body: { data: { '.dockerconfigjson': b64('{"auths":{"b":{}}}') } }, fieldManager: 'someone-else' },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const refused = await apiError(apply(cfg('{"auths":{"a":{}}}')));
    assert.equal(refused.code, 409);
    assert.equal(refused.body.reason, 'Conflict');
    assert.deepEqual(refused.body.details.causes, [
      { reason: 'FieldManagerConflict', message: 'conflict with "someone-else" using v1', field: '.data..dockerconfigjson' },
    ]);
    assert.equal(unb64((secret('team-b', 'ssa')?.data as Record<string, string>)['.dockerconfigjson']), '{"auths":{"b":{}}}');

    await apply(cfg('{"auths":{"a":{}}}'), true);
    const stored = secret('team-b', 'ssa')!;
    assert.equal(unb64((stored.data as Record<string, string>)['.dockerconfigjson']), '{"auths":{"a":{}}}');
    const owners = (stored.metadata.managedFields as { manager: string; fieldsV1: object }[])
      .filter((m) => JSON.stringify(m.fieldsV1).includes('dockerconfigjson'))
      .map((m) => m.manager);
    assert.deepEqual(owners, ['acr-kube-auth']);

    const missingManager = await apiError(
      core.patchNamespacedSecret(
        { name: 'ssa', namespace: 'team-b', body: cfg('{}') },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      ),
    );
    assert.equal(missingManager.code, 422);
    const stalePrecondition = await apiError(apply({ ...cfg('{}'), metadata: { name: 'ssa', namespace: 'team-b', resourceVersion: '1' } }));
    assert.equal(stalePrecondition.code, 409);
    const invalidJson = await apiError(apply(cfg('{oops'), true));
    assert.equal(invalidJson.code, 422);
    assert.equal(invalidJson.body.details.causes[0].field, 'data[.dockerconfigjson]');
  });
});
