// The default ClusterRoles and ClusterRoleBindings kube-apiserver reconciles into storage when it
// starts (the rbac/bootstrap-roles post-start hook: missing ones are created, present ones left as
// they are here). Rules as kubernetes 1.32 plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go
// defines them, lists sorted as its rule builder sorts them:
//   - cluster-admin, bound to group system:masters;
//   - system:discovery (bound to system:authenticated): get on the discovery, health and OpenAPI paths;
//   - system:basic-user (system:authenticated): create the self reviews;
//   - system:public-info-viewer (system:authenticated and system:unauthenticated): health and version;
//   - admin, edit and view. Upstream these aggregate the system:aggregate-to-* roles (and any role
//     labelled to join them); the emulator does not run the aggregation controller, so each holds
//     the result flattened, limited to the rules on the groups it serves or that kubectl's
//     commands use: core (""), rbac.authorization.k8s.io and authorization.k8s.io.
import { nextResourceVersion } from './storage.ts';
import type { PolicyRule } from './rbac.ts';
import { RBAC_GROUP } from './resources.ts';
import type { KubeObject, KubeState } from '../types.ts';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ_WRITE = [...WRITE, ...READ].sort();
const core = (verbs: string[], resources: string[]): PolicyRule => ({ apiGroups: [''], resources: [...resources].sort(), verbs: [...verbs].sort() });
const urls = (paths: string[]): PolicyRule => ({ nonResourceURLs: [...paths].sort(), verbs: ['get'] });

const VIEW: PolicyRule[] = [
  core(READ, [
    'pods',
    'replicationcontrollers',
    'replicationcontrollers/scale',
    'serviceaccounts',
    'services',
    'services/status',
    'endpoints',
    'persistentvolumeclaims',
    'persistentvolumeclaims/status',
    'configmaps',
  ]),
  core(READ, [
    'limitranges',
    'resourcequotas',
    'bindings',
    'events',
    'pods/status',
    'resourcequotas/status',
    'namespaces/status',
    'replicationcontrollers/status',
    'pods/log',
  ]),
  // "read access to namespaces at the namespace scope means you can read *this* namespace"
  core(READ, ['namespaces']),
];
const EDIT: PolicyRule[] = [
  core(READ, ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
  core(['impersonate'], ['serviceaccounts']),
  core(WRITE, ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
  core(['create'], ['pods/eviction']),
  core(WRITE, [
    'replicationcontrollers',
    'replicationcontrollers/scale',
    'serviceaccounts',
    'services',
    'services/proxy',
    'persistentvolumeclaims',
    'configmaps',
    'secrets',
  ]),
  core(['create'], ['serviceaccounts/token']),
  ...VIEW,
];
const ADMIN: PolicyRule[] = [
  { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
  { apiGroups: [RBAC_GROUP], resources: ['rolebindings', 'roles'], verbs: READ_WRITE },
  ...EDIT,
];

const CLUSTER_ROLES: Record<string, PolicyRule[]> = {
  'cluster-admin': [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ],
  'system:discovery': [
    urls(['/livez', '/readyz', '/healthz', '/version', '/version/', '/openapi', '/openapi/*', '/api', '/api/*', '/apis', '/apis/*']),
  ],
  'system:basic-user': [
    { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
    { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
  ],
  'system:public-info-viewer': [urls(['/livez', '/readyz', '/healthz', '/version', '/version/'])],
  admin: ADMIN,
  edit: EDIT,
  view: VIEW,
};

const CLUSTER_ROLE_BINDINGS: Record<string, string[]> = {
  'cluster-admin': ['system:masters'],
  'system:discovery': ['system:authenticated'],
  'system:basic-user': ['system:authenticated'],
  'system:public-info-viewer': ['system:authenticated', 'system:unauthenticated'],
};

const BOOTSTRAP_METADATA = {
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
};

function bootstrapObject(kube: KubeState, kind: string, name: string, uid: number, body: Record<string, unknown>): KubeObject {
  return {
    kind,
    apiVersion: `${RBAC_GROUP}/v1`,
    metadata: {
      name,
      uid: `0b000000-0000-4000-8000-${(0x300 + uid).toString(16).padStart(12, '0')}`,
      resourceVersion: nextResourceVersion(kube),
      creationTimestamp: '2024-01-01T00:00:00Z',
      ...structuredClone(BOOTSTRAP_METADATA),
    },
    ...structuredClone(body),
  };
}

/** Create the default cluster roles and bindings that are missing (what the apiserver's reconciliation does at start). */
export function ensureBootstrapPolicy(kube: KubeState): void {
  const roles = (kube.clusterroles ??= {});
  const bindings = (kube.clusterrolebindings ??= {});
  let i = 0;
  for (const [name, rules] of Object.entries(CLUSTER_ROLES)) {
    i++;
    roles[name] ??= bootstrapObject(kube, 'ClusterRole', name, i, { rules });
  }
  for (const [name, groups] of Object.entries(CLUSTER_ROLE_BINDINGS)) {
    i++;
    bindings[name] ??= bootstrapObject(kube, 'ClusterRoleBinding', name, i, {
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name },
      subjects: groups.map((g) => ({ kind: 'Group', apiGroup: RBAC_GROUP, name: g })),
    });
  }
}
