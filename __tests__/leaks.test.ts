// The leak scanner itself: it must catch what it is meant to catch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { scanRun, secretsInState, type ScanInput } from './helpers/leaks.ts';

const S = 'Sup3r-Secret~value';
const base = (): ScanInput => ({
  stdout: '',
  stderr: '',
  outputs: {},
  summary: '',
  runnerTemp: mkdtempSync(join(tmpdir(), 'leak-')),
  requestLog: [],
  secrets: [S],
});
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('a secret printed before its mask, in stderr, in the summary, or in a left-over file is a leak', () => {
  const r = base();
  r.stdout = `using ${S}\n::add-mask::${S}\nusing ${S}`;
  r.stderr = `oops ${S}`;
  r.summary = `| ${S} |`;
  writeFileSync(join(r.runnerTemp, 'creds.json'), S);
  assert.deepEqual(
    scanRun(r).map((l) => l.where.replace(/: .*/, '')),
    ['stdout line 1', 'stderr line 1', 'job summary', 'file left in RUNNER_TEMP'],
  );
});

test('derived forms are found: base64 auth, base64 of a dockerconfigjson holding it; masked ones pass', () => {
  const auth = b64(`user:${S}`);
  const data = b64(JSON.stringify({ auths: { r: { auth } } }));
  const r = base();
  r.stdout = `auth=${auth}\ndata=${data}`;
  assert.equal(scanRun(r).length, 2);
  r.stdout = `::add-mask::${auth}\n::add-mask::${data}\nauth=${auth}\ndata=${data}`;
  assert.deepEqual(scanRun(r), []);
});

test('an output holding a secret must be masked; the request log must not hold one', () => {
  const r = base();
  r.outputs = { 'docker-config-json': `{"p":"${S}"}` };
  r.requestLog = [`GET host/path?password=${S}`];
  assert.equal(scanRun(r).length, 2);
  r.stdout = `::add-mask::${S}`;
  r.requestLog = [];
  assert.deepEqual(scanRun(r), []);
});

test('secrets are collected from the emulator state', () => {
  const got = secretsInState({
    tenants: { a: { applications: [{ passwordCredentials: [{ secretText: 'abcdefgh', hint: 'abc' }] }] } },
    registrySecrets: { refreshTokens: { 'refresh-token-xyz': {} }, admin: { r: { password: 'adminpass1' } } },
  });
  assert.deepEqual(got.sort(), ['abcdefgh', 'adminpass1', 'refresh-token-xyz']);
});
