// `npm run demo` is a tour of the pull-secret scenario (scripts/demo.ts): this runs it as a user
// would and checks that every stop happened, in order, and said what it should: attach, the same
// again with changed: false, verify, a failure with its remedy, kubectl get of what was written,
// detach. kubectl is the real one (under CI=true its absence fails the test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers/harness.ts';
import { requireBinaries } from './helpers/registry.ts';

/** What each stop must show, in this order (each pattern is looked for after the previous one). */
const TOUR: [string, RegExp][] = [
  ['stop 1 starts', /^▶ 1\. attach/m],
  ['attach writes the secret', /^✓ team-a: created$/m],
  ['attach makes the token', /^created token kube-pull-team-a on contosoacr$/m],
  [
    'a new token has one password, and says so',
    /^generated password1 of the new token kube-pull-team-a, valid until \S+ \(the token's only password\)$/m,
  ],
  ['attach changed something', /^output changed: true$/m],
  ['its job summary', /^ {2}\| team-a \| acr-contosoacr \| ✅ created \| yes \|/m],
  ['stop 1 ended as it should', /^exit code 0$/m],
  ['stop 2 starts', /^▶ 2\. /m],
  ['the second run keeps the password', /^✓ team-a: unchanged$/m],
  ['and changes nothing', /^output changed: false$/m],
  ['stop 3 starts', /^▶ 3\. verify/m],
  ['verify passes', /^✓ team-a: verified$/m],
  ['stop 3 ended as it should', /^exit code 0$/m],
  ['stop 4 starts', /^▶ 4\. a failure/m],
  ['the broken namespace, its details folded', /^▸ ✗ team-b: broken: Secret team-b\/acr-contosoacr is missing/m],
  ['the failure says what to do', /^::error::1 of 2 namespaces failed verification: team-b: .*Run this step with operation: attach/m],
  ['its summary counts first', /^ {2}\*\*2 namespaces\*\*: 1 failed, 1 verified$/m],
  ['its summary folds the whole error', /^ {2}<details><summary>1 failed namespace: the whole error<\/summary>$/m],
  ['stop 4 failed on purpose', /^exit code 1$/m],
  ['stop 5 starts', /^▶ 5\. kubectl get/m],
  ['kubectl lists the secret the action wrote', /^acr-contosoacr +kubernetes\.io\/dockerconfigjson +1 /m],
  ["kubectl shows the action's annotation", /"acr-kube-auth\.github\.io\/registries":/],
  ['kubectl shows the service account lists it', /^\[\{"name":"acr-contosoacr"\}\]$/m],
  ['stop 6 starts', /^▶ 6\. detach/m],
  ['detach deletes the secret', /^✓ team-a: deleted$/m],
  ['and the token attach made', /^deleted token kube-pull-team-a on contosoacr$/m],
  ['stop 6 ended as it should', /^exit code 0$/m],
];

test('npm run demo: every stop of the tour happens, in order, and says what it should', async (t) => {
  const skip = await requireBinaries(['kubectl']);
  if (skip) return t.skip(skip);
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'demo.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise((r) => child.on('close', r));
  clearTimeout(timer);
  assert.equal(code, 0, `the demo exits 0 when every stop ended as it should\n${out}\n${err}`);
  let at = 0;
  for (const [what, re] of TOUR) {
    const m = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    m.lastIndex = at;
    const found = m.exec(out);
    assert.ok(found, `${what}: ${re} after offset ${at} of\n${out}`);
    at = found.index + found[0].length;
  }
  assert.doesNotMatch(out, /pods restart/, 'no password that does not exist is described');
});
