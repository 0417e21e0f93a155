// The bundled action (dist/index.js) run as a service account that holds exactly README's
// least-privilege Role, against the emulator's RBAC (issue #15 item 1), and with the service
// account controller's delay on (item 2). These pin what the action does TODAY, so the change that
// makes it least-privilege (and makes it wait for `default`) has the exact answers to build on:
//   - it reads the Namespace first, which the Role does not grant: the 403 it reports is the one
//     kube-apiserver writes, word for word;
//   - with `create-namespaces` and `service-accounts: default`, when `default` appears after the
//     namespace (as on a real cluster), it fails after writing the Secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basicInputs, runAction } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { kubeRequest, serviceAccountKubeconfig } from '../helpers/kube-rbac.ts';

const emu = useEmulator();

/** README's "Least-privilege permissions" Role, for the secret acr-contosoacr and the service account default. */
const README_ROLE = [
  { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  { apiGroups: [''], resources: ['secrets'], resourceNames: ['acr-contosoacr'], verbs: ['get', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['serviceaccounts'], resourceNames: ['default'], verbs: ['get', 'patch'] },
];
const SA = 'system:serviceaccount:ci:deployer';

test("today: attach as a service account holding README's Role fails on reading the Namespace, with kube-apiserver's own 403", async () => {
  const sa = await serviceAccountKubeconfig(emu, { namespace: 'ci', name: 'deployer', roles: { 'team-a': README_ROLE } });
  const from = emu.requests.length;
  const r = await runAction(emu, basicInputs(emu, { 'secret-name': 'acr-contosoacr' }), { env: { KUBECONFIG: sa.path } });
  assert.equal(r.code, 1, r.stdout);
  const message = `namespaces "team-a" is forbidden: User "${SA}" cannot get resource "namespaces" in API group "" in the namespace "team-a"`;
  assert.equal(r.errors.length, 1, r.stdout);
  assert.ok(r.errors[0].startsWith(`::error::Kubernetes get namespace team-a failed (HTTP 403 Forbidden): ${message}. `), r.errors[0]);
  const kube = emu.requests.slice(from).filter((q) => q.service === 'kube');
  assert.deepEqual(
    kube.map((q) => `${q.method} ${q.path} ${q.status}`),
    ['GET /api/v1/namespaces/team-a 403'],
  );
  assert.equal(emu.state.kube.secrets['team-a']['acr-contosoacr'], undefined, 'nothing was written');
  assert.ok(r.masks.includes(sa.token), "the kubeconfig's token is masked");

  // what the action writes next, the same Role allows: a server-side apply that creates the Secret
  // (patch on its name, and create), and a patch of `default`
  const secret = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'acr-contosoacr' },
    type: 'kubernetes.io/dockerconfigjson',
    stringData: { '.dockerconfigjson': '{"auths":{}}' },
  });
  const applied = await kubeRequest(emu, 'PATCH', '/api/v1/namespaces/team-a/secrets/acr-contosoacr?fieldManager=acr-kube-auth', secret, {
    token: sa.token,
    contentType: 'application/apply-patch+yaml',
  });
  assert.equal(applied.status, 201, JSON.stringify(applied.body));
  const patched = await kubeRequest(
    emu,
    'PATCH',
    '/api/v1/namespaces/team-a/serviceaccounts/default',
    '{"imagePullSecrets":[{"name":"acr-contosoacr"}]}',
    { token: sa.token, contentType: 'application/strategic-merge-patch+json' },
  );
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
});

test('today: with the service account controller 2 s behind, create-namespaces + service-accounts: default fails after the Secret is written', async () => {
  emu.state.kube.controllers = { serviceAccountDelayMs: 2000 };
  const r = await runAction(emu, basicInputs(emu, { namespaces: 'fresh', 'create-namespaces': 'true', 'service-accounts': 'default' }));
  assert.equal(r.code, 1, r.stdout);
  assert.deepEqual(r.errors, [
    '::error::namespace fresh failed: Service account fresh/default does not exist; the secret was written but not added to it. Create it, or fix service-accounts.',
  ]);
  assert.ok(emu.state.kube.namespaces.fresh, 'the namespace was created');
  assert.ok(Object.keys(emu.state.kube.secrets.fresh ?? {}).length === 1, 'the Secret was written');
  assert.equal(emu.state.kube.serviceaccounts.fresh?.default, undefined, 'default did not exist yet when the action patched it');
  await new Promise((resolve) => setTimeout(resolve, 2200));
  assert.ok(emu.state.kube.serviceaccounts.fresh?.default, 'the controller made it later');
});
