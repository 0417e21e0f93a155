// Redirects (issue #12): no client of the action follows one. For every client (ARM reads and
// writes, Graph, Entra's token endpoint, GitHub's OIDC token, the ACR token exchange, the ACR
// credential check, the docker-login-style registry check, Kubernetes), the emulator answers the
// client's request with 301, 302, 303, 307 and 308 pointing at a second HTTPS origin the action
// trusts (the capture server), and with 307 pointing back at the emulator itself. The capture
// server must receive nothing, the emulator nothing at the redirect's path, and the step must fail
// with exit code 1 and one `::error::` line naming the service, the status and where the redirect
// pointed: never a JavaScript error. One emulator per client; clients run concurrently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { runAction } from '../helpers/harness.ts';
import { attach, attachOidc, basic, pull, type ClientCase } from '../helpers/inputs.ts';
import { recordFigure } from '../helpers/leaks.ts';
import { startCapture } from '../helpers/capture.ts';
import { mapLimit } from '../../src/pool.ts';

const mi = (emu: Emulator) => attach(emu);
const exchange = (emu: Emulator, extra: Record<string, string> = {}) => pull(emu, 'exchange', extra);

interface Client extends ClientCase {
  /**
   * How many separate requests the run makes to the route (each answered with the redirect, none a
   * retry of another): 1, but for Entra's token, which the session asks for again after a failed
   * sign-in (the early ask create-deps makes, then the scenario's two ARM clients).
   */
  asks?: number;
}

const CLIENTS: Client[] = [
  {
    name: 'ARM read (AKS get cluster)',
    route: { method: 'GET', pathPattern: '/managedClusters/aks-mi$' },
    inputs: mi,
    names: /AKS get cluster rg-aks\/aks-mi failed/,
  },
  {
    name: 'ARM write (role assignment PUT)',
    route: { method: 'PUT', pathPattern: '/providers/Microsoft\\.Authorization/roleAssignments/[^/]+$' },
    inputs: mi,
    names: /Azure RBAC assign AcrPull to \S+ failed/,
  },
  {
    name: 'ARM list (subscriptions)',
    route: { method: 'GET', pathPattern: '^127\\.0\\.0\\.1/subscriptions$' },
    inputs: (emu) => attach(emu, 'aks-mi', { registry: 'otheracr' }),
    names: /ARM list subscriptions failed/,
  },
  {
    name: 'Graph',
    route: { method: 'GET', pathPattern: '/graph/v1\\.0/servicePrincipals' },
    inputs: (emu) => attach(emu, 'aks-sp'),
    names: /Microsoft Graph get service principal of app \S+ failed/,
  },
  {
    name: 'Entra token',
    route: { method: 'POST', pathPattern: '/oauth2/v2\\.0/token$' },
    inputs: mi,
    names: /Entra ID at https:\/\/127\.0\.0\.1:\d+/,
    asks: 3,
  },
  {
    name: 'GitHub OIDC token',
    route: { method: 'GET', pathPattern: '/_github/oidc/token$' },
    inputs: attachOidc,
    names: /GitHub OIDC token request \(127\.0\.0\.1:\d+\) failed/,
  },
  {
    name: 'ACR token exchange',
    route: { method: 'POST', pathPattern: '\\.azurecr\\.localhost/oauth2/exchange$' },
    inputs: exchange,
    names: /ACR token exchange \(contosoacr\.azurecr\.localhost:\d+\) failed/,
  },
  {
    name: 'ACR credential check (verify)',
    route: { method: 'POST', pathPattern: '\\.azurecr\\.localhost/oauth2/token$' },
    setup: exchange,
    inputs: (emu) => exchange(emu, { operation: 'verify' }),
    names: /ACR credential check \(contosoacr\.azurecr\.localhost:\d+\) failed/,
  },
  {
    name: 'registry check (verify)',
    route: { method: 'GET', pathPattern: '\\.azurecr\\.localhost/v2/$' },
    setup: basic,
    inputs: (emu) => basic(emu, { operation: 'verify' }),
    names: /registry \/v2\/ challenge \(contosoacr\.azurecr\.localhost:\d+\) failed/,
  },
  {
    name: 'Kubernetes',
    route: { method: 'GET', pathPattern: '/api/v1/namespaces/team-a/secrets/[^/]+$' },
    inputs: basic,
    names: /Kubernetes get secret team-a\/acr-contosoacr failed/,
  },
];

const STATUSES = [301, 302, 303, 307, 308];
const STACK = /\bat (?:async )?\S+ \(?(?:file:|node:|\/)\S+:\d+:\d+/;
const RUNTIME = /TypeError|SyntaxError|RangeError|ReferenceError|Cannot read propert|undefined \(reading/;

interface Outcome {
  client: string;
  status: number;
  target: string;
  ok: boolean;
  line: string;
  problems: string[];
}

test('no client follows a redirect: 301/302/303/307/308 to another origin and 307 to the same one fail with one error naming where it pointed; nothing is sent there', async (t) => {
  const started = Date.now();
  const perClient = await mapLimit(CLIENTS, 4, async (c): Promise<Outcome[]> => {
    const emu = await startEmulator({ quiet: true });
    const capture = await startCapture(emu);
    const out: Outcome[] = [];
    try {
      if (c.setup) assert.equal((await runAction(emu, c.setup(emu))).code, 0, `${c.name}: setup run`);
      const cases = [
        ...STATUSES.map((status) => ({ status, location: `${capture.origin}/captured/${status}`, target: capture.origin })),
        { status: 307, location: `${emu.url}/captured/same-origin`, target: emu.url },
      ];
      for (const k of cases) {
        emu.clearFaults();
        const first = emu.requests.length;
        const before = capture.requests.length;
        emu.addFault({
          ...c.route,
          kind: 'body',
          status: k.status,
          body: JSON.stringify({ error: { code: 'Moved', message: 'see Location' } }),
          headers: { location: k.location },
        });
        const r = await runAction(emu, c.inputs(emu), { timeoutMs: 120_000 });
        const log = emu.requests.slice(first);
        const problems: string[] = [];
        const line = r.errors[0] ?? '';
        if (r.code !== 1) problems.push(`exit code ${r.code}`);
        if (r.errors.length !== 1) problems.push(`${r.errors.length} ::error:: lines`);
        if (!c.names.test(line)) problems.push(`the error does not name the service and operation (${c.names})`);
        if (!line.includes(`redirect to ${k.target}`)) problems.push(`the error does not name where the redirect pointed (${k.target})`);
        if (!line.includes(String(k.status))) problems.push(`the error does not name the status ${k.status}`);
        if (RUNTIME.test(line) || STACK.test(line) || STACK.test(r.stderr)) problems.push('a JavaScript error or a stack trace was printed');
        if (!log.some((q) => q.fault?.startsWith(`body:${k.status}`))) problems.push('the redirect was never served');
        const hits = log.filter((q) => q.fault?.startsWith(`body:${k.status}`)).length;
        if (hits > (c.asks ?? 1)) problems.push(`the redirected request was sent ${hits} times (a 3xx is not retried)`);
        const followed = capture.requests.slice(before);
        if (followed.length)
          problems.push(
            `the other origin received ${followed.map((q) => `${q.method} ${q.path}${q.authorization ? ' with Authorization' : ''}`).join(', ')}`,
          );
        const same = log.filter((q) => q.path.startsWith('/captured'));
        if (same.length) problems.push(`the emulator received the redirect's path: ${same.map((q) => `${q.method} ${q.path}`).join(', ')}`);
        out.push({
          client: c.name,
          status: k.status,
          target: k.target === capture.origin ? 'another origin' : 'the same origin',
          ok: !problems.length,
          line,
          problems,
        });
      }
    } finally {
      await capture.close();
      await emu.close();
    }
    return out;
  });
  const results = perClient.flatMap((o, i) =>
    o.status === 'fulfilled' ? o.value : [{ client: CLIENTS[i].name, status: 0, target: '', ok: false, line: '', problems: [String(o.reason)] }],
  );
  for (const r of results) t.diagnostic(`${r.ok ? 'ok' : 'FAILED'} ${r.client} ${r.status} to ${r.target}: ${r.line}`);
  const refused = results.filter((r) => r.ok).length;
  recordFigure('redirects', {
    text: `redirects refused: ${refused} of ${results.length} tried (${CLIENTS.length} clients x ${STATUSES.join('/')} to another origin and 307 to the same origin; nothing reached either, one ApiError line each; ${Math.round((Date.now() - started) / 1000)} s)`,
  });
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => `${r.client} ${r.status} to ${r.target}: ${r.problems.join('; ')} | ${r.line}`),
    [],
  );
});
