// Retry-After (issue #12): every client honours a 429's or 503's Retry-After, each wait capped at
// 20 s, all retries of one request within 45 s (src/net/retry.ts). For every client (ARM, Graph,
// Entra's token endpoint, GitHub's OIDC token, the ACR token exchange, the ACR credential check,
// the docker-login-style registry check, Kubernetes) the emulator answers one request with each
// shape once: Retry-After in seconds, as an HTTP-date, absent, and a 503 with seconds; the run must
// succeed, having waited what was asked (or a short backoff when nothing was). Then Retry-After:
// 3600 on every attempt: the step must fail naming the service and the 3600 s asked, every wait
// at most 20 s and the last attempt within 45 s of the first. A long-running operation's poll
// asking for 10 s (ARM's minimum) is waited out, and one that never ends fails within the
// operation's budget (shortened here with ACR_KUBE_AUTH_OPERATION_BUDGET_MS). Clients run
// concurrently, one emulator each: the cases are mostly waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import type { FaultRule, RequestLogEntry } from '../../emulator/types.ts';
import { runAction } from '../helpers/harness.ts';
import { attach, attachOidc, basicAccepted, pull, type ClientCase } from '../helpers/inputs.ts';
import { recordFigure } from '../helpers/leaks.ts';
import { mapLimit } from '../../src/pool.ts';

const mi = (emu: Emulator) => attach(emu);
const exchange = (emu: Emulator, extra: Record<string, string> = {}) => pull(emu, 'exchange', extra);
/** verify passes with this one: the registry check's shapes must end in success */
const basic = basicAccepted;

/** `names`: what the error line names when the retries run out: the service and the status. */
type Client = ClientCase;

const CLIENTS: Client[] = [
  {
    name: 'ARM',
    route: { method: 'GET', pathPattern: '/managedClusters/aks-mi$' },
    inputs: mi,
    names: /AKS get cluster rg-aks\/aks-mi failed \(HTTP 429/,
  },
  {
    name: 'Graph',
    route: { method: 'GET', pathPattern: '/graph/v1\\.0/servicePrincipals' },
    inputs: (emu) => attach(emu, 'aks-sp'),
    names: /Microsoft Graph get service principal of app \S+ failed \(HTTP 429/,
  },
  { name: 'Entra token', route: { method: 'POST', pathPattern: '/oauth2/v2\\.0/token$' }, inputs: mi, names: /Entra ID answered HTTP 429/ },
  {
    name: 'GitHub OIDC token',
    route: { method: 'GET', pathPattern: '/_github/oidc/token$' },
    inputs: attachOidc,
    names: /GitHub OIDC token request \(127\.0\.0\.1:\d+\) failed \(HTTP 429\)/,
  },
  {
    name: 'ACR token exchange',
    route: { method: 'POST', pathPattern: '\\.azurecr\\.localhost/oauth2/exchange$' },
    inputs: exchange,
    names: /ACR token exchange \(contosoacr\.azurecr\.localhost:\d+\) failed \(HTTP 429\)/,
  },
  {
    name: 'ACR credential check (verify)',
    route: { method: 'POST', pathPattern: '\\.azurecr\\.localhost/oauth2/token$' },
    setup: exchange,
    inputs: (emu) => exchange(emu, { operation: 'verify' }),
    names: /registry contosoacr\.azurecr\.localhost:\d+ answered HTTP 429/,
  },
  {
    name: 'registry check (verify)',
    route: { method: 'GET', pathPattern: '\\.azurecr\\.localhost/v2/$' },
    setup: basic,
    inputs: (emu) => basic(emu, { operation: 'verify' }),
    names: /registry adminacr\.azurecr\.localhost:\d+ answered HTTP 429/,
  },
  {
    name: 'Kubernetes',
    route: { method: 'GET', pathPattern: '/api/v1/namespaces/team-a/secrets/[^/]+$' },
    inputs: basic,
    names: /Kubernetes get secret team-a\/acr-adminacr failed \(HTTP 429/,
  },
];

/** A body every client reads as an error: ARM's and Graph's `error`, Kubernetes' Status, the registry's `errors`. */
const BUSY = JSON.stringify({
  error: { code: 'TooManyRequests', message: 'slow down' },
  kind: 'Status',
  message: 'slow down',
  reason: 'TooManyRequests',
  errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }],
});

interface Shape {
  name: string;
  status: number;
  /** the Retry-After header, from the time the fault is added */
  header?: () => string;
}
const SHAPES: Shape[] = [
  { name: '429, Retry-After in seconds (2)', status: 429, header: () => '2' },
  { name: '429, Retry-After as an HTTP-date (6 s ahead)', status: 429, header: () => new Date(Date.now() + 6000).toUTCString() },
  { name: '429 without Retry-After', status: 429 },
  { name: '503, Retry-After in seconds (2)', status: 503, header: () => '2' },
];

/** The wait a shape asked for, from the faulted request's answer, in ms (0: none asked). */
function asked(header: string | undefined, answeredAt: number): number {
  if (!header) return 0;
  if (/^\d+$/.test(header)) return Number(header) * 1000;
  return Math.max(0, Date.parse(header) - answeredAt);
}

const answeredAt = (q: RequestLogEntry) => Date.parse(q.time) + q.durationMs;
const SLACK_MS = 2500; // a loaded machine: process scheduling, the emulator's own answer time

interface Outcome {
  client: string;
  shape: string;
  ok: boolean;
  detail: string;
  problems: string[];
}

const rule = (c: Client, status: number, header: string | undefined, times?: number): FaultRule => ({
  ...c.route,
  kind: 'body',
  status,
  body: BUSY,
  headers: header ? { 'retry-after': header } : {},
  ...(times ? { times } : {}),
});

/** A fresh world for each case (a kept credential would skip the request under test), with the client's setup run. */
async function fresh(emu: Emulator, c?: Client): Promise<void> {
  emu.reset();
  if (c?.setup) assert.equal((await runAction(emu, c.setup(emu))).code, 0, `${c.name}: setup run`);
}

async function transient(emu: Emulator, c: Client, shape: Shape): Promise<Outcome> {
  await fresh(emu, c);
  const first = emu.requests.length;
  const header = shape.header?.();
  emu.addFault(rule(c, shape.status, header, 1));
  const r = await runAction(emu, c.inputs(emu), { timeoutMs: 120_000 });
  const log = emu.requests.slice(first);
  const problems: string[] = [];
  if (r.code !== 0) problems.push(`exit code ${r.code}: ${r.errors.join(' ')}`);
  const i = log.findIndex((q) => q.fault?.startsWith(`body:${shape.status}`));
  let detail = '';
  if (i < 0) problems.push('the shape was never served');
  else {
    const faulted = log[i];
    const again = log.slice(i + 1).find((q) => q.method === faulted.method && q.path === faulted.path && q.host === faulted.host);
    if (!again) problems.push('the request was not sent again');
    else {
      const want = asked(header, answeredAt(faulted));
      const gap = Date.parse(again.time) - answeredAt(faulted);
      detail = `asked ${want} ms, waited ${gap} ms`;
      if (want > 0 && gap < want - 1000) problems.push(`waited ${gap} ms, less than the ${want} ms asked`);
      if (gap > Math.max(want, 1000) + SLACK_MS) problems.push(`waited ${gap} ms for ${want} ms asked`);
    }
  }
  return { client: c.name, shape: shape.name, ok: !problems.length, detail, problems };
}

const FOREVER = '429, Retry-After: 3600 on every attempt';

async function forever(emu: Emulator, c: Client): Promise<Outcome> {
  await fresh(emu, c);
  const first = emu.requests.length;
  emu.addFault(rule(c, 429, '3600'));
  const t0 = Date.now();
  const r = await runAction(emu, c.inputs(emu), { timeoutMs: 120_000 });
  const ms = Date.now() - t0;
  const hits = emu.requests.slice(first).filter((q) => q.fault?.startsWith('body:429'));
  const problems: string[] = [];
  const line = r.errors[0] ?? '';
  if (r.code !== 1) problems.push(`exit code ${r.code}`);
  if (r.errors.length !== 1) problems.push(`${r.errors.length} ::error:: lines`);
  if (!c.names.test(line)) problems.push(`the error does not name the service and status (${c.names})`);
  if (!/asked to wait 3600 s/.test(line)) problems.push('the error does not name the wait asked for (3600 s)');
  if (/TypeError|Cannot read propert/.test(line)) problems.push('a JavaScript error was printed');
  if (hits.length < 2) problems.push(`${hits.length} attempt(s): the capped wait was not waited`);
  const gaps = hits.slice(1).map((q, i) => Date.parse(q.time) - answeredAt(hits[i]));
  if (gaps.some((g) => g > 20_000 + SLACK_MS)) problems.push(`a wait over the 20 s cap: ${gaps.join(', ')} ms`);
  const span = hits.length ? Date.parse(hits.at(-1)!.time) - Date.parse(hits[0].time) : 0;
  if (span > 45_000) problems.push(`attempts spread over ${span} ms, past the 45 s budget`);
  const after = hits.length ? t0 + ms - answeredAt(hits.at(-1)!) : 0;
  if (after > 10_000) problems.push(`the step went on ${after} ms after the last attempt`);
  return {
    client: c.name,
    shape: FOREVER,
    ok: !problems.length,
    detail: `${hits.length} attempts over ${Math.round(span / 1000)} s, waits ${gaps.map((g) => Math.round(g / 100) / 10).join(', ')} s; step ${Math.round(ms / 1000)} s: ${line}`,
    problems,
  };
}

// ------------------------------------------------------------------------------------ long-running operations

const POLL = { method: 'GET', pathPattern: '/operationStatuses/[^/]+$' };
const IN_PROGRESS = JSON.stringify({ status: 'InProgress' });
const token = (emu: Emulator) => pull(emu, 'token');

/** A poll that answers InProgress with Retry-After: 10 (ARM's minimum) is waited out, then the operation completes. */
async function lroFollows(emu: Emulator): Promise<Outcome> {
  await fresh(emu);
  const first = emu.requests.length;
  emu.addFault({ ...POLL, kind: 'body', status: 200, body: IN_PROGRESS, headers: { 'retry-after': '10' }, times: 1 });
  const r = await runAction(emu, token(emu), { timeoutMs: 120_000 });
  const log = emu.requests.slice(first);
  const problems: string[] = [];
  if (r.code !== 0) problems.push(`exit code ${r.code}: ${r.errors.join(' ')}`);
  const i = log.findIndex((q) => q.fault?.startsWith('body:200'));
  let detail = '';
  if (i < 0) problems.push('the poll was never faulted');
  else {
    const next = log.slice(i + 1).find((q) => q.method === 'GET' && new RegExp(POLL.pathPattern).test(q.path));
    const gap = next ? Date.parse(next.time) - answeredAt(log[i]) : NaN;
    detail = `next poll after ${gap} ms`;
    if (!next) problems.push('no poll followed');
    else if (gap < 9000 || gap > 10_000 + SLACK_MS) problems.push(`the next poll came after ${gap} ms, not the 10 s asked`);
  }
  return { client: 'ARM long-running operation', shape: 'poll with Retry-After: 10', ok: !problems.length, detail, problems };
}

/** An operation that never ends (every poll InProgress, Retry-After: 10) fails within its budget, naming it. */
async function lroBudget(emu: Emulator): Promise<Outcome> {
  await fresh(emu);
  emu.addFault({ ...POLL, kind: 'body', status: 200, body: IN_PROGRESS, headers: { 'retry-after': '10' } });
  const t0 = Date.now();
  const r = await runAction(emu, token(emu), { timeoutMs: 120_000, env: { ACR_KUBE_AUTH_OPERATION_BUDGET_MS: '15000' } });
  const ms = Date.now() - t0;
  const line = r.errors[0] ?? '';
  const problems: string[] = [];
  if (r.code !== 1) problems.push(`exit code ${r.code}`);
  if (r.errors.length !== 1) problems.push(`${r.errors.length} ::error:: lines`);
  if (!/ACR create scope map .* failed \(OperationTimedOut\): the operation was still running after 15 s/.test(line))
    problems.push('the error does not name the operation and its budget');
  if (ms > 15_000 + 15_000) problems.push(`the step took ${ms} ms for a 15 s budget`);
  return {
    client: 'ARM long-running operation',
    shape: 'never ends (budget 15 s)',
    ok: !problems.length,
    detail: `step ${Math.round(ms / 1000)} s: ${line}`,
    problems,
  };
}

test('every client honours Retry-After on 429 and 503, each wait capped at 20 s and all retries within 45 s; operations poll as asked, within their budget', async (t) => {
  const started = Date.now();
  const jobs: Array<(emu: Emulator) => Promise<Outcome[]>> = [
    ...CLIENTS.map((c) => async (emu: Emulator) => {
      const out: Outcome[] = [];
      for (const shape of SHAPES) out.push(await transient(emu, c, shape));
      out.push(await forever(emu, c));
      return out;
    }),
    async (emu) => [await lroFollows(emu), await lroBudget(emu)],
  ];
  const settled = await mapLimit(jobs, jobs.length, async (job) => {
    const emu = await startEmulator({ quiet: true });
    try {
      return await job(emu);
    } finally {
      await emu.close();
    }
  });
  const results = settled.flatMap((s, i) =>
    s.status === 'fulfilled'
      ? s.value
      : [{ client: CLIENTS[i]?.name ?? 'ARM long-running operation', shape: '(setup)', ok: false, detail: '', problems: [String(s.reason)] }],
  );
  for (const r of results) t.diagnostic(`${r.ok ? 'ok' : 'FAILED'} ${r.client} / ${r.shape}: ${r.detail}`);
  const good = results.filter((r) => r.ok).length;
  recordFigure('retry-after', {
    text: `Retry-After shapes ended within the cap: ${good} of ${results.length} (${CLIENTS.length} clients x seconds, HTTP-date, absent, 503, and 3600 s on every attempt; an operation's 10 s poll and one that never ends; ${Math.round((Date.now() - started) / 1000)} s)`,
  });
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => `${r.client} / ${r.shape}: ${r.problems.join('; ')} | ${r.detail}`),
    [],
  );
});
