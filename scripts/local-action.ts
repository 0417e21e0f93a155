// npm run local-action [-- ENV_FILE]: runs the action from src/ with @github/local-action, its
// inputs and environment from ENV_FILE (default .env, else .env.example, which targets the emulator
// started by `npm run emulator -- --port 8443 --dir .tmp/emulator`).
// The file's values win over the shell's (as @github/local-action's own loading does) and are set
// before its process starts, so process-start variables (NODE_EXTRA_CA_CERTS, NODE_OPTIONS) apply:
// `node --env-file` would not do, since a variable already in the environment beats the file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseEnv } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
const file = resolve(process.argv[2] ?? (existsSync(join(ROOT, '.env')) ? join(ROOT, '.env') : join(ROOT, '.env.example')));
if (!existsSync(file)) {
  process.stderr.write(`local-action: no environment file at ${file} (copy .env.example to .env)\n`);
  process.exit(2);
}
const fromFile = parseEnv(readFileSync(file, 'utf8'));
const summary = fromFile.GITHUB_STEP_SUMMARY;
// @github/local-action creates the summary file, but not its folder
if (summary) mkdirSync(dirname(resolve(ROOT, summary)), { recursive: true });

const bin = join(ROOT, 'node_modules', '@github', 'local-action', 'bin', 'local-action.js');
const child = spawnSync(process.execPath, [bin, '.', 'scripts/local-action-entry.ts', file], {
  cwd: ROOT,
  env: { ...process.env, ...fromFile },
  stdio: 'inherit',
});
process.exit(child.status ?? 1);
