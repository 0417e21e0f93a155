// src/registry-login.ts awaitPropagation and propagationWindowMs, on a fake clock: a refused
// credential younger than the window is asked again until it works or the window ends; anything
// else is answered at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awaitPropagation, propagationWindowMs, DEFAULT_PROPAGATION_MS, type CheckOutcome } from '../src/registry-login.ts';

const REFUSED: CheckOutcome = { ok: false, rejected: true, reason: 'registry r rejected the credential (HTTP 401)' };

function clock(start = 1_000_000) {
  let t = start;
  const sleeps: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)), sleeps, advance: (ms: number) => (t += ms) };
}

/** A check answering from `answers` in turn (the last one repeats), counting its calls. */
function checks(...answers: CheckOutcome[]) {
  let calls = 0;
  return { check: async () => answers[Math.min(calls++, answers.length - 1)]!, calls: () => calls };
}

test('a refused young credential is asked again until it works, with one line first and growing pauses', async () => {
  const c = clock();
  const lines: string[] = [];
  const q = checks(REFUSED, REFUSED, REFUSED, { ok: true });
  const r = await awaitPropagation(q.check, {
    what: 'password1 of token t',
    createdAt: c.now() - 2_000,
    windowMs: 90_000,
    now: c.now,
    sleep: c.sleep,
    onWait: (l) => lines.push(l),
  });
  assert.deepEqual(r, { ok: true });
  assert.equal(q.calls(), 4);
  assert.deepEqual(c.sleeps, [1000, 2000, 3000]);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^password1 of token t was created 2 s ago and the registry refuses it so far: .* \(at most 88 s more\)\.$/);
});

test('the wait ends with the window (counted from the creation), and the failure says how long it waited', async () => {
  const c = clock();
  const q = checks(REFUSED);
  const r = await awaitPropagation(q.check, { what: 'p', createdAt: c.now(), windowMs: 12_000, now: c.now, sleep: c.sleep, onWait: () => {} });
  assert.equal(r.ok, false);
  assert.equal(
    c.sleeps.reduce((a, b) => a + b, 0),
    12_000,
    'slept exactly to the end of the window',
  );
  assert.ok(c.sleeps.every((s) => s <= 5000));
  assert.match((r as { reason: string }).reason, /HTTP 401\), still 12 s after p was created/);
});

test('no wait: an accepted credential, another failure, an old or unknown creation, a window of 0', async () => {
  const c = clock();
  const opts = { what: 'p', windowMs: 90_000, now: c.now, sleep: c.sleep, onWait: () => assert.fail('no wait line') };
  const unreachable: CheckOutcome = { ok: false, reason: 'could not reach registry r' };
  const asked: string[] = [];
  const created = (v: number | undefined) => async () => (asked.push('created'), v);
  assert.deepEqual(await awaitPropagation(checks({ ok: true }).check, { ...opts, createdAt: created(c.now()) }), { ok: true });
  assert.deepEqual(await awaitPropagation(checks(unreachable).check, { ...opts, createdAt: created(c.now()) }), unreachable);
  assert.deepEqual(asked, [], 'the creation time is asked only after a refusal');
  assert.deepEqual(await awaitPropagation(checks(REFUSED).check, { ...opts, createdAt: created(c.now() - 90_000) }), REFUSED);
  assert.deepEqual(await awaitPropagation(checks(REFUSED).check, { ...opts, createdAt: created(undefined) }), REFUSED);
  assert.deepEqual(await awaitPropagation(checks(REFUSED).check, { ...opts, createdAt: c.now(), windowMs: 0 }), REFUSED);
  assert.deepEqual(c.sleeps, []);
});

test('a check that turns into another failure while waiting stops the wait with that failure', async () => {
  const c = clock();
  const grants: CheckOutcome = { ok: false, reason: 'accepted but grants no pull on app/web' };
  const r = await awaitPropagation(checks(REFUSED, grants).check, {
    what: 'p',
    createdAt: c.now(),
    windowMs: 90_000,
    now: c.now,
    sleep: c.sleep,
    onWait: () => {},
  });
  assert.deepEqual(r, grants);
  assert.deepEqual(c.sleeps, [1000]);
});

test('ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS: whole ms up to 10 minutes, else the 90 s default', () => {
  assert.equal(DEFAULT_PROPAGATION_MS, 90_000);
  assert.equal(propagationWindowMs({}), 90_000);
  assert.equal(propagationWindowMs({ ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS: '0' }), 0);
  assert.equal(propagationWindowMs({ ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS: '3000' }), 3000);
  assert.equal(propagationWindowMs({ ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS: '9999999' }), 600_000);
  assert.equal(propagationWindowMs({ ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS: '1.5' }), 90_000);
  assert.equal(propagationWindowMs({ ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS: '-1' }), 90_000);
});
