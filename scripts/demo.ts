// `npm run demo`: a tour of one scenario, a pull secret from a repository-scoped ACR token, against
// the built-in emulator (Entra ID, ARM, ACR, Kubernetes on 127.0.0.1). Each stop runs the bundled
// action the way the GitHub runner does (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY)
// and prints its log (groups folded as the runner shows them), its main outputs and, where it
// says most, its job summary:
//   1. attach   2. the same again: changed: false   3. verify   4. a failure and its message
//   5. kubectl get of what was written (the real kubectl, with the emulator's kubeconfig)
//   6. detach
// No Azure account is needed. Exits 0 when every stop ended as it should (stop 4 fails on purpose).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startEmulator } from '../emulator/server.ts';
import { azureInputs, runAction, type RunResult } from '../__tests__/helpers/harness.ts';

const emu = await startEmulator({ quiet: true });
emu.state.lroPolls = 0; // ACR answers its long-running operations at once (it may): the tour does not wait on polls
const tty = process.stdout.isTTY;
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);

/** The scenario every stop shares: token credential, team-a, its default service account, repositories app/*. */
const SCENARIO = { registry: 'contosoacr', namespaces: 'team-a', 'service-accounts': 'default', repositories: 'app/*' };

/** A run's stdout as the runner shows it: masks and debug lines hidden, `::group::` as ▸ with its lines indented. */
function shown(r: RunResult): string {
  const masks = [...r.masks].filter(Boolean).sort((a, b) => b.length - a.length);
  const mask = (t: string) => masks.reduce((text, m) => text.split(m).join('***'), t);
  let inGroup = false;
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line || line.startsWith('::add-mask::') || line.startsWith('::debug::')) continue;
    if (line.startsWith('::group::')) {
      out.push(`▸ ${line.slice('::group::'.length)}`);
      inGroup = true;
    } else if (line === '::endgroup::') inGroup = false;
    else out.push(inGroup ? dim(`    ${line}`) : line);
  }
  return mask(out.join('\n'));
}

interface Stop {
  title: string;
  inputs?: Record<string, string>;
  /** the exit code the stop should end with */
  code?: number;
  /** outputs to print */
  outputs?: string[];
  summary?: boolean;
  /** instead of a run: commands to show */
  kubectl?: string[][];
}

const stops: Stop[] = [
  {
    title: '1. attach: a read-only token for app/*, its password in Secret team-a/acr-contosoacr, added to the default service account',
    inputs: azureInputs(emu, SCENARIO),
    outputs: ['changed', 'secret-name', 'username', 'expires-on'],
    summary: true,
  },
  {
    title: '2. the same step again: the password is still good, so nothing is written (changed: false)',
    inputs: azureInputs(emu, SCENARIO),
    outputs: ['changed'],
  },
  {
    title: '3. verify: the secret holds an entry the registry accepts, and the service account lists it',
    inputs: azureInputs(emu, { ...SCENARIO, operation: 'verify' }),
    outputs: ['changed'],
  },
  {
    title: '4. a failure: verify team-b too, where nothing was attached; the message says what to do',
    inputs: azureInputs(emu, { ...SCENARIO, namespaces: 'team-a\nteam-b', operation: 'verify' }),
    code: 1,
    summary: true,
  },
  {
    title: "5. kubectl get of what was written (the real kubectl, with the emulator's kubeconfig)",
    kubectl: [
      ['get', 'secret', 'acr-contosoacr', '-n', 'team-a'],
      ['get', 'secret', 'acr-contosoacr', '-n', 'team-a', '-o', 'jsonpath={.metadata.annotations}'],
      ['get', 'serviceaccount', 'default', '-n', 'team-a', '-o', 'jsonpath={.imagePullSecrets}'],
    ],
  },
  {
    title: '6. detach: the secret, its service-account reference, and the token and scope map attach made',
    inputs: azureInputs(emu, { ...SCENARIO, operation: 'detach' }),
    outputs: ['changed'],
  },
];

let wrong = 0;
try {
  for (const stop of stops) {
    console.log(`\n${bold(`▶ ${stop.title}`)}`);
    if (stop.kubectl) {
      for (const args of stop.kubectl) {
        console.log(dim(`$ kubectl ${args.join(' ')}`));
        try {
          // asynchronously: the emulator answers from this process
          const { stdout } = await promisify(execFile)('kubectl', ['--kubeconfig', emu.kubeconfigPath, ...args], {
            encoding: 'utf8',
            timeout: 30_000,
          });
          console.log(stdout.trimEnd());
        } catch (e) {
          console.log(`kubectl failed: ${(e as Error).message.split('\n')[0]}`);
          wrong++;
        }
      }
      continue;
    }
    const r = await runAction(emu, stop.inputs!);
    console.log(shown(r));
    for (const name of stop.outputs ?? []) console.log(`${bold('output')} ${name}: ${r.outputs[name] ?? ''}`);
    if (stop.summary) {
      console.log(bold('job summary:'));
      console.log(r.summary.trim().replace(/^/gm, '  '));
    }
    const want = stop.code ?? 0;
    console.log(r.code === want ? `exit code ${r.code}` : `exit code ${r.code}, expected ${want}`);
    if (r.code !== want) wrong++;
  }
  console.log(`\nThe emulator answered ${emu.requests.length} requests. To try it by hand: npm run emulator`);
} finally {
  await emu.close();
}
process.exitCode = wrong ? 1 : 0;
