// The emulated Azure Resource Manager: subscriptions and resource groups, Microsoft.Authorization,
// Microsoft.ContainerService (AKS) and Microsoft.ContainerRegistry (ACR control plane).
import type { Handler } from '../types.ts';
import { acrArmHandler } from './acr.ts';
import { aksHandler } from './aks.ts';
import { authorizationHandler } from './authorization.ts';
import { armFallbackHandler, subscriptionsHandler } from './subscriptions.ts';

/** Order matters: role assignments can sit under any resource scope, so Authorization goes first. */
export const handlers: Handler[] = [authorizationHandler, subscriptionsHandler, aksHandler, acrArmHandler, armFallbackHandler];

export { ROLES, assignmentsAtOrAbove, roleGuidOf } from './authorization.ts';
export { findRegistryByHost, findScopeMap, repoPatternMatches, scopeMapAllows } from './acr.ts';
export { usesManagedIdentity } from './aks.ts';
