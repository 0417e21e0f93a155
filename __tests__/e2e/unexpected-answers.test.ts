// Answers of the wrong shape (issue #12): a 200 whose body is not the object asked for (`null`, a
// list, a string, another kind of Kubernetes object, fields of the wrong type). Each must end the
// step with exit code 1 and one `::error::` line that names the service and the operation and says
// what was expected: never a JavaScript error (`Cannot read properties of undefined`), never a
// stack. One emulator per case, cases run concurrently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import type { FaultRule } from '../../emulator/types.ts';
import { runAction } from '../helpers/harness.ts';
import { attach, attachOidc, basic as basicPull, pull as pullSecret } from '../helpers/inputs.ts';

const pull = (emu: Emulator, type: string) => pullSecret(emu, type, withSa);
const basic = (emu: Emulator) => basicPull(emu, withSa);
import { recordFigure } from '../helpers/leaks.ts';
import { mapLimit } from '../../src/pool.ts';

const mi = (emu: Emulator) => attach(emu);
const sp = (emu: Emulator) => attach(emu, 'aks-sp');
const withSa = { 'service-accounts': 'default' };

interface Case {
  name: string;
  route: Pick<FaultRule, 'method' | 'pathPattern'>;
  status?: number;
  body: unknown;
  inputs(emu: Emulator): Record<string, string>;
  /** the service and operation the line names */
  names: RegExp;
}

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'team-a', resourceVersion: '7', ...extra });
const GET_SECRET = { method: 'GET', pathPattern: '/api/v1/namespaces/team-a/secrets/acr-contosoacr$' };
const GET_SA = { method: 'GET', pathPattern: '/api/v1/namespaces/team-a/serviceaccounts/default$' };

const CASES: Case[] = [
  {
    name: 'ARM cluster: null',
    route: { method: 'GET', pathPattern: '/managedClusters/aks-mi$' },
    body: null,
    inputs: mi,
    names: /AKS get cluster rg-aks\/aks-mi failed/,
  },
  {
    name: 'ARM cluster: a list',
    route: { method: 'GET', pathPattern: '/managedClusters/aks-mi$' },
    body: [1, 2],
    inputs: mi,
    names: /AKS get cluster rg-aks\/aks-mi failed/,
  },
  {
    name: 'ARM registry list: value is not a list',
    route: { method: 'GET', pathPattern: '/subscriptions/[^/]+/providers/Microsoft\\.ContainerRegistry/registries$' },
    body: { value: 'contosoacr' },
    inputs: mi,
    names: /ACR list registries in subscription \S+ failed/,
  },
  {
    name: 'ARM subscriptions: value is an object',
    route: { method: 'GET', pathPattern: '^127\\.0\\.0\\.1/subscriptions$' },
    body: { value: {} },
    inputs: (emu) => attach(emu, 'aks-mi', { registry: 'otheracr' }),
    names: /ARM list subscriptions failed/,
  },
  {
    name: 'RBAC role assignment PUT: a list',
    route: { method: 'PUT', pathPattern: '/providers/Microsoft\\.Authorization/roleAssignments/[^/]+$' },
    status: 201,
    body: [],
    inputs: mi,
    names: /Azure RBAC assign AcrPull to \S+ failed/,
  },
  {
    name: 'ACR admin credentials: no passwords',
    route: { method: 'POST', pathPattern: '/listCredentials$' },
    body: { username: 'adminacr' },
    inputs: (emu) => pull(emu, 'admin'),
    names: /ACR list admin credentials \(registry adminacr\) failed/,
  },
  {
    name: 'ACR generateCredentials: passwords is a string',
    route: { method: 'POST', pathPattern: '/generateCredentials$' },
    body: { username: 'x', passwords: 'secret' },
    inputs: (emu) => pull(emu, 'token'),
    names: /ACR generate password1 for token \S+ \(registry contosoacr\) failed/,
  },
  {
    name: 'Graph service principal: {}',
    route: { method: 'GET', pathPattern: '/graph/v1\\.0/servicePrincipals' },
    body: {},
    inputs: sp,
    names: /Microsoft Graph get service principal of app \S+ failed/,
  },
  {
    name: 'Graph service principal: a JSON string',
    route: { method: 'GET', pathPattern: '/graph/v1\\.0/servicePrincipals' },
    body: 'servicePrincipal',
    inputs: sp,
    names: /Microsoft Graph get service principal of app \S+ failed/,
  },
  {
    name: 'ACR token exchange: refresh_token is a number',
    route: { method: 'POST', pathPattern: '\\.azurecr\\.localhost/oauth2/exchange$' },
    body: { refresh_token: 5 },
    inputs: (emu) => pull(emu, 'exchange'),
    names: /ACR token exchange \(contosoacr\.azurecr\.localhost:\d+\) failed/,
  },
  {
    name: 'GitHub OIDC token: value is null',
    route: { method: 'GET', pathPattern: '/_github/oidc/token$' },
    body: { value: null },
    inputs: attachOidc,
    names: /GitHub OIDC token request \(127\.0\.0\.1:\d+\) failed/,
  },
  {
    name: 'Kubernetes secret: a ConfigMap',
    route: GET_SECRET,
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('acr-contosoacr'), data: { a: 'b' } },
    inputs: basic,
    names: /Kubernetes get secret team-a\/acr-contosoacr failed/,
  },
  {
    name: 'Kubernetes secret: metadata null',
    route: GET_SECRET,
    body: { apiVersion: 'v1', kind: 'Secret', metadata: null },
    inputs: basic,
    names: /Kubernetes get secret team-a\/acr-contosoacr failed/,
  },
  {
    name: 'Kubernetes secret: another name',
    route: GET_SECRET,
    body: { apiVersion: 'v1', kind: 'Secret', metadata: meta('someone-else'), type: 'kubernetes.io/dockerconfigjson', data: {} },
    inputs: basic,
    names: /Kubernetes get secret team-a\/acr-contosoacr failed/,
  },
  {
    name: 'Kubernetes secret: no resourceVersion',
    route: GET_SECRET,
    body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'acr-contosoacr', namespace: 'team-a' }, data: {} },
    inputs: basic,
    names: /Kubernetes get secret team-a\/acr-contosoacr failed/,
  },
  {
    name: 'Kubernetes secret: data values not strings',
    route: GET_SECRET,
    body: { apiVersion: 'v1', kind: 'Secret', metadata: meta('acr-contosoacr'), data: { '.dockerconfigjson': { auths: {} } } },
    inputs: basic,
    names: /Kubernetes get secret team-a\/acr-contosoacr failed/,
  },
  {
    name: 'Kubernetes service account: a Secret',
    route: GET_SA,
    body: { apiVersion: 'v1', kind: 'Secret', metadata: meta('default') },
    inputs: basic,
    names: /Kubernetes get serviceaccount team-a\/default failed/,
  },
  {
    name: 'Kubernetes namespace: a list',
    route: { method: 'GET', pathPattern: '^127\\.0\\.0\\.1/api/v1/namespaces/team-a$' },
    body: [],
    inputs: basic,
    names: /Kubernetes get namespace team-a failed/,
  },
];

const STACK = /\bat (?:async )?\S+ \(?(?:file:|node:|\/)\S+:\d+:\d+/;
const RUNTIME = /TypeError|SyntaxError|RangeError|ReferenceError|Cannot read propert|undefined \(reading|is not a function|is not iterable/;
const SAYS_WHAT = /expected|not of the shape|InvalidResponse|not valid JSON|not JSON|no \S+/;

test('answers of the wrong shape fail with one ApiError line naming the service, the operation and what was expected, never a JavaScript error', async (t) => {
  const started = Date.now();
  const outcomes = await mapLimit(CASES, 6, async (c) => {
    const emu = await startEmulator({ quiet: true });
    try {
      emu.addFault({ ...c.route, kind: 'body', status: c.status ?? 200, body: JSON.stringify(c.body) });
      const r = await runAction(emu, c.inputs(emu), { timeoutMs: 120_000 });
      const line = r.errors[0] ?? '';
      const problems: string[] = [];
      if (r.code !== 1) problems.push(`exit code ${r.code}`);
      if (r.errors.length !== 1) problems.push(`${r.errors.length} ::error:: lines`);
      if (!c.names.test(line)) problems.push(`the error does not name the service and operation (${c.names})`);
      if (!SAYS_WHAT.test(line)) problems.push('the error does not say what was expected');
      if (RUNTIME.test(line) || STACK.test(line) || STACK.test(r.stderr)) problems.push('a JavaScript error or a stack trace was printed');
      if (!emu.requests.some((q) => q.fault?.startsWith('body:'))) problems.push('the answer was never served');
      return { name: c.name, ok: !problems.length, line, problems };
    } finally {
      await emu.close();
    }
  });
  const results = outcomes.map((o, i) =>
    o.status === 'fulfilled' ? o.value : { name: CASES[i].name, ok: false, line: '', problems: [String(o.reason)] },
  );
  for (const r of results) t.diagnostic(`${r.ok ? 'ok' : 'FAILED'} ${r.name}: ${r.line}`);
  recordFigure('unexpected answers', {
    text: `${results.filter((r) => r.ok).length} of ${results.length} answers of the wrong shape (ARM, RBAC, ACR, Graph, the ACR token service, GitHub OIDC, Kubernetes) gave one ApiError line naming the service, the operation and what was expected, no JavaScript error (${Math.round((Date.now() - started) / 1000)} s)`,
  });
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.problems.join('; ')} | ${r.line}`),
    [],
  );
});
