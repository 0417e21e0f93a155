// A kubeconfig whose server is plain HTTP (issue #12): the bearer token and the Secret body must
// not travel in cleartext, with or without insecure-skip-tls-verify. The "server" is a bare TCP
// listener that records every byte it is sent: it must receive no connection at all, and the step
// must fail with one error naming the kubeconfig and the server. And a kubeconfig that turns TLS
// verification off (insecure-skip-tls-verify over https) works, with a ::warning:: saying so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAction } from '../helpers/harness.ts';
import { attachOidc, basic } from '../helpers/inputs.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { startPlainListener } from '../helpers/capture.ts';
import { recordFigure } from '../helpers/leaks.ts';
import type { Emulator } from '../../emulator/server.ts';

const emu = useEmulator();

function kubeconfig(server: string, token: string, opts: { skipVerify?: boolean; ca?: string } = {}): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: c',
    '  cluster:',
    `    server: ${server}`,
    ...(opts.skipVerify ? ['    insecure-skip-tls-verify: true'] : []),
    ...(opts.ca ? [`    certificate-authority-data: ${Buffer.from(opts.ca).toString('base64')}`] : []),
    'contexts:',
    '- name: c',
    '  context:',
    '    cluster: c',
    '    user: u',
    'current-context: c',
    'users:',
    '- name: u',
    '  user:',
    `    token: ${token}`,
    '',
  ].join('\n');
}

const inputs = (e: Emulator, config: string) => basic(e, { kubeconfig: config });

test('a plain-HTTP kubeconfig server gets nothing, with or without insecure-skip-tls-verify: one error naming the kubeconfig and the server', async (t) => {
  let refused = 0;
  const cases = [false, true];
  for (const skipVerify of cases) {
    const plain = await startPlainListener();
    try {
      const token = emu.state.kube.token;
      const first = emu.requests.length;
      const r = await runAction(emu, inputs(emu, kubeconfig(plain.origin, token, { skipVerify })), { env: { KUBECONFIG: undefined } });
      const line = r.errors[0] ?? '';
      t.diagnostic(`insecure-skip-tls-verify ${skipVerify}: ${line}`);
      assert.equal(r.code, 1);
      assert.equal(r.errors.length, 1, r.errors.join('\n'));
      assert.match(line, /kubeconfig/);
      assert.ok(line.includes(plain.origin), `the error names the server ${plain.origin}: ${line}`);
      assert.match(line, /not HTTPS/);
      const printed = r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'));
      assert.ok(!printed.some((l) => l.includes(token)), 'the token is never printed (only masked)');
      assert.equal(plain.connections(), 0, `the plain server was connected to; it received: ${JSON.stringify(plain.received().slice(0, 200))}`);
      assert.equal(plain.received(), '');
      assert.deepEqual(
        emu.requests.slice(first).filter((q) => q.service === 'kube'),
        [],
        'no Kubernetes request went anywhere',
      );
      refused += 1;
    } finally {
      await plain.close();
    }
  }
  recordFigure('plain http', {
    text: `plain-HTTP kubeconfig servers refused: ${refused} of ${cases.length} (with and without insecure-skip-tls-verify; 0 connections to them)`,
  });
});

test('a plain-HTTP GitHub OIDC token URL gets nothing: the runtime token stays home, one error naming the URL', async () => {
  const plain = await startPlainListener();
  try {
    const r = await runAction(emu, attachOidc(emu), {
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: `${plain.origin}/_github/oidc/token?api-version=2.0` },
    });
    assert.equal(r.code, 1);
    assert.equal(r.errors.length, 1, r.errors.join('\n'));
    assert.match(r.errors[0], /GitHub OIDC token request \(127\.0\.0\.1:\d+\) failed: http:\/\/127\.0\.0\.1:\d+ is plain HTTP/);
    assert.equal(plain.connections(), 0);
  } finally {
    await plain.close();
  }
});

test('insecure-skip-tls-verify over https works and says so in a ::warning:: line', async () => {
  const r = await runAction(emu, inputs(emu, kubeconfig(emu.url, emu.state.kube.token, { skipVerify: true })), { env: { KUBECONFIG: undefined } });
  assert.equal(r.code, 0, r.errors.join('\n'));
  const warnings = r.stdout.split('\n').filter((l) => l.startsWith('::warning::'));
  assert.equal(warnings.filter((l) => /insecure-skip-tls-verify/.test(l)).length, 1, warnings.join('\n'));
  assert.ok(
    warnings.some((l) => l.includes(emu.url)),
    'the warning names the server',
  );
  // and a kubeconfig with its CA instead: no warning
  const ok = await runAction(emu, inputs(emu, kubeconfig(emu.url, emu.state.kube.token, { ca: emu.caCertPem })), { env: { KUBECONFIG: undefined } });
  assert.equal(ok.code, 0, ok.errors.join('\n'));
  assert.ok(!ok.stdout.includes('insecure-skip-tls-verify'));
});
