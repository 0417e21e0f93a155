// Bundles src/ into dist/ (committed; the runner executes dist/index.js).
// Code splitting keeps each scenario's SDKs in its own chunk, loaded only by `import()` on the
// path that needs it, so the render path starts without Azure or Kubernetes SDKs.
// Usage: node scripts/build.mjs [outdir]   (default dist; the check-dist test builds elsewhere)
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';

const outdir = resolve(process.argv[2] ?? 'dist');
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: { index: 'src/index.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  keepNames: false,
  legalComments: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  banner: {
    js: "import{createRequire as __acrCreateRequire}from'node:module';const require=__acrCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
