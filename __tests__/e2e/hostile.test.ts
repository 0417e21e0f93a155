// Hostile answers (issue #7): oversized bodies, invalid JSON, a registry whose login server is not
// under the cloud's registry suffix, and answers that point elsewhere (a nextLink, a long-running
// operation's status URL, a registry's Bearer realm). Each must end the step with exit code 1,
// one `::error::` line naming what failed and no stack trace, and no credential may travel to a
// host the answer named. One emulator per case, cases run concurrently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { CLUSTER_SP_APP_ID, CLUSTER_SP_SECRET, SUB_1 } from '../../emulator/ids.ts';
import type { FaultRule } from '../../emulator/types.ts';
import { azureInputs, basicInputs, runAction } from '../helpers/harness.ts';
import { recordFigure } from '../helpers/leaks.ts';
import { mapLimit } from '../../src/pool.ts';
import { MAX_RESPONSE_BYTES, ResponseTooLargeError, readCapped, requestTimeoutMs } from '../../src/net/limits.ts';

const RG = `/subscriptions/${SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries`;
const registryKey = (name: string) => `${RG}/${name}`.toLowerCase();

// ------------------------------------------------------------------------------------ inputs

const mi = (emu: Emulator, extra: Record<string, string> = {}) =>
  azureInputs(emu, { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks', ...extra });
const sp = (emu: Emulator) => azureInputs(emu, { registry: 'contosoacr', 'cluster-name': 'aks-sp', 'cluster-resource-group': 'rg-aks' });
const pull = (emu: Emulator, type: string, extra: Record<string, string> = {}) =>
  azureInputs(emu, { registry: type === 'admin' ? 'adminacr' : 'contosoacr', namespaces: 'team-a', 'credential-type': type, ...extra });
const spPull = (emu: Emulator) =>
  pull(emu, 'service-principal', { 'service-principal-client-id': CLUSTER_SP_APP_ID, 'service-principal-secret': CLUSTER_SP_SECRET });

// ------------------------------------------------------------------------------------ routes

const ROUTE = {
  getRegistry: { method: 'GET', pathPattern: '/registries/contosoacr$' },
  listRegistries: { method: 'GET', pathPattern: '/subscriptions/[^/]+/providers/Microsoft\\.ContainerRegistry/registries$' },
  listSubscriptions: { method: 'GET', pathPattern: '^127\\.0\\.0\\.1/subscriptions$' },
  getCluster: { method: 'GET', pathPattern: '/managedClusters/aks-[a-z]+$' },
  graph: { method: 'GET', pathPattern: '/graph/v1\\.0/servicePrincipals' },
  getSecret: { method: 'GET', pathPattern: '/api/v1/namespaces/team-a/secrets/[^/]+$' },
  exchange: { method: 'POST', pathPattern: '\\.azurecr\\.localhost/oauth2/exchange$' },
  signIn: { method: 'POST', pathPattern: '/oauth2/v2\\.0/token$' },
  putScopeMap: { method: 'PUT', pathPattern: '/scopeMaps/[^/]+$' },
  challenge: { method: 'GET', pathPattern: '\\.azurecr\\.localhost/v2/$' },
} satisfies Record<string, Partial<FaultRule>>;

const FIFTY_MB = 50 * 1024 * 1024;
const TRUNCATED = '{"id": "/subscriptions/aaaaaaaa-0000-4000-8000-000000000001/resourceGroups/rg-acr", "name": "contosoa';

// ------------------------------------------------------------------------------------ cases

interface Case {
  name: string;
  kind: 'oversized' | 'invalid JSON' | 'login server' | 'foreign URL';
  inputs(emu: Emulator): Record<string, string>;
  /** breaks the world before the run (faults, state) */
  arrange(emu: Emulator): void;
  /** a run before the hostile one (e.g. attach before verify) */
  setup?: (emu: Emulator) => Record<string, string>;
  /** what the one error line must say */
  expect: RegExp[];
  /** requests that must never have been sent (credentials to a host the answer named) */
  forbidden?: RegExp;
}

const body = (route: Partial<FaultRule>, f: Partial<FaultRule>) => (emu: Emulator) => emu.addFault({ ...route, kind: 'body', ...f });
const oversized = (route: Partial<FaultRule>) => body(route, { bodyBytes: FIFTY_MB });
const invalid = (route: Partial<FaultRule>) => body(route, { body: TRUNCATED });
const TOO_LARGE = /larger than 16 MiB/;
const NOT_JSON = /not (valid )?JSON/;
const loginServer = (name: string, value: (emu: Emulator) => string) => (emu: Emulator) => {
  emu.state.resources[registryKey(name)].properties.loginServer = value(emu);
};
const NOT_OURS = /not a registry of this cloud/;
/** The registry data plane: token service, exchange, /v2/ (where credentials and tokens go). */
const DATA_PLANE = /\/oauth2\/(exchange|token)$|\/v2\//;

const CASES: Case[] = [
  // -- oversized: a 50 MB JSON body; the action stops reading at 16 MiB
  {
    name: 'ARM get registry',
    kind: 'oversized',
    inputs: (emu) => mi(emu, { 'registry-resource-group': 'rg-acr' }),
    arrange: oversized(ROUTE.getRegistry),
    expect: [/ACR get registry contosoacr failed/, TOO_LARGE],
  },
  {
    name: 'ARM list registries',
    kind: 'oversized',
    inputs: (emu) => pull(emu, 'token'),
    arrange: oversized(ROUTE.listRegistries),
    expect: [/ACR list registries/, TOO_LARGE],
  },
  {
    name: 'AKS get cluster',
    kind: 'oversized',
    inputs: mi,
    arrange: oversized(ROUTE.getCluster),
    expect: [/AKS get cluster rg-aks\/aks-mi failed/, TOO_LARGE],
  },
  {
    name: 'Graph service principal',
    kind: 'oversized',
    inputs: sp,
    arrange: oversized(ROUTE.graph),
    expect: [/Microsoft Graph get service principal/, TOO_LARGE],
  },
  {
    name: 'Kubernetes get secret',
    kind: 'oversized',
    inputs: basicInputs,
    arrange: oversized(ROUTE.getSecret),
    expect: [/Kubernetes get secret team-a\/acr-contosoacr failed/, TOO_LARGE],
  },
  {
    name: 'ACR token exchange',
    kind: 'oversized',
    inputs: (emu) => pull(emu, 'exchange'),
    arrange: oversized(ROUTE.exchange),
    expect: [/ACR token exchange/, TOO_LARGE],
  },
  { name: 'Entra token', kind: 'oversized', inputs: mi, arrange: oversized(ROUTE.signIn), expect: [/Azure sign-in failed/, TOO_LARGE] },
  // -- invalid JSON with 200
  {
    name: 'ARM get registry',
    kind: 'invalid JSON',
    inputs: (emu) => pull(emu, 'admin', { registry: 'contosoacr', 'registry-resource-group': 'rg-acr' }),
    arrange: invalid(ROUTE.getRegistry),
    expect: [/ACR get registry contosoacr failed/, NOT_JSON],
  },
  {
    name: 'ARM list subscriptions',
    kind: 'invalid JSON',
    inputs: (emu) => mi(emu, { registry: 'otheracr' }),
    arrange: invalid(ROUTE.listSubscriptions),
    expect: [/ARM list subscriptions failed/, NOT_JSON],
  },
  {
    name: 'AKS get cluster',
    kind: 'invalid JSON',
    inputs: sp,
    arrange: invalid(ROUTE.getCluster),
    expect: [/AKS get cluster rg-aks\/aks-sp failed/, NOT_JSON],
  },
  {
    name: 'Graph service principal',
    kind: 'invalid JSON',
    inputs: spPull,
    arrange: invalid(ROUTE.graph),
    expect: [/Microsoft Graph get service principal/, NOT_JSON],
  },
  {
    name: 'Kubernetes get secret',
    kind: 'invalid JSON',
    inputs: basicInputs,
    arrange: invalid(ROUTE.getSecret),
    expect: [/Kubernetes get secret team-a\/acr-contosoacr failed/, NOT_JSON],
  },
  {
    name: 'ACR token exchange',
    kind: 'invalid JSON',
    inputs: (emu) => pull(emu, 'exchange'),
    arrange: invalid(ROUTE.exchange),
    expect: [/ACR token exchange/, /no refresh_token/],
  },
  {
    name: 'Entra token (an HTML error page)',
    kind: 'invalid JSON',
    inputs: mi,
    arrange: body(ROUTE.signIn, { body: '<html><body>502 Bad Gateway</body></html>', contentType: 'text/html' }),
    expect: [/Azure sign-in failed/],
  },
  // -- a registry whose login server is not under the cloud's suffix (.azurecr.localhost)
  {
    name: 'exchange: the emulator itself (127.0.0.1), where an Entra token would be accepted',
    kind: 'login server',
    inputs: (emu) => pull(emu, 'exchange'),
    arrange: loginServer('contosoacr', (emu) => `127.0.0.1:${emu.port}`),
    expect: [NOT_OURS],
    forbidden: DATA_PLANE,
  },
  {
    name: 'token: another domain',
    kind: 'login server',
    inputs: (emu) => pull(emu, 'token'),
    arrange: loginServer('contosoacr', () => 'contosoacr.evil.example'),
    expect: [NOT_OURS],
    forbidden: DATA_PLANE,
  },
  {
    name: 'admin: the suffix without its dot',
    kind: 'login server',
    inputs: (emu) => pull(emu, 'admin'),
    arrange: loginServer('adminacr', (emu) => `adminacrazurecr.localhost:${emu.port}`),
    expect: [NOT_OURS],
    forbidden: DATA_PLANE,
  },
  {
    name: 'service-principal: the suffix in the middle',
    kind: 'login server',
    inputs: spPull,
    arrange: loginServer('contosoacr', () => 'contosoacr.azurecr.localhost.evil.example'),
    expect: [NOT_OURS],
    forbidden: DATA_PLANE,
  },
  {
    name: 'managed identity: a URL ending in the suffix',
    kind: 'login server',
    inputs: mi,
    arrange: loginServer('contosoacr', () => 'evil.example/x#.azurecr.localhost'),
    expect: [NOT_OURS],
  },
  // -- answers that point elsewhere: the bearer token or the credential must not follow
  {
    name: 'ARM nextLink to another host',
    kind: 'foreign URL',
    inputs: (emu) => pull(emu, 'token'),
    arrange: (emu) =>
      emu.addFault({ ...ROUTE.listRegistries, kind: 'body', body: JSON.stringify({ value: [], nextLink: `https://localhost:${emu.port}/steal` }) }),
    expect: [/ACR list registries/, /pointed at https:\/\/localhost:\d+/],
    forbidden: /\/steal/,
  },
  {
    name: 'long-running operation status URL on another host',
    kind: 'foreign URL',
    inputs: (emu) => pull(emu, 'token'),
    arrange: (emu) =>
      emu.addFault({
        ...ROUTE.putScopeMap,
        kind: 'body',
        status: 201,
        body: JSON.stringify({ name: 'kube-pull-team-a-scope', properties: { provisioningState: 'Creating', actions: [] } }),
        headers: { 'azure-asyncoperation': `https://localhost:${emu.port}/steal` },
      }),
    expect: [/ACR create scope map/, /pointed at https:\/\/localhost:\d+/],
    forbidden: /\/steal/,
  },
  {
    name: 'registry Bearer realm on another host (verify)',
    kind: 'foreign URL',
    inputs: (emu) => basicInputs(emu, { operation: 'verify' }),
    setup: basicInputs,
    arrange: (emu) =>
      emu.addFault({
        ...ROUTE.challenge,
        kind: 'body',
        status: 401,
        body: '',
        headers: { 'www-authenticate': `Bearer realm="https://localhost:${emu.port}/steal",service="contosoacr.azurecr.localhost"` },
      }),
    expect: [/verification/, /asked for the credential at https:\/\/localhost:\d+/],
    forbidden: /\/steal/,
  },
];

const STACK = /\bat (?:async )?\S+ \(?(?:file:|node:|\/)\S+:\d+:\d+/;

test('hostile answers fail cleanly: exit code 1, one error naming what failed, no stack, nothing sent where the answer pointed', async (t) => {
  const started = Date.now();
  const outcomes = await mapLimit(CASES, 6, async (c) => {
    const emu = await startEmulator({ quiet: true });
    try {
      if (c.setup) assert.equal((await runAction(emu, c.setup(emu))).code, 0, 'setup run');
      const first = emu.requests.length;
      c.arrange(emu);
      const t0 = Date.now();
      const r = await runAction(emu, c.inputs(emu), { timeoutMs: 120_000 });
      const ms = Date.now() - t0;
      const problems: string[] = [];
      if (r.code !== 1) problems.push(`exit code ${r.code}`);
      if (r.errors.length !== 1) problems.push(`${r.errors.length} ::error:: lines`);
      const line = r.errors[0] ?? '';
      for (const re of c.expect) if (!re.test(line)) problems.push(`the error does not match ${re}`);
      if (STACK.test(line) || STACK.test(r.stderr) || /SyntaxError|TypeError|RangeError/.test(line))
        problems.push('a stack trace or a raw runtime error was printed');
      if (line.length > 1200) problems.push(`the error line is ${line.length} characters long`);
      const sent = emu.requests.slice(first).filter((q) => c.forbidden?.test(`${q.host}${q.path}`));
      if (sent.length) problems.push(`sent where it must not: ${sent.map((q) => `${q.method} ${q.host}${q.path}`).join(', ')}`);
      if (c.kind !== 'login server' && c.kind !== 'foreign URL' && !emu.requests.slice(first).some((q) => q.fault?.startsWith('body:')))
        problems.push('the hostile answer was never served');
      return { name: `${c.kind}: ${c.name}`, kind: c.kind, ok: problems.length === 0, ms, line, problems };
    } finally {
      await emu.close();
    }
  });
  const results = outcomes.map((o, i) =>
    o.status === 'fulfilled' ? o.value : { name: CASES[i].name, kind: CASES[i].kind, ok: false, ms: 0, line: '', problems: [String(o.reason)] },
  );
  for (const r of results) t.diagnostic(`${r.ok ? 'ok' : 'FAILED'} ${r.name} (${r.ms} ms): ${r.line}`);
  const byKind = [...new Set(results.map((r) => r.kind))].map((k) => {
    const of = results.filter((r) => r.kind === k);
    return `${of.filter((r) => r.ok).length}/${of.length} ${k}`;
  });
  recordFigure('hostile answers', {
    text: `${results.filter((r) => r.ok).length} of ${results.length} failed cleanly (exit code 1, one error line, no stack, nothing sent where the answer pointed): ${byKind.join(', ')}; slowest ${Math.round(Math.max(...results.map((r) => r.ms)) / 1000)} s (${Math.round((Date.now() - started) / 1000)} s in all)`,
  });
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.problems.join('; ')} | ${r.line}`),
    [],
  );
});

// ------------------------------------------------------------------------------------ the pieces

/** One HTTPS request to the emulator (its CA), returning status, headers and body size. */
function get(emu: Emulator, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${emu.url}${path}`, { ca: emu.caCertPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test("the emulator's 'body' fault serves a given body, or valid JSON of a given size, with status and headers, `times` times", async () => {
  const emu = await startEmulator({ quiet: true });
  try {
    emu.addFault({ method: 'GET', pathPattern: '/subscriptions$', kind: 'body', body: '{"truncated', status: 200, times: 1 });
    const a = await get(emu, '/subscriptions?api-version=2022-12-01');
    assert.equal(a.status, 200);
    assert.equal(a.body.toString(), '{"truncated');
    assert.match(String(a.headers['content-type']), /application\/json/);
    const b = await get(emu, '/subscriptions?api-version=2022-12-01');
    assert.equal(b.status, 401, 'after `times` the real handler answers again (no token: 401)');

    emu.addFault({
      pathPattern: '/big$',
      kind: 'body',
      bodyBytes: 3 * 1024 * 1024,
      status: 203,
      headers: { 'x-hostile': 'yes' },
      contentType: 'text/plain',
    });
    const c = await get(emu, '/big');
    assert.equal(c.status, 203);
    assert.equal(c.body.length, 3 * 1024 * 1024);
    assert.deepEqual(Object.keys(JSON.parse(c.body.toString())), ['padding'], 'valid JSON');
    assert.equal(c.headers['x-hostile'], 'yes');
    assert.equal(c.headers['content-type'], 'text/plain');
    assert.equal(emu.requests.at(-1)?.fault, `body:203:${3 * 1024 * 1024}`);

    assert.throws(() => emu.addFault({ kind: 'body' }), /needs a body string or bodyBytes/);
    assert.throws(() => emu.addFault({ kind: 'body', bodyBytes: -1 }), /needs a body string or bodyBytes/);
    assert.throws(() => emu.addFault({ kind: 'body', body: '', status: 42 }), /status must be 100-599/);
  } finally {
    await emu.close();
  }
});

test('net limits: reads stop at the cap; the per-request timeout knob is read and clamped', async () => {
  const stream = (sizes: number[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const n of sizes) c.enqueue(new Uint8Array(n));
        c.close();
      },
    });
  assert.equal((await readCapped(stream([10, 20]), 30)).length, 30);
  await assert.rejects(readCapped(stream([10, 21]), 30), ResponseTooLargeError);
  await assert.rejects(readCapped(stream([MAX_RESPONSE_BYTES, 1])), /larger than 16 MiB/);
  assert.equal((await readCapped(null)).length, 0);
  assert.equal(requestTimeoutMs({}), 30_000);
  assert.equal(requestTimeoutMs({ ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS: '1500' }), 1500);
  assert.equal(requestTimeoutMs({ ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS: '5' }), 100);
  assert.equal(requestTimeoutMs({ ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS: '9999999' }), 600_000);
  assert.equal(requestTimeoutMs({ ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS: '1e3' }), 30_000, 'not a whole number: the default');
});
