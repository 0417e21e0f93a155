// Network findings from ARM, named as `az aks check-acr` names its checks (Azure/aks-canipull
// main.go: "Checking host name resolution (<acr>): FAILED" when the name does not resolve,
// "Validating image pull permission: FAILED" when the registry refuses): what the registry's
// settings mean for a pull from the runner and from the cluster, before any pull is tried:
//   - publicNetworkAccess Disabled: clients outside a private endpoint's network are refused (ACR
//     answers 403 DENIED "client with IP '<ip>' is not allowed access");
//   - networkRuleSet defaultAction Deny: only the ipRules' addresses get in publicly;
//   - private endpoint connections (Approved, Pending, Rejected); against the AKS cluster's virtual
//     network (its agent pools' vnetSubnetID) where the cluster is AKS. Which virtual network an
//     endpoint sits in is Microsoft.Network's to say (privateEndpoints/<name>.subnet.id), which
//     the action does not read: the finding names the endpoints and the cluster's network, and says
//     what to check (the endpoint's subnet, peering, the privatelink.azurecr.io zone link);
//   - anonymousPullEnabled: a pull needs no credential at all ("nothing needed").
// Pure: facts in, lines out.
import type { RegistryNetwork } from '../azure/types.ts';

export interface NetworkFindings {
  /** one line each, for the log and the job summary */
  lines: string[];
  /** what the findings predict for a pull from the runner: a reason it would be refused */
  runnerBlocked?: string;
}

const vnetOf = (subnetId: string) => subnetId.replace(/\/subnets\/[^/]+$/i, '');
const lastSegment = (id: string) => id.split('/').filter(Boolean).pop() ?? id;

export function networkFindings(
  loginServer: string,
  net: RegistryNetwork | undefined,
  cluster?: { label: string; vnetSubnetIds?: string[] },
): NetworkFindings {
  if (!net) return { lines: [] };
  const lines: string[] = [];
  let runnerBlocked: string | undefined;
  const approved = net.privateEndpoints.filter((p) => p.status === 'Approved');
  const publicDisabled = (net.publicNetworkAccess ?? 'Enabled').toLowerCase() === 'disabled';
  const deny = (net.defaultAction ?? 'Allow').toLowerCase() === 'deny';

  if (net.anonymousPullEnabled)
    lines.push(`anonymous pull (${loginServer}): enabled, nothing needed: any client that reaches the registry pulls without a credential`);
  if (publicDisabled) {
    runnerBlocked = `publicNetworkAccess is Disabled on ${loginServer}: only clients in a private endpoint's network reach it`;
    lines.push(
      `connection (${loginServer}): publicNetworkAccess Disabled: clients outside a private endpoint's network are refused (403 DENIED "client with IP ... is not allowed access"); the runner too, so prove the pull with verify-from cluster`,
    );
  } else if (deny) {
    const rules = net.ipRules.map((r) => r.value).join(', ');
    runnerBlocked = `networkRuleSet on ${loginServer} denies by default${rules ? `; only ${rules} may connect` : ''}`;
    lines.push(
      `connection (${loginServer}): networkRuleSet defaultAction Deny, ${net.ipRules.length ? `ipRules allow ${rules}` : 'no ipRules'}: other public clients are refused (403 DENIED); the runner and the cluster's outbound address must be listed, or come through a private endpoint`,
    );
  } else {
    lines.push(
      `connection (${loginServer}): public network access Enabled, networkRuleSet defaultAction ${net.defaultAction ?? 'Allow'}: any client may connect`,
    );
  }
  if (net.privateEndpoints.length) {
    const list = net.privateEndpoints.map((p) => `${lastSegment(p.endpointId ?? p.id)} (${p.status ?? 'unknown'})`).join(', ');
    lines.push(`private endpoints (${loginServer}): ${list}${approved.length ? '' : ': none Approved, so none carries traffic'}`);
  } else if (publicDisabled) {
    lines.push(`private endpoints (${loginServer}): none, and public access is Disabled: no client can reach the registry`);
  }
  if (cluster) {
    const vnets = [...new Set((cluster.vnetSubnetIds ?? []).map(vnetOf))];
    if (!vnets.length) {
      if (publicDisabled || deny)
        lines.push(
          `host name resolution (${loginServer}) from ${cluster.label}: the cluster uses the AKS-managed virtual network (no vnetSubnetID); a private endpoint must be in it or a peered network, with the privatelink.azurecr.io zone linked to it`,
        );
    } else if (approved.length) {
      lines.push(
        `host name resolution (${loginServer}) from ${cluster.label}: the nodes are in ${vnets.map(lastSegment).join(', ')}; the registry resolves to a private endpoint there only if ${approved.map((p) => lastSegment(p.endpointId ?? p.id)).join(', ')} sits in that network (or a peered one) and the privatelink.azurecr.io zone is linked to it; ARM's registry answer does not say which network an endpoint is in (its Microsoft.Network resource does)`,
      );
    } else if (publicDisabled) {
      lines.push(
        `host name resolution (${loginServer}) from ${cluster.label}: the nodes are in ${vnets.map(lastSegment).join(', ')}, and no Approved private endpoint exists: the cluster cannot reach the registry`,
      );
    }
  }
  return { lines, ...(runnerBlocked ? { runnerBlocked } : {}) };
}
