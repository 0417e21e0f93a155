// `npm run demo`: starts the built-in emulator (Entra ID, ARM, Graph, ACR, Kubernetes on
// 127.0.0.1), runs the bundled action against it the way the GitHub runner does (INPUT_*
// variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY), and prints each step's outputs and summary.
// No Azure account is needed.
import { startEmulator } from '../emulator/server.ts';
import { azureInputs, runAction, type RunResult } from '../__tests__/helpers/harness.ts';

const emu = await startEmulator({ quiet: true });
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

interface Step {
  title: string;
  inputs: Record<string, string>;
}

const steps: Step[] = [
  {
    title: 'AKS + kubelet managed identity: attach the registry (like az aks update --attach-acr)',
    inputs: azureInputs(emu, { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks' }),
  },
  {
    title: 'Any cluster: a pull secret from a repository-scoped ACR token, added to the default service account',
    inputs: azureInputs(emu, { registry: 'contosoacr', namespaces: 'team-a', 'service-accounts': 'default', repositories: 'app/*' }),
  },
  {
    title: 'Any cluster: a pull secret from given credentials, rendered only (GitOps)',
    inputs: {
      registry: 'contosoacr.azurecr.io',
      'credential-type': 'basic',
      username: 'puller',
      password: 'demo-Pa55word',
      apply: 'false',
      namespaces: 'team-a',
    },
  },
];

let failed = 0;
try {
  for (const step of steps) {
    console.log(`\n${bold(`▶ ${step.title}`)}`);
    const r: RunResult = await runAction(emu, step.inputs);
    const log = r.stdout
      .split('\n')
      .filter((l) => l && !l.startsWith('::add-mask::') && !l.startsWith('::debug::'))
      .join('\n');
    console.log(log);
    console.log(bold('outputs:'));
    for (const [k, v] of Object.entries(r.outputs)) {
      if (!v) continue;
      // as the runner shows it: every registered secret replaced by ***
      const masked = [...r.masks].sort((a, b) => b.length - a.length).reduce((text, m) => (m ? text.split(m).join('***') : text), v);
      console.log(`  ${k}: ${masked.includes('\n') ? `\n    ${masked.split('\n').join('\n    ')}` : masked}`);
    }
    console.log(bold('job summary:'));
    console.log(r.summary.trim().replace(/^/gm, '  '));
    console.log(`exit code ${r.code}`);
    if (r.code !== 0) failed++;
  }
  console.log(`\nThe emulator answered ${emu.requests.length} requests. To try it by hand: npm run emulator`);
} finally {
  await emu.close();
}
process.exitCode = failed ? 1 : 0;
