// bench/floor.ts: the latency floor of a run over many targets, read from request logs (synthetic
// logs here: what the emulator would record; no timing is measured).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latencyFloor, requestShape, sequentialDepth, type LoggedRequest } from '../bench/floor.ts';

const L = 50;
const T0 = Date.parse('2026-12-01T00:00:00.000Z');
/** A request that starts `at` turns of L after T0 and lasts one L. */
const req = (at: number, method: string, service: string, path: string): LoggedRequest => ({
  time: new Date(T0 + at * L).toISOString(),
  durationMs: L,
  method,
  service,
  path,
});
const signIn = [req(0, 'GET', 'entra', '/t/v2.0/.well-known/openid-configuration'), req(1, 'POST', 'entra', '/t/oauth2/v2.0/token')];
const cluster = (name: string, turn: number) => [
  req(
    2 + 2 * turn,
    'GET',
    'arm',
    `/subscriptions/aaaaaaaa-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/${name}`,
  ),
  req(
    3 + 2 * turn,
    'PUT',
    'arm',
    `/subscriptions/aaaaaaaa-0000-4000-8000-000000000001/registries/r/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}`,
  ),
];

test('sequentialDepth counts the longest chain of requests each starting after the one before ended', () => {
  assert.equal(sequentialDepth([]), 0);
  assert.equal(sequentialDepth([...signIn, ...cluster('a', 0)]), 4);
  // two clusters side by side add no depth
  assert.equal(sequentialDepth([...signIn, ...cluster('a', 0), ...cluster('b', 0)]), 4);
});

test('requestShape generalises the target names and ids in a path', () => {
  const targets = new Set(['aks-1']);
  assert.equal(
    requestShape(cluster('aks-1', 0)[0], targets),
    'GET arm /subscriptions/{id}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/{target}',
  );
  assert.equal(
    requestShape(cluster('aks-1', 0)[1], targets),
    'PUT arm /subscriptions/{id}/registries/r/providers/Microsoft.Authorization/roleAssignments/{id}',
  );
});

test('the floor of 20 clusters at max-parallel 8: the one-cluster chain plus two more turns of one cluster, plus its own time', () => {
  const one = { ms: 400, log: [...signIn, ...cluster('c0', 0)], targets: ['c0'] };
  const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
  // made as it should be: 8 at a time, so 3 turns
  const log = [...signIn, ...names.flatMap((n, i) => cluster(n, Math.floor(i / 8)))];
  const f = latencyFloor(one, { ms: 0, log, targets: names }, 8, L);
  assert.deepEqual(f.sharedShapes, ['GET entra /t/v2.0/.well-known/openid-configuration', 'POST entra /t/oauth2/v2.0/token']);
  assert.equal(f.perTargetShapes.length, 2);
  assert.equal(f.oneTargetChain, 4);
  assert.equal(f.perTargetChain, 2);
  assert.equal(f.turns, 3);
  assert.equal(f.chain, 8);
  assert.equal(f.ownMs, 400 - 4 * L);
  assert.equal(f.floorMs, 8 * L + 200);
  assert.equal(f.observedChain, 8);
});

test('a run that serialises its targets does not raise its own floor: the floor comes from the one-target chain', () => {
  const one = { ms: 400, log: [...signIn, ...cluster('c0', 0)], targets: ['c0'] };
  const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
  const log = [...signIn, ...names.flatMap((n, i) => cluster(n, i))]; // one at a time
  const f = latencyFloor(one, { ms: 0, log, targets: names }, 8, L);
  assert.equal(f.chain, 8);
  assert.equal(f.observedChain, 42);
});
