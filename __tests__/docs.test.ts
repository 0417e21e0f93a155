import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { renderFormatted } from '../scripts/docs.ts';
import { ROOT } from './helpers/harness.ts';

const actionYml = readFileSync(join(ROOT, 'action.yml'), 'utf8');

test("README's inputs and outputs tables equal what `npm run docs` generates from action.yml", async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.equal(readme, await renderFormatted(readme, actionYml), 'README.md is stale: run `npm run docs`');
});

test('action.yml declares exactly the contract: every input and output (planned ones allowed, not required), each with a description and a default', () => {
  const contract = readFileSync(join(ROOT, '..', 'shared', 'CONTRACT.md'), 'utf8');
  const section = (title: string) => contract.split(`## ${title}`)[1].split('\n## ')[0];
  const names = (text: string) => [...text.matchAll(/^\| `([^`]+)`(?:, `([^`]+)`)?(?:, `([^`]+)`)? \|/gm)].flatMap((m) => m.slice(1).filter(Boolean));
  const a = load(actionYml) as {
    inputs: Record<string, { description: string; default?: string; required?: boolean }>;
    outputs: Record<string, { description: string }>;
    runs: { using: string; main: string };
  };
  // "Planned inputs and outputs": named now, accepted in action.yml before they are implemented, never required.
  const [plannedInputs, plannedOutputs] = section('Planned inputs and outputs').split('| planned output');
  const declared = (actual: string[], required: string[], planned: string[], what: string) => {
    const missing = required.filter((n) => !actual.includes(n));
    const unknown = actual.filter((n) => !required.includes(n) && !planned.includes(n));
    assert.deepEqual({ missing, unknown }, { missing: [], unknown: [] }, `action.yml ${what}: the contract's, planned ones allowed`);
  };
  assert.ok(names(plannedInputs).includes('image') && names(plannedOutputs ?? '').includes('verified-images'), 'the planned tables are read');
  declared(Object.keys(a.inputs), names(section('Inputs')), names(plannedInputs), 'inputs');
  declared(Object.keys(a.outputs), names(section('Outputs')), names(plannedOutputs ?? ''), 'outputs');
  for (const [k, v] of Object.entries(a.inputs)) {
    assert.ok(v.description?.length > 10, `${k} has a description`);
    assert.ok(v.required || typeof v.default === 'string', `${k} has a default`);
  }
  assert.deepEqual(a.runs, { using: 'node24', main: 'dist/index.js' });
});
