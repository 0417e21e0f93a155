// AKS managed clusters over @azure/arm-containerservice: read a cluster into the few facts the
// scenarios need, and reset a service-principal cluster's credentials (a long-running operation).
// The SDK's modular API (a context plus one function per operation) keeps the bundle to the two
// operations used, instead of the whole ContainerServiceClient.
import { createContainerService, type ContainerServiceContext } from '@azure/arm-containerservice/api';
import { get as getCluster, resetServicePrincipalProfile as resetProfile } from '@azure/arm-containerservice/api/managedClusters';
import type { ManagedCluster as SdkCluster } from '@azure/arm-containerservice';
import type { AksClient, AzureSession, ManagedCluster } from './types.ts';
import type { ClusterRef } from '../settings.ts';
import { armCall, armClient, armClientOptions, armOperation, sessionCredential } from './arm.ts';
import { operationBudgetMs } from '../net/azure.ts';
import { ApiError } from '../errors.ts';

export const AKS_SERVICE = 'AKS';

/** SDK shape -> our facts. Pure. */
export function toManagedCluster(c: SdkCluster, ref: ClusterRef, subscriptionId: string): ManagedCluster {
  const kubelet =
    c.identityProfile?.kubeletidentity ?? Object.entries(c.identityProfile ?? {}).find(([k]) => k.toLowerCase() === 'kubeletidentity')?.[1];
  const spClientId = c.servicePrincipalProfile?.clientId;
  const identityType = c.identity?.type ?? 'None';
  const id =
    c.id ?? `/subscriptions/${subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${ref.name}`;
  return {
    id,
    name: c.name ?? ref.name,
    resourceGroup: ref.resourceGroup,
    subscriptionId,
    label: ref.label,
    location: c.location,
    kubeletObjectId: kubelet?.objectId?.toLowerCase(),
    kubeletClientId: kubelet?.clientId?.toLowerCase(),
    servicePrincipalClientId: spClientId && spClientId.toLowerCase() !== 'msi' ? spClientId.toLowerCase() : undefined,
    usesManagedIdentity: identityType !== 'None' || spClientId?.toLowerCase() === 'msi',
    tenantId: c.identity?.tenantId,
    vnetSubnetIds: (c.agentPoolProfiles ?? []).map((p) => p.vnetSubnetID).filter((x): x is string => !!x),
  };
}

/** LRO polling interval when AKS sends no Retry-After. */
const LRO_INTERVAL_MS = 1000;
/**
 * The longest the action waits for a credential reset: AKS rolls the new secret out to every node,
 * which takes minutes on a large cluster (the Azure CLI waits without a limit).
 */
const AKS_OPERATION_BUDGET_MS = 30 * 60_000;

export function createAksClient(session: AzureSession, opts: { lroIntervalMs?: number } = {}): AksClient {
  const clients = new Map<string, ContainerServiceContext>();
  const credential = sessionCredential(session);
  const client = (subscriptionId: string) => {
    let c = clients.get(subscriptionId.toLowerCase());
    if (!c) {
      c = armClient(session, createContainerService(credential as never, subscriptionId, armClientOptions(session)));
      clients.set(subscriptionId.toLowerCase(), c);
    }
    return c;
  };
  const subOf = (ref: ClusterRef) => {
    const sub = ref.subscriptionId ?? session.subscriptionId;
    if (!sub) {
      throw new ApiError({
        service: AKS_SERVICE,
        operation: `get cluster ${ref.label}`,
        message: 'no subscription is known for the cluster.',
        hint: 'Set subscription-id or cluster-subscription-id, or give the cluster as a resource id.',
      });
    }
    return sub;
  };

  return {
    async get(ref) {
      const sub = subOf(ref);
      const c = await armCall(
        AKS_SERVICE,
        `get cluster ${ref.resourceGroup}/${ref.name}`,
        () => getCluster(client(sub), ref.resourceGroup, ref.name),
        (info) => {
          if (info.status === 404) {
            return `Check cluster-name / cluster-resource-group (or the clusters line '${ref.label}') and that it is in subscription ${sub}.`;
          }
          if (info.status === 403)
            return `The signed-in identity needs at least Reader on the cluster (Microsoft.ContainerService/managedClusters/read) in subscription ${sub}.`;
          return undefined;
        },
      );
      // ARM always sends a cluster's id and name; an answer without them is not a cluster
      if (typeof c?.id !== 'string' || typeof c.name !== 'string')
        throw new ApiError({
          service: AKS_SERVICE,
          operation: `get cluster ${ref.resourceGroup}/${ref.name}`,
          code: 'InvalidResponse',
          message: 'the answer is not a managed cluster: expected a JSON object with its id and name',
        });
      return toManagedCluster(c, ref, sub);
    },

    async resetServicePrincipalProfile(cluster, clientId, secret) {
      await armOperation(
        AKS_SERVICE,
        `reset service principal of ${cluster.resourceGroup}/${cluster.name}`,
        (options) => resetProfile(client(cluster.subscriptionId), cluster.resourceGroup, cluster.name, { clientId, secret }, options),
        {
          intervalMs: opts.lroIntervalMs ?? LRO_INTERVAL_MS,
          budgetMs: operationBudgetMs(AKS_OPERATION_BUDGET_MS),
          hint: (info) =>
            info.status === 403
              ? `The signed-in identity needs Contributor (or Azure Kubernetes Service Contributor) on ${cluster.id} to reset its credentials.`
              : undefined,
        },
      );
    },
  };
}
