import type { Cloud } from '../settings.ts';
import { netClientOptions } from '../net/azure.ts';

/**
 * Options every @azure/identity credential gets: the cloud's authority, any tenant (cross-tenant),
 * no instance discovery on custom clouds, and the transport rules of every Azure call (the guarded
 * HttpClient: timeouts, size cap, no redirects; capped Retry-After; requests to the authority's
 * origin only: identity's own client has none of these).
 */
export function credentialOptions(cloud: Cloud) {
  return {
    authorityHost: cloud.authorityHost,
    additionallyAllowedTenants: ['*'],
    disableInstanceDiscovery: cloud.custom,
    ...netClientOptions({ service: 'Entra ID', origin: cloud.authorityHost }),
  };
}
