// Traceable writes (issue #16 item 6), end to end through dist/index.js: every object the action
// writes says which workflow run wrote it, read from @actions/github's context with the GITHUB_*
// variables the runner sets (the harness sets them as GITHUB_RUN_ENV): the written-by annotation
// on Secrets, Namespaces and service accounts, the role assignment's description, and a link to
// the run in the job summary. Outside a workflow run nothing is recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KUBELET_OID } from '../../emulator/ids.ts';
import { GITHUB_RUN_ENV, GITHUB_RUN_URL, azureInputs, basicInputs, runAction } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';

const emu = useEmulator();
const ANNOTATION = 'acr-kube-auth.github.io/written-by';
const expected = {
  repository: GITHUB_RUN_ENV.GITHUB_REPOSITORY,
  workflow: GITHUB_RUN_ENV.GITHUB_WORKFLOW,
  runId: GITHUB_RUN_ENV.GITHUB_RUN_ID,
  runAttempt: GITHUB_RUN_ENV.GITHUB_RUN_ATTEMPT,
  sha: GITHUB_RUN_ENV.GITHUB_SHA,
  runUrl: GITHUB_RUN_URL,
};
const noRun = Object.fromEntries(Object.keys(GITHUB_RUN_ENV).map((k) => [k, undefined]));
const annotations = (o: unknown) => (o as { metadata: { annotations?: Record<string, string> } } | undefined)?.metadata.annotations ?? {};

test('a pull secret, the namespace it made and the service account it changed each name the run; the summary links to it', async () => {
  const r = await runAction(emu, basicInputs(emu, { namespaces: 'team-new', 'create-namespaces': 'true', 'service-accounts': 'default' }));
  assert.equal(r.code, 0, r.stdout);
  const kube = emu.state.kube;
  for (const [what, o] of [
    ['secret', kube.secrets['team-new']['acr-contosoacr']],
    ['namespace', kube.namespaces['team-new']],
    ['service account', kube.serviceaccounts['team-new'].default],
  ] as const) {
    assert.ok(annotations(o)[ANNOTATION], `${what} has no ${ANNOTATION}`);
    assert.deepEqual(JSON.parse(annotations(o)[ANNOTATION]), expected, what);
  }
  assert.equal(
    (kube.namespaces['team-new'] as { metadata: { labels: Record<string, string> } }).metadata.labels['app.kubernetes.io/managed-by'],
    'acr-kube-auth',
  );
  assert.ok(r.summary.includes(`- **workflow run**: <${GITHUB_RUN_URL}>`), r.summary);
});

test('a later run that changes the secret records itself; one that changes nothing leaves the record alone', async () => {
  assert.equal((await runAction(emu, basicInputs(emu))).code, 0);
  const again = await runAction(emu, basicInputs(emu), { env: { GITHUB_RUN_ID: '1111', GITHUB_RUN_ATTEMPT: '1' } });
  assert.equal(again.outputs.changed, 'false');
  assert.equal(JSON.parse(annotations(emu.state.kube.secrets['team-a']['acr-contosoacr'])[ANNOTATION]).runId, GITHUB_RUN_ENV.GITHUB_RUN_ID);
  const rotated = await runAction(emu, basicInputs(emu, { password: 'Another-Pa55word~7' }), {
    env: { GITHUB_RUN_ID: '1111', GITHUB_RUN_ATTEMPT: '1' },
  });
  assert.equal(rotated.outputs.changed, 'true');
  const rec = JSON.parse(annotations(emu.state.kube.secrets['team-a']['acr-contosoacr'])[ANNOTATION]);
  assert.equal(rec.runId, '1111');
  assert.equal(rec.runUrl, 'https://github.com/octo-org/deploy-config/actions/runs/1111/attempts/1');
});

test("the role assignment's description says what it is for and which run wrote it", async () => {
  const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks' }));
  assert.equal(r.code, 0, r.stdout);
  const [a] = Object.values(emu.state.roleAssignments).filter((x) => x.properties.principalId === KUBELET_OID);
  assert.equal(
    a.properties.description,
    `acr-kube-auth: AKS kubelet identity pulls from this registry; written by ${expected.repository} workflow '${expected.workflow}' run ${expected.runId} attempt ${expected.runAttempt} at commit ${expected.sha} (${GITHUB_RUN_URL})`,
  );
  assert.ok(r.summary.includes(GITHUB_RUN_URL));
});

test('outside a workflow run nothing is recorded and the summary has no run link', async () => {
  const r = await runAction(emu, basicInputs(emu, { 'service-accounts': 'default' }), { env: noRun });
  assert.equal(r.code, 0, r.stdout);
  assert.equal(annotations(emu.state.kube.secrets['team-a']['acr-contosoacr'])[ANNOTATION], undefined);
  assert.equal(annotations(emu.state.kube.serviceaccounts['team-a'].default)[ANNOTATION], undefined);
  assert.doesNotMatch(r.summary, /workflow run/);
  const mi = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks' }), {
    env: noRun,
  });
  assert.equal(mi.code, 0, mi.stdout);
  const [a] = Object.values(emu.state.roleAssignments).filter((x) => x.properties.principalId === KUBELET_OID);
  assert.equal(a.properties.description, 'acr-kube-auth: AKS kubelet identity pulls from this registry');
});
