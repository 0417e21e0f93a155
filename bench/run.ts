// `npm run bench`: measures the action against what users run today, side by side in one run,
// interleaved, median of BENCH_RUNS (default 7) runs each, and writes bench/RESULTS.md.
// These are measurements, not tests: nothing here fails on a slow machine.
import { spawn } from 'node:child_process';
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { build } from 'esbuild';
// @ts-expect-error: a plain .mjs script without type declarations
import { bundleOptions } from '../build/bundle.mjs';
import { startEmulator, type Emulator } from '../emulator/server.ts';
import { addFleet } from '../emulator/fixtures.ts';
import { DEPLOYER_APP_ID, DEPLOYER_SECRET, SUB_1, TENANT_A } from '../emulator/ids.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist', 'index.js');
const PROBE = join(ROOT, 'bench', 'probe.mjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const PROBE_RUNS = 3;
const LATENCY_MS = 50;

interface Sample {
  ms: number;
  rssKb?: number;
  loadedBytes?: number;
  code: number;
  /** requests to the emulator after sign-in, and the longest chain of sequential ones */
  requests?: number;
  sequential?: number;
}

function run(cmd: string, args: string[], env: Record<string, string>, opts: { probe?: boolean; input?: string } = {}): Promise<Sample> {
  const probeFile = opts.probe ? join(mkdtempSync(join(tmpdir(), 'probe-')), 'p.json') : undefined;
  const fullEnv = {
    ...env,
    ...(probeFile ? { BENCH_PROBE_FILE: probeFile, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --import=${PROBE}`.trim() } : {}),
  };
  return new Promise((res, rej) => {
    const started = process.hrtime.bigint();
    // stdout is a pipe, drained, as on the runner (which reads the step's output through one)
    const child = spawn(cmd, args, { env: fullEnv, stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'ignore'] });
    child.stdout!.resume();
    if (opts.input) child.stdin!.end(opts.input);
    child.on('error', rej);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      let probe: { maxRssKb?: number; bytes?: number } = {};
      if (probeFile) {
        try {
          probe = JSON.parse(readFileSync(probeFile, 'utf8'));
        } catch {
          // the process died before writing it
        }
        rmSync(join(probeFile, '..'), { recursive: true, force: true });
      }
      res({ ms, code: code ?? -1, rssKb: probe.maxRssKb, loadedBytes: probe.bytes });
    });
  });
}

function actionEnv(emu: Emulator | undefined, inputs: Record<string, string>): Record<string, string> {
  const work = mkdtempSync(join(tmpdir(), 'bench-'));
  writeFileSync(join(work, 'out'), '');
  writeFileSync(join(work, 'sum'), '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: work,
    GITHUB_OUTPUT: join(work, 'out'),
    GITHUB_STEP_SUMMARY: join(work, 'sum'),
    RUNNER_TEMP: work,
    ...(emu ? emu.env() : {}),
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return env;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The longest chain of requests where each starts after the previous one ended. */
function sequentialDepth(entries: { time: string; durationMs: number }[]): number {
  const spans = entries.map((e) => ({ start: Date.parse(e.time), end: Date.parse(e.time) + e.durationMs })).sort((a, b) => a.start - b.start);
  const depth: number[] = [];
  spans.forEach((s, i) => {
    let best = 0;
    for (let j = 0; j < i; j++) if (spans[j].end <= s.start + 2) best = Math.max(best, depth[j]);
    depth[i] = best + 1;
  });
  return Math.max(0, ...depth);
}

interface Row {
  name: string;
  a: string;
  b: string;
  aMs: number;
  bMs: number;
  metric: string;
  target: string;
  met: boolean;
  notes: string;
}

/** Runs a and b (and any extras) interleaved, after one warm-up each; extras measure floors in the same conditions. */
async function pair(
  name: string,
  runs: number,
  a: (probe: boolean) => Promise<Sample>,
  b: () => Promise<Sample>,
  extras: Record<string, () => Promise<Sample>> = {},
): Promise<{ a: Sample[]; b: Sample[]; extra: Record<string, Sample[]>; probes: Sample[] }> {
  const as: Sample[] = [];
  const bs: Sample[] = [];
  const extra: Record<string, Sample[]> = Object.fromEntries(Object.keys(extras).map((k) => [k, []]));
  await a(false); // warm-up (file cache), not counted
  await b();
  for (const fn of Object.values(extras)) await fn();
  for (let i = 0; i < runs; i++) {
    as.push(await a(false));
    bs.push(await b());
    for (const [k, fn] of Object.entries(extras)) extra[k].push(await fn());
  }
  const bad = [...as, ...bs].filter((s) => s.code !== 0 && s.code !== 1);
  if (bad.length) console.warn(`${name}: ${bad.length} runs exited abnormally`);
  process.stderr.write(`  ${name}: ${median(as.map((s) => s.ms)).toFixed(0)} ms vs ${median(bs.map((s) => s.ms)).toFixed(0)} ms\n`);
  // Peak RSS and the bundle code loaded come from separate runs with bench/probe.mjs preloaded:
  // its module hook would otherwise add to the timed runs.
  const probes: Sample[] = [];
  for (let i = 0; i < PROBE_RUNS; i++) probes.push(await a(true));
  return { a: as, b: bs, extra, probes };
}

const emu = await startEmulator({ quiet: true });
const rows: Row[] = [];
const rss: [string, number, number][] = [];
const floors: [string, number, string][] = [];
const variants: [string, number, string][] = [];
const cloud = JSON.stringify(emu.cloud());
const login = { 'client-id': DEPLOYER_APP_ID, 'tenant-id': TENANT_A, 'client-secret': DEPLOYER_SECRET, 'subscription-id': SUB_1, environment: cloud };
const node = process.execPath;
const reset = (latency: boolean) => {
  emu.reset();
  if (latency) emu.addFault({ kind: 'latency', ms: LATENCY_MS }); // every request: sign-in, ARM, Kubernetes
};
const noteRss = (label: string, s: Sample[]) =>
  rss.push([label, Math.max(...s.map((x) => x.rssKb ?? 0)), Math.max(...s.map((x) => x.loadedBytes ?? 0))]);

try {
  console.error(`benchmarks: ${RUNS} interleaved runs each`);
  // Floors, measured interleaved with the benchmarks they bound: the libraries the render path
  // must load (bench/floor-entry.mjs, bundled like dist/), and importing the Azure SDK chunks alone.
  const floorDir = mkdtempSync(join(tmpdir(), 'floor-'));
  await build({ ...bundleOptions, entryPoints: [join(ROOT, 'bench', 'floor-entry.mjs')], outfile: join(floorDir, 'floor.mjs'), logLevel: 'silent' });
  writeFileSync(join(floorDir, 'out'), '');
  const plain = { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: join(floorDir, 'out') };
  const chunkFiles = readdirSync(join(ROOT, 'dist', 'chunks'));
  const sdkChunks = ['session-', 'azure-'].map((p) =>
    join(
      ROOT,
      'dist',
      'chunks',
      chunkFiles.find((c) => c.startsWith(p) && c.endsWith('.js'))!,
    ),
  );
  const sdkScript = `for (const f of ${JSON.stringify(sdkChunks)}) await import(f);`;
  const floorRun = () => run(node, [join(floorDir, 'floor.mjs')], plain);
  const sdkRun = () => run(node, ['--input-type=module', '-e', sdkScript], plain);

  // 1. Render path versus kubectl.
  {
    const renderInputs = { registry: 'contosoacr.azurecr.io', 'credential-type': 'basic', username: 'puller', password: 'Pa55word', apply: 'false' };
    const r = await pair(
      'render',
      RUNS,
      (probe) => run(node, [DIST], actionEnv(undefined, renderInputs), { probe }),
      () =>
        run(
          'kubectl',
          [
            'create',
            'secret',
            'docker-registry',
            'acr-contosoacr',
            '--docker-server=contosoacr.azurecr.io',
            '--docker-username=puller',
            '--docker-password=Pa55word',
            '--dry-run=client',
            '-o',
            'yaml',
          ],
          { PATH: process.env.PATH ?? '', HOME: tmpdir() },
        ),
      { floor: floorRun },
    );
    const am = median(r.a.map((s) => s.ms));
    const bm = median(r.b.map((s) => s.ms));
    floors.push([
      '@actions/core `setOutput` + js-yaml `dump`, bundled like dist/ (bench/floor-entry.mjs): the libraries the render path must load',
      median(r.extra.floor.map((s) => s.ms)),
      `the render benchmark (kubectl ${bm.toFixed(0)} ms)`,
    ]);
    rows.push({
      name: 'Render a basic pull secret (apply: false)',
      a: 'node dist/index.js',
      b: 'kubectl create secret docker-registry --dry-run=client -o yaml',
      aMs: am,
      bMs: bm,
      metric: `ratio ${(am / bm).toFixed(2)}`,
      target: 'ratio ≤ 1.0',
      met: am / bm <= 1.0,
      notes: '',
    });
    noteRss('render (basic, apply: false)', r.probes);
  }

  // 2. Start-up overhead: an input-validation failure versus `node -e 0`.
  {
    const r = await pair(
      'startup',
      RUNS,
      (probe) => run(node, [DIST], actionEnv(undefined, { registry: 'not a registry' }), { probe }),
      () => run(node, ['-e', '0'], { PATH: process.env.PATH ?? '' }),
    );
    const am = median(r.a.map((s) => s.ms));
    const bm = median(r.b.map((s) => s.ms));
    floors.push(['`node -e 0`', bm, 'the start-up benchmark']);
    rows.push({
      name: 'Start-up: input-validation failure',
      a: 'node dist/index.js',
      b: 'node -e 0',
      aMs: am,
      bMs: bm,
      metric: `+${(am - bm).toFixed(0)} ms`,
      target: '< 60 ms over plain Node',
      met: am - bm < 60,
      notes: '',
    });
    noteRss('input-validation failure', r.probes);
  }

  // 3. Attach versus the az CLI's sequence of calls, at 50 ms per request.
  {
    const attachInputs = {
      ...login,
      registry: 'contosoacr',
      'cluster-name': 'aks-mi',
      'cluster-resource-group': 'rg-aks',
      'auth-method': 'managed-identity',
    };
    let counts: { requests: number; sequential: number }[] = [];
    let azCounts: { requests: number; sequential: number }[] = [];
    const armOnly = () => emu.requests.filter((q) => q.service === 'arm');
    const r = await pair(
      'attach',
      RUNS,
      async (probe) => {
        reset(true);
        const s = await run(node, [DIST], actionEnv(emu, attachInputs), { probe });
        counts.push({ requests: armOnly().length, sequential: sequentialDepth(armOnly()) });
        return s;
      },
      async () => {
        reset(true);
        const s = await run(node, [join(ROOT, 'bench', 'az-sequence.mjs')], {
          ...emu.env(),
          PATH: process.env.PATH ?? '',
          EMU_URL: emu.url,
          ASSIGNMENT: randomUUID(),
        });
        azCounts.push({ requests: armOnly().length, sequential: sequentialDepth(armOnly()) });
        return s;
      },
      {
        sdk: sdkRun,
        oidc: async () => {
          reset(true);
          const { 'client-secret': _secret, ...oidcInputs } = attachInputs;
          return run(node, [DIST], actionEnv(emu, oidcInputs));
        },
      },
    );
    variants.push([
      'attach signing in with GitHub OIDC (the default): one more request, to GitHub, before MSAL',
      median(r.extra.oidc.map((s) => s.ms)),
      `client secret: ${median(r.a.map((s) => s.ms)).toFixed(0)} ms; the az sequence: ${median(r.b.map((s) => s.ms)).toFixed(0)} ms`,
    ]);
    floors.push([
      'importing the bundled @azure/identity and ARM SDK chunks, nothing else: what the attach path must load',
      median(r.extra.sdk.map((s) => s.ms)),
      'the attach benchmark',
    ]);
    counts = counts.slice(1);
    azCounts = azCounts.slice(1);
    const am = median(r.a.map((s) => s.ms));
    const bm = median(r.b.map((s) => s.ms));
    const req = Math.max(...counts.map((c) => c.requests));
    const seq = Math.max(...counts.map((c) => c.sequential));
    rows.push({
      name: `Attach (managed identity), ${LATENCY_MS} ms per request`,
      a: 'acr-kube-auth attach',
      b: 'the az aks update --attach-acr call sequence (bench/az-sequence.mjs)',
      aMs: am,
      bMs: bm,
      metric: `ratio ${(am / bm).toFixed(2)}; ${req} ARM requests, ${seq} sequential (az: ${Math.max(...azCounts.map((c) => c.requests))} and ${Math.max(...azCounts.map((c) => c.sequential))})`,
      target: 'ratio ≤ 0.6; ≤ 5 requests; ≤ 3 sequential',
      met: am / bm <= 0.6 && req <= 5 && seq <= 3,
      notes: 'both include their own sign-in (client secret)',
    });
    if (r.a.some((s) => s.code !== 0)) rows[rows.length - 1].notes += '; the action exited non-zero';
    noteRss('attach (managed identity)', r.probes);
  }

  // Memory (6): peak RSS of the scenarios no timed benchmark runs: a service-principal attach, and a
  // token pull secret (the one path that loads both the Azure SDKs and @kubernetes/client-node).
  {
    const probeOnly = async (label: string, inputs: Record<string, string>) => {
      const samples: Sample[] = [];
      for (let i = 0; i < PROBE_RUNS; i++) {
        reset(true);
        samples.push(await run(node, [DIST], actionEnv(emu, inputs), { probe: true }));
      }
      if (samples.some((x) => x.code !== 0)) console.warn(`${label}: a run exited non-zero`);
      noteRss(label, samples);
    };
    await probeOnly('attach (service principal)', {
      ...login,
      registry: 'contosoacr',
      'cluster-name': 'aks-sp',
      'cluster-resource-group': 'rg-aks',
      'auth-method': 'service-principal',
    });
    await probeOnly('pull secret from an ACR token (Azure and Kubernetes)', {
      ...login,
      registry: 'contosoacr',
      namespaces: 'team-a',
      'credential-type': 'token',
    });
  }

  // 4. Fleet: 50 clusters versus 1, same latency.
  {
    const fleetRun =
      (n: number) =>
      async (probe = false) => {
        reset(true);
        const { names } = addFleet(emu.state, n, { resourceGroup: 'rg-fleet' });
        return run(node, [DIST], actionEnv(emu, { ...login, registry: 'contosoacr', clusters: names.map((c) => `rg-fleet/${c}`).join('\n') }), {
          probe,
        });
      };
    const r = await pair('fleet', Math.min(RUNS, 5), fleetRun(50), fleetRun(1));
    const am = median(r.a.map((s) => s.ms));
    const bm = median(r.b.map((s) => s.ms));
    rows.push({
      name: `Fleet attach: 50 clusters vs 1 (max-parallel 8), ${LATENCY_MS} ms per request`,
      a: '50 clusters',
      b: '1 cluster',
      aMs: am,
      bMs: bm,
      metric: `ratio ${(am / bm).toFixed(2)}`,
      target: 'ratio ≤ 2.5',
      met: am / bm <= 2.5,
      notes: '',
    });
    noteRss('fleet attach (50 clusters)', r.probes);
  }

  // 5. Namespaces: a pull secret to 100 namespaces versus 1, same latency.
  {
    const nsRun =
      (n: number) =>
      async (probe = false) => {
        reset(true);
        const namespaces = Array.from({ length: n }, (_, i) => `bench-${i}`);
        return run(
          node,
          [DIST],
          actionEnv(emu, {
            registry: 'contosoacr.azurecr.io',
            'credential-type': 'basic',
            username: 'puller',
            password: 'Pa55word',
            namespaces: namespaces.join(','),
            'create-namespaces': 'true',
          }),
          { probe },
        );
      };
    const r = await pair('namespaces', Math.min(RUNS, 5), nsRun(100), nsRun(1));
    const am = median(r.a.map((s) => s.ms));
    const bm = median(r.b.map((s) => s.ms));
    rows.push({
      name: `Pull secret: 100 namespaces vs 1 (max-parallel 8, namespaces created), ${LATENCY_MS} ms per request`,
      a: '100 namespaces',
      b: '1 namespace',
      aMs: am,
      bMs: bm,
      metric: `ratio ${(am / bm).toFixed(2)}`,
      target: 'ratio ≤ 3',
      met: am / bm <= 3,
      notes: '',
    });
    noteRss('pull secret to 100 namespaces', r.probes);
  }
  rmSync(floorDir, { recursive: true, force: true });
} finally {
  await emu.close();
}

// 6. Memory and size.
const distFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? distFiles(join(dir, n)) : [join(dir, n)]));
const distBytes = distFiles(join(ROOT, 'dist')).reduce((a, f) => a + statSync(f).size, 0);
const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}`;
const lines = [
  '# Benchmark results',
  '',
  `Machine: ${machine}. ${RUNS} interleaved runs per side (fleet and namespaces: ${Math.min(RUNS, 5)}), medians of whole-process wall time. Produced by \`npm run bench\`.`,
  '',
  '| benchmark | action | baseline | action median | baseline median | result | target | met |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.a} | ${r.b} | ${r.aMs.toFixed(0)} ms | ${r.bMs.toFixed(0)} ms | ${r.metric} | ${r.target} | ${r.met ? 'yes' : 'no'}${r.notes ? ` (${r.notes})` : ''} |`,
  ),
  '',
  '## Floors',
  '',
  'Measured interleaved with the benchmark named, in the same runs.',
  '',
  '| process | median | measured beside |',
  '|---|---|---|',
  ...floors.map(([label, ms, beside]) => `| ${label} | ${ms.toFixed(0)} ms | ${beside} |`),
  '',
  '## Variants',
  '',
  'Other ways to run a benchmarked path, measured interleaved with it.',
  '',
  '| run | median | beside |',
  '|---|---|---|',
  ...variants.map(([label, ms, beside]) => `| ${label} | ${ms.toFixed(0)} ms | ${beside} |`),
  '',
  '## Memory and size',
  '',
  `\`dist/\` in all: ${kb(distBytes)}.`,
  '',
  '| path | peak RSS | bundle code loaded |',
  '|---|---|---|',
  ...rss.map(([label, rssKb, bytes]) => `| ${label} | ${(rssKb / 1024).toFixed(0)} MB | ${kb(bytes)} |`),
  '',
];
const table = lines.join('\n');
console.log(table);
if (!process.env.BENCH_NO_WRITE) {
  const path = join(ROOT, 'bench', 'RESULTS.md');
  let notes = '';
  try {
    notes = readFileSync(path, 'utf8').split('<!-- notes -->')[1] ?? '';
  } catch {
    // first run
  }
  writeFileSync(path, `${table}\n<!-- notes -->${notes || '\n'}`);
}
