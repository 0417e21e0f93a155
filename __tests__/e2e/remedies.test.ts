// Every failure says what to do next (issue #16 item 4), through the bundle against the emulator:
// a 403 on a role assignment gives the least-privilege `az role assignment create` with the
// assignee, role, scope and condition filled in (not Owner first); a Kubernetes 401 names the
// server, the context and the user the kubeconfig used and how to check them; a 403 gives the
// `kubectl auth can-i` to check; a failed verify says `operation: attach`; an input error and an
// early failure still write the job summary, one line.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEPLOYER_OID_A, SUB_1 } from '../../emulator/ids.ts';
import { azureInputs, basicInputs, runAction } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { ACR_PULL, REPOSITORY_READER } from '../../src/roles.ts';
import { pullRolesCondition } from '../../src/azure/rbac.ts';
import { CELL_MAX } from '../../src/log.ts';

const emu = useEmulator();
const REG = `/subscriptions/${SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/contosoacr`;
const MI_CLUSTER = { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks' };

/** The emulator's kubeconfig with its context and user renamed (and, unless kept, another token). */
function kubeconfig(opts: { context: string; user: string; token?: string }): string {
  return readFileSync(emu.kubeconfigPath, 'utf8')
    .replace(/- name: emulator\n {2}context:/, `- name: ${opts.context}\n  context:`)
    .replace(/^ {4}user: emulator$/m, `    user: ${opts.user}`)
    .replace(/- name: emulator\n {2}user:/, `- name: ${opts.user}\n  user:`)
    .replace(/^current-context: emulator$/m, `current-context: ${opts.context}`)
    .replace(/^ {4}token: .*$/m, (t) => (opts.token ? `    token: "${opts.token}"` : t));
}

/** The API server's 403 for requests matching `path`: a Status object, reason Forbidden, with `message`. */
function forbidden(method: string, path: string, message: string) {
  emu.addFault({
    method,
    pathPattern: path,
    kind: 'body',
    status: 403,
    body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', code: 403 }),
  });
}

describe('Azure RBAC', () => {
  test('a 403 on the role assignment gives the constrained Role Based Access Control Administrator command, filled in, before any mention of Owner', async () => {
    emu.state.roleAssignmentWriters = [];
    const r = await runAction(emu, azureInputs(emu, MI_CLUSTER));
    assert.equal(r.code, 1);
    assert.equal(r.errors.length, 1);
    const error = r.errors[0];
    const condition = pullRolesCondition([ACR_PULL, REPOSITORY_READER]);
    const command =
      `az role assignment create --assignee-object-id ${DEPLOYER_OID_A} --assignee-principal-type ServicePrincipal ` +
      `--role "Role Based Access Control Administrator" --scope "${REG}" --condition-version 2.0 --condition "${condition}"`;
    assert.ok(error.includes(command), `the command to copy:\n${command}\nin\n${error}`);
    assert.match(
      condition,
      new RegExp(`GuidEquals \\{${ACR_PULL}, ${REPOSITORY_READER}\\}\\)\\) AND`),
      'write limited to AcrPull and Repository Reader',
    );
    const hint = error.slice(error.indexOf('The signed-in identity'));
    assert.ok(hint.indexOf('Role Based Access Control Administrator') < hint.indexOf('Owner'), `leads with the constrained role, not Owner: ${hint}`);
    assert.match(error, /Then run this step again\.$/);
    // the summary: a short cell, and the whole error with its command folded under the table
    const row = r.summary.split('\n').find((l) => l.startsWith('| rg-aks/aks-mi '))!;
    const cell = row.split(' | ').find((c) => c.startsWith('❌'))!;
    assert.ok(cell.replace(/\\/g, '').length <= CELL_MAX + 1, `a short cell: ${cell}`);
    const fold = r.summary.slice(r.summary.indexOf('<details><summary>1 failed cluster: the whole error</summary>'));
    assert.ok(fold.includes(`az role assignment create --assignee-object-id ${DEPLOYER_OID_A}`), fold);
  });

  test('the condition in the message is the one README recommends', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /--condition "\n([\s\S]*?)"\n```/.exec(readme)?.[1];
    assert.ok(block, 'README shows the constrained command');
    assert.equal(block.replace(/\s+/g, ' ').trim(), pullRolesCondition([ACR_PULL, REPOSITORY_READER]));
  });
});

describe('Kubernetes', () => {
  test('a 401 names the server, the context and the user the kubeconfig used, and the kubectl check', async () => {
    const r = await runAction(
      emu,
      basicInputs(emu, { kubeconfig: kubeconfig({ context: 'ci-ctx', user: 'deployer-bot', token: 'not-the-cluster-token' }) }),
    );
    assert.equal(r.code, 1);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0], /^::error::Kubernetes get namespace team-a failed \(HTTP 401\): Unauthorized\. /);
    assert.ok(
      r.errors[0].includes(
        `The API server https://127.0.0.1:${emu.port} did not accept the credentials of user 'deployer-bot' of context 'ci-ctx' in the kubeconfig given inline.`,
      ),
      r.errors[0],
    );
    assert.match(r.errors[0], /token or client certificate is current/);
    assert.match(r.errors[0], /test with: kubectl --context ci-ctx auth whoami$/);
    assert.doesNotMatch(r.errors[0], /HTTP 401\): HTTP 401/);
  });

  test('a 403 names the user and context, and the kubectl auth can-i that checks the permission', async () => {
    // the API server's RBAC denial
    forbidden(
      'GET',
      '/namespaces/team-a/secrets/acr-contosoacr$',
      'secrets "acr-contosoacr" is forbidden: User "deployer-bot" cannot get resource "secrets" in API group "" in the namespace "team-a"',
    );
    const r = await runAction(emu, basicInputs(emu, { kubeconfig: kubeconfig({ context: 'ci-ctx', user: 'deployer-bot' }) }));
    assert.equal(r.code, 1);
    assert.match(r.errors[0], /failed \(HTTP 403 Forbidden\): secrets "acr-contosoacr" is forbidden: User "deployer-bot" cannot get/);
    assert.match(r.errors[0], /The kubeconfig's user 'deployer-bot' of context 'ci-ctx' may not do this: grant it the Role in README/);
    assert.match(r.errors[0], /check with: kubectl --context ci-ctx auth can-i get secrets\/acr-contosoacr -n team-a$/);
  });
});

test("a 403 from an admission webhook is the cluster's policy, not the user's permission", async () => {
  forbidden(
    'POST',
    '/namespaces/team-a/secrets$',
    'admission webhook "validate.kyverno.svc-fail" denied the request: secrets must carry the label team',
  );
  const r = await runAction(emu, basicInputs(emu));
  assert.equal(r.code, 1);
  assert.match(r.errors[0], /denied the request: secrets must carry the label team\. An admission policy of the cluster refused this write/);
  assert.doesNotMatch(r.errors[0], /auth can-i/);
});

describe('verify', () => {
  test('a failed pull-secret verify says to run operation: attach, in the error and first in the summary', async () => {
    const r = await runAction(emu, basicInputs(emu, { operation: 'verify' }));
    assert.equal(r.code, 1);
    assert.match(
      r.errors[0],
      /^::error::namespace team-a failed verification: Secret team-a\/acr-contosoacr is missing\. Run this step with operation: attach/,
    );
    assert.match(r.summary, /^\*\*to repair\*\*: Run this step with operation: attach/m);
  });

  test('a failed AKS verify says it too; after attach, verify passes', async () => {
    const v = await runAction(emu, azureInputs(emu, { ...MI_CLUSTER, operation: 'verify' }));
    assert.equal(v.code, 1);
    assert.match(v.errors[0], /^::error::cluster rg-aks\/aks-mi failed verification: .*Run this step with operation: attach/);
    assert.equal((await runAction(emu, azureInputs(emu, MI_CLUSTER))).code, 0);
    const again = await runAction(emu, azureInputs(emu, { ...MI_CLUSTER, operation: 'verify' }));
    assert.equal(again.code, 0, again.stdout);
  });
});

describe('the job summary of a run that stops early', () => {
  test('an input error writes one line: what failed, as the error says it', async () => {
    const r = await runAction(emu, { registry: 'contosoacr', namespaces: 'Team_A!' });
    assert.equal(r.code, 1);
    const error = r.errors[0].slice('::error::'.length);
    assert.match(error, /^Input 'namespaces': /);
    assert.equal(r.summary.trim().split('\n').length, 1, r.summary);
    assert.match(r.summary, /^\*\*❌ acr-kube-auth failed\*\*: Input 'namespaces': /);
    assert.equal(emu.requests.length, 0, 'before any network call');
  });

  test('an early failure (no such registry) writes one line naming the operation', async () => {
    const r = await runAction(emu, azureInputs(emu, { ...MI_CLUSTER, registry: 'nosuchacr', operation: 'detach' }));
    assert.equal(r.code, 1);
    assert.equal(r.summary.trim().split('\n').length, 1, r.summary);
    assert.match(r.summary, /^\*\*❌ acr-kube-auth detach failed\*\*: No registry named 'nosuchacr' was found/);
  });
});
