// The bundle's start-up tricks (scripts/build.mjs): what they rewrite, and that dist/ keeps them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
// @ts-expect-error: a plain .mjs script without type declarations
import { builtinsFromProcess } from '../scripts/build.mjs';
import { randomUUID } from '../src/uuid-shim.ts';
import { DIST, ROOT } from './helpers/harness.ts';

test('builtinsFromProcess rewrites each import shape of a built-in and leaves other imports alone', () => {
  const code = [
    'import{readFileSync as a,existsSync}from"node:fs";',
    'import*as o from"os";',
    'import p from"node:process";',
    'import d,{constants as c}from"node:fs/promises";',
    'import{default as u}from"node:util";',
    'import{a as x}from"./chunks/chunk-ABC.js";',
    'import y from"js-yaml";',
  ].join('');
  assert.equal(
    builtinsFromProcess(code),
    [
      'const{readFileSync:a}=process.getBuiltinModule("node:fs");const{existsSync:existsSync}=process.getBuiltinModule("node:fs");',
      'const o=process.getBuiltinModule("os");',
      'const p=process.getBuiltinModule("node:process");',
      'const d=process.getBuiltinModule("node:fs/promises");const{constants:c}=process.getBuiltinModule("node:fs/promises");',
      'const u=process.getBuiltinModule("node:util");',
      'import{a as x}from"./chunks/chunk-ABC.js";',
      'import y from"js-yaml";',
    ].join(''),
  );
});

test('builtinsFromProcess fails the build on a shape it does not know, rather than pass it unchanged', () => {
  assert.throws(() => builtinsFromProcess('import"node:fs";'), /unexpected import of node:fs/);
  assert.throws(() => builtinsFromProcess('import{"x-y"as z}from"node:fs";'), /unexpected import of node:fs/);
});

test('dist/ imports no Node built-in as an ES module, and the entry chunk does not load node:crypto', () => {
  const dir = join(ROOT, 'dist');
  const files = ['index.js', ...readdirSync(join(dir, 'chunks')).map((f) => join('chunks', f))].filter((f) => f.endsWith('.js'));
  for (const f of files) {
    const code = readFileSync(join(dir, f), 'utf8');
    const esm =
      /\bimport\s*(?:[\w$*{][^;]*?)?from\s*"((?:node:)?(?:fs|os|path|crypto|util|stream|http|https|net|tls|zlib|url|events|buffer|child_process))"/.exec(
        code,
      );
    assert.equal(esm, null, `dist/${f} imports ${esm?.[1]} as an ES module`);
  }
  assert.doesNotMatch(readFileSync(join(dir, 'index.js'), 'utf8'), /getBuiltinModule\("(node:)?crypto"\)/);
});

test('the output-delimiter stand-in for randomUUID gives UUID-shaped values that do not repeat', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 10000; i++) {
    const id = randomUUID();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 10000);
});

test('undici is bundled only with the Kubernetes client, not with the OIDC sign-in', () => {
  const chunks = readdirSync(join(ROOT, 'dist', 'chunks')).filter((f) => f.endsWith('.js'));
  const withUndici = chunks.filter((f) => readFileSync(join(ROOT, 'dist', 'chunks', f), 'utf8').includes('UND_ERR_'));
  assert.deepEqual(
    withUndici.map((f) => f.replace(/-[A-Z0-9]+\.js$/, '')),
    ['client'],
  );
  const oidc = chunks.find((f) => f.startsWith('runner-oidc-'));
  assert.ok(oidc && readFileSync(join(ROOT, 'dist', 'chunks', oidc)).length < 64 * 1024, 'the OIDC chunk stays small');
});

/** Runs dist/index.js as the runner would, recording the bundle files and Node built-ins it loads. */
async function loadedBy(inputs: Record<string, string>): Promise<{ code: number; files: string[]; builtins: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'acr-load-'));
  const distUrl = pathToFileURL(dirname(DIST)).href + '/';
  try {
    const probe = join(dir, 'probe.mjs');
    writeFileSync(
      probe,
      // built-ins by getBuiltinModule: an ESM import would itself load what the test looks for
      `const { registerHooks } = process.getBuiltinModule('node:module');
const { writeFileSync } = process.getBuiltinModule('node:fs');
const base = new Set(process.moduleLoadList);
const files = [];
registerHooks({ load(url, context, next) { if (url.startsWith(${JSON.stringify(distUrl)})) files.push(url.slice(${distUrl.length})); return next(url, context); } });
process.on('exit', () => writeFileSync(${JSON.stringify(join(dir, 'out.json'))}, JSON.stringify({ files, builtins: process.moduleLoadList.filter((m) => !base.has(m)) })));
`,
    );
    for (const f of ['output', 'summary']) writeFileSync(join(dir, f), '');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      GITHUB_OUTPUT: join(dir, 'output'),
      GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    };
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    const child = spawn(process.execPath, ['--import', probe, DIST], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.resume(); // a pipe, as on the runner
    child.stderr.resume();
    const code: number = await new Promise((r) => child.on('close', (c) => r(c ?? -1)));
    const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { files: string[]; builtins: string[] };
    return { code, ...out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SDK_CHUNKS = /^chunks\/(session|azure|client|runner-oidc)-/;

test('the render path loads no SDK chunk, and neither node:crypto nor the stream or fs/promises modules', async () => {
  const r = await loadedBy({
    registry: 'contosoacr.azurecr.io',
    'credential-type': 'basic',
    username: 'puller',
    password: 'Pa55word',
    apply: 'false',
  });
  assert.equal(r.code, 0);
  assert.deepEqual(
    r.files.filter((f) => SDK_CHUNKS.test(f)),
    [],
  );
  assert.ok(r.files.some((f) => f.startsWith('chunks/pull-secret-')));
  // nor the parts of src/net that need an SDK (shared chunks have no telling names: their strings tell)
  for (const f of r.files) {
    const code = readFileSync(join(dirname(DIST), f), 'utf8');
    for (const [marker, part] of [
      ['acrKubeAuthRetry', 'src/net/azure.ts'],
      ['KubeRetriesExhausted', 'src/net/kube.ts'],
    ])
      assert.ok(!code.includes(marker), `the render path loads ${part} (in ${f})`);
  }
  for (const m of ['NativeModule crypto', 'NativeModule stream', 'NativeModule internal/fs/promises'])
    assert.ok(!r.builtins.includes(m), `${m} was loaded`);
});

test('an input error loads only the entry and what it imports: no scenario chunk', async () => {
  const r = await loadedBy({ registry: 'not a registry' });
  assert.equal(r.code, 1);
  assert.deepEqual(
    r.files.filter((f) => SDK_CHUNKS.test(f) || /^chunks\/(pull-secret|aks)-/.test(f)),
    [],
  );
});
