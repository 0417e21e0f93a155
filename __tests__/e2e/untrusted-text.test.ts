// Untrusted text is data, never a command (issue #12): hostile strings in every source of server
// text the action prints (Kubernetes Status messages, fields of an existing Secret, the registry
// token service, ARM, Graph and Entra errors) run through the bundle. Whatever the string holds
// (line breaks, `%0A`, `\r`, `##[`, ANSI escapes, `|`, Markdown, HTML, @mentions), no line of
// stdout or stderr is a workflow command the action did not write, no ANSI escape is printed,
// the job summary's table rows keep their cells and every output stays one clean value.
// Each stdout and stderr line is read the way the runner reads it (../helpers/runner-commands.ts).
/* eslint-disable no-control-regex -- finding control characters is what these expressions are for */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { CLUSTER_SP_APP_ID, CLUSTER_SP_SECRET } from '../../emulator/ids.ts';
import type { FaultRule } from '../../emulator/types.ts';
import { azureInputs, basicInputs, runAction, type RunResult } from '../helpers/harness.ts';
import { recordFigure } from '../helpers/leaks.ts';
import { mapLimit } from '../../src/pool.ts';
import { OURS, runnerCommand, runnerLines, tableSeparators } from '../helpers/runner-commands.ts';

// ------------------------------------------------------------------------------ the strings

/** Each carries the marker PWN in every forged command, so a forged line is recognisable. */
const PAYLOADS: Record<string, string> = {
  'line breaks':
    'denied\n::set-output name=pwned::PWN-1\n::add-mask::PWN-mask\n  ::error::PWN-error\r\n::stop-commands::pwntoken\r::warning::PWN-warning\n',
  'escapes and legacy commands':
    'denied%0A::error::PWN-pct%0D%0A ##[set-output name=pwned;]PWN-2 ##[add-mask]PWN-legacy \u2028::notice::PWN-ls\u0085::debug::PWN-nel\u000b::error::PWN-vt\u0000x',
  'ANSI and Markdown':
    '\u001b[31mPWN-red\u001b[0m \u001b]8;;https://evil.example\u0007PWN-link\u001b]8;;\u0007 \u009b2J \u001b[2K | PWN | cell | <img src=x onerror=alert(1)> `code` @octocat #1 [PWN](https://evil.example) **b**\n| forged | row | of | five | cells |',
};

// ------------------------------------------------------------------------------ the sources

const SECRET_NAME = 'acr-contosoacr';
const loginServer = (emu: Emulator) => `contosoacr.azurecr.localhost:${emu.port}`;
const token = (emu: Emulator, extra: Record<string, string> = {}) =>
  azureInputs(emu, { registry: 'contosoacr', namespaces: 'team-a', 'credential-type': 'token', ...extra });
const json = (v: unknown) => JSON.stringify(v);
const kubeStatus = (message: string, code = 403, reason = 'Forbidden') =>
  json({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
const fault = (rule: Omit<FaultRule, 'kind'>) => (emu: Emulator) => emu.addFault({ kind: 'body', ...rule });

/** A Secret in team-a whose .dockerconfigjson entry and registries annotation are given. */
function seedSecret(emu: Emulator, entry: Record<string, string>, record?: Record<string, string>) {
  const auths = { [loginServer(emu)]: { ...entry, auth: Buffer.from(`${entry.username}:${entry.password}`).toString('base64') } };
  emu.state.kube.secrets['team-a'] ??= {};
  emu.state.kube.secrets['team-a'][SECRET_NAME] = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: SECRET_NAME,
      namespace: 'team-a',
      uid: 'a0000000-0000-4000-8000-00000000dddd',
      resourceVersion: '990',
      creationTimestamp: '2024-01-01T00:00:00Z',
      ...(record ? { annotations: { 'acr-kube-auth.github.io/registries': json({ [loginServer(emu)]: record }) } } : {}),
    },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(json({ auths })).toString('base64') },
  };
}

interface Source {
  name: string;
  inputs(emu: Emulator): Record<string, string>;
  /** a clean run first (e.g. attach before verify) */
  setup?: (emu: Emulator) => Record<string, string>;
  /** puts the hostile string where the server would */
  arrange(emu: Emulator, text: string): void;
  /** the step's exit code with that string in place */
  code: number;
}

const SOURCES: Source[] = [
  {
    name: 'Kubernetes Status message of a denied write (an admission webhook)',
    inputs: basicInputs,
    arrange: (emu, text) =>
      fault({
        method: 'POST',
        pathPattern: '/namespaces/team-a/secrets$',
        status: 403,
        body: kubeStatus(`admission webhook "deny.example" denied the request: ${text}`),
      })(emu),
    code: 1,
  },
  {
    name: 'Kubernetes Status message of a failed read',
    inputs: (emu) => basicInputs(emu, { 'service-accounts': 'default' }),
    arrange: (emu, text) =>
      fault({ method: 'GET', pathPattern: '/namespaces/team-a/serviceaccounts/default$', status: 403, body: kubeStatus(text) })(emu),
    code: 1,
  },
  {
    name: 'Kubernetes Status message and reason of a namespace read',
    inputs: basicInputs,
    arrange: (emu, text) =>
      fault({ method: 'GET', pathPattern: '/api/v1/namespaces/team-a$', status: 403, body: kubeStatus(text, 403, `Forbidden ${text}`) })(emu),
    code: 1,
  },
  {
    name: 'Kubernetes Status message of a service-account patch',
    inputs: (emu) => basicInputs(emu, { 'service-accounts': 'default' }),
    arrange: (emu, text) =>
      fault({ method: 'PATCH', pathPattern: '/namespaces/team-a/serviceaccounts/default$', status: 422, body: kubeStatus(text, 422, 'Invalid') })(
        emu,
      ),
    code: 1,
  },
  {
    name: 'Kubernetes Status message of a delete (detach)',
    inputs: (emu) => basicInputs(emu, { operation: 'detach' }),
    setup: basicInputs,
    arrange: (emu, text) =>
      fault({ method: 'DELETE', pathPattern: `/namespaces/team-a/secrets/${SECRET_NAME}$`, status: 403, body: kubeStatus(text) })(emu),
    code: 1,
  },
  {
    name: 'the username inside an existing Secret (verify)',
    inputs: (emu) => token(emu, { operation: 'verify' }),
    arrange: (emu, text) => seedSecret(emu, { username: `kube-pull-${text}`, password: 'not-the-password-1' }),
    code: 1,
  },
  {
    name: 'the registries annotation of an existing Secret (its expiresOn, verify)',
    inputs: (emu) => token(emu, { operation: 'verify' }),
    setup: token,
    arrange: (emu, text) => {
      const live = emu.state.kube.secrets['team-a'][SECRET_NAME];
      const key = 'acr-kube-auth.github.io/registries';
      const records = JSON.parse(live.metadata.annotations![key]) as Record<string, Record<string, string>>;
      records[loginServer(emu)].expiresOn = `2999-01-01T00:00:00Z ${text}`;
      live.metadata.annotations![key] = json(records);
    },
    code: 0,
  },
  {
    name: "the registry token service's error text (verify)",
    inputs: (emu) => token(emu, { operation: 'verify' }),
    setup: token,
    arrange: (emu, text) =>
      fault({ pathPattern: '\\.azurecr\\.localhost/oauth2/token$', status: 401, body: json({ errors: [{ code: 'UNAUTHORIZED', message: text }] }) })(
        emu,
      ),
    code: 1,
  },
  {
    name: "the registry token service's error text (token exchange)",
    inputs: (emu) => azureInputs(emu, { registry: 'contosoacr', namespaces: 'team-a', 'credential-type': 'exchange' }),
    arrange: (emu, text) =>
      fault({
        method: 'POST',
        pathPattern: '\\.azurecr\\.localhost/oauth2/exchange$',
        status: 400,
        body: json({ errors: [{ code: 'DENIED', message: text }] }),
      })(emu),
    code: 1,
  },
  {
    name: 'an ARM error (code and message)',
    inputs: (emu) => token(emu, { 'registry-resource-group': 'rg-acr' }),
    arrange: (emu, text) =>
      fault({
        method: 'GET',
        pathPattern: '/registries/contosoacr$',
        status: 403,
        body: json({ error: { code: `AuthorizationFailed ${text}`, message: text } }),
      })(emu),
    code: 1,
  },
  {
    name: 'a Microsoft Graph error',
    inputs: (emu) =>
      azureInputs(emu, {
        registry: 'contosoacr',
        namespaces: 'team-a',
        'credential-type': 'service-principal',
        'service-principal-client-id': CLUSTER_SP_APP_ID,
        'service-principal-secret': CLUSTER_SP_SECRET,
      }),
    arrange: (emu, text) =>
      fault({
        method: 'GET',
        pathPattern: '/graph/v1\\.0/servicePrincipals',
        status: 403,
        body: json({ error: { code: 'Authorization_RequestDenied', message: text, innerError: { 'request-id': text } } }),
      })(emu),
    code: 1,
  },
  {
    name: 'an Entra error description',
    inputs: token,
    arrange: (emu, text) =>
      fault({
        method: 'POST',
        pathPattern: '/oauth2/v2\\.0/token$',
        status: 401,
        body: json({ error: 'invalid_client', error_description: `AADSTS53003: ${text}`, error_codes: [53003] }),
      })(emu),
    code: 1,
  },
];

// ------------------------------------------------------------------------------ the runner's reading

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const SINGLE_LINE_OUTPUTS_EXCEPT = new Set(['manifest', 'role-assignment-ids']);

/** Everything wrong with one run's output; empty when the string stayed data. */
function problemsOf(r: RunResult, expectedCode: number): string[] {
  const problems: string[] = [];
  if (r.code !== expectedCode) problems.push(`exit code ${r.code}, expected ${expectedCode}`);
  if (expectedCode === 1 && r.errors.length !== 1) problems.push(`${r.errors.length} ::error:: lines`);
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    if (/[\u001b\u009b]/.test(text)) problems.push(`an ANSI escape reached ${stream}`);
    if (text.includes('\r')) problems.push(`a carriage return reached ${stream}`);
    if (CONTROL.test(text.replace(/[\r\u001b\u009b]/g, ''))) problems.push(`a control character reached ${stream}`);
    for (const line of runnerLines(text)) {
      const c = runnerCommand(line);
      if (!c) continue;
      if (!OURS.has(c.name) || stream === 'stderr') problems.push(`${stream}: the runner would run ${c.name}: ${line.slice(0, 120)}`);
      else if (/^\s*PWN-/.test(c.data)) problems.push(`${stream}: a forged ${c.name} line: ${line.slice(0, 120)}`);
    }
  }
  // groups open and close in turn, never nested (a forged ::endgroup:: would show here)
  let open = 0;
  for (const c of runnerLines(r.stdout).map(runnerCommand)) {
    if (c?.name === 'group' && open++) problems.push('a group opened inside a group');
    if (c?.name === 'endgroup' && --open < 0) problems.push('an endgroup without its group');
  }
  if (open > 0) problems.push('a group left open');
  const rows = r.summary.split('\n').filter((l) => l.startsWith('|'));
  if (rows.length) {
    const want = tableSeparators(rows[0]);
    for (const row of rows)
      if (tableSeparators(row) !== want) problems.push(`a summary row has ${tableSeparators(row)} separators, not ${want}: ${row.slice(0, 120)}`);
  }
  if (/[\u001b\u009b]/.test(r.summary) || CONTROL.test(r.summary.replace(/\n/g, '')))
    problems.push('a control character or ANSI escape reached the summary');
  // the only HTML: line breaks, the folds of our own making (a <summary> of text, no tag inside), and
  // `<https://…>`, the autolink src/log.ts makes of a link of our own (the workflow run's page)
  if (/<(?!br>|https:\/\/[^\s<>]+>)/i.test(r.summary.replace(/^<details><summary>[^<>]*<\/summary>$|^<\/details>$/gm, '')))
    problems.push('raw HTML reached the summary');
  if (/(?<!\\)`/.test(r.summary)) problems.push('an unescaped backtick reached the summary');
  if (/(?<!\\)\[PWN/.test(r.summary)) problems.push('a Markdown link reached the summary');
  if (/@octocat|#1\b/.test(r.summary)) problems.push('an @mention or #issue reference reached the summary');
  for (const [name, value] of Object.entries(r.outputs)) {
    if (/[\u001b\u009b\r]/.test(value) || CONTROL.test(value)) problems.push(`output ${name} holds a control character`);
    if (!SINGLE_LINE_OUTPUTS_EXCEPT.has(name) && value.includes('\n')) problems.push(`output ${name} spans lines`);
  }
  if (r.outputs.results) {
    try {
      JSON.parse(r.outputs.results);
    } catch {
      problems.push('output results is not JSON');
    }
  }
  if (!/PWN/.test(r.stdout + r.summary + JSON.stringify(r.outputs))) problems.push('the string never reached the log, the summary or an output');
  return problems;
}

// ------------------------------------------------------------------------------ the run

const CASES = SOURCES.flatMap((source) => Object.entries(PAYLOADS).map(([kind, text]) => ({ source, kind, text })));

test(`hostile strings from ${SOURCES.length} server-text sources stay data: no forged command, no ANSI, no split summary row`, async (t) => {
  const outcomes = await mapLimit(CASES, 6, async ({ source, kind, text }) => {
    const emu = await startEmulator({ quiet: true });
    try {
      if (source.setup) assert.equal((await runAction(emu, source.setup(emu))).code, 0, 'setup run');
      const first = emu.requests.length;
      source.arrange(emu, text);
      const r = await runAction(emu, source.inputs(emu), { env: { RUNNER_DEBUG: '1' } });
      const problems = problemsOf(r, source.code);
      const served = emu.requests.slice(first).some((q) => q.fault?.startsWith('body:'));
      if (!served && !/Secret/.test(source.name)) problems.push('the hostile answer was never served');
      return { name: `${source.name} × ${kind}`, ok: problems.length === 0, problems, error: r.errors[0] ?? '' };
    } finally {
      await emu.close();
    }
  });
  const results = outcomes.map((o, i) =>
    o.status === 'fulfilled' ? o.value : { name: `${CASES[i].source.name} × ${CASES[i].kind}`, ok: false, problems: [String(o.reason)], error: '' },
  );
  for (const r of results) t.diagnostic(`${r.ok ? 'ok' : 'FAILED'} ${r.name}${r.ok ? '' : `: ${r.problems.join('; ')}`}`);
  const ok = results.filter((r) => r.ok).length;
  recordFigure('hostile strings', {
    text: `${ok} of ${results.length} neutralised (${SOURCES.length} server-text sources × ${Object.keys(PAYLOADS).length} strings: no forged workflow command, no ANSI escape, no split summary row, clean outputs)`,
  });
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.problems.join('; ')}`),
    [],
  );
});
