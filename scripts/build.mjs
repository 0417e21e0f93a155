// `npm run build`: bundles src/ into dist/ (committed; the runner executes dist/index.js).
// The options and what each is for: build/bundle.mjs.
// Usage: node scripts/build.mjs [outdir]   (default dist; the check-dist test builds elsewhere)
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildDist } from '../build/bundle.mjs';

const outdir = resolve(process.argv[2] ?? 'dist');
rmSync(outdir, { recursive: true, force: true });
const result = await buildDist(outdir, { metafile: Boolean(process.env.BUILD_META) });
if (process.env.BUILD_META) writeFileSync(process.env.BUILD_META, JSON.stringify(result.metafile));
