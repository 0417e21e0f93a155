// `npm test`: runs the whole suite with Node's test runner, then prints the suite's figures
// (leak scan, faults, races, bad inputs) collected by the tests, and the plain closing line.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const figures = mkdtempSync(join(tmpdir(), 'acr-figures-'));
const args = [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=300000',
  ...(process.argv.slice(2).length ? process.argv.slice(2) : ['__tests__/**/*.test.ts']),
];
const child = spawn(process.execPath, args, { env: { ...process.env, ACR_FIGURES_DIR: figures }, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (d) => {
  out += d;
  process.stdout.write(d);
});
const code = await new Promise((r) => child.on('close', (c) => r(c ?? 1)));

const rows = readdirSync(figures).flatMap((f) =>
  readFileSync(join(figures, f), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l)),
);
rmSync(figures, { recursive: true, force: true });
const sum = (kind, key) => rows.filter((r) => r.kind === kind).reduce((a, r) => a + (Number(r[key]) || 0), 0);
const count = (kind) => rows.filter((r) => r.kind === kind).length;
console.log('\nSuite figures');
console.log(
  `  leak scan: ${count('leak-scan')} end-to-end runs scanned, ${sum('leak-scan', 'leaks')} unmasked secret occurrences, ${sum('leak-scan', 'leftovers')} files left in RUNNER_TEMP`,
);
for (const r of rows.filter((x) => x.kind !== 'leak-scan')) console.log(`  ${r.kind}: ${r.text ?? JSON.stringify(r)}`);
const pass = Number(/ℹ pass (\d+)/.exec(out)?.[1] ?? 0);
const fail = Number(/ℹ fail (\d+)/.exec(out)?.[1] ?? 0);
const skipped = Number(/ℹ skipped (\d+)/.exec(out)?.[1] ?? 0);
console.log(`\n${pass} passed, ${fail} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(code);
