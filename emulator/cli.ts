// npm run emulator -- [--port N] [--dir DIR] [--seed FILE] [--latency MS] [--quiet]
// Starts the emulator, prints how to point the action at it, and stays up until SIGINT/SIGTERM.
// The last line printed at start is `EMULATOR_READY {"url","port","caCertPath","kubeconfigPath"}`.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEPLOYER_APP_ID, SUB_1, TENANT_A } from './ids.ts';
import { startEmulator } from './server.ts';
import type { Emulator } from './server.ts';

const USAGE = `usage: node emulator/cli.ts [--port N] [--dir DIR] [--seed FILE] [--latency MS] [--quiet]
  --port N       listen on 127.0.0.1:N (default: an ephemeral port)
  --dir DIR      also expose DIR/ca.crt and DIR/kubeconfig (symlinks to the live files), so a fixed
                 .env (npm run local-action) can name them: --port 8443 --dir .tmp/emulator
  --seed FILE    state JSON merged over the default world (emulator/seed/*.json)
  --latency MS   add MS of latency to every request (a 'latency' fault on everything)
  --quiet        no handler diagnostics on stderr`;

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

function exampleRegistry(emu: Emulator): { name: string; subscriptionId: string; tenantId: string } {
  for (const [id, res] of Object.entries(emu.state.resources)) {
    const type = String((res as { type?: unknown }).type ?? '');
    if (type.toLowerCase() !== 'microsoft.containerregistry/registries') continue;
    const sub = /\/subscriptions\/([^/]+)\//i.exec(id)?.[1];
    const subscriptionId = Object.keys(emu.state.subscriptions).find((s) => s.toLowerCase() === sub?.toLowerCase()) ?? SUB_1;
    return {
      name: String((res as { name?: unknown }).name ?? 'contosoacr'),
      subscriptionId,
      tenantId: emu.state.subscriptions[subscriptionId]?.tenantId ?? TENANT_A,
    };
  }
  return { name: 'contosoacr', subscriptionId: SUB_1, tenantId: TENANT_A };
}

function describe(emu: Emulator): string {
  const env = emu.env();
  const reg = exampleRegistry(emu);
  const inputs: Array<[string, string]> = [
    ['registry', reg.name],
    ['cluster-type', 'kubernetes'],
    ['auth-method', 'pull-secret'],
    ['credential-type', 'token'],
    ['client-id', DEPLOYER_APP_ID],
    ['tenant-id', reg.tenantId],
    ['subscription-id', reg.subscriptionId],
    ['environment', JSON.stringify(emu.cloud())],
    ['namespaces', 'default'],
  ];
  const lines = [
    `acr-kube-auth emulator listening on ${emu.url}`,
    `  CA certificate: ${emu.caCertPath}`,
    `  kubeconfig:     ${emu.kubeconfigPath}`,
    `  admin:          ${emu.url}/_emulator/{requests,state,faults,reset,info}`,
    '',
    'Custom cloud (the `environment` input):',
    JSON.stringify(emu.cloud(), null, 2),
    '',
    '# Environment for running the action (or any Node.js client) against the emulator:',
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    '',
    '# Example: a pull-secret run (inputs contain dashes, so pass them with env, not export).',
    `# dist/ needs Node.js 24: run it with the Node.js that runs this emulator (${process.version}, the project's own under npm), not any \`node\` on PATH.`,
    'env \\',
    ...inputs.map(([k, v]) => `  ${shellQuote(`INPUT_${k.toUpperCase()}=${v}`)} \\`),
    `  ${shellQuote(process.execPath)} dist/index.js`,
    '',
  ];
  return lines.join('\n');
}

/** Symlinks DIR/ca.crt and DIR/kubeconfig to this run's files (which live in a fresh temp dir); returns the links. */
function exposeFiles(emu: Emulator, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const links: Array<[string, string]> = [
    [join(dir, 'ca.crt'), emu.caCertPath],
    [join(dir, 'kubeconfig'), emu.kubeconfigPath],
  ];
  for (const [link, target] of links) {
    rmSync(link, { force: true });
    symlinkSync(target, link);
  }
  process.stdout.write(`  linked:         ${links.map(([l]) => l).join(', ')}\n`);
  return links.map(([l]) => l);
}

async function main(): Promise<void> {
  let values: { port?: string; dir?: string; seed?: string; latency?: string; quiet?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        dir: { type: 'string' },
        seed: { type: 'string' },
        latency: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be an integer 0-65535, got '${values.port}'\n`);
    process.exit(2);
  }
  const latency = values.latency === undefined ? undefined : Number(values.latency);
  if (latency !== undefined && (!Number.isFinite(latency) || latency < 0)) {
    process.stderr.write(`--latency must be a non-negative number of milliseconds, got '${values.latency}'\n`);
    process.exit(2);
  }

  const emu = await startEmulator({ port, seed: values.seed, quiet: values.quiet ?? false });
  if (latency) emu.addFault({ kind: 'latency', ms: latency });
  const links = values.dir ? exposeFiles(emu, resolve(values.dir)) : [];

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`emulator: ${signal}, shutting down\n`);
    for (const link of links) rmSync(link, { force: true });
    emu.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // Handlers first, then READY: a parent may signal as soon as it reads that line.
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  process.stdout.write(describe(emu));
  process.stdout.write(
    `EMULATOR_READY ${JSON.stringify({ url: emu.url, port: emu.port, caCertPath: emu.caCertPath, kubeconfigPath: emu.kubeconfigPath })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`emulator: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
