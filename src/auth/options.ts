import type { Cloud } from '../settings.ts';

/** Options every @azure/identity credential gets: the cloud's authority, any tenant (cross-tenant), no instance discovery on custom clouds. */
export function credentialOptions(cloud: Cloud) {
  return {
    authorityHost: cloud.authorityHost,
    additionallyAllowedTenants: ['*'],
    disableInstanceDiscovery: cloud.custom,
  };
}
