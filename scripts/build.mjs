// Bundles src/ into dist/ (committed; the runner executes dist/index.js).
// Code splitting keeps each scenario's SDKs in its own chunk, loaded only by `import()` on the
// path that needs it, so the render path starts without Azure or Kubernetes SDKs.
// Usage: node scripts/build.mjs [outdir]   (default dist; the check-dist test builds elsewhere)
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

// @actions/* packages ship without a `sideEffects` flag, though their modules only define
// functions. Marking them side-effect free lets esbuild leave out what a path does not use: the
// OIDC client (and with it undici) stays in the chunk of the one path that asks for a token.
export const actionsSideEffectFree = {
  name: 'actions-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /^@actions\/|^\.\.?\// }, async (args) => {
      if (args.pluginData?.skip || (!/node_modules[\\/]@actions[\\/]/.test(args.importer) && !args.path.startsWith('@actions/'))) return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { skip: true } });
      if (r.errors.length) return { errors: r.errors };
      return { ...r, sideEffects: false };
    });
  },
};

/** The options every bundle of this project is built with (bench/ reuses them). */
export const bundleOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  banner: {
    js: "import{createRequire as __acrCreateRequire}from'node:module';const require=__acrCreateRequire(import.meta.url);",
  },
  plugins: [actionsSideEffectFree],
};

if (import.meta.main) {
  const outdir = resolve(process.argv[2] ?? 'dist');
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    ...bundleOptions,
    entryPoints: { index: 'src/index.ts' },
    outdir,
    splitting: true,
    keepNames: false,
    legalComments: 'linked',
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
    metafile: Boolean(process.env.BUILD_META),
  });
  if (process.env.BUILD_META) writeFileSync(process.env.BUILD_META, JSON.stringify(result.metafile));
}
