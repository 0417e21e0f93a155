// End to end (issue #6): keep-alive connections are reused, and one token serves every call of an
// audience and tenant. Counted by the emulator: the TLS connections it accepted and the requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addFleet } from '../../emulator/fixtures.ts';
import { azureInputs, runAction } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';

const emu = useEmulator();

const tokenRequests = () => emu.requests.filter((r) => r.service === 'entra' && r.method === 'POST' && r.path.endsWith('/oauth2/v2.0/token'));
const byService = (service: string) => emu.requests.filter((r) => r.service === service);

test('a fleet of 12 clusters at max-parallel 4: one token request, and no more connections than requests in flight', async () => {
  const { names } = addFleet(emu.state, 12, { resourceGroup: 'rg-fleet' });
  const r = await runAction(
    emu,
    azureInputs(emu, { registry: 'contosoacr', clusters: names.map((n) => `rg-fleet/${n}`).join('\n'), 'max-parallel': '4' }),
  );
  assert.equal(r.code, 0, r.stdout);
  assert.equal(tokenRequests().length, 1, 'one ARM token for every cluster');
  const arm = byService('arm').length;
  assert.equal(arm, 1 + 12 * 2, 'the registry once, then a GET and a PUT per cluster');
  // Entra: one connection (discovery, then the token). ARM: the registry is resolved while the
  // first 4 clusters are read, so at most 5 requests are in flight, and 5 connections carry all 25.
  assert.ok(emu.connections.length <= 1 + 5, `${emu.connections.length} TLS connections for ${emu.requests.length} requests`);
});

// One connection per worker: src/kube/client.ts waits a turn of the event loop after each body,
// when @kubernetes/client-node's undici has put the connection back in its pool (without it, each
// worker alternated between two connections).
for (const parallel of [1, 4]) {
  test(`a pull secret to 20 new namespaces at max-parallel ${parallel}: 41 Kubernetes requests over ${parallel === 1 ? 'one connection' : `at most ${parallel} connections`}`, async () => {
    const namespaces = Array.from({ length: 20 }, (_, i) => `conn-${i}`);
    const r = await runAction(emu, {
      registry: 'contosoacr.azurecr.io',
      'credential-type': 'basic',
      username: 'puller',
      password: 'Pa55word',
      namespaces: namespaces.join(','),
      'create-namespaces': 'true',
      'max-parallel': String(parallel),
    });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(byService('kube').length, 1 + 20 * 2, 'one namespace list, then a create and a secret create per namespace');
    assert.ok(emu.connections.length <= parallel, `${emu.connections.length} TLS connections for ${emu.requests.length} requests`);
  });
}

test('one attach: a connection to Entra and at most two to ARM (the two parallel reads; the PUT reuses one)', async () => {
  const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks' }));
  assert.equal(r.code, 0, r.stdout);
  assert.equal(tokenRequests().length, 1);
  assert.equal(byService('arm').length, 3);
  assert.ok(emu.connections.length <= 3, `${emu.connections.length} TLS connections for ${emu.requests.length} requests`);
});
