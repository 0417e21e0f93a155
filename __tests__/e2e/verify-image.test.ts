// Issue #18 end to end on dist/index.js: the `image` input proven from the runner (the credential's
// token flow, the signed-in identity's registry API) and from the cluster (a probe Pod that the
// emulator's kubelet stand-in pulls for real with skopeo), against a real image store: Debian's
// docker-registry behind the emulated ACR (state.registryBackends), so every pull goes through ACR's
// authorization and reads a real manifest. Network findings, reachability from each side, the
// probe Pod deleted under every fault, the Role README documents, and attach waiting for a new
// token password.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { CLUSTER_SP_APP_ID, CLUSTER_SP_SECRET, KUBELET_OID, SUB_1 } from '../../emulator/ids.ts';
import type { FaultRule } from '../../emulator/types.ts';
import { azureInputs, runAction, type RunResult } from '../helpers/harness.ts';
import { REGISTRY_BINARIES, buildOciLayout, requireBinaries, skopeoPush, startRegistry, type RealRegistry } from '../helpers/registry.ts';
import { serviceAccountKubeconfig } from '../helpers/kube-rbac.ts';

const PUSHER = ['pusher', 'Push-Pa55word~registry'] as const;
const RG = `/subscriptions/${SUB_1}/resourcegroups/rg-acr/providers/microsoft.containerregistry/registries`;
const CONTOSO = `${RG}/contosoacr`;
const ADMIN = `${RG}/adminacr`;
const AKS_MI = `/subscriptions/${SUB_1}/resourcegroups/rg-aks/providers/microsoft.containerservice/managedclusters/aks-mi`;
const SUBNET = `/subscriptions/${SUB_1}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-aks/subnets/nodes`;
const PE = `/subscriptions/${SUB_1}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-contosoacr`;

let skip: string | undefined;
let emu: Emulator;
let reg: RealRegistry;
let work: string;
let digest: string;

type Entry = {
  image: string;
  proof: string;
  ok: boolean;
  via: string;
  target?: string;
  digest?: string;
  error?: string;
  missing?: boolean;
  pod?: string;
};

before(async () => {
  skip = await requireBinaries(REGISTRY_BINARIES);
  if (skip) return;
  emu = await startEmulator({ quiet: true });
  reg = await startRegistry({
    users: Object.fromEntries([PUSHER]),
    certPath: join(emu.dir, 'server.crt'),
    keyPath: join(emu.dir, 'server.key'),
    caPath: emu.caCertPath,
    caPem: emu.caCertPem,
  });
  work = mkdtempSync(join(tmpdir(), 'acr-verify-image-'));
  const layout = join(work, 'layout');
  digest = buildOciLayout(layout, 'v1').manifestDigest;
  for (const ref of ['app/web:v1', 'other/secret:v1']) {
    const pushed = await skopeoPush(layout, 'v1', reg, ref, PUSHER.join(':'));
    assert.equal(pushed.code, 0, `skopeo copy: ${pushed.stderr}`);
  }
});
after(async () => {
  await reg?.close();
  await emu?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  if (skip) return;
  emu.reset();
  const backend = { url: `https://${reg.host}`, username: PUSHER[0], password: PUSHER[1], caPem: emu.caCertPem };
  emu.state.registryBackends = { [CONTOSO]: backend, [ADMIN]: backend };
});

const server = (name = 'contosoacr') => `${name}.azurecr.localhost:${emu.port}`;
const verified = (r: RunResult): Entry[] => JSON.parse(r.outputs['verified-images'] || '[]');
const pods = (ns = 'team-a') => Object.keys(emu.state.kube.pods?.[ns] ?? {});
const pull = (type: string, extra: Record<string, string> = {}) =>
  azureInputs(emu, { registry: type === 'admin' ? 'adminacr' : 'contosoacr', namespaces: 'team-a', 'credential-type': type, ...extra });
const FAST = { ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS: '3000', ACR_KUBE_AUTH_PROBE_TIMEOUT_MS: '30000' };

test('attach with a token and an image: written, then proven by the token flow and the registry API, with the real digest', async (t) => {
  if (skip) return t.skip(skip);
  const r = await runAction(emu, pull('token', { repositories: 'app/web', image: 'app/web:v1' }));
  assert.equal(r.code, 0, r.stdout);
  const entries = verified(r);
  const flow = entries.find((e) => e.proof === 'token-flow')!;
  assert.deepEqual(
    { ok: flow.ok, digest: flow.digest, target: flow.target, image: flow.image },
    { ok: true, digest, target: 'team-a', image: `${server()}/app/web:v1` },
  );
  assert.match(flow.via, /^secret team-a\/acr-contosoacr \(user kube-pull-team-a\)$/);
  const api = entries.find((e) => e.proof === 'registry-api')!;
  assert.deepEqual({ ok: api.ok, digest: api.digest, via: api.via }, { ok: true, digest, via: 'signed-in identity' });
  assert.match(r.summary, /### Verified images: 2 of 2 proofs passed/);
  assert.match(r.summary, /token flow \(credential\).*✅ pullable/);
  // the manifest HEAD carried the Accept headers of Docker v2 and OCI manifests and indexes, through ACR's token
  const head = emu.requests.find((q) => q.method === 'HEAD' && q.path === '/v2/app/web/manifests/v1');
  assert.ok(head && head.status === 200, 'a manifest HEAD answered 200');
  assert.ok(
    emu.requests.some((q) => q.path === '/acr/v1/app/web/_tags/v1' && q.status === 200),
    'the SDK asked /acr/v1 for the tag',
  );
});

test('verify tells an image that does not exist apart from one outside the token scope map', async (t) => {
  if (skip) return t.skip(skip);
  assert.equal((await runAction(emu, pull('token', { repositories: 'app/web' }))).code, 0);
  const r = await runAction(emu, pull('token', { repositories: 'app/web', operation: 'verify', image: 'app/web:v1\napp/web:v2\nother/secret:v1' }));
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.errors.length, 1);
  const entries = verified(r);
  const of = (image: string, proof: string) => entries.find((e) => e.image === `${server()}/${image}` && e.proof === proof)!;
  assert.equal(of('app/web:v1', 'token-flow').ok, true);
  assert.equal(of('app/web:v2', 'token-flow').missing, true);
  assert.match(of('app/web:v2', 'token-flow').error!, /app\/web:v2 does not exist \(HTTP 404/);
  assert.equal(of('app/web:v2', 'registry-api').missing, true, 'the signed-in identity says it does not exist');
  assert.match(
    of('other/secret:v1', 'token-flow').error!,
    /grants no pull on other\/secret: the token's scope map, or the principal's role and ABAC condition, does not cover that repository/,
  );
  assert.equal(of('other/secret:v1', 'registry-api').ok, true, 'the image exists: the signed-in identity sees it');
  assert.match(r.errors[0], /image .*app\/web:v2 does not exist/);
  assert.match(r.errors[0], /cannot pull .*other\/secret:v1/);
});

for (const type of ['service-principal', 'admin', 'exchange'] as const) {
  test(`attach with credential-type ${type} and an image: the written credential pulls it through the token flow`, async (t) => {
    if (skip) return t.skip(skip);
    const extra: Record<string, string> =
      type === 'service-principal' ? { 'service-principal-client-id': CLUSTER_SP_APP_ID, 'service-principal-secret': CLUSTER_SP_SECRET } : {};
    const r = await runAction(emu, pull(type, { ...extra, image: 'app/web:v1' }), { env: { ACR_KUBE_AUTH_PROPAGATION_MS: '20000' } });
    assert.equal(r.code, 0, r.stdout);
    const flow = verified(r).find((e) => e.proof === 'token-flow')!;
    assert.equal(flow.ok, true, flow.error);
    assert.equal(flow.digest, digest);
  });
}

test('attach waits, bounded and said, for a new token password to take effect', async (t) => {
  if (skip) return t.skip(skip);
  emu.state.knobs = { acrPasswordDelayMs: 4000 };
  const r = await runAction(emu, pull('token', { image: 'app/web:v1' }));
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /does not accept the credential for .*app\/web:v1 yet: a new token password can take a while to take effect\. Waiting 5 s/);
  assert.match(r.summary, /waited \d+ s for a new token password to take effect \(2 attempts\)/);
  // and a bound that runs out says so
  emu.state.knobs = { acrPasswordDelayMs: 600_000 };
  const late = await runAction(emu, pull('token', { image: 'app/web:v1', 'token-name': 'kube-pull-late' }), {
    env: { ACR_KUBE_AUTH_PROPAGATION_MS: '6000' },
  });
  assert.equal(late.code, 1, late.stdout);
  assert.match(late.errors[0], /still so after waiting \d+ s for a new token password to take effect: run verify again in a few minutes/);
});

test('verify-from cluster: a probe Pod pulls with the pull secret through the kubelet stand-in; the Pod is gone afterwards', async (t) => {
  if (skip) return t.skip(skip);
  assert.equal((await runAction(emu, pull('token', { repositories: 'app/web' }))).code, 0);
  const r = await runAction(
    emu,
    pull('token', { repositories: 'app/web', operation: 'verify', 'verify-from': 'cluster', image: 'app/web:v1\napp/web:v9' }),
    { env: FAST },
  );
  assert.equal(r.code, 1, r.stdout);
  const entries = verified(r).filter((e) => e.proof === 'probe-pod');
  assert.equal(entries.length, 2);
  assert.deepEqual([entries[0].ok, entries[0].digest], [true, digest]);
  assert.match(entries[0].via, /^pull secret team-a\/acr-contosoacr$/);
  assert.match(
    entries[1].error!,
    new RegExp(
      `the kubelet reported ErrImagePull: "Failed to pull image "${server().replace(/\./g, '\\.')}/app/web:v9": failed to pull and unpack image .*: not found"`,
    ),
  );
  assert.deepEqual(pods(), [], 'every probe Pod was deleted');
  // the kubelet's events were written as the kubelet writes them
  // (the action deletes the Pod at ErrImagePull, before the kubelet's back-off)
  const said = Object.values(emu.state.kube.events?.['team-a'] ?? {}).map((e) => `${e.reason}: ${String(e.message).replace(/"[^"]*"/, '"X"')}`);
  for (const line of ['Pulling: Pulling image "X"', 'Failed: Error: ErrImagePull'])
    assert.ok(said.includes(line), `event ${line}: ${said.join(' | ')}`);
  for (const reason of ['Scheduled', 'Pulled', 'Started'])
    assert.ok(
      said.some((l) => l.startsWith(`${reason}: `)),
      `event ${reason}`,
    );
  // the pulls came through the cluster egress, not from the runner
  assert.ok(
    emu.requests.some((q) => q.path === '/v2/app/web/manifests/v1' && q.method === 'GET' && q.status === 200),
    'skopeo read the manifest',
  );
});

const faults: [string, FaultRule][] = [];
for (const [method, path] of [
  ['POST', 'pods$'],
  ['GET', 'pods/acr-kube-auth-probe-[0-9a-f-]+$'],
  ['DELETE', 'pods/acr-kube-auth-probe-[0-9a-f-]+$'],
] as const) {
  faults.push([`429 on ${method}`, { method, pathPattern: path, kind: 'status', status: 429, retryAfter: 1, times: 2 }]);
  faults.push([`503 on ${method}`, { method, pathPattern: path, kind: 'status', status: 503, times: 2 }]);
  faults.push([`reset on ${method}`, { method, pathPattern: path, kind: 'reset', times: 1 }]);
  faults.push([`stall on ${method}`, { method, pathPattern: path, kind: 'stall', ms: 8000, times: 1 }]);
  faults.push([`500 always on ${method}`, { method, pathPattern: path, kind: 'status', status: 500 }]);
}

test('the probe Pod is deleted under every fault the suite injects on its create, get and delete', async (t) => {
  if (skip) return t.skip(skip);
  assert.equal((await runAction(emu, pull('token', { repositories: 'app/web' }))).code, 0);
  const left: string[] = [];
  for (const [name, rule] of faults) {
    emu.clearFaults();
    for (const ns of Object.keys(emu.state.kube.pods ?? {})) emu.state.kube.pods![ns] = {};
    emu.addFault(rule);
    const r = await runAction(emu, pull('token', { repositories: 'app/web', operation: 'verify', 'verify-from': 'cluster', image: 'app/web:v1' }), {
      env: FAST,
    });
    emu.clearFaults();
    if (/always on DELETE/.test(name)) {
      // the delete never succeeds: the run says so, names the cleanup, and fails nothing else
      assert.match(
        r.stdout,
        /Could not delete the probe Pod team-a\/acr-kube-auth-probe-.*kubectl delete pod -n team-a -l acr-kube-auth\.github\.io\/probe=true/,
        name,
      );
      continue;
    }
    if (pods().length) left.push(`${name}: ${pods().join(', ')} (${r.code})`);
  }
  assert.deepEqual(left, []);
});

test('the Role README documents for verify-from cluster is enough, and nothing more is asked', async (t) => {
  if (skip) return t.skip(skip);
  assert.equal((await runAction(emu, pull('token', { repositories: 'app/web' }))).code, 0);
  const sa = await serviceAccountKubeconfig(emu, {
    namespace: 'ci',
    name: 'verifier',
    roles: {
      'team-a': [
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'delete'] },
        { apiGroups: [''], resources: ['events'], verbs: ['list'] },
      ],
    },
  });
  const first = emu.requests.length;
  const r = await runAction(
    emu,
    pull('token', { repositories: 'app/web', operation: 'verify', 'verify-from': 'cluster', image: 'app/web:v1', kubeconfig: sa.path }),
    { env: FAST },
  );
  assert.equal(r.code, 0, r.stdout);
  const kube = emu.requests.slice(first).filter((q) => q.service === 'kube');
  assert.deepEqual(
    kube.filter((q) => q.status === 403).map((q) => `${q.method} ${q.path}`),
    [],
    'no request was forbidden',
  );
  assert.ok(kube.some((q) => q.method === 'POST' && q.path === '/api/v1/namespaces/team-a/pods'));
  assert.deepEqual(pods(), []);
});

test('a registry only the cluster can reach: the runner is refused (DENIED), the probe Pod pulls through the private endpoint', async (t) => {
  if (skip) return t.skip(skip);
  assert.equal((await runAction(emu, pull('token', { repositories: 'app/web' }))).code, 0);
  const registry = emu.state.resources[CONTOSO];
  registry.properties.publicNetworkAccess = 'Disabled';
  registry.properties.privateEndpointConnections = [
    {
      id: `${registry.id}/privateEndpointConnections/pe-contosoacr.1`,
      name: 'pe-contosoacr.1',
      type: 'Microsoft.ContainerRegistry/registries/privateEndpointConnections',
      properties: {
        privateEndpoint: { id: PE },
        privateLinkServiceConnectionState: { status: 'Approved', description: 'Auto-Approved' },
        provisioningState: 'Succeeded',
      },
    },
  ];
  emu.state.network = { privateEndpoints: { [PE.toLowerCase()]: { subnetId: SUBNET } } };
  emu.state.kube.kubelet = { subnetId: SUBNET };
  const runner = await runAction(emu, pull('token', { repositories: 'app/web', operation: 'verify', image: 'app/web:v1' }));
  assert.equal(runner.code, 1);
  assert.match(
    runner.errors[0],
    /refused the \/v2\/ challenge \(HTTP 403: DENIED: client with IP '203\.0\.113\.7' is not allowed access\. Refer https:\/\/aka\.ms\/acr\/firewall to grant access\.\)/,
  );
  assert.match(runner.stdout, /connection \(contosoacr\.azurecr\.localhost:\d+\): publicNetworkAccess Disabled/);
  const cluster = await runAction(
    emu,
    pull('token', { repositories: 'app/web', operation: 'verify', 'verify-from': 'cluster', image: 'app/web:v1' }),
    { env: FAST },
  );
  assert.equal(cluster.code, 0, cluster.stdout);
  assert.equal(verified(cluster).find((e) => e.proof === 'probe-pod')?.ok, true);
  assert.match(cluster.summary, /private endpoints \(contosoacr\.azurecr\.localhost:\d+\): pe-contosoacr \(Approved\)/);
});

test("a registry only the runner can reach: the kubelet's pull fails with its DNS error text, quoted; the runner's proof passes", async (t) => {
  if (skip) return t.skip(skip);
  assert.equal((await runAction(emu, pull('token', { repositories: 'app/web' }))).code, 0);
  emu.state.kube.kubelet = { privateDnsZone: true };
  const runner = await runAction(emu, pull('token', { repositories: 'app/web', operation: 'verify', image: 'app/web:v1' }));
  assert.equal(runner.code, 0, runner.stdout);
  const cluster = await runAction(
    emu,
    pull('token', { repositories: 'app/web', operation: 'verify', 'verify-from': 'cluster', image: 'app/web:v1' }),
    { env: FAST },
  );
  assert.equal(cluster.code, 1);
  assert.match(
    cluster.errors[0],
    /the kubelet reported ErrImagePull: "Failed to pull image "contosoacr\.azurecr\.localhost:\d+\/app\/web:v1": failed to pull and unpack image .*failed to do request: Head "https:\/\/contosoacr\.azurecr\.localhost:\d+\/v2\/app\/web\/manifests\/v1": dial tcp: lookup contosoacr\.azurecr\.localhost on 10\.0\.0\.10:53: no such host"/,
  );
  assert.deepEqual(pods(), []);
});

test('an attached AKS cluster (managed identity): the kubelet identity proves the image, by its role and by pulling with no pull secret', async (t) => {
  if (skip) return t.skip(skip);
  const attach = azureInputs(emu, { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks', image: 'app/web:v1' });
  const r = await runAction(emu, attach);
  assert.equal(r.code, 0, r.stdout);
  const role = verified(r).find((e) => e.proof === 'role-assignment')!;
  assert.deepEqual([role.ok, role.via], [true, `kubelet identity ${KUBELET_OID}`]);
  emu.state.kube.kubelet = { aksClusterId: AKS_MI };
  const c = await runAction(emu, { ...attach, operation: 'verify', 'verify-from': 'cluster', namespaces: 'team-a' }, { env: FAST });
  assert.equal(c.code, 0, c.stdout);
  const probe = verified(c).find((e) => e.proof === 'probe-pod')!;
  assert.deepEqual([probe.ok, probe.digest], [true, digest]);
  assert.match(probe.via, /kubelet's own identity/);
  const spec = Object.values(emu.state.kube.events?.['team-a'] ?? {}).length;
  assert.ok(spec > 0);
  // without the role, the kubelet's anonymous pull is refused
  await runAction(emu, { ...attach, operation: 'detach', image: '' });
  const no = await runAction(emu, { ...attach, operation: 'verify', 'verify-from': 'cluster', namespaces: 'team-a' }, { env: FAST });
  assert.equal(no.code, 1);
  assert.match(no.errors[0], /the kubelet reported ErrImagePull: .*(401 Unauthorized|may require authorization)/);
  assert.deepEqual(pods(), []);
});
