// The resources the emulated Kubernetes API server serves (core/v1 namespaces, secrets and
// serviceaccounts; rbac.authorization.k8s.io/v1 roles, rolebindings, clusterroles and
// clusterrolebindings, as kube-apiserver 1.32 lists them in discovery) and the version it reports.
// Discovery lists no `watch` verb: the emulator serves no watch requests.

export type ResourceName =
  'namespaces' | 'secrets' | 'serviceaccounts' | 'pods' | 'events' | 'roles' | 'rolebindings' | 'clusterroles' | 'clusterrolebindings';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface ResourceInfo {
  resource: ResourceName;
  /** the API group ('' for core) */
  group: string;
  /** the apiVersion of its objects: `v1`, or `<group>/v1` */
  apiVersion: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  verbs: string[];
  storageVersionHash: string;
  /** PUT of a missing object creates it: the registry strategy's AllowCreateOnUpdate, true for the four RBAC kinds (kubernetes pkg/registry/rbac/role/strategy.go and its siblings) */
  createOnUpdate?: boolean;
  /** subresources served under the resource, as discovery lists them */
  subresources?: { name: string; group: string; version: string; kind: string; verbs: string[] }[];
}

/** The core/v1 resources, by resource name. */
export const RESOURCES: Record<string, ResourceInfo> = {
  namespaces: {
    resource: 'namespaces',
    group: '',
    apiVersion: 'v1',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'],
    storageVersionHash: 'Q3oi5N2YM8M=',
  },
  secrets: {
    resource: 'secrets',
    group: '',
    apiVersion: 'v1',
    kind: 'Secret',
    listKind: 'SecretList',
    singular: 'secret',
    namespaced: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update'],
    storageVersionHash: 'S6u1pOWzb84=',
  },
  serviceaccounts: {
    resource: 'serviceaccounts',
    group: '',
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    listKind: 'ServiceAccountList',
    singular: 'serviceaccount',
    namespaced: true,
    shortNames: ['sa'],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update'],
    storageVersionHash: 'pbx9ZvyFpBE=',
    // the TokenRequest subresource (authentication.k8s.io/v1 TokenRequest, create only)
    subresources: [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }],
  },
  // Pods (with their status subresource) and core/v1 Events, as a 1.32 apiserver lists them (the
  // Pod's other subresources, exec, log, binding and the rest, are not served); emulator/kube/pods.ts
  pods: {
    resource: 'pods',
    group: '',
    apiVersion: 'v1',
    kind: 'Pod',
    listKind: 'PodList',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update'],
    storageVersionHash: 'xPOwRZ+Yhw8=',
    subresources: [{ name: 'status', group: '', version: 'v1', kind: 'Pod', verbs: ['get', 'patch', 'update'] }],
  },
  events: {
    resource: 'events',
    group: '',
    apiVersion: 'v1',
    kind: 'Event',
    listKind: 'EventList',
    singular: 'event',
    namespaced: true,
    shortNames: ['ev'],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update'],
    storageVersionHash: 'r2yiGXH7wu8=',
  },
};

const RBAC_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update'];
const rbac = (resource: ResourceName, kind: string, namespaced: boolean, storageVersionHash: string): ResourceInfo => ({
  resource,
  group: RBAC_GROUP,
  apiVersion: `${RBAC_GROUP}/v1`,
  kind,
  listKind: `${kind}List`,
  singular: kind.toLowerCase(),
  namespaced,
  verbs: RBAC_VERBS,
  storageVersionHash,
  createOnUpdate: true,
});

/** The rbac.authorization.k8s.io/v1 resources, by resource name (storage version hashes as a 1.32 apiserver lists them). */
export const RBAC_RESOURCES: Record<string, ResourceInfo> = {
  clusterrolebindings: rbac('clusterrolebindings', 'ClusterRoleBinding', false, '48tpQ8gZHFc='),
  clusterroles: rbac('clusterroles', 'ClusterRole', false, 'bYE5ZWDrJ44='),
  rolebindings: rbac('rolebindings', 'RoleBinding', true, 'eGsCzGH6b1g='),
  roles: rbac('roles', 'Role', true, '7FuwZcIIItM='),
};

/** Every stored resource, by API group and resource name. */
export const RESOURCES_BY_GROUP: Record<string, Record<string, ResourceInfo>> = { '': RESOURCES, [RBAC_GROUP]: RBAC_RESOURCES };

/** Every stored resource. */
export const ALL_RESOURCES: readonly ResourceInfo[] = [...Object.values(RESOURCES), ...Object.values(RBAC_RESOURCES)];

/** `secrets`, or `roles.rbac.authorization.k8s.io`: schema.GroupResource.String(), as apiserver messages name a resource. */
export const qualifiedResource = (info: Pick<ResourceInfo, 'resource' | 'group'>): string =>
  info.group ? `${info.resource}.${info.group}` : info.resource;

/** Namespaces the apiserver refuses to delete. */
export const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

export const KUBE_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '70d3cc986aa8221cd1dfb1121852688902d3bf53',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T17:59:15Z',
  goVersion: 'go1.23.3',
  compiler: 'gc',
  platform: 'linux/amd64',
};
