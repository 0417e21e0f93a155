// The cluster section: cluster-name, cluster-resource-group, cluster-subscription-id and clusters
// -> the AKS clusters; then cluster-type and auth-method, which the clusters decide by default.
import { InputError } from '../errors.ts';
import type { AuthMethod, ClusterRef, ClusterType } from '../settings.ts';
import { GUID, RESOURCE_GROUP, checkGroup, choice, clip, guid, list, noControl, optional, type GetInput } from './fields.ts';

// AKS cluster names: 1-63, letters, digits, _ and -, starting and ending alphanumeric.
const CLUSTER_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$/;

function parseCluster(line: string, fallbackSub: string | undefined, input: string): ClusterRef {
  const accepted =
    'one cluster a line: a resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerService/managedClusters/<name>) or resourceGroup/name';
  noControl(input, line);
  const id = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerService\/managedClusters\/([^/]+)$/i.exec(line);
  if (id) {
    if (!GUID.test(id[1])) throw new InputError(input, `'${clip(line)}' has a subscription that is not a GUID`, accepted);
    if (!RESOURCE_GROUP.test(id[2])) throw new InputError(input, `'${clip(line)}' has an invalid resource group`, accepted);
    if (!CLUSTER_NAME.test(id[3])) throw new InputError(input, `'${clip(line)}' has an invalid cluster name`, accepted);
    return { subscriptionId: id[1].toLowerCase(), resourceGroup: id[2], name: id[3], label: line };
  }
  const short = /^([^/]+)\/([^/]+)$/.exec(line);
  if (short && RESOURCE_GROUP.test(short[1]) && CLUSTER_NAME.test(short[2])) {
    return { subscriptionId: fallbackSub, resourceGroup: short[1], name: short[2], label: line };
  }
  throw new InputError(input, `'${clip(line)}' is not a cluster`, accepted);
}

/** One cluster (cluster-name with cluster-resource-group) or a fleet (clusters); none for other clusters. */
export function readClusters(get: GetInput, subscriptionId: string | undefined): ClusterRef[] {
  const clusterName = optional(get, 'cluster-name');
  const clusterGroup = optional(get, 'cluster-resource-group');
  const clusterSub = guid(get, 'cluster-subscription-id');
  const clustersRaw = get('clusters');
  const clusterLines = list(clustersRaw.replace(/,/g, '\n'));
  if (clusterName && clusterLines.length) {
    throw new InputError('clusters', 'is given together with cluster-name', 'either cluster-name (with cluster-resource-group) or clusters');
  }
  const clusters: ClusterRef[] = [];
  if (clusterName) {
    noControl('cluster-name', clusterName);
    if (!CLUSTER_NAME.test(clusterName)) {
      throw new InputError(
        'cluster-name',
        `'${clip(clusterName)}' is not a valid AKS cluster name`,
        '1-63 letters, digits, _ and -, starting and ending with a letter or digit',
      );
    }
    if (!clusterGroup) throw new InputError('cluster-resource-group', 'is required with cluster-name', 'the resource group of the AKS cluster');
    clusters.push({
      subscriptionId: clusterSub ?? subscriptionId,
      resourceGroup: checkGroup('cluster-resource-group', clusterGroup),
      name: clusterName,
      label: `${clusterGroup}/${clusterName}`,
    });
    return clusters;
  }
  if (clusterGroup)
    throw new InputError('cluster-resource-group', 'is given without cluster-name', 'cluster-name together with cluster-resource-group');
  const seen = new Set<string>();
  for (const line of clusterLines) {
    const c = parseCluster(line, clusterSub ?? subscriptionId, 'clusters');
    const key = `${c.subscriptionId ?? ''}/${c.resourceGroup}/${c.name}`.toLowerCase();
    if (seen.has(key)) throw new InputError('clusters', `lists '${clip(line)}' twice`, 'each cluster once');
    seen.add(key);
    clusters.push(c);
  }
  if (clusters.length > 500)
    throw new InputError('clusters', `lists ${clusters.length} clusters`, 'at most 500 clusters; split larger fleets across matrix jobs');
  return clusters;
}

export type MethodSection =
  { clusterType: 'aks'; authMethod: 'auto' | 'managed-identity' | 'service-principal' } | { clusterType: ClusterType; authMethod: 'pull-secret' };

/** cluster-type (aks when clusters are named) and auth-method; only pull-secret reaches other clusters. */
export function readMethod(get: GetInput, clusters: readonly ClusterRef[]): MethodSection {
  const clusterType = choice<ClusterType>(get, 'cluster-type', ['aks', 'kubernetes'], clusters.length ? 'aks' : 'kubernetes');
  const authMethod = choice<AuthMethod | 'auto'>(get, 'auth-method', ['auto', 'managed-identity', 'service-principal', 'pull-secret'], 'auto');
  if (clusterType === 'kubernetes') {
    if (authMethod === 'managed-identity' || authMethod === 'service-principal') {
      throw new InputError(
        'auth-method',
        `'${authMethod}' needs an AKS cluster (cluster-type: aks with cluster-name or clusters)`,
        '`pull-secret` or `auto` for cluster-type kubernetes',
      );
    }
    if (clusters.length)
      throw new InputError('cluster-type', "'kubernetes' is given together with cluster-name or clusters", '`aks` for AKS clusters');
    return { clusterType, authMethod: 'pull-secret' };
  }
  if (authMethod === 'pull-secret') return { clusterType, authMethod };
  if (!clusters.length) {
    throw new InputError('cluster-name', 'is required with cluster-type aks', 'cluster-name with cluster-resource-group, or clusters');
  }
  return { clusterType, authMethod };
}
