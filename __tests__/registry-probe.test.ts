// The token-flow logic (src/verify/registry-probe.ts) in process, against a fake registry handed in
// as `send`; the probe Pod's rendering and verdicts (probe-pod.ts); the network findings (network.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpAnswer, HttpRequest } from '../src/net/http.ts';
import { MANIFEST_ACCEPT, grantsPull, parseChallenge, probeImage, tokenRequest } from '../src/verify/registry-probe.ts';
import { podVerdict, probePod, probeName, pullEvents, runLabel } from '../src/verify/probe-pod.ts';
import { networkFindings } from '../src/verify/network.ts';
import type { LivePod } from '../src/kube/types.ts';

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const answer = (status: number, headers: Record<string, string> = {}, text = ''): HttpAnswer => ({ status, headers: new Headers(headers), text });
const LS = 'contosoacr.azurecr.io';
const DIGEST = `sha256:${'b'.repeat(64)}`;

/** A registry as ACR answers: challenge, token with the `access` a scope map grants, manifests by tag. */
function fakeAcr(opts: { grants?: string[]; tags?: Record<string, string>; password?: string; denied?: boolean }) {
  const seen: HttpRequest[] = [];
  const send = async (req: HttpRequest): Promise<HttpAnswer> => {
    seen.push(req);
    const path = req.url.pathname;
    if (opts.denied)
      return answer(403, {}, JSON.stringify({ errors: [{ code: 'DENIED', message: "client with IP '1.2.3.4' is not allowed access." }] }));
    if (path === '/v2/') return answer(401, { 'www-authenticate': `Bearer realm="https://${LS}/oauth2/token",service="${LS}"` });
    if (path === '/oauth2/token') {
      const basic = Buffer.from(String(req.headers?.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      if (basic !== `puller:${opts.password ?? 'pw'}`)
        return answer(401, {}, JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      const repo = /^repository:(.+):pull$/.exec(req.url.searchParams.get('scope') ?? '')?.[1];
      const access = repo && (opts.grants ?? []).includes(repo) ? [{ type: 'repository', name: repo, actions: ['pull'] }] : [];
      return answer(200, {}, JSON.stringify({ access_token: jwt({ access }) }));
    }
    const m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(path);
    if (m && req.method === 'HEAD') {
      const d = opts.tags?.[`${m[1]}:${m[2]}`] ?? (m[2].startsWith('sha256:') && Object.values(opts.tags ?? {}).includes(m[2]) ? m[2] : undefined);
      return d ? answer(200, { 'docker-content-digest': d, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }) : answer(404);
    }
    return answer(404);
  };
  return { send, seen };
}

const cred = { username: 'puller', password: 'pw' };

test('the token flow: challenge, a token for repository:<repo>:pull, a manifest HEAD with the manifest and index types', async () => {
  const acr = fakeAcr({ grants: ['app/web'], tags: { 'app/web:v1': DIGEST } });
  const r = await probeImage(LS, cred, 'app/web', 'v1', { send: acr.send });
  assert.deepEqual(r, { ok: true, digest: DIGEST, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
  assert.deepEqual(
    acr.seen.map((q) => `${q.method} ${q.url.pathname}`),
    ['GET /v2/', 'GET /oauth2/token', 'HEAD /v2/app/web/manifests/v1'],
  );
  assert.equal(acr.seen[1].url.searchParams.get('scope'), 'repository:app/web:pull');
  assert.equal(acr.seen[1].url.searchParams.get('service'), LS);
  assert.equal(acr.seen[2].headers?.accept, MANIFEST_ACCEPT);
  assert.match(String(acr.seen[2].headers?.authorization), /^Bearer e30\./);
  assert.equal(acr.seen[0].headers?.authorization, undefined, 'no credential on the challenge');
  // by digest
  assert.equal((await probeImage(LS, cred, 'app/web', DIGEST, { send: acr.send })).ok, true);
});

test('each way the token flow fails is told apart', async () => {
  const acr = fakeAcr({ grants: ['app/web'], tags: { 'app/web:v1': DIGEST } });
  const missing = await probeImage(LS, cred, 'app/web', 'v2', { send: acr.send });
  assert.deepEqual(missing.ok ? undefined : missing.failure, 'not-found');
  const scope = await probeImage(LS, cred, 'other/secret', 'v1', { send: acr.send });
  assert.ok(!scope.ok && scope.failure === 'not-covered' && /grants no pull on other\/secret/.test(scope.reason));
  const wrong = await probeImage(LS, { username: 'puller', password: 'nope' }, 'app/web', 'v1', { send: acr.send });
  assert.ok(
    !wrong.ok &&
      wrong.failure === 'rejected' &&
      /rejected the credential for user puller \(HTTP 401: UNAUTHORIZED: authentication required\)/.test(wrong.reason),
  );
  const denied = await probeImage(LS, cred, 'app/web', 'v1', { send: fakeAcr({ denied: true }).send });
  assert.ok(!denied.ok && denied.failure === 'denied' && /DENIED: client with IP '1\.2\.3\.4' is not allowed access/.test(denied.reason));
  const none = await probeImage(LS, undefined, 'app/web', 'v1', { send: acr.send });
  assert.ok(!none.ok && none.failure === 'rejected');
});

test('the credential goes only to the registry host over https; refresh tokens are posted, passwords sent as Basic', () => {
  const c = parseChallenge('Bearer realm="https://evil.example/token",service="x"')!;
  assert.deepEqual(c, { scheme: 'bearer', realm: 'https://evil.example/token', service: 'x' });
  const refused = tokenRequest(LS, c, 'u', 'p', 'app/web');
  assert.ok('refused' in refused && /not at its own host over https; it was not sent/.test(refused.refused));
  assert.ok('refused' in tokenRequest(LS, { scheme: 'bearer', realm: `http://${LS}/oauth2/token` }, 'u', 'p', 'app/web'));
  const refresh = tokenRequest(
    LS,
    { scheme: 'bearer', realm: `https://${LS}/oauth2/token`, service: LS },
    '00000000-0000-0000-0000-000000000000',
    'rt',
    'app/web',
  );
  assert.ok('request' in refresh);
  assert.equal(refresh.request.method, 'POST');
  assert.equal(new URLSearchParams(refresh.request.body).get('grant_type'), 'refresh_token');
  assert.equal(new URLSearchParams(refresh.request.body).get('scope'), 'repository:app/web:pull');
  assert.equal(parseChallenge('Basic realm="r"')?.scheme, 'basic');
  assert.equal(parseChallenge('Negotiate'), undefined);
});

test('grantsPull reads the access claim; a token without one leaves it to the manifest request', () => {
  assert.equal(grantsPull(jwt({ access: [{ type: 'repository', name: 'app/web', actions: ['pull'] }] }), 'app/web'), true);
  assert.equal(grantsPull(jwt({ access: [{ type: 'repository', name: 'app/web', actions: ['*'] }] }), 'app/web'), true);
  assert.equal(grantsPull(jwt({ access: [{ type: 'repository', name: 'app/api', actions: ['pull'] }] }), 'app/web'), false);
  assert.equal(grantsPull(jwt({ access: [] }), 'app/web'), false);
  assert.equal(grantsPull('opaque-token', 'app/web'), undefined);
});

test('the probe Pod is unprivileged, never restarts, ends by itself and pulls every time', () => {
  const run = runLabel({ GITHUB_RUN_ID: '123', GITHUB_RUN_ATTEMPT: '2' });
  assert.equal(run, '123-2');
  const name = probeName('x/app:v1', run, 'team-a');
  assert.match(name, /^acr-kube-auth-probe-[0-9a-f]{8}-[0-9a-f]{8}$/);
  const pod = probePod({ name, namespace: 'team-a', image: 'x/app:v1', pullSecret: 's', run });
  const spec = pod.spec as Record<string, any>;
  assert.equal(spec.restartPolicy, 'Never');
  assert.ok(spec.activeDeadlineSeconds > 0);
  assert.equal(spec.hostNetwork, false);
  assert.equal(spec.automountServiceAccountToken, false);
  assert.deepEqual(spec.imagePullSecrets, [{ name: 's' }]);
  assert.deepEqual(spec.securityContext.seccompProfile, { type: 'RuntimeDefault' });
  assert.equal(spec.securityContext.runAsNonRoot, true);
  const c = spec.containers[0];
  assert.equal(c.imagePullPolicy, 'Always');
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.equal(c.command, undefined);
  assert.equal(pod.metadata.labels!['acr-kube-auth.github.io/run-id'], '123-2');
  assert.equal(probePod({ name, namespace: 'n', image: 'i', run }).spec.imagePullSecrets, undefined, 'attach paths: no pull secret');
});

test("the kubelet's verdicts: pulled, a pull error with its message, still waiting", () => {
  const pod = (state: object, extra: object = {}): LivePod => ({
    metadata: { name: 'p', namespace: 'n', resourceVersion: '1' },
    status: { phase: 'Pending', containerStatuses: [{ name: 'probe', state, imageID: `x@${DIGEST}` }], ...extra },
  });
  assert.deepEqual(podVerdict(pod({ running: {} })), { pulled: true, imageID: `x@${DIGEST}` });
  assert.deepEqual(podVerdict(pod({ terminated: { reason: 'Error', exitCode: 1 } })), { pulled: true, imageID: `x@${DIGEST}` });
  assert.deepEqual(podVerdict(pod({ waiting: { reason: 'ErrImagePull', message: 'm' } })), { pulled: false, reason: 'ErrImagePull', message: 'm' });
  assert.deepEqual(podVerdict(pod({ waiting: { reason: 'ContainerCreating' } })), { waiting: 'ContainerCreating' });
  assert.deepEqual(
    podVerdict({
      metadata: { name: 'p', namespace: 'n', resourceVersion: '1' },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes' }] },
    }),
    {
      waiting: 'not scheduled (Unschedulable): 0/3 nodes',
    },
  );
  assert.deepEqual(
    pullEvents([
      { reason: 'Failed', message: 'Failed to pull image "x": y' },
      { reason: 'Failed', message: 'Error: ErrImagePull' },
    ]),
    { failed: 'Failed to pull image "x": y' },
  );
});

test('network findings name what stands between the registry and each side', () => {
  const base = { ipRules: [], privateEndpoints: [] };
  assert.match(networkFindings(LS, { ...base, anonymousPullEnabled: true }).lines[0], /anonymous pull .*nothing needed/);
  const disabled = networkFindings(
    LS,
    { ...base, publicNetworkAccess: 'Disabled', privateEndpoints: [{ id: 'c', endpointId: '/x/privateEndpoints/pe1', status: 'Approved' }] },
    { label: 'rg/aks', vnetSubnetIds: ['/s/virtualNetworks/vnet1/subnets/a'] },
  );
  assert.match(disabled.runnerBlocked!, /publicNetworkAccess is Disabled/);
  assert.ok(disabled.lines.some((l) => /^private endpoints .*pe1 \(Approved\)/.test(l)));
  assert.ok(disabled.lines.some((l) => /^host name resolution .* from rg\/aks: the nodes are in vnet1/.test(l)));
  const deny = networkFindings(LS, { ...base, defaultAction: 'Deny', ipRules: [{ value: '20.1.2.0/24' }] });
  assert.match(deny.lines[0], /networkRuleSet defaultAction Deny, ipRules allow 20\.1\.2\.0\/24/);
  const none = networkFindings(LS, { ...base, publicNetworkAccess: 'Disabled' });
  assert.ok(none.lines.some((l) => /none, and public access is Disabled: no client can reach the registry/.test(l)));
});
