// src/report.ts in process: each target's line as it settles and the fleet's progress lines (on a
// clock of our own), the job summary's shape for a mixed fleet and for a run that stopped early,
// the verify remedy; and the remedies in messages: nextStep (src/errors.ts), the role-assignment
// command (src/azure/rbac.ts), kubectl auth can-i (src/kube/client.ts), the token's other password.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readSettings } from '../src/inputs/index.ts';
import { failureMessage, failureSummary, progressIntervalMs, startProgress, summary, targetLine, VERIFY_REMEDY } from '../src/report.ts';
import { emptyResult, type TargetResult } from '../src/result.ts';
import { summaryMarkdown } from '../src/log.ts';
import { ApiError, nextStep } from '../src/errors.ts';
import { pullRolesCondition, refusedCaller, roleAssignmentCommand, writeHint } from '../src/azure/rbac.ts';
import { canICommand } from '../src/kube/client.ts';
import { otherPasswordNote } from '../src/scenarios/pull-secret/sources/token.ts';
import { ACR_PULL, REPOSITORY_READER } from '../src/roles.ts';
import { fakeRunner } from './helpers/fakes.ts';

/** A service-principal login, as readSettings wants one for an AKS run. */
const LOGIN = {
  'client-id': 'd0000000-0000-4000-8000-000000000001',
  'tenant-id': '11111111-1111-4111-8111-111111111111',
  'client-secret': 's',
  'subscription-id': 'aaaaaaaa-0000-4000-8000-000000000001',
};
const fleet = (n: number, extra: Record<string, string> = {}) => {
  const inputs: Record<string, string> = {
    registry: 'contosoacr',
    clusters: Array.from({ length: n }, (_, i) => `rg-aks/c${String(i).padStart(2, '0')}`).join('\n'),
    ...LOGIN,
    ...extra,
  };
  return readSettings((k) => inputs[k] ?? '');
};
const ok = (target: string, over: Partial<TargetResult> = {}): TargetResult => ({ target, ok: true, changed: true, action: 'created', ...over });
const bad = (target: string, error: string): TargetResult => ({ target, ok: false, changed: false, action: 'failed', error });

describe('as targets settle', () => {
  test('each target prints at once; a progress line once the interval has passed; the closing line only when one was printed', () => {
    const runner = fakeRunner({});
    let now = 0;
    const p = startProgress(fleet(5), runner, () => new Date(now), 1000);
    p.settled(ok('rg-aks/c03', { authMethod: 'managed-identity' }), ['rg-aks/c03: assigned AcrPull']);
    now = 400;
    p.settled(bad('rg-aks/c01', 'AKS get cluster rg-aks/c01 failed (HTTP 404)'), []);
    now = 1100; // the interval has passed: a progress line follows this one
    p.settled(ok('rg-aks/c00'), []);
    now = 1500;
    p.settled(ok('rg-aks/c04'), []);
    now = 2200;
    p.settled(ok('rg-aks/c02'), []); // the last one: the run is done, no line here
    p.finish();
    assert.deepEqual(runner.lines, [
      '✓ rg-aks/c03 (managed-identity): created',
      'rg-aks/c03: assigned AcrPull',
      '✗ rg-aks/c01: failed: AKS get cluster rg-aks/c01 failed (HTTP 404)',
      '✓ rg-aks/c00: created',
      '3 of 5 clusters done, 1 failed',
      '✓ rg-aks/c04: created',
      '✓ rg-aks/c02: created',
      '5 of 5 clusters done, 1 failed',
    ]);
    assert.equal(p.printed(ok('rg-aks/c00')), true);
    assert.equal(p.printed(ok('rg-aks/c00', { action: 'updated' })), false, 'a result that changed since is printed again by report()');
    assert.equal(p.shownLines.get('rg-aks/c03: assigned AcrPull'), 1);
  });

  test('a short run prints no progress line at all; one target never does; a target settled again counts once', () => {
    const runner = fakeRunner({});
    const p = startProgress(fleet(3), runner, () => new Date(0), 1000);
    for (const t of ['a', 'b', 'a', 'c']) p.settled(ok(`rg-aks/${t}`), []);
    p.finish();
    assert.equal(runner.lines.filter((l) => / of 3 clusters done/.test(l)).length, 0);
    const one = fakeRunner({});
    let t = 0;
    const single = startProgress(fleet(1), one, () => new Date((t += 5000)), 1000);
    single.settled(ok('rg-aks/c00'), []);
    single.finish();
    assert.deepEqual(one.lines, ['✓ rg-aks/c00: created']);
    const again = fakeRunner({});
    let clock = 0;
    const rounds = startProgress(fleet(2), again, () => new Date((clock += 2000)), 1000);
    rounds.settled(ok('rg-aks/c00'), []);
    rounds.settled(ok('rg-aks/c00'), []); // a second round of the same target
    assert.deepEqual(
      again.lines.filter((l) => / done, /.test(l)),
      ['1 of 2 clusters done, 0 failed', '1 of 2 clusters done, 0 failed'],
    );
  });

  test("a target's line cuts a long error; the whole error folds under it", () => {
    const runner = fakeRunner({});
    const long = `Azure RBAC assign AcrPull failed (HTTP 403 AuthorizationFailed): ${'x'.repeat(400)} az role assignment create --role "Role Based Access Control Administrator"`;
    startProgress(fleet(2), runner, () => new Date(0), 1000).settled(bad('rg-aks/c00', long), []);
    assert.ok(runner.lines[0].length < 260 && runner.lines[0].endsWith('…'), runner.lines[0]);
    assert.equal(runner.lines[1], `error: ${long}`);
    assert.equal(targetLine(bad('t', 'short')), '✗ t: failed: short');
  });

  test('the interval knob: whole milliseconds up to 10 minutes, else 3 s', () => {
    assert.equal(progressIntervalMs({}), 3000);
    assert.equal(progressIntervalMs({ ACR_KUBE_AUTH_PROGRESS_INTERVAL_MS: '250' }), 250);
    assert.equal(progressIntervalMs({ ACR_KUBE_AUTH_PROGRESS_INTERVAL_MS: '99999999' }), 3000);
    assert.equal(progressIntervalMs({ ACR_KUBE_AUTH_PROGRESS_INTERVAL_MS: '9999999' }), 600_000);
    assert.equal(progressIntervalMs({ ACR_KUBE_AUTH_PROGRESS_INTERVAL_MS: '-1' }), 3000);
  });
});

describe('the job summary', () => {
  test('a mixed fleet: counts and methods first, failures first with short cells, whole errors folded, no note listing clusters', () => {
    const settings = fleet(6);
    const result = emptyResult('managed-identity', 'contosoacr.azurecr.io');
    const long = `AKS get cluster rg-aks/c04 failed (HTTP 404 ResourceNotFound): ${'not found '.repeat(60)}Check cluster-name.`;
    result.results = [
      ok('rg-aks/c00', { authMethod: 'managed-identity', principalId: 'p0', role: 'AcrPull' }),
      ok('rg-aks/c01', { authMethod: 'service-principal', principalId: 'p1', role: 'AcrPull', changed: false, action: 'unchanged' }),
      ok('rg-aks/c02', { authMethod: 'managed-identity', principalId: 'p2', role: 'AcrPull' }),
      ok('rg-aks/c03', { authMethod: 'service-principal', principalId: 'p1', role: 'AcrPull', details: ['service principal p1 of app a1'] }),
      bad('rg-aks/c04', long),
      bad('rg-aks/c05', 'Azure RBAC assign AcrPull failed (HTTP 403)'),
    ];
    result.summaryNotes = ['role AcrPull: the registry uses Azure RBAC'];
    const doc = summary(result, settings);
    assert.equal(doc.title, 'acr-kube-auth: attach · managed-identity and service-principal · contosoacr.azurecr.io');
    assert.deepEqual(doc.lead, [
      { label: '6 clusters', text: '2 failed, 4 succeeded (3 changed)' },
      { label: 'methods', text: 'managed-identity: 2, service-principal: 2' },
    ]);
    assert.deepEqual(
      doc.table!.rows.map((r) => r[0]),
      ['rg-aks/c04', 'rg-aks/c05', 'rg-aks/c00', 'rg-aks/c01', 'rg-aks/c02', 'rg-aks/c03'],
    );
    assert.deepEqual(doc.table!.rows[2].slice(0, 4), ['rg-aks/c00', 'managed-identity', 'p0', 'AcrPull']);
    assert.ok(doc.table!.rows[0][4].length < 100 && doc.table!.rows[0][4].endsWith('…'), doc.table!.rows[0][4]);
    assert.deepEqual(doc.folds![0], {
      summary: '2 failed clusters: the whole errors',
      items: [
        { label: 'rg-aks/c04', text: long },
        { label: 'rg-aks/c05', text: 'Azure RBAC assign AcrPull failed (HTTP 403)' },
      ],
    });
    assert.deepEqual(doc.folds![1], { summary: 'Details per cluster', items: [{ label: 'rg-aks/c03', text: 'service principal p1 of app a1' }] });
    const md = summaryMarkdown(doc);
    const firstRow = md.split('\n').findIndex((l) => l.startsWith('|'));
    assert.ok(md.indexOf('**6 clusters**') < md.indexOf('| cluster |') && firstRow > 2, 'counts before the table');
    assert.ok(md.indexOf('<details>') > md.indexOf('- **changed**'), 'folds after the facts');
  });

  test('one target: no counts; a single method keeps its name; pull-secret names its credential type', () => {
    const r = emptyResult('managed-identity', 'contosoacr.azurecr.io');
    r.results = [ok('rg-aks/c00', { authMethod: 'managed-identity' })];
    const doc = summary(r, fleet(1));
    assert.deepEqual(doc.lead, []);
    assert.match(doc.title!, / · managed-identity · /);
    const ps = emptyResult('pull-secret', 'contosoacr.azurecr.io');
    ps.credentialType = 'token';
    ps.results = [ok('team-a')];
    const inputs: Record<string, string> = {
      registry: 'contosoacr.azurecr.io',
      'credential-type': 'basic',
      username: 'u',
      password: 'p',
      namespaces: 'team-a',
    };
    assert.match(
      summary(
        ps,
        readSettings((k) => inputs[k] ?? ''),
      ).title!,
      / · pull-secret \(token\) · /,
    );
  });

  test('a run that stopped early: one line, with the operation when the settings were read', () => {
    assert.deepEqual(failureSummary("Input 'registry': x"), { lead: [{ label: '❌ acr-kube-auth failed', text: "Input 'registry': x" }] });
    assert.equal(
      summaryMarkdown(failureSummary('No registry', fleet(1, { operation: 'detach', 'dry-run': 'true' }))),
      '**❌ acr-kube-auth detach (dry run) failed**: No registry\n',
    );
  });
});

describe('the failure line', () => {
  test('a verify that found something missing says to run attach; a verify whose check call failed says its own remedy only', () => {
    const settings = fleet(2, { operation: 'verify' });
    const r = emptyResult('managed-identity', 'x');
    r.results = [ok('rg-aks/c00'), { target: 'rg-aks/c01', ok: false, changed: false, action: 'verify failed', error: 'AcrPull is not assigned' }];
    assert.equal(failureMessage(r, settings), `1 of 2 clusters failed verification: rg-aks/c01: AcrPull is not assigned. ${VERIFY_REMEDY}`);
    r.results[1] = bad(
      'rg-aks/c01',
      'AKS get cluster rg-aks/c01 failed (HTTP 503): busy. AKS is throttling or failing: run the step again in a few minutes.',
    );
    assert.doesNotMatch(failureMessage(r, settings)!, /operation: attach/);
    assert.doesNotMatch(failureMessage(r, fleet(2))!, /operation: attach/, 'attach never says it');
  });
});

describe('remedies in messages', () => {
  test('nextStep: by how the request failed, else by status; a hint given wins', () => {
    const s = (o: Parameters<typeof nextStep>[0]) => nextStep(o) ?? '';
    assert.match(s({ service: 'ARM', transport: 'timeout' }), /^Check that the runner can reach ARM \(network, DNS, firewall, proxy\)/);
    assert.match(s({ service: 'ARM', transport: 'unreachable' }), /can reach ARM/);
    assert.equal(
      s({ service: 'Kubernetes', transport: 'redirect', status: 302 }),
      "Point the step at Kubernetes itself (check the kubeconfig's server), not at an address or a proxy that redirects.",
    );
    assert.match(
      s({ service: 'ARM', status: 307 }),
      /check the environment input, where a custom cloud names its endpoints\), not at an address or a proxy that redirects/,
    );
    assert.match(s({ service: 'registry', transport: 'too-large' }), /check the registry input\), then run the step again/);
    assert.match(s({ service: 'ACR', transport: 'too-large' }), /Something other than ACR may be answering/);
    assert.match(s({ service: 'ACR', code: 'InvalidResponse', status: 200 }), /Something other than ACR may be answering/);
    assert.match(s({ service: 'ARM', transport: 'foreign-origin' }), /environment input/);
    assert.match(s({ service: 'ARM', transport: 'plain-http' }), /https:\/\//);
    assert.match(s({ service: 'Microsoft Graph', status: 503 }), /throttling or failing: run the step again in a few minutes/);
    assert.match(s({ service: 'Microsoft Graph', status: 429 }), /throttling/);
    assert.match(s({ service: 'ARM', status: 401 }), /credentials were refused/);
    assert.match(s({ service: 'ARM', status: 403 }), /Least-privilege permissions/);
    assert.match(s({ service: 'ARM', status: 404 }), /exists/);
    assert.match(s({ service: 'ARM', status: 409 }), /run the step again/);
    assert.match(s({ service: 'ARM', status: 400 }), /what ARM refused/);
    assert.match(
      s({ service: 'GitHub OIDC', status: 200 }),
      /Something other than GitHub OIDC may be answering/,
      'a 2xx that failed: the wrong shape',
    );
    assert.equal(nextStep({ service: 'ARM' }), undefined);
    const e = new ApiError({ service: 'AKS', operation: 'get cluster a/b', status: 404, message: 'not found', hint: 'Check cluster-name.' });
    assert.equal(e.message, 'AKS get cluster a/b failed (HTTP 404): not found. Check cluster-name.');
    assert.equal(
      new ApiError({ service: 'ARM', operation: 'x', status: 503, message: 'busy.' }).message,
      'ARM x failed (HTTP 503): busy. ARM is throttling or failing: run the step again in a few minutes.',
    );
  });

  test('a 403 on role assignments: the constrained Role Based Access Control Administrator, as a command filled in from the refusal', () => {
    const scope = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r';
    const message = `The client 'd0000000-0000-4000-8000-000000000001' with object id 'D1000000-0000-4000-8000-000000000001' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write' over scope '${scope}/providers/Microsoft.Authorization/roleAssignments/x' or the scope is invalid.`;
    const caller = refusedCaller(message);
    assert.deepEqual(caller, { objectId: 'd1000000-0000-4000-8000-000000000001', type: 'ServicePrincipal' });
    assert.deepEqual(refusedCaller(message.replace("'d0000000-0000-4000-8000-000000000001'", "'alice@contoso.com'"))?.type, 'User');
    const custom = 'c0ffee00-0000-4000-8000-000000000001';
    const hint = writeHint(scope, 'create', custom)({ status: 403, code: 'AuthorizationFailed', message })!;
    assert.ok(
      hint.includes(
        `az role assignment create --assignee-object-id ${caller!.objectId} --assignee-principal-type ServicePrincipal --role "Role Based Access Control Administrator" --scope "${scope}" --condition-version 2.0 --condition "${pullRolesCondition([ACR_PULL, REPOSITORY_READER, custom])}"`,
      ),
      hint,
    );
    assert.match(hint, /constrained to assigning AcrPull and Container Registry Repository Reader and c0ffee00/);
    assert.ok(hint.indexOf('Role Based Access Control Administrator') < hint.indexOf('Owner'));
    const read = writeHint(scope, 'read')({ status: 403, message })!;
    assert.match(
      read,
      /Give it Reader there .*: az role assignment create --assignee-object-id d1000000-\S+ --assignee-principal-type ServicePrincipal --role "Reader" --scope "\/subscriptions\/s\//,
    );
    assert.match(
      roleAssignmentCommand(undefined, scope, 'Reader'),
      /^az role assignment create --assignee "<the client id this step signs in with>" --role "Reader"/,
    );
    assert.equal(writeHint(scope, 'create')({ status: 400, code: 'Other' }), undefined);
    assert.equal(
      pullRolesCondition([ACR_PULL.toUpperCase(), ACR_PULL]),
      `((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${ACR_PULL}})) AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${ACR_PULL}}))`,
    );
  });

  test('kubectl auth can-i for each Kubernetes operation the action makes', () => {
    const cases: [string, string | undefined][] = [
      ['get secret team-a/acr-x', 'kubectl --context c auth can-i get secrets/acr-x -n team-a'],
      ['apply secret team-a/acr-x', 'kubectl --context c auth can-i patch secrets/acr-x -n team-a'],
      ['create secret team-a/acr-x', 'kubectl --context c auth can-i create secrets -n team-a'],
      ['delete secret team-a/acr-x', 'kubectl --context c auth can-i delete secrets/acr-x -n team-a'],
      ['patch serviceaccount team-a/default', 'kubectl --context c auth can-i patch serviceaccounts/default -n team-a'],
      ['get serviceaccount team-a/default', 'kubectl --context c auth can-i get serviceaccounts/default -n team-a'],
      ['get namespace team-a', 'kubectl --context c auth can-i get namespaces/team-a'],
      ['create namespace team-a', 'kubectl --context c auth can-i create namespaces'],
      ['list namespaces', 'kubectl --context c auth can-i list namespaces'],
      ['something else', undefined],
    ];
    for (const [op, want] of cases) assert.equal(canICommand(op, 'c'), want, op);
  });

  test("the token's other password, as it is", () => {
    const now = new Date('2025-06-01T00:00:00Z');
    const token = (passwords: { name: 'password1' | 'password2'; expiry?: string }[]) => ({ id: 'i', name: 't', passwords });
    assert.equal(otherPasswordNote('password1', undefined, undefined, now), "the token is new: it is the token's only password");
    assert.equal(otherPasswordNote('password1', token([]), undefined, now), "it is the token's only password (password2 is unused)");
    assert.equal(
      otherPasswordNote('password2', token([{ name: 'password1', expiry: '2025-09-01T00:00:00Z' }]), 'password1', now),
      'password1, which the secret held until now, stays valid until 2025-09-01T00:00:00Z for nodes that still use it',
    );
    assert.equal(
      otherPasswordNote('password2', token([{ name: 'password1', expiry: '2025-05-01T00:00:00Z' }]), 'password1', now),
      'password1, which the secret held until now, expired on 2025-05-01T00:00:00Z',
    );
    assert.equal(
      otherPasswordNote('password1', token([{ name: 'password2', expiry: '2025-09-01T00:00:00Z' }]), undefined, now),
      'password2 is left as it is (it is valid until 2025-09-01T00:00:00Z)',
    );
    assert.equal(otherPasswordNote('password1', token([{ name: 'password2' }]), undefined, now), 'password2 is left as it is (it does not expire)');
  });
});
