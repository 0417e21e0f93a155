// The combinations the AKS methods (managed-identity, service-principal, auto) allow: pull-secret
// inputs are refused, and the service-principal section must make sense for one cluster's reset.
import { InputError } from '../errors.ts';
import type { ClusterRef, ServicePrincipalInputs } from '../settings.ts';
import type { PrincipalSection } from './principal-fields.ts';
import type { PullSecretFields } from './pull-secret-fields.ts';

export function aksPrincipalInputs(
  authMethod: 'auto' | 'managed-identity' | 'service-principal',
  clusters: readonly ClusterRef[],
  sp: PrincipalSection,
  pull: PullSecretFields,
): ServicePrincipalInputs {
  const { createSecret, resetClusterCredentials: resetCluster, clientId: spClientId, secret: spSecret } = sp;
  if (pull.credentialType !== 'token' && pull.credentialTypeGiven) {
    throw new InputError('credential-type', `is only used with auth-method pull-secret, not '${authMethod}'`, 'auth-method: pull-secret');
  }
  if (pull.username || pull.password)
    throw new InputError(
      pull.username ? 'username' : 'password',
      'is only used with auth-method pull-secret and credential-type basic',
      'auth-method: pull-secret',
    );
  if (authMethod === 'managed-identity' && (createSecret || resetCluster || spClientId)) {
    const name = createSecret ? 'create-secret' : resetCluster ? 'reset-cluster-credentials' : 'service-principal-client-id';
    throw new InputError(
      name,
      'is only used with auth-method service-principal',
      'auth-method: service-principal, or leave it unset for managed-identity',
    );
  }
  if (resetCluster && !createSecret && !spSecret) {
    throw new InputError('reset-cluster-credentials', 'needs a secret to reset the cluster with', 'create-secret: true, or service-principal-secret');
  }
  if (resetCluster && clusters.length > 1)
    throw new InputError('reset-cluster-credentials', 'applies to one cluster, but clusters lists several', 'cluster-name for one cluster');
  if (createSecret && spSecret)
    throw new InputError(
      'create-secret',
      'is true while service-principal-secret is also given',
      'either create-secret: true or service-principal-secret',
    );
  if (createSecret && !resetCluster) {
    // on AKS the new secret is not output: without the reset it would be an unused, live credential
    throw new InputError(
      'create-secret',
      'on an AKS cluster only makes sense with reset-cluster-credentials: true (the new secret is not output, so it would go unused)',
      'create-secret: true together with reset-cluster-credentials: true',
    );
  }
  return { clientId: spClientId, secret: spSecret, createSecret, resetClusterCredentials: resetCluster };
}
