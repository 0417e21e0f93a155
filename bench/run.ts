// `npm run bench`: measures the action beside the floor each figure can reach, and beside what users
// run today, interleaved, median of BENCH_RUNS (default 7) runs each, and writes bench/RESULTS.md.
// These are measurements, not tests: nothing here fails on a slow machine. The machine's load
// average is recorded beside the figures (a busy machine reads slower; ratios to floors measured in
// the same runs move less).
import { spawn } from 'node:child_process';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { build } from 'esbuild';
// @ts-expect-error: a plain .mjs module without type declarations
import { bundleOptions } from '../build/bundle.mjs';
import { startEmulator, type Emulator } from '../emulator/server.ts';
import { addFleet } from '../emulator/fixtures.ts';
import { DEPLOYER_APP_ID, DEPLOYER_SECRET, SUB_1, TENANT_A } from '../emulator/ids.ts';
import { latencyFloor, sequentialDepth, type Floor, type LoggedRequest } from './floor.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist', 'index.js');
const PROBE = join(ROOT, 'bench', 'probe.mjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const MANY_RUNS = Math.min(RUNS, 5);
const PROBE_RUNS = 3;
const LATENCY_MS = 50;
const PARALLEL = 8;
const RSS_TARGET_MB = 120;

interface Sample {
  ms: number;
  rssKb?: number;
  loadedBytes?: number;
  code: number;
  /** the emulator's request log of this run */
  log?: LoggedRequest[];
}

function run(cmd: string, args: string[], env: Record<string, string>, opts: { probe?: boolean } = {}): Promise<Sample> {
  const probeFile = opts.probe ? join(mkdtempSync(join(tmpdir(), 'probe-')), 'p.json') : undefined;
  const fullEnv = {
    ...env,
    ...(probeFile ? { BENCH_PROBE_FILE: probeFile, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --import=${PROBE}`.trim() } : {}),
  };
  return new Promise((res, rej) => {
    const started = process.hrtime.bigint();
    // stdout is a pipe, drained, as on the runner (which reads the step's output through one)
    const child = spawn(cmd, args, { env: fullEnv, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout!.resume();
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
const ms = (x: number) => `${x.toFixed(0)} ms`;

interface Row {
  name: string;
  ms: number;
  floorMs: number;
  /** how the floor is made up */
  floor: string;
  result: string;
  target: string;
  met: boolean;
  /** what users run today, measured interleaved, when there is one */
  baseline: string;
}

/** Runs `a` and the others interleaved, after one warm-up each. */
async function interleaved(
  name: string,
  runs: number,
  sides: Record<string, (probe: boolean) => Promise<Sample>>,
): Promise<{ samples: Record<string, Sample[]>; probes: Sample[] }> {
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (const fn of Object.values(sides)) await fn(false); // warm-up (file cache), not counted
  for (let i = 0; i < runs; i++) for (const [k, fn] of Object.entries(sides)) samples[k].push(await fn(false));
  const bad = Object.entries(samples).flatMap(([k, ss]) => ss.filter((s) => s.code !== 0 && s.code !== 1).map(() => k));
  if (bad.length) console.warn(`${name}: runs exited abnormally: ${bad.join(', ')}`);
  process.stderr.write(
    `  ${name}: ${Object.entries(samples)
      .map(([k, ss]) => `${k} ${ms(median(ss.map((s) => s.ms)))}`)
      .join(', ')}\n`,
  );
  // Peak RSS and the bundle code loaded come from separate runs with bench/probe.mjs preloaded:
  // its module hook would otherwise add to the timed runs. The first side is the action.
  const first = Object.values(sides)[0];
  const probes: Sample[] = [];
  for (let i = 0; i < PROBE_RUNS; i++) probes.push(await first(true));
  return { samples, probes };
}

const emu = await startEmulator({ quiet: true });
const rows: Row[] = [];
const rss: [string, number, number][] = [];
const details: string[] = [];
const cloud = JSON.stringify(emu.cloud());
const login = { 'client-id': DEPLOYER_APP_ID, 'tenant-id': TENANT_A, 'client-secret': DEPLOYER_SECRET, 'subscription-id': SUB_1, environment: cloud };
const node = process.execPath;
const reset = (latency: boolean) => {
  emu.reset();
  if (latency) emu.addFault({ kind: 'latency', ms: LATENCY_MS }); // every request: sign-in, ARM, Kubernetes
};
/** The emulator's log of the run just made (admin calls left out). */
const takeLog = (): LoggedRequest[] => emu.requests.filter((e) => e.service !== 'admin').map((e) => ({ ...e }));
const noteRss = (label: string, s: Sample[]) =>
  rss.push([label, Math.max(...s.map((x) => x.rssKb ?? 0)), Math.max(...s.map((x) => x.loadedBytes ?? 0))]);
const medianOf = (s: Sample[]) => median(s.map((x) => x.ms));
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
const loadBefore = loadavg();

try {
  console.error(`benchmarks: ${RUNS} interleaved runs each (fleet and namespaces: ${MANY_RUNS}); load average ${load(loadBefore)}`);
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

  // Node's own peak RSS: the floor of every path's memory.
  {
    const s: Sample[] = [];
    for (let i = 0; i < PROBE_RUNS; i++) s.push(await run(node, ['-e', '0'], { PATH: process.env.PATH ?? '' }, { probe: true }));
    noteRss('`node -e 0` (the floor)', s);
  }

  // 1. Render path versus kubectl, interleaved; the floor is the two libraries it must load.
  {
    const renderInputs = { registry: 'contosoacr.azurecr.io', 'credential-type': 'basic', username: 'puller', password: 'Pa55word', apply: 'false' };
    const kubectl = [
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
    ];
    const r = await interleaved('render', RUNS, {
      action: (probe) => run(node, [DIST], actionEnv(undefined, renderInputs), { probe }),
      kubectl: () => run('kubectl', kubectl, { PATH: process.env.PATH ?? '', HOME: tmpdir() }),
      floor: floorRun,
    });
    const a = medianOf(r.samples.action);
    const k = medianOf(r.samples.kubectl);
    rows.push({
      name: 'Render a basic pull secret (apply: false)',
      ms: a,
      floorMs: medianOf(r.samples.floor),
      floor: '@actions/core `setOutput` + js-yaml `dump` alone, bundled like dist/ (bench/floor-entry.mjs)',
      result: `${(a / k).toFixed(2)} × kubectl`,
      target: '≤ 1.15 × kubectl',
      met: a / k <= 1.15,
      baseline: `\`kubectl create secret docker-registry --dry-run=client -o yaml\`: ${ms(k)}`,
    });
    noteRss('render (basic, apply: false)', r.probes);
  }

  // 2. Start-up overhead: an input-validation failure versus `node -e 0`, its floor.
  {
    const r = await interleaved('startup', RUNS, {
      action: (probe) => run(node, [DIST], actionEnv(undefined, { registry: 'not a registry' }), { probe }),
      node: () => run(node, ['-e', '0'], { PATH: process.env.PATH ?? '' }),
    });
    const a = medianOf(r.samples.action);
    const n = medianOf(r.samples.node);
    rows.push({
      name: 'Start-up: input-validation failure',
      ms: a,
      floorMs: n,
      floor: '`node -e 0`',
      result: `+${ms(a - n)}`,
      target: '< 60 ms over `node -e 0`',
      met: a - n < 60,
      baseline: '',
    });
    noteRss('input-validation failure', r.probes);
  }

  // 3. Attach versus the az CLI's sequence of calls, at 50 ms per request. Floor: loading the SDKs
  // the path needs, plus the action's chain of dependent requests (sign-in included) × latency.
  {
    const attachInputs = {
      ...login,
      registry: 'contosoacr',
      'cluster-name': 'aks-mi',
      'cluster-resource-group': 'rg-aks',
      'auth-method': 'managed-identity',
    };
    const withLog = async (fn: () => Promise<Sample>) => {
      reset(true);
      const s = await fn();
      return { ...s, log: takeLog() };
    };
    const r = await interleaved('attach', RUNS, {
      action: (probe) => withLog(() => run(node, [DIST], actionEnv(emu, attachInputs), { probe })),
      az: () =>
        withLog(() =>
          run(node, [join(ROOT, 'bench', 'az-sequence.mjs')], {
            ...emu.env(),
            PATH: process.env.PATH ?? '',
            EMU_URL: emu.url,
            ASSIGNMENT: randomUUID(),
          }),
        ),
      sdk: sdkRun,
      oidc: () => {
        const { 'client-secret': _secret, ...oidcInputs } = attachInputs;
        return withLog(() => run(node, [DIST], actionEnv(emu, oidcInputs)));
      },
    });
    const arm = (s: Sample) => (s.log ?? []).filter((q) => q.service === 'arm');
    const most = (ss: Sample[], f: (s: Sample) => number) => Math.max(...ss.map(f));
    const a = medianOf(r.samples.action);
    const az = medianOf(r.samples.az);
    const sdk = medianOf(r.samples.sdk);
    const chain = most(r.samples.action, (s) => sequentialDepth(s.log ?? []));
    const req = most(r.samples.action, (s) => arm(s).length);
    const seq = most(r.samples.action, (s) => sequentialDepth(arm(s)));
    const floorMs = sdk + chain * LATENCY_MS;
    rows.push({
      name: `Attach (managed identity, client secret), ${LATENCY_MS} ms per request`,
      ms: a,
      floorMs,
      floor: `importing the @azure/identity and ARM chunks alone (${ms(sdk)}) + ${chain} dependent requests (sign-in included) × ${LATENCY_MS} ms`,
      result: `${(a / floorMs).toFixed(2)} × floor; ${(a / az).toFixed(2)} × az; ${req} ARM requests, ${seq} sequential`,
      target: '≤ 0.6 × az; ≤ 5 ARM requests; ≤ 3 sequential',
      met: a / az <= 0.6 && req <= 5 && seq <= 3,
      baseline: `the \`az aks update --attach-acr\` calls (bench/az-sequence.mjs): ${ms(az)}, ${most(r.samples.az, (s) => arm(s).length)} ARM requests, ${most(r.samples.az, (s) => sequentialDepth(arm(s)))} sequential`,
    });
    const o = medianOf(r.samples.oidc);
    const oChain = most(r.samples.oidc, (s) => sequentialDepth(s.log ?? []));
    const oFloor = sdk + oChain * LATENCY_MS;
    rows.push({
      name: `Attach signing in with GitHub OIDC (the default), ${LATENCY_MS} ms per request`,
      ms: o,
      floorMs: oFloor,
      floor: `the same SDK load + ${oChain} dependent requests (GitHub's token first) × ${LATENCY_MS} ms`,
      result: `${(o / oFloor).toFixed(2)} × floor`,
      target: '',
      met: true,
      baseline: '',
    });
    noteRss('attach (managed identity)', r.probes);
  }

  // Memory: peak RSS of the scenarios no timed benchmark runs: a service-principal attach, and a
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

  /** N targets beside one, interleaved, and the N-target run against its latency floor. */
  const many = async (
    name: string,
    label: string,
    n: number,
    once: (n: number) => { targets: string[]; go: (probe: boolean) => Promise<Sample> },
  ) => {
    const side = (k: number) => async (probe: boolean) => {
      reset(true);
      const { targets, go } = once(k);
      const s = await go(probe);
      return { ...s, log: takeLog(), targets };
    };
    const r = await interleaved(name, MANY_RUNS, { many: side(n), one: side(1) });
    const one = r.samples.one as (Sample & { targets: string[] })[];
    const all = r.samples.many as (Sample & { targets: string[] })[];
    const oneMs = medianOf(one);
    const a = medianOf(all);
    // the logs of the runs nearest the medians
    const nearest = <T extends Sample>(ss: T[], m: number) => ss.reduce((best, s) => (Math.abs(s.ms - m) < Math.abs(best.ms - m) ? s : best));
    const o = nearest(one, oneMs);
    const m = nearest(all, a);
    const f: Floor = latencyFloor({ ms: oneMs, log: o.log!, targets: o.targets }, { ms: a, log: m.log!, targets: m.targets }, PARALLEL, LATENCY_MS);
    rows.push({
      name: `${label} (max-parallel ${PARALLEL}), ${LATENCY_MS} ms per request`,
      ms: a,
      floorMs: f.floorMs,
      floor: `(${f.oneTargetChain} + (${f.turns} − 1) × ${f.perTargetChain}) = ${f.chain} dependent requests × ${LATENCY_MS} ms + the one-target run's own ${ms(f.ownMs)} (it took ${ms(oneMs)})`,
      result: `${(a / f.floorMs).toFixed(2)} × floor`,
      target: '≤ 1.2 × floor',
      met: a / f.floorMs <= 1.2,
      baseline: '',
    });
    details.push(
      `**${label}.** Per target (made at least ${n} times in the ${n}-target run): ${f.perTargetShapes.map((x) => `\`${x}\``).join(', ')}. ` +
        `Shared: ${f.sharedShapes.map((x) => `\`${x}\``).join(', ') || 'none'}. ` +
        `The ${n}-target run's longest chain of sequential requests, as made: ${f.observedChain} (the floor's: ${f.chain}).`,
    );
    return r;
  };

  // 4. Fleet: 50 clusters, against the floor from the one-cluster run beside it.
  {
    const r = await many('fleet', 'Fleet attach: 50 clusters', 50, (k) => {
      const { names } = addFleet(emu.state, k, { resourceGroup: 'rg-fleet' });
      const inputs = { ...login, registry: 'contosoacr', 'max-parallel': String(PARALLEL), clusters: names.map((c) => `rg-fleet/${c}`).join('\n') };
      return { targets: names, go: (probe) => run(node, [DIST], actionEnv(emu, inputs), { probe }) };
    });
    noteRss('fleet attach (50 clusters)', r.probes);
  }

  // 5. Namespaces: a pull secret to 100 new namespaces, against the floor from the one-namespace run.
  {
    const r = await many('namespaces', 'Pull secret: 100 namespaces, created', 100, (k) => {
      const namespaces = Array.from({ length: k }, (_, i) => `bench-${i}`);
      const inputs = {
        registry: 'contosoacr.azurecr.io',
        'credential-type': 'basic',
        username: 'puller',
        password: 'Pa55word',
        namespaces: namespaces.join(','),
        'create-namespaces': 'true',
        'max-parallel': String(PARALLEL),
      };
      return { targets: namespaces, go: (probe) => run(node, [DIST], actionEnv(emu, inputs), { probe }) };
    });
    noteRss('pull secret to 100 namespaces', r.probes);
  }
  rmSync(floorDir, { recursive: true, force: true });
} finally {
  await emu.close();
}
const loadAfter = loadavg();

const distFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? distFiles(join(dir, n)) : [join(dir, n)]));
const all = distFiles(join(ROOT, 'dist'));
const size = (fs: string[]) => fs.reduce((a, f) => a + statSync(f).size, 0);
const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;
const mb = (k: number) => `${(k / 1024).toFixed(0)} MB`;

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.versions.node}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const lines = [
  '# Benchmark results',
  '',
  `Machine: ${machine}. Load average (1, 5, 15 min): ${load(loadBefore)} at the start, ${load(loadAfter)} at the end. ` +
    `${RUNS} interleaved runs per side (fleet and namespaces: ${MANY_RUNS}), medians of whole-process wall time. Produced by \`npm run bench\`.`,
  '',
  '| benchmark | action median | floor | the floor is | result | target | met | what users run today |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${ms(r.ms)} | ${ms(r.floorMs)} | ${r.floor} | ${r.result} | ${r.target || '(none)'} | ${r.target ? (r.met ? 'yes' : 'no') : ''} | ${r.baseline} |`,
  ),
  '',
  '## How the fleet and namespace floors were read from the request log',
  '',
  ...details.flatMap((d) => [d, '']),
  '## Memory and size',
  '',
  `\`dist/\` in all: ${kb(size(all))}, of which source maps ${kb(size(all.filter((f) => f.endsWith('.map'))))}.`,
  '',
  `| path | peak RSS | target | met | bundle code loaded |`,
  '|---|---|---|---|---|',
  ...rss.map(
    ([label, rssKb, bytes], i) =>
      `| ${label} | ${mb(rssKb)} | ${i === 0 ? '' : `≤ ${RSS_TARGET_MB} MB`} | ${i === 0 ? '' : rssKb / 1024 <= RSS_TARGET_MB ? 'yes' : 'no'} | ${i === 0 ? '' : kb(bytes)} |`,
  ),
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
