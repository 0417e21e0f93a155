// dist/ must equal a fresh build of src/ (the runner executes dist/index.js, not src/), source maps
// included, byte for byte (build/bundle.mjs builds as if into dist/ wherever it writes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT } from './helpers/harness.ts';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('dist/ equals a fresh build of src/', () => {
  const out = mkdtempSync(join(tmpdir(), 'acr-dist-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), out], { cwd: ROOT, stdio: 'pipe' });
    const fresh = files(out)
      .map((f) => relative(out, f))
      .sort();
    const committed = files(join(ROOT, 'dist'))
      .map((f) => relative(join(ROOT, 'dist'), f))
      .sort();
    assert.deepEqual(committed, fresh, 'dist/ has other files than a fresh build: run `npm run build` and commit dist/');
    assert.ok(
      fresh.some((f) => f.endsWith('.js.map')),
      'the build ships no source maps',
    );
    for (const f of fresh) {
      assert.ok(
        readFileSync(join(out, f)).equals(readFileSync(join(ROOT, 'dist', f))),
        `dist/${f} differs from a fresh build: run \`npm run build\` and commit dist/`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
