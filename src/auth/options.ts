import type { Cloud } from '../settings.ts';
import { guardedHttpClient } from '../azure/arm.ts';

/**
 * Options every @azure/identity credential gets: the cloud's authority, any tenant (cross-tenant),
 * no instance discovery on custom clouds, and the guarded HTTP client (a per-request timeout and a
 * response size cap: identity's own client has neither).
 */
export function credentialOptions(cloud: Cloud) {
  return {
    authorityHost: cloud.authorityHost,
    additionallyAllowedTenants: ['*'],
    disableInstanceDiscovery: cloud.custom,
    httpClient: guardedHttpClient(),
  };
}
