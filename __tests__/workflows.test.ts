// The ecosystem files are checked like code:
// - every workflow in .github/workflows/ and examples/, and every workflow in README's Usage section,
//   parses and validates with GitHub's own workflow parser (@actions/workflow-parser), reusable-workflow
//   calls included (their `with:` against the called workflow's inputs);
// - every job is complete: azure/login before azure/aks-set-context, azure/use-kubelogin before a
//   kubelogin conversion, kubectl set up before azure/k8s-deploy; every action is pinned as README's
//   "Action versions" table says (each pin's node24 runtime was read from its repository's tag);
// - action.yml validates against the published action-metadata JSON schema (SchemaStore's
//   github-action.json, as @action-validator/core embeds it) and GitHub's own action parser;
// - every step that runs this action passes only inputs action.yml declares, and all required ones;
// - the reusable matrix workflow's own scripts (clusters -> matrix, which action ref, results merge)
//   behave, every job honours runs-on, and the action runs at the ref resolved;
// - the release workflow's scripts (CHANGELOG section, moving the major tag) do what they say;
// - `npm run local-action` with .env.example runs the action against the emulator.
// Broken inputs are fed to each checker too, so none of them can pass by accident.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { validateAction, type ValidationError } from '@action-validator/core';
import { dump, load } from 'js-yaml';
import { ROOT, parseOutputs } from './helpers/harness.ts';
import { startEmulator } from '../emulator/server.ts';
import type { Emulator } from '../emulator/server.ts';

// @actions/workflow-parser imports its JSON schemas without `with { type: 'json' }` (it is written for
// bundlers); Node needs the attribute, so add it for that package's .json files only.
registerHooks({
  load(url, context, nextLoad) {
    if (/\/@actions\/workflow-parser\/dist\/[^?#]+\.json$/.test(url)) {
      return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } });
    }
    return nextLoad(url, context);
  },
});
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import('@actions/workflow-parser');
const { parseAction, convertActionTemplate } = await import('@actions/workflow-parser/actions/index');

const THIS_REPO = 'acr-kube-auth/acr-kube-auth';
/** `uses:` values that run this action: the checkout itself, or the published action at any ref */
const THIS_ACTION = /^(?:\.\/?|\.\/\.acr-kube-auth\/action|acr-kube-auth\/acr-kube-auth@[\w./-]+)$/;
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');

// ------------------------------------------------------------------------------------- helpers

/** Workflow files under a folder (relative paths). */
function workflowFiles(dir: string): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${dir}/${f}`);
}

/** Resolves `uses:` of reusable workflows: local paths, and this repository's published ones, from the working tree. */
const fileProvider = {
  async getFileContent(ref: { path: string; owner?: string; repository?: string; version?: string }) {
    if (ref.owner !== undefined && `${ref.owner}/${ref.repository}` !== THIS_REPO) {
      throw new Error(`not available offline: ${ref.owner}/${ref.repository}/${ref.path}@${ref.version}`);
    }
    return { name: ref.path, content: readFileSync(join(ROOT, ref.path), 'utf8') };
  },
};

/** Every error GitHub's workflow parser reports: syntax, schema, expressions, and reusable-workflow calls. */
async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  if (parsed.value !== undefined) {
    await convertWorkflowTemplate(parsed.context, parsed.value, fileProvider, { fetchReusableWorkflowDepth: 1 });
  }
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value === undefined && !errors.length) errors.push(`${name}: no workflow`);
  return errors;
}

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  run?: string;
  shell?: string;
}
interface Job {
  uses?: string;
  with?: Record<string, unknown>;
  steps?: Step[];
  permissions?: Record<string, string> | string;
  outputs?: Record<string, string>;
}
interface Workflow {
  on?: Record<string, any>;
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}

function steps(wf: Workflow): Array<{ job: string; index: number; step: Step }> {
  return Object.entries(wf.jobs ?? {}).flatMap(([job, j]) => (j.steps ?? []).map((step, index) => ({ job, index, step })));
}

/** The steps that run this action. */
function actionSteps(wf: Workflow): Array<{ job: string; index: number; step: Step }> {
  return steps(wf).filter(({ step }) => typeof step.uses === 'string' && THIS_ACTION.test(step.uses.trim()));
}

interface ActionMeta {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}
const actionMeta = load(read('action.yml')) as ActionMeta;

/** Problems with the inputs a workflow passes to this action: undeclared ones, missing required ones. */
function inputProblems(wf: Workflow, meta: ActionMeta): string[] {
  const declared = new Set(Object.keys(meta.inputs));
  const required = Object.entries(meta.inputs)
    .filter(([, v]) => v.required && v.default === undefined)
    .map(([k]) => k);
  const problems: string[] = [];
  for (const { job, index, step } of actionSteps(wf)) {
    const where = `jobs.${job}.steps[${index}]${step.id ? ` (${step.id})` : ''}`;
    const given = Object.keys(step.with ?? {});
    for (const k of given) if (!declared.has(k)) problems.push(`${where}: input '${k}' is not declared in action.yml`);
    for (const k of required) if (!given.includes(k)) problems.push(`${where}: required input '${k}' is missing`);
  }
  return problems;
}

function parseYaml(rel: string): Workflow {
  return load(read(rel)) as Workflow;
}

/**
 * Runs one `shell: node {0}` step's script the way the runner does: the script in a file, node on
 * it, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files (asynchronously: a test may serve it from here).
 */
async function runNodeStep(
  script: string,
  env: Record<string, string>,
  cwd?: string,
): Promise<{ code: number; stdout: string; outputs: Record<string, string>; summary: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'acr-wf-step-'));
  try {
    const file = join(dir, 'step.js');
    const out = join(dir, 'output');
    const summary = join(dir, 'summary');
    writeFileSync(file, script);
    writeFileSync(out, '');
    writeFileSync(summary, '');
    const child = spawn(process.execPath, [file], {
      cwd,
      env: { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: out, GITHUB_STEP_SUMMARY: summary, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stdout += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    clearTimeout(timer);
    return { code, stdout, outputs: parseOutputs(readFileSync(out, 'utf8')), summary: readFileSync(summary, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function stepScript(rel: string, job: string, id: string): string {
  const step = (parseYaml(rel).jobs[job]?.steps ?? []).find((s) => s.id === id);
  assert.ok(step?.run, `${rel}: jobs.${job} has no step '${id}' with a run script`);
  assert.equal(step.shell, 'node {0}', `${rel}: jobs.${job}.${id} runs with node`);
  return step.run;
}

// ------------------------------------------------------------------------------------- the files

const WORKFLOWS = workflowFiles('.github/workflows');
const EXAMPLES = workflowFiles('examples');
const ALL = [...WORKFLOWS, ...EXAMPLES];
const MATRIX = '.github/workflows/attach-matrix.yml';
const RELEASE = '.github/workflows/release.yml';

/** README's Usage section: every ```yaml block, each a complete workflow. */
const README_WORKFLOWS: Array<{ name: string; content: string }> = (() => {
  const readme = read('README.md');
  const usage = readme.slice(readme.indexOf('\n## Usage\n'), readme.indexOf('\n### Example workflows\n'));
  const titles = [...usage.matchAll(/^### (.+)$/gm)];
  return [...usage.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => {
    const title = titles.filter((t) => t.index! < m.index!).pop()?.[1] ?? 'Usage';
    return { name: `README.md: ${title}`, content: m[1] };
  });
})();
/** Every workflow the project ships or shows: files, then README's. */
const SOURCES = [...ALL.map((rel) => ({ name: rel, content: read(rel) })), ...README_WORKFLOWS];

test('the workflows and one example per scenario exist', () => {
  for (const f of ['.github/workflows/ci.yml', MATRIX, RELEASE]) assert.ok(WORKFLOWS.includes(f), `${f} is missing`);
  assert.ok(README_WORKFLOWS.length >= 7, `README's Usage shows ${README_WORKFLOWS.length} workflows`);
  for (const f of [
    'aks-managed-identity-oidc.yml',
    'aks-managed-identity-client-secret.yml',
    'aks-service-principal-cross-tenant.yml',
    'pull-secret-token.yml',
    'pull-secret-render-gitops.yml',
    'matrix-reusable.yml',
  ]) {
    assert.ok(EXAMPLES.includes(`examples/${f}`), `examples/${f} is missing`);
  }
});

describe("GitHub's workflow parser accepts every workflow, example and README workflow", () => {
  for (const { name, content } of SOURCES) {
    test(name, async () => {
      assert.deepEqual(await workflowErrors(name, content), []);
    });
  }
});

describe("GitHub's workflow parser rejects broken workflows (the check above can fail)", () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an unknown job key', 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: echo hi\n', /Unexpected value 'stepz'/],
    ['a YAML error', 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "a: b"\n        name: x: y\n', /mapping/i],
    [
      'an unknown context in an expression',
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secretz.X }}\n',
      /secretz/,
    ],
    [
      'a job that needs a missing job',
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n  b:\n    needs: nope\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n',
      /nope/,
    ],
    [
      'an undeclared input to the reusable workflow',
      `on: push\njobs:\n  a:\n    uses: ${THIS_REPO}/${MATRIX}@v1\n    with:\n      registry: r\n      clusters: rg/aks\n      regsitry-tenant-id: t\n`,
      /regsitry-tenant-id is not defined/,
    ],
    [
      'a missing required input of the reusable workflow',
      `on: push\njobs:\n  a:\n    uses: ./${MATRIX}\n    with:\n      registry: r\n`,
      /Input clusters is required/,
    ],
  ];
  for (const [what, content, expected] of cases) {
    test(what, async () => {
      const errors = await workflowErrors('broken.yml', content);
      assert.ok(errors.length > 0, `no error reported for ${what}`);
      assert.match(errors.join('\n'), expected);
    });
  }
});

// ------------------------------------------------------------------------------------- action.yml

describe('action.yml', () => {
  // @action-validator/core validates against SchemaStore's github-action.json, which it embeds. The
  // copy it embeds predates the node24 runtime, so the schema check sees `using: node20` and a
  // separate assertion pins node24; every other field is checked as written.
  const flatten = (errs: ValidationError[]): string[] =>
    errs.flatMap((e) =>
      'states' in e && e.states?.length
        ? e.states.flatMap((st) => flatten(st.errors))
        : [`${'path' in e ? e.path : ''} ${e.title}${e.detail ? `: ${e.detail}` : ''}`],
    );
  const errorsOf = (doc: Record<string, any>) => {
    const copy = structuredClone(doc);
    if (copy.runs?.using === 'node24') copy.runs.using = 'node20';
    return flatten(validateAction(dump(copy)).errors);
  };
  test('validates against the published action-metadata JSON schema (SchemaStore github-action.json)', () => {
    const doc = load(read('action.yml')) as Record<string, any>;
    assert.deepEqual(errorsOf(doc), []);
    assert.equal(doc.runs.using, 'node24');
  });

  test('the schema rejects broken metadata (the check above can fail)', () => {
    const good = load(read('action.yml')) as Record<string, any>;
    const broken: Array<[string, (d: Record<string, any>) => void]> = [
      ['an input without description', (d) => delete d.inputs.registry.description],
      ['an unknown runtime', (d) => (d.runs.using = 'node99')],
      ['an unknown top-level key', (d) => (d.input = {})],
      ['an output with a value on a node action', (d) => (d.outputs['login-server'].value = 'x')],
      ['a branding icon that is not Feather', (d) => (d.branding.icon = 'kubernetes')],
    ];
    for (const [what, mutate] of broken) {
      const d = structuredClone(good);
      mutate(d);
      assert.ok(errorsOf(d).length > 0, `the schema accepted ${what}`);
    }
  });

  test("GitHub's own action parser accepts it, and sees the same inputs and outputs", () => {
    const parsed = parseAction({ name: 'action.yml', content: read('action.yml') }, new NoOperationTraceWriter());
    assert.deepEqual(
      parsed.context.errors.getErrors().map((e) => e.message),
      [],
    );
    assert.ok(parsed.value);
    const template = convertActionTemplate(parsed.context, parsed.value);
    assert.deepEqual((template.inputs ?? []).map((i) => i.id).sort(), Object.keys(actionMeta.inputs).sort());
    assert.deepEqual((template.outputs ?? []).map((o) => o.id).sort(), Object.keys(actionMeta.outputs).sort());
    assert.equal((template.runs as { using: string }).using, 'node24');
  });

  test("GitHub's action parser rejects a broken action.yml", () => {
    const parsed = parseAction({ name: 'action.yml', content: 'name: x\ndescription: y\nrunz:\n  using: node24\n' }, new NoOperationTraceWriter());
    assert.ok(parsed.context.errors.getErrors().length > 0);
  });
});

// ------------------------------------------------------------------------------------- inputs given to this action

describe('every step that runs this action passes only inputs action.yml declares', () => {
  let total = 0;
  for (const { name, content } of SOURCES) {
    test(name, () => {
      const wf = load(content) as Workflow;
      total += actionSteps(wf).length;
      assert.deepEqual(inputProblems(wf, actionMeta), []);
    });
  }
  test('the action is used in the workflows at all (the check above is not vacuous)', () => {
    assert.ok(total >= 8, `only ${total} steps run this action`);
    assert.ok(
      actionSteps(parseYaml('.github/workflows/ci.yml')).some(({ step }) => step.uses === './'),
      'ci.yml runs `uses: ./`',
    );
  });
  test('an undeclared or missing input is reported', () => {
    const wf = load(
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - id: acr\n        uses: ./\n        with:\n          regsitry: contosoacr\n      - uses: acr-kube-auth/acr-kube-auth@v1\n        with:\n          registry: r\n          namespace: web\n',
    ) as Workflow;
    assert.deepEqual(inputProblems(wf, actionMeta), [
      "jobs.a.steps[0] (acr): input 'regsitry' is not declared in action.yml",
      "jobs.a.steps[0] (acr): required input 'registry' is missing",
      "jobs.a.steps[1]: input 'namespace' is not declared in action.yml",
    ]);
  });
});

// ------------------------------------------------------------------------------------- examples

describe('the examples', () => {
  for (const rel of EXAMPLES) {
    test(`${rel}: later steps use the action's outputs`, () => {
      const text = read(rel);
      const wf = parseYaml(rel);
      const uses = actionSteps(wf);
      if (!uses.length) {
        // the matrix example calls the reusable workflow and reads its outputs through needs
        const callers = Object.entries(wf.jobs).filter(([, j]) => j.uses?.includes('/.github/workflows/attach-matrix.yml'));
        assert.ok(callers.length, `${rel} neither runs the action nor calls the reusable workflow`);
        for (const [id] of callers) assert.match(text, new RegExp(`needs\\.${id}\\.outputs\\.`), `${rel}: nothing reads needs.${id}.outputs`);
        return;
      }
      for (const { job, step } of uses) {
        assert.ok(step.id, `${rel}: the action step in job ${job} has no id, so no later step can read its outputs`);
        const later = JSON.stringify(wf.jobs[job].steps!.slice(wf.jobs[job].steps!.indexOf(step) + 1));
        const read = [...later.matchAll(new RegExp(`steps\\.${step.id}\\.outputs\\.([\\w-]+)`, 'g'))].map((m) => m[1]);
        assert.ok(read.length, `${rel}: no step after '${step.id}' reads its outputs`);
        for (const name of read) assert.ok(name in actionMeta.outputs, `${rel}: steps.${step.id}.outputs.${name} is not an output in action.yml`);
      }
    });

    test(`${rel}: OIDC sign-in comes with id-token: write`, () => {
      const wf = parseYaml(rel);
      const oidc = actionSteps(wf).some(({ step }) => step.with?.['client-id'] && !step.with['client-secret'] && !step.with.creds);
      const callsReusable = Object.values(wf.jobs).some((j) => j.uses && j.with?.['client-id']);
      if (!oidc && !callsReusable) return;
      const grants = (p: Workflow['permissions']) => typeof p === 'object' && p['id-token'] === 'write';
      assert.ok(
        grants(wf.permissions) || Object.values(wf.jobs).every((j) => grants(j.permissions)),
        `${rel} signs in with OIDC without id-token: write`,
      );
    });
  }

  test('the pull-secret example hands secret-name to azure/k8s-deploy as imagepullsecrets', () => {
    const wf = parseYaml('examples/pull-secret-token.yml');
    const deploy = steps(wf).find(({ step }) => step.uses?.startsWith('azure/k8s-deploy@'));
    assert.equal(deploy?.step.with?.imagepullsecrets, '${{ steps.acr.outputs.secret-name }}');
  });

  test('the matrix example reads only outputs the reusable workflow declares, and matrix keys the plan makes', () => {
    const declared = Object.keys(parseYaml(MATRIX).on!.workflow_call.outputs);
    const text = read('examples/matrix-reusable.yml');
    const used = [...text.matchAll(/needs\.acr\.outputs\.([\w-]+)/g)].map((m) => m[1]);
    assert.ok(used.length >= 3);
    for (const o of used) assert.ok(declared.includes(o), `needs.acr.outputs.${o} is not an output of ${MATRIX}`);
  });

  test('the GitOps example renders only (apply: false) and passes the manifest through env, not into a script', () => {
    const rel = 'examples/pull-secret-render-gitops.yml';
    const wf = parseYaml(rel);
    assert.equal(String(actionSteps(wf)[0].step.with?.apply), 'false');
    for (const { step } of steps(wf))
      assert.doesNotMatch(
        step.run ?? '',
        /\$\{\{\s*steps\.\w+\.outputs\.(manifest|docker-config-json)/,
        `${rel}: a secret output is interpolated into a script`,
      );
  });
});

// ------------------------------------------------------------------------------------- the reusable matrix workflow

describe('the reusable matrix workflow', () => {
  const wf = parseYaml(MATRIX);
  const plan = stepScript(MATRIX, 'plan', 'plan');
  const merge = stepScript(MATRIX, 'collect', 'merge');
  const clustersOf = (r: { outputs: Record<string, string> }) =>
    JSON.parse(r.outputs.clusters) as Array<{ name: string; resourceGroup: string; subscriptionId: string; label: string; key: string }>;

  test('is callable (on: workflow_call) with a required clusters input, and fans out with strategy.matrix', () => {
    const call = wf.on!.workflow_call;
    assert.equal(call.inputs.clusters.required, true);
    assert.equal(call.inputs.registry.required, true);
    for (const s of ['client-secret', 'creds']) assert.equal(call.secrets[s].required, false);
    const attach = wf.jobs.attach as Job & { strategy: { matrix: Record<string, string> }; needs: string };
    assert.equal(attach.needs, 'plan');
    assert.equal(attach.strategy.matrix.cluster, '${{ fromJSON(needs.plan.outputs.clusters) }}');
    assert.equal(actionSteps(wf).length, 1);
  });

  test('uses every input it declares', () => {
    const text = read(MATRIX);
    for (const name of Object.keys(wf.on!.workflow_call.inputs)) assert.match(text, new RegExp(`inputs\\.${name}\\b`), `input ${name} is never used`);
    for (const name of Object.keys(wf.on!.workflow_call.secrets))
      assert.match(text, new RegExp(`secrets\\.${name}\\b`), `secret ${name} is never used`);
  });

  test('turns one-a-line clusters (comments, resourceGroup/name, resource ids) into the matrix', async () => {
    const r = await runNodeStep(plan, {
      CLUSTERS:
        '# fleet\nrg-eu/aks-eu-1\n\n  rg.prod(1)/aks_2  \n/subscriptions/sub-2/resourceGroups/rg-asia/providers/Microsoft.ContainerService/managedClusters/aks-asia-1\n',
    });
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(clustersOf(r), [
      { name: 'aks-eu-1', resourceGroup: 'rg-eu', subscriptionId: '', label: 'rg-eu/aks-eu-1', key: '001-rg-eu-aks-eu-1' },
      { name: 'aks_2', resourceGroup: 'rg.prod(1)', subscriptionId: '', label: 'rg.prod(1)/aks_2', key: '002-rg.prod-1--aks_2' },
      { name: 'aks-asia-1', resourceGroup: 'rg-asia', subscriptionId: 'sub-2', label: 'rg-asia/aks-asia-1', key: '003-rg-asia-aks-asia-1' },
    ]);
    assert.equal(r.outputs.count, '3');
    assert.match(r.outputs.batch, /^[0-9a-f]{12}$/);
  });

  test('takes a JSON array of strings and objects', async () => {
    const r = await runNodeStep(plan, {
      CLUSTERS: JSON.stringify([
        'rg-a/aks-1',
        { name: 'aks-2', resourceGroup: 'rg-b', subscriptionId: 'sub-9' },
        { name: 'aks-3', 'resource-group': 'rg-c' },
      ]),
    });
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(
      clustersOf(r).map((c) => [c.label, c.subscriptionId]),
      [
        ['rg-a/aks-1', ''],
        ['rg-b/aks-2', 'sub-9'],
        ['rg-c/aks-3', ''],
      ],
    );
  });

  test('every matrix key the workflows read is one the plan makes', async () => {
    const r = await runNodeStep(plan, { CLUSTERS: 'rg/aks' });
    const keys = Object.keys(clustersOf(r)[0]);
    for (const rel of [MATRIX, 'examples/matrix-reusable.yml']) {
      const used = [...read(rel).matchAll(/matrix\.cluster\.(\w+)/g)].map((m) => m[1]);
      assert.ok(used.length, `${rel} reads no matrix.cluster key`);
      for (const k of used) assert.ok(keys.includes(k), `${rel} reads matrix.cluster.${k}, which the plan does not make`);
    }
  });

  const rejected: Array<[string, string, RegExp]> = [
    ['an empty list', ' \n# only a comment\n', /lists no cluster/],
    ['a bare name', 'rg/aks-1\naks-2', /entry 2 'aks-2' is neither/],
    ['a duplicate (case-insensitive)', 'rg/aks-1\nRG/AKS-1', /entry 2 repeats entry 1/],
    ['invalid JSON', '[ "rg/aks-1", ', /not a valid JSON array/],
    ['an object without resourceGroup', '[{"name":"aks-1"}]', /entry 1 needs a resourceGroup/],
    ['a number', '[42]', /entry 1 is neither a string nor an object/],
    [
      'more clusters than a matrix takes',
      Array.from({ length: 257 }, (_, i) => `rg/aks-${i}`).join('\n'),
      /257 clusters; a matrix takes at most 256/,
    ],
  ];
  for (const [what, clusters, message] of rejected) {
    test(`rejects ${what} with one ::error:: naming the problem`, async () => {
      const r = await runNodeStep(plan, { CLUSTERS: clusters });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^::error title=clusters::/m);
      assert.match(r.stdout, message);
      assert.equal(r.outputs.clusters, undefined);
    });
  }

  test('merges every cluster job’s results into one output and a summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acr-wf-results-'));
    try {
      writeFileSync(join(dir, '001-rg-a-aks-1.json'), JSON.stringify([{ target: 'rg-a/aks-1', ok: true, changed: false, action: 'unchanged' }]));
      writeFileSync(
        join(dir, '002-rg-b-aks-2.json'),
        JSON.stringify([{ target: 'rg-b/aks-2', ok: false, changed: true, action: 'failed', error: 'a|b' }]),
      );
      const r = await runNodeStep(merge, { DIR: dir, EXPECTED: '3', ATTACH_RESULT: 'failure' });
      assert.equal(r.code, 0, r.stdout);
      assert.deepEqual(
        JSON.parse(r.outputs.results).map((x: { target: string }) => x.target),
        ['rg-a/aks-1', 'rg-b/aks-2'],
      );
      assert.equal(r.outputs.changed, 'true');
      assert.match(r.summary, /2 of 3 cluster\(s\) reported \(failure\)/);
      assert.match(r.summary, /\| rg-b\/aks-2 \| ❌ failed: a\\\|b \| yes \|/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('merges nothing into an empty array when no cluster job reported', async () => {
    const r = await runNodeStep(merge, { DIR: join(tmpdir(), 'acr-wf-does-not-exist'), EXPECTED: '2', ATTACH_RESULT: 'cancelled' });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.results, '[]');
    assert.equal(r.outputs.changed, 'false');
  });
});

// ------------------------------------------------------------------------------------- complete jobs, current pins

/** Each action's pin; README's "Action versions" table gives where each pin's node24 runtime was read. */
const PINS: Record<string, string> = {
  'actions/checkout': 'v7',
  'actions/setup-node': 'v7',
  'actions/upload-artifact': 'v7',
  'actions/download-artifact': 'v8',
  'azure/login': 'v3',
  'azure/use-kubelogin': 'v1.3',
  'azure/aks-set-context': 'v5',
  'azure/k8s-set-context': 'v5',
  'azure/setup-kubectl': 'v5',
  'azure/k8s-deploy': 'v7',
};

/** Problems with the actions a workflow uses: a pin other than PINS', an action PINS does not know. */
function pinProblems(wf: Workflow): string[] {
  const problems: string[] = [];
  for (const [job, j] of Object.entries(wf.jobs ?? {})) {
    if (j.uses && !j.uses.startsWith('./') && !j.uses.startsWith(`${THIS_REPO}/.github/workflows/`)) problems.push(`jobs.${job}: calls ${j.uses}`);
  }
  for (const { job, index, step } of steps(wf)) {
    const uses = step.uses?.trim();
    if (!uses || uses.startsWith('./') || THIS_ACTION.test(uses)) continue;
    const [name, ref] = uses.split('@');
    const want = PINS[name.toLowerCase()];
    if (!want) problems.push(`jobs.${job}.steps[${index}]: ${uses} is not in the pinned actions`);
    else if (ref !== want) problems.push(`jobs.${job}.steps[${index}]: ${uses}, pinned as ${name}@${want}`);
  }
  return problems;
}

/** Problems that make a job fail as written: a step that needs an earlier one it does not have. */
function completenessProblems(wf: Workflow): string[] {
  const problems: string[] = [];
  for (const [job, j] of Object.entries(wf.jobs ?? {})) {
    const list = j.steps ?? [];
    const before = (i: number, action: string) => list.slice(0, i).some((s) => s.uses?.toLowerCase().startsWith(`${action}@`));
    list.forEach((s, i) => {
      const uses = s.uses?.toLowerCase() ?? '';
      const where = `jobs.${job}.steps[${i}] (${s.uses})`;
      if (uses.startsWith('azure/aks-set-context@')) {
        if (!before(i, 'azure/login')) problems.push(`${where}: no azure/login before it`);
        if (String(s.with?.['use-kubelogin']) !== 'true') problems.push(`${where}: no use-kubelogin: 'true' (Entra ID-integrated clusters need it)`);
        if (!before(i, 'azure/use-kubelogin')) problems.push(`${where}: no azure/use-kubelogin before it`);
      }
      if (uses.startsWith('azure/k8s-deploy@')) {
        if (!before(i, 'azure/setup-kubectl')) problems.push(`${where}: no azure/setup-kubectl before it`);
        if (!before(i, 'azure/aks-set-context') && !before(i, 'azure/k8s-set-context')) problems.push(`${where}: no cluster context before it`);
        if (!before(i, 'actions/checkout')) problems.push(`${where}: no checkout of the manifests before it`);
      }
    });
  }
  return problems;
}

describe('every job is complete and every action pinned to its current major on Node.js 24', () => {
  for (const { name, content } of SOURCES) {
    test(name, () => {
      const wf = load(content) as Workflow;
      assert.deepEqual([...completenessProblems(wf), ...pinProblems(wf)], []);
    });
  }

  test("README's Action versions table lists exactly these pins, each node24", () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('### Action versions'), readme.indexOf('## Versioning'));
    const rows = [...section.matchAll(/^\| `([\w-]+\/[\w-]+)` +\| `([\w.]+)` +\| `(\w+)` +\|/gm)];
    assert.deepEqual(Object.fromEntries(rows.map((m) => [m[1], m[2]])), PINS);
    for (const m of rows) assert.equal(m[3], 'node24', `${m[1]}@${m[2]}`);
  });

  test('an incomplete job or an old pin is reported (the checks above can fail)', () => {
    const wf = load(
      [
        'on: push',
        'jobs:',
        '  a:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: actions/checkout@v4',
        '      - uses: azure/aks-set-context@v4',
        '        with: { resource-group: rg, cluster-name: aks }',
        '      - uses: azure/k8s-deploy@v7',
        '        with: { manifests: k8s/ }',
        '      - uses: someone/else@v1',
      ].join('\n'),
    ) as Workflow;
    assert.deepEqual(completenessProblems(wf), [
      'jobs.a.steps[1] (azure/aks-set-context@v4): no azure/login before it',
      "jobs.a.steps[1] (azure/aks-set-context@v4): no use-kubelogin: 'true' (Entra ID-integrated clusters need it)",
      'jobs.a.steps[1] (azure/aks-set-context@v4): no azure/use-kubelogin before it',
      'jobs.a.steps[2] (azure/k8s-deploy@v7): no azure/setup-kubectl before it',
    ]);
    assert.deepEqual(pinProblems(wf), [
      'jobs.a.steps[0]: actions/checkout@v4, pinned as actions/checkout@v7',
      'jobs.a.steps[1]: azure/aks-set-context@v4, pinned as azure/aks-set-context@v5',
      'jobs.a.steps[3]: someone/else@v1 is not in the pinned actions',
    ]);
  });
});

// ------------------------------------------------------------------------------------- the reusable workflow's jobs and its action

/** A throwaway GitHub OIDC token endpoint: answers a JWT with the claims given. */
async function oidcEndpoint(claims: Record<string, string> | undefined, status = 200) {
  const { createServer } = await import('node:http');
  const asked: string[] = [];
  const jwt = claims && ['{"alg":"none"}', JSON.stringify(claims), 'sig'].map((p) => Buffer.from(p).toString('base64url')).join('.');
  const server = createServer((req, res) => {
    asked.push(`${req.headers.authorization} ${req.url}`);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(status === 200 ? { value: jwt } : { message: 'no' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    env: { ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-token' },
    asked,
    jwt,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('the reusable matrix workflow: runners and the action it runs', () => {
  const wf = parseYaml(MATRIX);
  const resolve = stepScript(MATRIX, 'plan', 'action');
  const merge = stepScript(MATRIX, 'collect', 'merge');
  const SHA = '0123456789abcdef0123456789abcdef01234567';

  test('every job runs on the runs-on input', () => {
    const jobs = Object.entries(wf.jobs) as Array<[string, Job & { 'runs-on'?: string }]>;
    assert.deepEqual(
      jobs.map(([id, j]) => [id, j['runs-on']]),
      jobs.map(([id]) => [id, '${{ inputs.runs-on }}']),
    );
  });

  test('the cluster jobs check out acr-kube-auth at the ref the plan resolved and run that copy', () => {
    const list = wf.jobs.attach.steps ?? [];
    const checkout = list.findIndex((s) => s.uses?.startsWith('actions/checkout@'));
    const action = list.findIndex((s) => s.id === 'acr');
    assert.ok(checkout >= 0 && checkout < action);
    assert.equal(list[checkout].with?.repository, '${{ needs.plan.outputs.action-repository }}');
    assert.equal(list[checkout].with?.ref, '${{ needs.plan.outputs.action-ref }}');
    assert.equal(String(list[checkout].with?.['persist-credentials']), 'false');
    assert.equal(list[action].uses, `./${String(list[checkout].with?.path)}`);
    assert.equal(wf.on!.workflow_call.inputs['action-ref'].default, '');
    assert.doesNotMatch(read(MATRIX).replace(/^\s*#.*$/gm, ''), /uses: acr-kube-auth\/acr-kube-auth@/, 'no floating pin of the action');
  });

  test('by default, the commit of the workflow itself (the OIDC token claims), from its own repository', async () => {
    const oidc = await oidcEndpoint({
      job_workflow_ref: 'acr-kube-auth/acr-kube-auth/.github/workflows/attach-matrix.yml@refs/tags/v1',
      job_workflow_sha: SHA,
    });
    try {
      const r = await runNodeStep(resolve, { ...oidc.env, ACTION_REF: '' });
      assert.equal(r.code, 0, r.stdout);
      assert.deepEqual(r.outputs, { repository: 'acr-kube-auth/acr-kube-auth', ref: SHA });
      assert.ok(r.stdout.includes(`::add-mask::${oidc.jwt}`), 'the token is masked');
      assert.deepEqual(oidc.asked, ['bearer runtime-token /token?api-version=2.0&audience=acr-kube-auth-action-ref']);
    } finally {
      await oidc.close();
    }
  });

  test("a fork's workflow runs the fork's action; action-ref overrides the commit", async () => {
    const oidc = await oidcEndpoint({
      job_workflow_ref: 'someone/acr-fork/.github/workflows/attach-matrix.yml@refs/heads/main',
      job_workflow_sha: SHA,
    });
    try {
      assert.deepEqual((await runNodeStep(resolve, { ...oidc.env, ACTION_REF: '' })).outputs, { repository: 'someone/acr-fork', ref: SHA });
      assert.deepEqual((await runNodeStep(resolve, { ...oidc.env, ACTION_REF: ' v1.2.3 ' })).outputs, {
        repository: 'someone/acr-fork',
        ref: 'v1.2.3',
      });
    } finally {
      await oidc.close();
    }
  });

  test('fails with one ::error:: when it cannot tell the ref, or the ref is not one', async () => {
    const none = await runNodeStep(resolve, { ACTION_REF: '' });
    assert.equal(none.code, 1);
    assert.match(none.stdout, /^::error title=action-ref::cannot tell which commit .*id-token: write/m);
    const given = await runNodeStep(resolve, { ACTION_REF: 'v1' });
    assert.deepEqual(given.outputs, { repository: 'acr-kube-auth/acr-kube-auth', ref: 'v1' });
    const bad = await runNodeStep(resolve, { ACTION_REF: '$(touch pwned)' });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /::error title=action-ref::'\$\(touch pwned\)' is not a tag, branch or commit SHA/);
    const refused = await oidcEndpoint(undefined, 403);
    try {
      const r = await runNodeStep(resolve, { ...refused.env, ACTION_REF: '' });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /::error title=action-ref::GitHub's OIDC token endpoint answered HTTP 403/);
    } finally {
      await refused.close();
    }
  });

  test('splits the plan into the clusters that succeeded and the others, for the deploys that follow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acr-wf-split-'));
    try {
      const clusters = ['001-rg-aks-1', '002-rg-aks-2', '003-rg-aks-3', '004-rg-aks-4'].map((key, i) => ({
        name: `aks-${i + 1}`,
        resourceGroup: 'rg',
        subscriptionId: '',
        label: `rg/aks-${i + 1}`,
        key,
      }));
      writeFileSync(join(dir, '001-rg-aks-1.json'), JSON.stringify([{ target: 'rg/aks-1', ok: true, changed: true, action: 'granted' }]));
      writeFileSync(
        join(dir, '002-rg-aks-2.json'),
        JSON.stringify([{ target: 'rg/aks-2', ok: false, changed: false, action: 'failed', error: 'x' }]),
      );
      writeFileSync(join(dir, '004-rg-aks-4.json'), JSON.stringify([]));
      // 003 reported nothing (its job died before the upload)
      const r = await runNodeStep(merge, { DIR: dir, EXPECTED: '4', ATTACH_RESULT: 'failure', CLUSTERS: JSON.stringify(clusters) });
      assert.equal(r.code, 0, r.stdout);
      assert.deepEqual(JSON.parse(r.outputs.succeeded), [clusters[0]]);
      assert.deepEqual(JSON.parse(r.outputs.failed), clusters.slice(1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the matrix example deploys to the clusters that succeeded, also when another failed', () => {
    const ex = parseYaml('examples/matrix-reusable.yml').jobs.deploy as Job & { if?: string; strategy: { matrix: Record<string, string> } };
    assert.match(String(ex.if), /!cancelled\(\)|always\(\)/);
    assert.match(String(ex.if), /needs\.acr\.outputs\.succeeded != '\[\]'/);
    assert.equal(ex.strategy.matrix.cluster, '${{ fromJSON(needs.acr.outputs.succeeded) }}');
  });
});

// ------------------------------------------------------------------------------------- the release workflow

describe('the release workflow', () => {
  const wf = parseYaml(RELEASE) as Workflow & { jobs: Record<string, Job & { needs?: string }> };
  const notes = stepScript(RELEASE, 'release', 'notes');
  const moveMajor = (wf.jobs.release.steps ?? []).find((s) => s.id === 'move-major')?.run ?? '';

  test('runs on a version tag: checks dist/ and the suite, then publishes the CHANGELOG section and moves the major tag', () => {
    assert.deepEqual(wf.on!.push, { tags: ['v*.*.*'] });
    const check = (wf.jobs.check.steps ?? []).map((s) => s.run ?? '').join('\n');
    assert.match(check, /bash \.ci\/run/);
    assert.match(check, /npm run build\n\s*if \[ -n "\$\(git status --porcelain -- dist\)" \]/);
    assert.match(check, /require\("\.\/package\.json"\)\.version/);
    assert.equal(wf.jobs.release.needs, 'check');
    assert.deepEqual(wf.jobs.release.permissions, { contents: 'write' });
    const order = (wf.jobs.release.steps ?? []).map((s) => s.id ?? (s.run?.includes('gh release create') ? 'publish' : s.uses));
    assert.deepEqual(order.slice(1), ['notes', 'publish', 'move-major']);
    assert.match(read(RELEASE), /gh release create "\$TAG" --verify-tag --title "\$TAG" --notes-file "\$NOTES"/);
    assert.ok(moveMajor.length > 100);
  });

  const CHANGELOG = [
    '# Changelog',
    '',
    '## [Unreleased]',
    '',
    '- not yet',
    '',
    '## [1.3.0-rc.1] - 2026-12-09',
    '',
    '- a candidate',
    '',
    '## [1.2.0] - 2026-12-08',
    '',
    '### Added',
    '',
    '- `succeeded` output',
    '',
    '## [1.1.0] - 2026-11-01',
    '',
    '- older',
    '',
  ].join('\n');

  test('the notes are the tag’s CHANGELOG section; a prerelease is marked; a missing section or a bad tag fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acr-release-notes-'));
    try {
      writeFileSync(join(dir, 'CHANGELOG.md'), CHANGELOG);
      const out = join(dir, 'notes.md');
      const r = await runNodeStep(notes, { TAG: 'v1.2.0', NOTES: out }, dir);
      assert.equal(r.code, 0, r.stdout);
      assert.equal(readFileSync(out, 'utf8'), '### Added\n\n- `succeeded` output\n');
      assert.equal(r.outputs.prerelease, 'false');
      const rc = await runNodeStep(notes, { TAG: 'v1.3.0-rc.1', NOTES: out }, dir);
      assert.equal(rc.outputs.prerelease, 'true');
      assert.equal(readFileSync(out, 'utf8'), '- a candidate\n');
      const missing = await runNodeStep(notes, { TAG: 'v1.4.0', NOTES: out }, dir);
      assert.equal(missing.code, 1);
      assert.match(missing.stdout, /^::error title=CHANGELOG\.md::no section '## \[1\.4\.0\]'/m);
      const bad = await runNodeStep(notes, { TAG: 'latest', NOTES: out }, dir);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /^::error title=tag::'latest' is not a version tag/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the major tag moves to the newest release of its major, in a real repository with a bare origin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'acr-release-tags-'));
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
    };
    const git = (cwd: string, ...args: string[]) => {
      const r = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
      assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const origin = join(dir, 'origin.git');
    const work = join(dir, 'work');
    const release = (tag: string) => {
      const r = spawnSync('bash', ['-c', moveMajor], { cwd: work, env: { ...env, TAG: tag }, encoding: 'utf8' });
      return { code: r.status, out: r.stdout + r.stderr };
    };
    const commit = (msg: string) => {
      writeFileSync(join(work, 'f'), msg);
      git(work, 'add', 'f');
      git(work, 'commit', '-q', '-m', msg);
      return git(work, 'rev-parse', 'HEAD');
    };
    const tagAndPush = (tag: string) => {
      git(work, 'tag', tag);
      git(work, 'push', '-q', 'origin', `refs/tags/${tag}`);
    };
    const onOrigin = (tag: string) => {
      const r = spawnSync('git', ['rev-parse', '--verify', '-q', `refs/tags/${tag}^{commit}`], { cwd: origin, env, encoding: 'utf8' });
      return r.status === 0 ? r.stdout.trim() : undefined;
    };
    try {
      git(dir, 'init', '-q', '--bare', origin);
      git(dir, 'clone', '-q', origin, work);
      git(work, 'checkout', '-q', '-b', 'main');
      const c1 = commit('one');
      git(work, 'push', '-q', 'origin', 'main');
      tagAndPush('v1.0.0');
      assert.equal(release('v1.0.0').code, 0);
      assert.equal(onOrigin('v1'), c1, 'v1 made at the first release');

      const c2 = commit('two');
      tagAndPush('v1.1.0');
      assert.equal(release('v1.1.0').code, 0);
      assert.equal(onOrigin('v1'), c2, 'v1 moved to v1.1.0');

      // a patch of the older minor, tagged from another clone: v1 stays on the newest
      git(work, 'checkout', '-q', '-b', 'v1.0.x', 'v1.0.0');
      commit('one-fix');
      tagAndPush('v1.0.1');
      const older = release('v1.0.1');
      assert.equal(older.code, 0, older.out);
      assert.match(older.out, /::notice title=v1 not moved::v1\.0\.1 is older than v1\.1\.0/);
      assert.equal(onOrigin('v1'), c2);

      git(work, 'checkout', '-q', 'main');
      commit('three');
      tagAndPush('v1.2.0-rc.1');
      assert.match(release('v1.2.0-rc.1').out, /prerelease: v1 stays/);
      assert.equal(onOrigin('v1'), c2);

      const c4 = commit('four');
      tagAndPush('v2.0.0');
      assert.equal(release('v2.0.0').code, 0);
      assert.equal(onOrigin('v2'), c4, 'v2 made');
      assert.equal(onOrigin('v1'), c2, 'v1 untouched by v2');

      // a release tagged on origin by someone else: the step fetches it before comparing
      const c5 = commit('five');
      git(work, 'push', '-q', 'origin', `${c5}:refs/tags/v2.1.0`);
      assert.equal(release('v2.1.0').code, 0);
      assert.equal(onOrigin('v2'), c5);

      const bad = release('latest');
      assert.equal(bad.code, 1);
      assert.match(bad.out, /::error title=tag::'latest' is not a version tag/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------------------------- npm run local-action

describe('npm run local-action with .env.example', () => {
  const env = parseEnv(read('.env.example'));

  test('names only inputs action.yml declares, and the emulator the README starts', () => {
    const inputs = Object.keys(env).filter((k) => k.startsWith('INPUT_'));
    assert.ok(inputs.length >= 5);
    const declared = new Set(Object.keys(actionMeta.inputs).map((k) => `INPUT_${k.toUpperCase()}`));
    for (const k of inputs) assert.ok(declared.has(k), `${k} is not an input of action.yml`);
    const cloud = JSON.parse(env.INPUT_ENVIRONMENT ?? '') as { endpoints: Record<string, string> };
    assert.equal(cloud.endpoints.resourceManager, 'https://127.0.0.1:8443/');
    assert.equal(env.NODE_EXTRA_CA_CERTS, '.tmp/emulator/ca.crt');
    assert.equal(env.KUBECONFIG, '.tmp/emulator/kubeconfig');
    assert.match(read('.env.example'), /npm run emulator -- --port 8443 --dir \.tmp\/emulator/);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts['local-action'], 'node scripts/local-action.ts');
  });

  test('npm run emulator -- --dir DIR links the CA and kubeconfig the file names, and removes the links on exit', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acr-emu-dir-'));
    const child = spawn(process.execPath, [join(ROOT, 'emulator', 'cli.ts'), '--port', '0', '--dir', join(dir, 'emulator'), '--quiet'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const ready = await new Promise<{ caCertPath: string; kubeconfigPath: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`emulator not ready: ${out}`)), 50_000);
        child.stdout.on('data', () => {
          const m = /^EMULATOR_READY (.+)$/m.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(JSON.parse(m[1]) as { caCertPath: string; kubeconfigPath: string });
          }
        });
      });
      assert.equal(readFileSync(join(dir, 'emulator', 'ca.crt'), 'utf8'), readFileSync(ready.caCertPath, 'utf8'));
      assert.match(readFileSync(join(dir, 'emulator', 'kubeconfig'), 'utf8'), /current-context/);
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('close', resolve));
      assert.deepEqual(readdirSync(join(dir, 'emulator')), [], 'links (even dangling ones) are left behind');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(
    "the emulator's printed recipe runs as written, with the project's Node.js even when `node` on PATH is older",
    { timeout: 90_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'acr-recipe-'));
      const child = spawn(process.execPath, [join(ROOT, 'emulator', 'cli.ts'), '--port', '0', '--quiet'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`emulator not ready: ${out}`)), 60_000);
          child.stdout.on('data', () => {
            if (/^EMULATOR_READY /m.test(out)) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
        // the recipe: from the environment block to the line that runs dist/index.js
        const lines = out.split('\n');
        const from = lines.findIndex((l) => l.startsWith('# Environment for running the action'));
        const to = lines.findIndex((l) => / dist\/index\.js$/.test(l));
        assert.ok(from >= 0 && to > from, out);
        const recipe = lines.slice(from, to + 1).join('\n');
        assert.ok(recipe.endsWith(`${process.execPath} dist/index.js`), recipe);
        for (const f of ['output', 'summary']) writeFileSync(join(dir, f), '');
        // PATH holds only the system's tools, whose `node` (if any) is older than the bundle needs
        const script = `export GITHUB_OUTPUT=${dir}/output GITHUB_STEP_SUMMARY=${dir}/summary\n${recipe}\n`;
        const run = spawn('bash', ['-euc', script], { cwd: ROOT, env: { PATH: '/usr/bin:/bin', HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
        let runOut = '';
        run.stdout.on('data', (d) => (runOut += d));
        run.stderr.on('data', (d) => (runOut += d));
        const code = await new Promise<number | null>((resolve) => run.on('close', resolve));
        assert.equal(code, 0, runOut);
        assert.doesNotMatch(runOut, /::error::/);
        assert.match(readFileSync(join(dir, 'output'), 'utf8'), /^secret-name<</m);
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => (child.exitCode === null ? child.on('close', resolve) : resolve(null)));
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  let emu: Emulator;
  let work: string;
  before(async () => {
    emu = await startEmulator({ quiet: true });
    work = mkdtempSync(join(tmpdir(), 'acr-local-action-'));
  });
  after(async () => {
    await emu?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('runs the action from src/ against the emulator and writes the pull secret', { timeout: 120_000 }, async () => {
    // .env.example as it is, moved to this emulator's port and files (the file names 8443 and .tmp/emulator)
    mkdirSync(work, { recursive: true });
    const text = read('.env.example')
      .replaceAll('127.0.0.1:8443', `127.0.0.1:${emu.port}`)
      .replace(/^NODE_EXTRA_CA_CERTS=.*$/m, `NODE_EXTRA_CA_CERTS=${emu.caCertPath}`)
      .replace(/^KUBECONFIG=.*$/m, `KUBECONFIG=${emu.kubeconfigPath}`)
      .replace(/^GITHUB_STEP_SUMMARY=.*$/m, `GITHUB_STEP_SUMMARY=${join(work, 'summary.md')}`);
    const envFile = join(work, 'env');
    writeFileSync(envFile, text);
    // a CA bundle already in the environment must not win over the file's (as `node --env-file` would let it)
    // (asynchronously: the emulator answers from this process)
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'local-action.ts'), envFile], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: work,
        NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem',
        npm_config_update_notifier: 'false',
        npm_config_audit: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, out);
    assert.doesNotMatch(out, /::error::/, out);
    assert.match(out, /set-output name=changed::true/);
    assert.match(out, /set-output name=secret-name::acr-contosoacr/);
    const secret = emu.state.kube.secrets.default?.['acr-contosoacr'];
    assert.ok(secret, 'no acr-contosoacr Secret in the emulated cluster');
    assert.equal(secret.type, 'kubernetes.io/dockerconfigjson');
    assert.match(readFileSync(join(work, 'summary.md'), 'utf8'), /acr-kube-auth/);
  });
});
