// The build (build/bundle.mjs) and how dist/ starts: every dependency is bundled as published, code
// splitting keeps each path to what it needs, an older Node.js gets one clear line, and debug stack
// traces name src/ files. What a path loads is read from dist/ itself, run as the runner runs
// it; which package sits in which file comes from a fresh build's metafile (the file names are
// content hashes, so they match dist/ when dist/ is fresh, which check-dist.test.ts holds).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { dirname, join, relative, resolve } from 'node:path';
// @ts-expect-error: a plain .mjs module without type declarations
import { buildDist } from '../build/bundle.mjs';
import { DIST, ROOT } from './helpers/harness.ts';

interface Metafile {
  inputs: Record<string, { bytes: number; imports: Array<{ path: string; external?: boolean }> }>;
  outputs: Record<string, { inputs: Record<string, unknown>; imports?: { path: string; kind: string }[] }>;
}

let meta: Metafile;
/** bundle file (relative to the build's folder, e.g. chunks/client-X.js) -> the packages and src/ files in it */
const contents = new Map<string, Set<string>>();
let outdir: string;

/** `node_modules/@scope/name/...` -> `@scope/name`; src/ files stay as they are. */
const owner = (input: string) => {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input);
  return m ? m[1] : input;
};

before(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'acr-build-'));
  const result = (await buildDist(outdir, { metafile: true, logLevel: 'silent' })) as { metafile: Metafile };
  meta = result.metafile;
  for (const [file, out] of Object.entries(meta.outputs)) {
    if (!file.endsWith('.js')) continue;
    contents.set(relative(join(ROOT, 'dist'), resolve(ROOT, file)), new Set(Object.keys(out.inputs).map(owner)));
  }
});
after(() => rmSync(outdir, { recursive: true, force: true }));

test('every dependency file is bundled as published: its bytes as on disk, its imports resolved into node_modules or to Node', () => {
  const deps = Object.entries(meta.inputs).filter(([p]) => p.includes('node_modules/'));
  assert.ok(deps.length > 500, `only ${deps.length} dependency files in the build`);
  const problems: string[] = [];
  for (const [path, input] of deps) {
    let size: number | undefined;
    try {
      size = statSync(resolve(ROOT, path)).size;
    } catch {
      // a path with a suffix or a virtual module: not a file as published
    }
    if (size !== input.bytes) problems.push(`${path}: bundled ${input.bytes} bytes, ${size ?? 'no file'} on disk`);
    for (const i of input.imports)
      if (!i.external && !i.path.includes('node_modules/')) problems.push(`${path} imports ${i.path}, outside node_modules`);
  }
  assert.deepEqual(problems, []);
});

test('dist/ loads Node built-ins by plain imports, and no build-only module sits in src/', () => {
  const dir = dirname(DIST);
  const files = ['index.js', ...readdirSync(join(dir, 'chunks')).map((f) => join('chunks', f))].filter((f) => f.endsWith('.js'));
  for (const f of files) assert.doesNotMatch(readFileSync(join(dir, f), 'utf8'), /getBuiltinModule\(/, `dist/${f}`);
  const srcInputs = Object.keys(meta.inputs).filter((p) => p.startsWith('src/'));
  assert.ok(srcInputs.includes('src/index.ts'));
  assert.deepEqual(
    srcInputs.filter((p) => /shim|stdout\.ts$/.test(p)),
    [],
  );
});

/** Runs dist/index.js as the runner would; returns the bundle files it loaded and what they hold. */
async function loadedBy(inputs: Record<string, string>): Promise<{ code: number; files: string[]; packages: Set<string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'acr-load-'));
  const distUrl = pathToFileURL(dirname(DIST)).href + '/';
  try {
    const probe = join(dir, 'probe.mjs');
    writeFileSync(
      probe,
      `import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const files = [];
registerHooks({ load(url, context, next) { if (url.startsWith(${JSON.stringify(distUrl)})) files.push(url.slice(${distUrl.length})); return next(url, context); } });
process.on('exit', () => writeFileSync(${JSON.stringify(join(dir, 'out.json'))}, JSON.stringify(files)));
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
    const child = spawn(process.execPath, ['--import', probe, DIST], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume(); // a pipe, as on the runner
    child.stderr.resume();
    const code: number = await new Promise((r) => child.on('close', (c) => r(c ?? -1)));
    const files = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as string[];
    const packages = new Set<string>();
    for (const f of files) {
      const held = contents.get(f);
      assert.ok(held, `dist/${f} is not in a fresh build: run \`npm run build\``);
      for (const p of held) packages.add(p);
    }
    return { code, files, packages };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Inputs of the render path (apply: false): a pull secret from given credentials, printed, written nowhere. */
const RENDER = { registry: 'contosoacr.azurecr.io', 'credential-type': 'basic', username: 'puller', password: 'Pa55word', apply: 'false' };

const SDKS = /^(@azure\/|@azure-rest\/|@kubernetes\/|@actions\/http-client$|undici$|@typespec\/|@azure\/msal)/;

test('the render path loads @actions/core and js-yaml, and no Azure SDK, no Kubernetes client, no HTTP client', async () => {
  const r = await loadedBy(RENDER);
  assert.equal(r.code, 0);
  const pkgs = [...r.packages].filter((p) => !p.startsWith('src/'));
  assert.deepEqual(
    pkgs.filter((p) => SDKS.test(p)),
    [],
  );
  for (const p of ['@actions/core', 'js-yaml']) assert.ok(pkgs.includes(p), `${p} is not loaded: ${pkgs.join(', ')}`);
  assert.ok(r.packages.has('src/kube/render.ts'));
  // nor the parts of src/net/ that need an SDK: its Azure pipeline parts and its Kubernetes HTTP library
  for (const part of ['src/net/azure.ts', 'src/net/kube.ts']) assert.ok(!r.packages.has(part), `the render path loads ${part}`);
});

test('@actions/github comes in as its context alone: no bundle file holds its octokit half, and the render path loads no more of it', async () => {
  const bundled = Object.values(meta.outputs).flatMap((o) => Object.keys(o.inputs));
  assert.deepEqual(
    bundled.filter((p) => /node_modules\/@octokit\/|node_modules\/@actions\/github\/lib\/(?!context\.js|github\.js)/.test(p)),
    [],
  );
  assert.ok(
    bundled.some((p) => p.endsWith('node_modules/@actions/github/lib/context.js')),
    'the context (src/provenance.ts) is bundled',
  );
  const r = await loadedBy(RENDER);
  assert.equal(r.code, 0);
  assert.deepEqual(
    [...r.packages].filter((p) => /^@octokit\/|^before-after-hook$|^universal-user-agent$/.test(p)),
    [],
  );
});

test('an input error loads no scenario and no SDK: neither @actions/http-client nor undici (actionsSideEffectFree)', async () => {
  const r = await loadedBy({ registry: 'not a registry' });
  assert.equal(r.code, 1);
  const loaded = [...r.packages];
  assert.deepEqual(
    loaded.filter((p) => SDKS.test(p) || p.startsWith('src/scenarios/')),
    [],
  );
  assert.ok(r.packages.has('src/main.ts'));
});

test('the Kubernetes client and the OIDC sign-in each come in their own chunk, loaded only by import()', () => {
  const withPkg = (pkg: string) => [...contents].filter(([, held]) => held.has(pkg)).map(([f]) => f.replace(/-[A-Z0-9]+\.js$/, ''));
  assert.deepEqual(withPkg('@kubernetes/client-node'), ['chunks/client']);
  // GitHub's OIDC token goes through src/net/http.ts like every request: @actions/http-client is not bundled
  assert.deepEqual(withPkg('@actions/http-client'), []);
  assert.deepEqual(withPkg('src/runner-oidc.ts'), ['chunks/runner-oidc']);
  assert.deepEqual(withPkg('@azure/identity'), ['chunks/session']);
  // @azure/container-registry (the `image` input's existence check) in a chunk of its own, which only
  // src/verify/image-exists.ts imports, by import(): no other path loads it
  const registrySdk = withPkg('@azure/container-registry');
  assert.equal(registrySdk.length, 1, `@azure/container-registry is in ${registrySdk.join(', ')}`);
  const [sdkChunk] = [...contents].find(([, held]) => held.has('@azure/container-registry'))!;
  assert.ok(![...contents.get(sdkChunk)!].some((p) => p.startsWith('src/')), 'the SDK chunk holds no src/ module');
  const importers = Object.entries(meta.outputs)
    .filter(([, o]) => o.imports?.some((i) => i.path.endsWith(sdkChunk.split('/').pop()!)))
    .map(([f, o]) => ({
      f,
      kinds: o.imports!.filter((i) => i.path.endsWith(sdkChunk.split('/').pop()!)).map((i) => i.kind),
    }));
  assert.ok(importers.length >= 1);
  for (const i of importers) assert.deepEqual([...new Set(i.kinds)], ['dynamic-import'], `${i.f} imports the SDK chunk statically`);
  assert.ok(
    importers.every((i) => contents.get(relative(join(ROOT, 'dist'), resolve(ROOT, i.f)))?.has('src/verify/image-exists.ts')),
    'only image-exists.ts loads it',
  );
});

/** An older Node.js than the action needs: ACR_OLD_NODE, else the system's /usr/bin/node (Node.js 20 here). */
function oldNode(): string | undefined {
  for (const candidate of [process.env.ACR_OLD_NODE, '/usr/bin/node']) {
    if (!candidate || !existsSync(candidate)) continue;
    const r = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (r.status === 0 && Number(r.stdout.split('.')[0]) < 24) return candidate;
  }
  return undefined;
}

test('on an older Node.js, dist/index.js fails with one line naming the version it needs', (t) => {
  const node = oldNode();
  if (!node) {
    // a missing peer fails under CI (.ci/run installs Debian's nodejs, an older Node.js)
    assert.ok(process.env.CI !== 'true', 'no Node.js older than 24 at /usr/bin/node or ACR_OLD_NODE');
    t.skip('no Node.js older than 24 at /usr/bin/node or ACR_OLD_NODE');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'acr-old-node-'));
  try {
    writeFileSync(join(dir, 'output'), '');
    const r = spawnSync(node, [DIST], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, GITHUB_OUTPUT: join(dir, 'output'), INPUT_REGISTRY: 'contosoacr' },
      encoding: 'utf8',
    });
    const version = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, `${r.stdout.trim()}\n`, 'one line');
    assert.match(r.stdout, new RegExp(`^::error::acr-kube-auth needs Node\\.js 24 or later .*runs on Node\\.js ${version.replaceAll('.', '\\.')}:`));
    assert.equal(readFileSync(join(dir, 'output'), 'utf8'), '', 'no output is written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('under debug logging (RUNNER_DEBUG=1) a stack trace names src/ files through the shipped source maps; otherwise no stack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'acr-debug-'));
  try {
    for (const f of ['output', 'summary']) writeFileSync(join(dir, f), '');
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      GITHUB_OUTPUT: join(dir, 'output'),
      GITHUB_STEP_SUMMARY: join(dir, 'summary'),
      INPUT_REGISTRY: 'not a registry',
    };
    const debug = spawnSync(process.execPath, [DIST], { env: { ...env, RUNNER_DEBUG: '1' }, encoding: 'utf8' });
    assert.equal(debug.status, 1);
    const stack = debug.stdout
      .split('\n')
      .filter((l) => l.startsWith('::debug::'))
      .flatMap((l) => l.slice('::debug::'.length).split('%0A'))
      .filter((l) => /^\s*at /.test(l));
    assert.ok(stack.length >= 2, debug.stdout);
    assert.match(stack[0], /\bsrc\/inputs\/[\w-]+\.ts:\d+:\d+\)$/);
    assert.deepEqual(
      stack.filter((l) => /chunks\//.test(l)),
      [],
      'a frame still names a minified chunk',
    );
    const plain = spawnSync(process.execPath, [DIST], { env, encoding: 'utf8' });
    assert.equal(plain.status, 1);
    assert.doesNotMatch(plain.stdout, /^\s+at |%0A\s+at |^::debug::\s*at /m);
    // every bundle file has its map beside it
    const dist = dirname(DIST);
    for (const f of ['index.js', ...readdirSync(join(dist, 'chunks')).map((c) => join('chunks', c))].filter((f) => f.endsWith('.js'))) {
      assert.match(
        readFileSync(join(dist, f), 'utf8'),
        new RegExp(`//# sourceMappingURL=${f.split('/').pop()!.replace(/\./g, '\\.')}\\.map\\n?$`),
        f,
      );
      assert.ok(existsSync(join(dist, `${f}.map`)), `dist/${f}.map`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
