// Preloaded (--import) into the measured action process: at exit, writes its peak RSS and the
// bundle files it loaded (with their sizes) to BENCH_PROBE_FILE. Not part of the action.
import { registerHooks } from 'node:module';
import { statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const loaded = new Set();
registerHooks({
  load(url, context, next) {
    if (url.startsWith('file:') && url.includes('/dist')) loaded.add(url);
    return next(url, context);
  },
});
process.on('exit', () => {
  const file = process.env.BENCH_PROBE_FILE;
  if (!file) return;
  const files = [...loaded].map((u) => fileURLToPath(u));
  const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
  writeFileSync(file, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, files: files.length, bytes }));
});
