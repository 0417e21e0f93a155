// A 52-cluster mixed fleet (issue #16 item 5) through the bundle: each cluster's line is printed
// as it finishes (its details in a ::group::), in the order they finish, and a progress line
// follows on a run longer than the interval; the job summary puts counts and failures first, is
// right for a fleet that mixes managed-identity and service-principal clusters, and keeps whole
// errors out of its table cells. The order is checked against completion, not against timings:
// the emulator's latency fault makes the first cluster in input order the last to finish, and the
// lines are read as they arrive and set against the emulator's request log (same clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addFleet, fleetPrincipalId } from '../../emulator/fixtures.ts';
import { SUB_1 } from '../../emulator/ids.ts';
import { azureInputs, runAction } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { ACR_PULL, assignmentName } from '../../src/roles.ts';
import { CELL_MAX, NOTE_MAX } from '../../src/log.ts';

const emu = useEmulator();
const REG = `/subscriptions/${SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/contosoacr`;

/** Copies of the seed's service-principal cluster rg-aks/aks-sp (they share its app). */
function addSpClusters(n: number): string[] {
  const template = Object.values(emu.state.resources).find((r) => /\/managedClusters\/aks-sp$/i.test(String(r.id)))!;
  return Array.from({ length: n }, (_, i) => {
    const name = `sp-${String(i + 1).padStart(2, '0')}`;
    const c = structuredClone(template);
    c.id = String(template.id).replace(/aks-sp$/, name);
    c.name = name;
    emu.state.resources[String(c.id).toLowerCase()] = c;
    return name;
  });
}

const TARGET = /^(?:::group::)?([✓✗]) (\S+)(?: \(([\w-]+)\))?: /;
const PROGRESS = /^(\d+) of 52 clusters done, (\d+) failed$/;

test('a 52-cluster mixed fleet: lines as clusters finish, progress lines, and a summary with counts and failures first', async () => {
  const mi = addFleet(emu.state, 41).names; // fleet-01 .. fleet-41
  const sp = addSpClusters(9);
  // mixed input order: every fifth line a service-principal cluster, two missing clusters in the middle
  const names: string[] = [];
  mi.forEach((n, i) => {
    names.push(n);
    if (i % 5 === 4 && sp.length) names.push(sp.shift()!);
    if (i === 20) names.push('missing-1', 'missing-2');
  });
  names.push(...sp);
  assert.equal(names.length, 52);
  const lines = names.map((n) => `rg-aks/${n}`);
  const failing = ['rg-aks/fleet-07', 'rg-aks/missing-1', 'rg-aks/missing-2'];
  // every cluster read takes a little; the first in input order takes much longer; one is refused
  emu.addFault({ method: 'GET', pathPattern: 'managedClusters/fleet-01$', kind: 'latency', ms: 2500 });
  emu.addFault({ method: 'GET', pathPattern: 'managedClusters/', kind: 'latency', ms: 30 });
  emu.addFault({ method: 'GET', pathPattern: 'managedClusters/fleet-07$', kind: 'armError', status: 403, code: 'AuthorizationFailed' });

  const arrived: { line: string; at: number }[] = [];
  const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', clusters: lines.join('\n'), 'max-parallel': '4' }), {
    env: { ACR_KUBE_AUTH_PROGRESS_INTERVAL_MS: '200' },
    onLine: (line) => arrived.push({ line, at: Date.now() }),
  });
  assert.equal(r.code, 1);

  // ---- the log: one line per cluster, in the order they finished
  const out = r.stdout.split('\n');
  const targets = out.flatMap((l, i) => {
    const m = TARGET.exec(l);
    return m ? [{ i, ok: m[1] === '✓', target: m[2], method: m[3] }] : [];
  });
  assert.deepEqual(targets.map((t) => t.target).sort(), [...lines].sort(), 'each cluster once');
  assert.deepEqual(
    targets
      .filter((t) => !t.ok)
      .map((t) => t.target)
      .sort(),
    [...failing].sort(),
  );
  assert.equal(targets.at(-1)!.target, 'rg-aks/fleet-01', 'the slowest cluster, first in input order, is printed last');
  assert.notDeepEqual(
    targets.map((t) => t.target),
    lines,
    'completion order, not input order',
  );
  for (const t of targets.filter((x) => x.ok)) assert.equal(t.method, t.target.includes('/sp-') ? 'service-principal' : 'managed-identity', t.target);
  // each line with its details folded: a group that closes before the next line
  for (const t of targets.filter((x) => out[x.i].startsWith('::group::')))
    assert.ok(out.slice(t.i + 1).findIndex((l) => l === '::endgroup::') >= 0, t.target);

  // ---- progress lines: each counts the lines before it; some come before the end, the last closes the run
  const progress = out.flatMap((l, i) => {
    const m = PROGRESS.exec(l);
    return m ? [{ i, done: Number(m[1]), failed: Number(m[2]) }] : [];
  });
  for (const p of progress) {
    const before = targets.filter((t) => t.i < p.i);
    assert.deepEqual([p.done, p.failed], [before.length, before.filter((t) => !t.ok).length], out[p.i]);
  }
  const lastTarget = targets.at(-1)!.i;
  assert.ok(
    progress.filter((p) => p.i < lastTarget).length >= 2,
    `progress lines while clusters are still running:\n${progress.map((p) => out[p.i]).join('\n')}`,
  );
  assert.equal(out[progress.at(-1)!.i], '52 of 52 clusters done, 3 failed');
  assert.ok(progress.at(-1)!.i > lastTarget);
  assert.ok(out.findIndex((l) => l.startsWith('::error::')) > progress.at(-1)!.i, 'the failure comes last');
  assert.match(r.errors[0], /^::error::3 of 52 clusters failed: /);

  // ---- against completion: a cluster's line arrives after the emulator got its last request, and
  // all but the slow one's arrive before the slow cluster's role assignment is even asked for
  const firstRequest = (re: RegExp) => emu.requests.find((q) => re.test(q.path));
  const lastRequestOf = (target: string) => {
    const name = target.split('/')[1];
    const i = mi.indexOf(name);
    const path =
      i >= 0 ? new RegExp(`roleAssignments/${assignmentName(REG, ACR_PULL, fleetPrincipalId(i + 1))}$`) : new RegExp(`managedClusters/${name}$`);
    return emu.requests.filter((q) => path.test(q.path)).at(-1);
  };
  const arrival = (target: string) => arrived.find((a) => TARGET.exec(a.line)?.[2] === target)!.at;
  for (const t of targets) {
    const q = lastRequestOf(t.target);
    if (q) assert.ok(arrival(t.target) >= Date.parse(q.time), `${t.target}: its line came after its last request`);
  }
  const slowPut = firstRequest(new RegExp(`roleAssignments/${assignmentName(REG, ACR_PULL, fleetPrincipalId(1))}$`));
  assert.ok(slowPut, "the slow cluster's role assignment was made");
  const early = arrived.filter((a) => a.at < Date.parse(slowPut.time));
  assert.ok(early.filter((a) => TARGET.test(a.line)).length >= 40, `lines printed before the slow cluster's PUT: ${early.length}`);
  assert.ok(
    early.some((a) => PROGRESS.test(a.line)),
    'and a progress line',
  );

  // ---- the job summary: counts first, failures first, per-cluster methods, short cells, whole errors folded
  const md = r.summary.split('\n');
  assert.match(md[0], /^### acr-kube-auth: attach · managed-identity and service-principal · contosoacr\./);
  const firstTable = md.findIndex((l) => l.startsWith('|'));
  const lead = md.slice(1, firstTable).filter(Boolean);
  assert.match(lead[0], /^\*\*52 clusters\*\*: 3 failed, 49 succeeded \(\d+ changed\)$/);
  assert.equal(lead[1], '**methods**: managed-identity: 40, service-principal: 9');
  assert.equal(md[firstTable], '| cluster | method | principal | role | result | changed |');
  const rows = md.filter((l) => l.startsWith('| rg-aks/'));
  assert.equal(rows.length, 52);
  assert.deepEqual(
    rows
      .slice(0, 3)
      .map((l) => l.split(' | ')[0].slice(2))
      .sort(),
    [...failing].sort(),
    'failures first',
  );
  for (const row of rows.slice(3)) assert.match(row, /\| ✅ /);
  for (const row of rows) {
    const [target, method] = row.slice(2).split(' | ');
    if (!failing.includes(target)) assert.equal(method, target.includes('sp-') ? 'service-principal' : 'managed-identity', row);
    for (const cell of row.split(' | ')) assert.ok(cell.replace(/\\(.)/g, '$1').length <= CELL_MAX + 2, `a short cell: ${cell}`);
  }
  const folds = r.summary.indexOf('<details>');
  for (const bullet of r.summary
    .slice(0, folds)
    .split('\n')
    .filter((l) => l.startsWith('- ')))
    assert.ok(bullet.length <= NOTE_MAX + 40, `no long bullet: ${bullet.slice(0, 80)}…`);
  assert.doesNotMatch(r.summary, /auth-method auto:/, 'no note listing every cluster');
  const failures = r.summary.slice(r.summary.indexOf('<details><summary>3 failed clusters: the whole errors</summary>'));
  assert.ok(failures.length > 0);
  for (const f of failing) assert.match(failures, new RegExp(`^- \\*\\*${f}\\*\\*: AKS get cluster ${f} failed \\(HTTP (403|404)`, 'm'));
});
