// The kubeconfig that points kubectl and @kubernetes/client-node at the emulated API server.
import { writeFileSync } from 'node:fs';
import type { EmulatorHost } from '../routes.ts';

function kubeconfigYaml(url: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: emulator',
    '  cluster:',
    `    server: ${url}`,
    `    certificate-authority-data: ${ca}`,
    'contexts:',
    '- name: emulator',
    '  context:',
    '    cluster: emulator',
    '    user: emulator',
    '    namespace: default',
    'current-context: emulator',
    'users:',
    '- name: emulator',
    '  user:',
    `    token: ${JSON.stringify(token)}`,
    'preferences: {}',
    '',
  ].join('\n');
}

/** kubeconfig: server = the emulator's URL, its CA, the cluster's bearer token, current-context 'emulator' (mode 0600). */
export function writeKubeconfig(host: EmulatorHost, token: string): void {
  writeFileSync(host.kubeconfigPath, kubeconfigYaml(host.url, host.caCertPem, token), { mode: 0o600 });
}
