// Raw action inputs -> typed Settings, or an InputError naming the input, the value's problem and
// the accepted form. One reader per section, called in the order their errors are reported. Pure:
// no SDK import, no I/O (the kubeconfig is read later, still before any network call, by
// src/kube/kubeconfig.ts).
import { InputError } from '../errors.ts';
import type { Settings } from '../settings.ts';
import { GUID_FORM, type GetInput } from './fields.ts';
import { readLogin } from './login.ts';
import { readClusters, readMethod } from './clusters.ts';
import { readRun } from './run.ts';
import { readGrant } from './role-and-repositories.ts';
import { readPrincipal } from './principal-fields.ts';
import { checkKubernetesNames, pullSecretInputs, readPullSecretFields } from './pull-secret-fields.ts';
import { readRegistry } from './registry-ref.ts';
import { aksPrincipalInputs } from './aks-methods.ts';
import { readVerify } from './verify.ts';

export type { GetInput } from './fields.ts';
export { list, parseDuration } from './fields.ts';

/** The one function that reads every input. Runs before any network call. */
export function readSettings(get: GetInput): Settings {
  const { cloud, login, tenantId, subscriptionId } = readLogin(get);
  const clusters = readClusters(get, subscriptionId);
  const method = readMethod(get, clusters);
  const { operation, dryRun, maxParallel } = readRun(get);
  const { role, repositories } = readGrant(get);
  const sp = readPrincipal(get);
  const pull = readPullSecretFields(get);
  const registry = readRegistry(get, cloud.acrSuffix, method.authMethod === 'pull-secret' && pull.credentialType === 'basic');
  const secretName = checkKubernetesNames(get, pull, registry.name);
  const verify = readVerify(get, {
    operation,
    registry,
    acrSuffix: cloud.acrSuffix,
    apply: method.authMethod === 'pull-secret' ? pull.apply : undefined,
    kubeconfig: pull.kubeconfig,
    kubeContext: pull.kubeContext,
    namespace: pull.namespaces[0],
    aksClusters: method.authMethod === 'pull-secret' ? undefined : clusters.length,
  });
  const common = {
    registry,
    operation,
    dryRun,
    clusters,
    maxParallel,
    role,
    repositories,
    login,
    tenantId,
    subscriptionId,
    cloud,
    secretExpiry: sp.secretExpiry,
    verify,
  };

  let settings: Settings;
  if (method.authMethod === 'pull-secret') {
    settings = {
      ...common,
      clusterType: method.clusterType,
      authMethod: 'pull-secret',
      pullSecret: pullSecretInputs(pull, sp, secretName, operation),
    };
  } else {
    const servicePrincipal = aksPrincipalInputs(method.authMethod, clusters, sp, pull);
    settings =
      method.authMethod === 'managed-identity'
        ? { ...common, clusterType: 'aks', authMethod: 'managed-identity' }
        : { ...common, clusterType: 'aks', authMethod: method.authMethod, servicePrincipal };
  }

  // AKS clusters named as resourceGroup/name need a subscription (a default login may bring one
  // from AZURE_SUBSCRIPTION_ID or the Azure CLI, so only explicit logins are checked here).
  if (login.kind !== 'default' && clusters.some((c) => !c.subscriptionId)) {
    throw new InputError(
      'subscription-id',
      'is required to find the AKS cluster',
      `${GUID_FORM}, or cluster-subscription-id, or clusters as resource ids`,
    );
  }
  return settings;
}
