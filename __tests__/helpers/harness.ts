// Runs the bundled action exactly as the runner does: `node dist/index.js` with INPUT_* variables,
// GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files and RUNNER_TEMP, against an emulator.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Emulator } from '../../emulator/server.ts';
import { DEPLOYER_APP_ID, DEPLOYER_SECRET, SUB_1, TENANT_A } from '../../emulator/ids.ts';
import { recordFigure, runSecrets, scanRun, type LeakReport } from './leaks.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** the bundle under test: dist/index.js, or ACR_DIST (a helper's private build, e.g. .tmp/dist-x/index.js) */
export const DIST = process.env.ACR_DIST ? resolve(ROOT, process.env.ACR_DIST) : join(ROOT, 'dist', 'index.js');
export const NODE = process.execPath;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** the `::error::` lines */
  errors: string[];
  /** values registered with ::add-mask:: */
  masks: string[];
  runnerTemp: string;
  /** files left in RUNNER_TEMP after the step */
  leftovers: string[];
  /** unmasked secrets found by the leak scan (the run throws unless allowLeaks) */
  leaks: LeakReport[];
}

/** Parses GITHUB_OUTPUT's `name<<delimiter` blocks (and plain name=value lines). */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (m) {
      const body: string[] = [];
      i++;
      while (i < lines.length && lines[i] !== m[2]) body.push(lines[i++]);
      out[m[1]] = body.join('\n');
    } else if (lines[i].includes('=')) {
      const [k, ...v] = lines[i].split('=');
      out[k] = v.join('=');
    }
  }
  return out;
}

/** Inputs for signing in to the emulator with the deployer's client secret, on its custom cloud. */
export function azureInputs(emu: Emulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'client-id': DEPLOYER_APP_ID,
    'tenant-id': TENANT_A,
    'client-secret': DEPLOYER_SECRET,
    'subscription-id': SUB_1,
    environment: JSON.stringify(emu.cloud()),
    ...extra,
  };
}

/** Inputs for a pull secret from a given username and password (no Azure sign-in) for the emulator's contosoacr, into team-a. */
export function basicInputs(emu: Emulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    registry: `contosoacr.azurecr.localhost:${emu.port}`,
    'credential-type': 'basic',
    username: 'puller',
    password: 'Basic-Pull-Password~42',
    namespaces: 'team-a',
    ...extra,
  };
}

/** Inputs for signing in with OIDC (GitHub's token from the emulator). */
export function oidcInputs(emu: Emulator, extra: Record<string, string> = {}): Record<string, string> {
  return { 'client-id': DEPLOYER_APP_ID, 'tenant-id': TENANT_A, 'subscription-id': SUB_1, environment: JSON.stringify(emu.cloud()), ...extra };
}

/**
 * The workflow run every end-to-end run belongs to, as the runner sets it (the written-by
 * annotation, role-assignment descriptions and the summary's run link read it through
 * @actions/github's context). A test removes one by passing it as undefined in `env`.
 */
export const GITHUB_RUN_ENV = {
  GITHUB_REPOSITORY: 'octo-org/deploy-config',
  GITHUB_WORKFLOW: 'Deploy to AKS',
  GITHUB_RUN_ID: '9876543210',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_SERVER_URL: 'https://github.com',
} as const;
/** The run's page, as GITHUB_RUN_ENV names it. */
export const GITHUB_RUN_URL = 'https://github.com/octo-org/deploy-config/actions/runs/9876543210/attempts/2';

export async function runAction(
  emu: Emulator | undefined,
  inputs: Record<string, string>,
  opts: {
    env?: Record<string, string | undefined>;
    timeoutMs?: number;
    allowLeaks?: boolean;
    /** called with each stdout line as it arrives (for tests of what is printed before the run ends) */
    onLine?: (line: string) => void;
  } = {},
): Promise<RunResult> {
  const work = mkdtempSync(join(tmpdir(), 'acr-e2e-'));
  const runnerTemp = join(work, 'temp');
  const outFile = join(work, 'output');
  const summaryFile = join(work, 'summary');
  writeFileSync(outFile, '');
  writeFileSync(summaryFile, '');
  (await import('node:fs')).mkdirSync(runnerTemp);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    GITHUB_OUTPUT: outFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: runnerTemp,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    ...GITHUB_RUN_ENV,
    ...(emu ? emu.env() : {}),
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const firstRequest = emu ? emu.requests.length : 0;
  const child = spawn(NODE, [DIST], { env, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    if (!opts.onLine) return;
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) opts.onLine(l);
  });
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const code: number = await new Promise((r) => child.on('close', (c) => r(c ?? -1)));
  clearTimeout(timer);
  const result: RunResult = {
    code,
    stdout,
    stderr,
    outputs: parseOutputs(readFileSync(outFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    errors: stdout.split('\n').filter((l) => l.startsWith('::error::')),
    masks: stdout
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'))
      .map((l) => l.slice('::add-mask::'.length).replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%')),
    runnerTemp,
    leftovers: readdirSync(runnerTemp),
    leaks: [],
  };
  // The leak scan: every run, every secret the emulator knows, every secret input and the kubeconfig's.
  const secrets = runSecrets(emu?.state, inputs, env);
  result.leaks = scanRun({
    stdout,
    stderr,
    outputs: result.outputs,
    summary: result.summary,
    runnerTemp,
    requestLog: emu ? emu.requests.slice(firstRequest).map((q) => `${q.method} ${q.host}${q.path}${q.query ? `?${q.query}` : ''}`) : [],
    secrets,
  });
  recordFigure('leak-scan', { secrets: secrets.length, leaks: result.leaks.length, leftovers: result.leftovers.length });
  rmSync(work, { recursive: true, force: true });
  if (result.leaks.length && !opts.allowLeaks) {
    throw new Error(
      `leak scan: ${result.leaks.length} unmasked secret occurrence(s): ${result.leaks.map((l) => `${l.where}: ${l.secret.slice(0, 3)}…`).join('; ')}`,
    );
  }
  return result;
}
