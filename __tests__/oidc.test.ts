// src/auth/assertion.ts assertionCache: one GitHub OIDC request per token's life.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertionCache } from '../src/auth/assertion.ts';

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

test('asks GitHub once for any number of asks while the token is fresh, and again a minute before it expires', async () => {
  let clock = 1_000_000_000_000;
  let calls = 0;
  const exp = clock / 1000 + 300; // GitHub's tokens live about five minutes
  const get = assertionCache(
    async () => (calls++, jwt({ exp })),
    () => clock,
  );
  const [a, b] = await Promise.all([get(), get()]); // MSAL's two asks in one sign-in
  assert.equal(a, b);
  assert.equal(calls, 1);
  clock += 230_000; // 70 s before exp
  await get();
  assert.equal(calls, 1);
  clock += 20_000; // 50 s before exp
  await get();
  assert.equal(calls, 2);
});

test('a token without exp is kept for a minute; a failure is kept, not asked again', async () => {
  let clock = 0;
  let calls = 0;
  const get = assertionCache(
    async () => (calls++, 'not-a-jwt'),
    () => clock,
  );
  await get();
  clock += 59_000;
  await get();
  assert.equal(calls, 1);
  clock += 2_000;
  await get();
  assert.equal(calls, 2);

  let failures = 0;
  const failing = assertionCache(async () => {
    failures++;
    throw new Error('no id-token: write');
  });
  await assert.rejects(failing(), /id-token/);
  await assert.rejects(failing(), /id-token/);
  assert.equal(failures, 1);
});
