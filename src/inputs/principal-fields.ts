// The service-principal section: service-principal-client-id, service-principal-secret,
// create-secret, reset-cluster-credentials, and secret-expiry (the lifetime of a client secret or
// token password this action creates). Which method may use them is decided by aks.ts and
// pull-secret.ts.
import type { Duration } from '../settings.ts';
import { bool, guid, optional, parseDuration, type GetInput } from './fields.ts';

export interface PrincipalSection {
  clientId?: string;
  secret?: string;
  createSecret: boolean;
  resetClusterCredentials: boolean;
  secretExpiry: Duration;
}

export function readPrincipal(get: GetInput): PrincipalSection {
  const clientId = guid(get, 'service-principal-client-id');
  const secret = optional(get, 'service-principal-secret');
  const createSecret = bool(get, 'create-secret', false);
  const resetClusterCredentials = bool(get, 'reset-cluster-credentials', false);
  const secretExpiry = parseDuration('secret-expiry', get('secret-expiry').trim() || '90d');
  return { clientId, secret, createSecret, resetClusterCredentials, secretExpiry };
}
