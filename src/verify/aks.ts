// The `image` input on the AKS methods (attach verifies after writing; verify proves), per cluster:
//   - from the runner: the runner cannot sign in as the kubelet identity, so for managed-identity
//     clusters the proof is that the kubelet identity's role assignments (and, on ABAC registries,
//     their conditions) cover each image's repository (roles.ts checkPull), plus the signed-in
//     identity's answer that the image exists; for a service-principal cluster whose secret is given
//     (service-principal-secret), that secret goes through the token flow like a pull secret;
//   - from the cluster (verify-from cluster, one cluster, its kubeconfig): a probe Pod with no pull
//     secret: the kubelet pulls with its own identity, which is the proof itself.
// Attach waits, bounded, for a new role assignment to take effect.
import type { AksSettings } from '../settings.ts';
import type { Deps } from '../deps.ts';
import type { AzureClients, ManagedCluster, Registry } from '../azure/types.ts';
import type { Result } from '../result.ts';
import { checkPull } from '../roles.ts';
import { fullRef } from './image-ref.ts';
import { PROPAGATION, foldVerdicts, verifyImages, verifyImagesWithin, type ImageTarget } from './index.ts';
import type { VerifiedImage } from './types.ts';
import type { KubeconfigSource } from '../kube/kubeconfig.ts';

export async function verifyAksImages(
  settings: AksSettings,
  deps: Deps,
  azure: AzureClients,
  registry: Registry,
  clusters: ReadonlyMap<string, ManagedCluster>,
  result: Result,
  kubeSource?: KubeconfigSource,
): Promise<void> {
  const images = settings.verify.images;
  const rbac = azure.rbac(settings.registry.tenantId);
  const targets: ImageTarget[] = [];
  for (const r of result.results) {
    const cluster = clusters.get(r.target);
    if (!cluster || !r.principalId) continue;
    const t: ImageTarget = { target: r.target, namespace: settings.verify.namespace ?? 'default' };
    const sp = 'servicePrincipal' in settings ? settings.servicePrincipal : undefined;
    if (cluster.kubeletObjectId && r.principalId === cluster.kubeletObjectId) {
      if (settings.verify.from === 'runner') {
        const assignments = await rbac.listForPrincipal(registry.id, r.principalId);
        t.entries = images.map((image): VerifiedImage => {
          const check = checkPull(registry, r.principalId!, assignments, [image.repository]);
          return {
            image: fullRef(image, registry.loginServer),
            proof: 'role-assignment',
            via: `kubelet identity ${r.principalId}`,
            target: r.target,
            ok: check.ok,
            ...(check.ok ? {} : { error: check.problems.join('; ') || `no role of kubelet identity ${r.principalId} covers ${image.repository}` }),
          };
        });
      }
    } else if (sp?.secret && cluster.servicePrincipalClientId) {
      t.credential = {
        username: cluster.servicePrincipalClientId,
        password: sp.secret,
        via: `service principal ${cluster.servicePrincipalClientId}`,
      };
    }
    targets.push(t);
  }
  const kube = kubeSource ? await deps.kube(kubeSource) : undefined;
  const first = clusters.get(result.results[0]?.target ?? '');
  const ctx = {
    verify: settings.verify,
    loginServer: registry.loginServer,
    deps,
    signedIn: { session: azure.session, tenantId: settings.registry.tenantId, network: registry.network },
    kube,
    ...(first && clusters.size === 1 ? { cluster: { label: first.label, vnetSubnetIds: first.vnetSubnetIds } } : {}),
  };
  const verdicts =
    settings.operation === 'attach'
      ? await verifyImagesWithin(ctx, targets, { budgetMs: PROPAGATION.role, what: 'a new role assignment' })
      : await verifyImages(ctx, targets);
  foldVerdicts(result, verdicts, settings.operation === 'attach' ? 'granted, not pullable' : 'verify failed');
}
