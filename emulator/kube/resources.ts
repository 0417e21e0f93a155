// The resources the emulated Kubernetes API server serves (core/v1 namespaces, secrets and
// serviceaccounts, as kube-apiserver 1.32 lists them in discovery) and the version it reports.

export interface ResourceInfo {
  resource: 'namespaces' | 'secrets' | 'serviceaccounts';
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  verbs: string[];
  storageVersionHash: string;
}

export const RESOURCES: Record<string, ResourceInfo> = {
  namespaces: {
    resource: 'namespaces',
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
    kind: 'Secret',
    listKind: 'SecretList',
    singular: 'secret',
    namespaced: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update'],
    storageVersionHash: 'S6u1pOWzb84=',
  },
  serviceaccounts: {
    resource: 'serviceaccounts',
    kind: 'ServiceAccount',
    listKind: 'ServiceAccountList',
    singular: 'serviceaccount',
    namespaced: true,
    shortNames: ['sa'],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update'],
    storageVersionHash: 'pbx9ZvyFpBE=',
  },
};

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
