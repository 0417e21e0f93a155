// Untrusted text never prints without src/log.ts (issue #12): no module of src/ but the log
// speaks to @actions/core's printing functions, writes to stdout or stderr, or logs to the console.
// A new message goes through the Runner (a Log), so it cannot forget the neutralisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './helpers/harness.ts';

const SRC = join(ROOT, 'src');
/**
 * src/index.ts prints one constant line (no untrusted text) when Node.js is too old, before any
 * module (the log included) may load: on old Node the bundle fails inside a library.
 */
const ALLOWED = new Set(['src/log.ts', 'src/index.ts']);
const PRINTING = [
  /\bcore\.(info|debug|warning|notice|error|setFailed|setOutput|setSecret|summary|startGroup|endGroup|group|exportVariable|addPath|saveState|setCommandEcho)\b/,
  /\bprocess\.(stdout|stderr)\b/,
  /\bconsole\.\w+/,
  /from '@actions\/core\/lib\/(command|file-command|summary)/,
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

test('only src/log.ts prints: no other module calls a printing function of @actions/core, writes to stdout or stderr, or uses the console', () => {
  const found: string[] = [];
  const all = files(SRC);
  assert.ok(all.length > 20, 'the sources were found');
  for (const f of all) {
    const rel = relative(ROOT, f);
    if (ALLOWED.has(rel)) continue;
    code(readFileSync(f, 'utf8'))
      .split('\n')
      .forEach((line, i) => {
        for (const re of PRINTING) if (re.test(line)) found.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(found, []);
});

test('the guard sees what it looks for', () => {
  const hits = ["core.info('x')", 'process.stdout.write(s)', 'console.log(x)', "import { issueCommand } from '@actions/core/lib/command'"].filter(
    (l) => PRINTING.some((re) => re.test(code(l))),
  );
  assert.equal(hits.length, 4);
  assert.equal(
    PRINTING.some((re) => re.test(code('// core.info in a comment'))),
    false,
  );
});
