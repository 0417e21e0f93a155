// What the job shows: debug traces of every API call (method, path, status, duration; never
// bodies or headers), a notice when a credential expires within 7 days, and the summary table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { azureInputs, runAction } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';

const emu = useEmulator({ reset: false });

test('under debug, each API call is traced with method, path, status and duration, and nothing more', async () => {
  const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', namespaces: 'team-a', 'service-accounts': 'default' }), {
    env: { RUNNER_DEBUG: '1' },
  });
  assert.equal(r.code, 0, r.stdout);
  const debug = r.stdout.split('\n').filter((l) => l.startsWith('::debug::'));
  const traced = /^::debug::(ARM|Graph|ACR|Kubernetes) (GET|PUT|POST|PATCH|DELETE|HEAD) \S+ -> \d{3} \(\d+ ms\)$/;
  assert.ok(
    debug.some((l) => /^::debug::ARM PUT \/subscriptions\/.+\/tokens\/kube-pull-team-a -> 20\d/.test(l)),
    'the token PUT is traced',
  );
  assert.ok(
    debug.some((l) => /^::debug::Kubernetes POST \/api\/v1\/namespaces\/team-a\/secrets -> 201/.test(l)),
    'the secret create is traced',
  );
  assert.ok(
    debug.some((l) => /^::debug::Kubernetes PATCH \/api\/v1\/namespaces\/team-a\/serviceaccounts\/default -> 200/.test(l)),
    'the service account patch is traced',
  );
  const calls = debug.filter((l) => traced.test(l));
  assert.ok(calls.length >= 6, `${calls.length} traced calls`);
  for (const l of debug) {
    assert.doesNotMatch(l, /authorization|bearer|password|"auths"|\{"/i, `a debug line carries more than the call: ${l.slice(0, 120)}`);
  }
});

test('a credential that expires within 7 days raises a ::notice::', async () => {
  const r = await runAction(
    emu,
    azureInputs(emu, { registry: 'contosoacr', namespaces: 'team-b', 'secret-expiry': '3d', 'token-name': 'short-lived' }),
  );
  assert.equal(r.code, 0, r.stdout);
  const notices = r.stdout.split('\n').filter((l) => l.startsWith('::notice::'));
  assert.equal(notices.length, 1);
  assert.match(notices[0], /expires on 20\d\d-.*within 7 days/);
  const long = await runAction(
    emu,
    azureInputs(emu, { registry: 'contosoacr', namespaces: 'team-b', 'token-name': 'long-lived', 'secret-name': 'long' }),
  );
  assert.equal(long.code, 0);
  assert.ok(!long.stdout.includes('::notice::'), 'no notice for a 90-day credential');
});

test('a job summary file that cannot be written is a warning: the step still succeeds and sets its outputs', async () => {
  const r = await runAction(
    undefined,
    { registry: 'contosoacr.azurecr.io', 'credential-type': 'basic', username: 'puller', password: 'Pa55word', apply: 'false' },
    { env: { GITHUB_STEP_SUMMARY: '/nonexistent-acr-kube-auth/summary.md' } },
  );
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /^::warning::Could not write the job summary to \/nonexistent-acr-kube-auth\/summary\.md: ENOENT/m);
  assert.equal(r.outputs['secret-name'], 'acr-contosoacr');
  assert.match(r.outputs.manifest, /kind: Secret/);
});
