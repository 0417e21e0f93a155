// `npm run docs`: regenerates README.md's inputs and outputs tables from action.yml.
// `node scripts/docs.ts --check` exits 1 when README.md is out of date (a test runs it).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { format, resolveConfig } from 'prettier';

const root = join(import.meta.dirname, '..');

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').trim();

export function tables(actionYml: string): { inputs: string; outputs: string } {
  const a = load(actionYml) as ActionYml;
  const inputs = [
    '| input | description | required | default |',
    '|---|---|---|---|',
    ...Object.entries(a.inputs).map(
      ([k, v]) => `| \`${k}\` | ${esc(v.description)} | ${v.required ? 'yes' : 'no'} | ${v.default ? `\`${esc(v.default)}\`` : ''} |`,
    ),
  ].join('\n');
  const outputs = [
    '| output | description |',
    '|---|---|',
    ...Object.entries(a.outputs).map(([k, v]) => `| \`${k}\` | ${esc(v.description)} |`),
  ].join('\n');
  return { inputs, outputs };
}

/** render(), then formatted as `npm run format` would (so the check and the formatter agree). */
export async function renderFormatted(readme: string, actionYml: string): Promise<string> {
  const readmePath = join(root, 'README.md');
  const options = (await resolveConfig(readmePath)) ?? {};
  return format(render(readme, actionYml), { ...options, filepath: readmePath });
}

export function render(readme: string, actionYml: string): string {
  const t = tables(actionYml);
  const put = (text: string, name: string, body: string) => {
    const re = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!re.test(text)) throw new Error(`README.md lacks the <!-- ${name}:start --> / <!-- ${name}:end --> markers`);
    return text.replace(re, `$1\n${body}\n$2`);
  };
  return put(put(readme, 'inputs', t.inputs), 'outputs', t.outputs);
}

if (import.meta.main) {
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const next = await renderFormatted(readme, readFileSync(join(root, 'action.yml'), 'utf8'));
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('README.md inputs/outputs tables differ from action.yml: run `npm run docs`.');
      process.exit(1);
    }
  } else {
    writeFileSync(readmePath, next);
  }
}
