// A kubeconfig that acts as a service account holding exactly the rules a test gives it, made the
// way a platform team makes one on a real cluster, through the emulator's Kubernetes API as its
// admin: the ServiceAccount, a Role and RoleBinding per namespace (or a ClusterRole and
// ClusterRoleBinding), then a token from the TokenRequest API (what `kubectl create token` calls),
// written into a copy of the emulator's kubeconfig in place of the admin token.
import { request } from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyRule } from '../../emulator/kube/rbac.ts';
import type { Emulator } from '../../emulator/server.ts';

export type { PolicyRule };

export interface ServiceAccountGrant {
  /** the service account's namespace (created when missing) and name */
  namespace: string;
  name: string;
  /** rules granted by a Role and RoleBinding named `name` in each of these namespaces */
  roles?: Record<string, PolicyRule[]>;
  /** rules granted cluster-wide by a ClusterRole and ClusterRoleBinding named `<namespace>:<name>` */
  clusterRules?: PolicyRule[];
  /** the token's lifetime (default the API's 3600 s) */
  expirationSeconds?: number;
}

export interface ServiceAccountKubeconfig {
  /** a kubeconfig file (mode 0600, in the emulator's temp dir) that authenticates as the service account */
  path: string;
  token: string;
  /** system:serviceaccount:<namespace>:<name> */
  user: string;
}

export interface KubeAnswer {
  status: number;
  body: any;
}

/** One request to the emulator's Kubernetes API as `token` (default: the admin's; '' sends no credentials), JSON in and out. */
export function kubeRequest(
  emu: Emulator,
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<KubeAnswer> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${emu.url}${path}`,
      {
        method,
        ca: emu.caCertPem,
        agent: false,
        headers: {
          ...(opts.token === '' ? {} : { authorization: `Bearer ${opts.token ?? emu.state.kube.token}` }),
          accept: 'application/json',
          ...(payload !== undefined ? { 'content-type': opts.contentType ?? 'application/json' } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: the text as it is
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function ensure(emu: Emulator, collection: string, obj: Record<string, unknown>): Promise<void> {
  const r = await kubeRequest(emu, 'POST', collection, obj);
  if (r.status !== 201 && r.status !== 409) throw new Error(`POST ${collection}: ${r.status} ${JSON.stringify(r.body)}`);
}

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

/**
 * Create (as the admin) the service account and the roles and bindings that grant it exactly
 * `roles` / `clusterRules`, ask the TokenRequest API for its token, and write a kubeconfig with it.
 */
export async function serviceAccountKubeconfig(emu: Emulator, grant: ServiceAccountGrant): Promise<ServiceAccountKubeconfig> {
  const { namespace, name } = grant;
  await ensure(emu, '/api/v1/namespaces', { metadata: { name: namespace } });
  await ensure(emu, `/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name } });
  const subject = { kind: 'ServiceAccount', name, namespace };
  for (const [ns, rules] of Object.entries(grant.roles ?? {})) {
    await ensure(emu, `${RBAC}/namespaces/${ns}/roles`, { metadata: { name }, rules });
    await ensure(emu, `${RBAC}/namespaces/${ns}/rolebindings`, {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [subject],
    });
  }
  if (grant.clusterRules) {
    const cluster = `${namespace}:${name}`;
    await ensure(emu, `${RBAC}/clusterroles`, { metadata: { name: cluster }, rules: grant.clusterRules });
    await ensure(emu, `${RBAC}/clusterrolebindings`, {
      metadata: { name: cluster },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: cluster },
      subjects: [subject],
    });
  }
  const tr = await kubeRequest(emu, 'POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: grant.expirationSeconds ? { expirationSeconds: grant.expirationSeconds } : {},
  });
  if (tr.status !== 201) throw new Error(`TokenRequest: ${tr.status} ${JSON.stringify(tr.body)}`);
  const token = String(tr.body.status.token);
  const path = join(emu.dir, `kubeconfig-${namespace}-${name}`);
  const ca = Buffer.from(emu.caCertPem).toString('base64');
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: emulator',
      '  cluster:',
      `    server: ${emu.url}`,
      `    certificate-authority-data: ${ca}`,
      'contexts:',
      `- name: ${name}`,
      '  context:',
      '    cluster: emulator',
      `    user: ${name}`,
      `    namespace: ${namespace}`,
      `current-context: ${name}`,
      'users:',
      `- name: ${name}`,
      '  user:',
      `    token: ${JSON.stringify(token)}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { path, token, user: `system:serviceaccount:${namespace}:${name}` };
}
