// The emulated Azure Resource Manager: subscriptions and resource groups, Microsoft.Authorization,
// Microsoft.ContainerService (AKS) and Microsoft.ContainerRegistry (ACR control plane).
import { collapsedPath } from '../routes.ts';
import type { Service } from '../routes.ts';
import { acrArmRoutes } from './acr.ts';
import { aksRoutes } from './aks.ts';
import { authorizationRoutes } from './authorization.ts';
import { armFallbackRoutes, subscriptionsRoutes } from './subscriptions.ts';

export const armService: Service = {
  name: 'arm',
  // ARM answers on the emulator's own host; registry hosts belong to the ACR data plane
  owns: (req) => !req.hostname.endsWith('.azurecr.localhost'),
  // ARM reads paths case-insensitively, and `//` as `/`
  ignoreCase: true,
  routePath: collapsedPath,
  requestIds: true,
  // Order matters: role assignments can sit under any resource scope, so Authorization goes first.
  routes: [...authorizationRoutes, ...subscriptionsRoutes, ...aksRoutes, ...acrArmRoutes, ...armFallbackRoutes],
};
