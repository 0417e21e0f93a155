// The pull-secret section: credential-type and its inputs (token-name, username, password, the
// service-principal section), namespaces, create-namespaces, secret-name, service-accounts, apply,
// kubeconfig and kube-context -> PullSecretInputs, with the combinations auth-method pull-secret allows.
import { InputError } from '../errors.ts';
import type { CredentialInputs, CredentialType, Operation, PullSecretInputs } from '../settings.ts';
import { GUID_FORM, bool, choice, clip, list, noControl, optional, type GetInput } from './fields.ts';
import type { PrincipalSection } from './principal-fields.ts';

// Kubernetes DNS-1123 label (namespaces) and subdomain (secrets, service accounts).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// ACR token names: 5-50 of letters, digits and hyphens.
const TOKEN_NAME = /^[a-zA-Z0-9-]{5,50}$/;

export interface PullSecretFields {
  credentialType: CredentialType;
  /** credential-type was given (not the default) */
  credentialTypeGiven: boolean;
  username?: string;
  password?: string;
  tokenName?: string;
  namespaces: string[];
  createNamespaces: boolean;
  serviceAccounts: string[];
  apply: boolean;
  kubeconfig?: string;
  kubeContext?: string;
}

/** The fields, each checked on its own (read for every method: the AKS methods refuse some of them). */
export function readPullSecretFields(get: GetInput): PullSecretFields {
  const credentialType = choice<CredentialType>(get, 'credential-type', ['token', 'service-principal', 'admin', 'exchange', 'basic'], 'token');
  const username = optional(get, 'username');
  const password = optional(get, 'password');
  const tokenName = optional(get, 'token-name');
  const namespaces = list(get('namespaces'));
  if (!namespaces.length) namespaces.push('default');
  const createNamespaces = bool(get, 'create-namespaces', false);
  const serviceAccounts = list(get('service-accounts'));
  const apply = bool(get, 'apply', true);
  const kubeconfig = optional(get, 'kubeconfig');
  const kubeContext = optional(get, 'kube-context');
  const credentialTypeGiven = get('credential-type').trim() !== '';
  return {
    credentialType,
    credentialTypeGiven,
    username,
    password,
    tokenName,
    namespaces,
    createNamespaces,
    serviceAccounts,
    apply,
    kubeconfig,
    kubeContext,
  };
}

/** The Kubernetes names (once the registry, which names the default secret, is known); returns the secret name. */
export function checkKubernetesNames(get: GetInput, fields: PullSecretFields, registryName: string): string {
  const secretName = optional(get, 'secret-name') ?? `acr-${registryName}`;
  if (secretName.length > 253 || !DNS_SUBDOMAIN.test(secretName)) {
    throw new InputError(
      'secret-name',
      `'${clip(secretName)}' is not a valid Secret name`,
      'a DNS-1123 subdomain: lower-case letters, digits, - and ., at most 253 characters',
    );
  }
  const seenNs = new Set<string>();
  for (const ns of fields.namespaces) {
    if (!DNS_LABEL.test(ns)) {
      throw new InputError(
        'namespaces',
        `'${clip(ns)}' is not a valid namespace`,
        'DNS-1123 labels: lower-case letters, digits and -, at most 63 characters, one a line or comma separated',
      );
    }
    if (seenNs.has(ns)) throw new InputError('namespaces', `lists '${ns}' twice`, 'each namespace once');
    seenNs.add(ns);
  }
  for (const sa of fields.serviceAccounts) {
    if (sa.length > 253 || !DNS_SUBDOMAIN.test(sa)) {
      throw new InputError(
        'service-accounts',
        `'${clip(sa)}' is not a valid service account name`,
        'DNS-1123 subdomains such as default, one a line or comma separated',
      );
    }
  }
  if (fields.tokenName !== undefined && !TOKEN_NAME.test(fields.tokenName)) {
    throw new InputError('token-name', `'${clip(fields.tokenName)}' is not a valid ACR token name`, '5-50 letters, digits and hyphens');
  }
  if (fields.kubeContext !== undefined) noControl('kube-context', fields.kubeContext);
  return secretName;
}

/** The combinations auth-method pull-secret allows, and the credential source's inputs. */
export function pullSecretInputs(fields: PullSecretFields, sp: PrincipalSection, secretName: string, operation: Operation): PullSecretInputs {
  const { credentialType, username, password, tokenName } = fields;
  let credential: CredentialInputs;
  if (credentialType === 'basic') {
    if (!username) throw new InputError('username', 'is required with credential-type basic', 'the registry username');
    if (!password) throw new InputError('password', 'is required with credential-type basic', 'the registry password');
    noControl('username', username);
    credential = { type: 'basic', username, password };
  } else if (username || password) {
    throw new InputError(
      username ? 'username' : 'password',
      `is only used with credential-type basic, not '${credentialType}'`,
      'credential-type: basic with username and password',
    );
  } else if (credentialType === 'service-principal') {
    if (!sp.clientId) throw new InputError('service-principal-client-id', 'is required with credential-type service-principal', GUID_FORM);
    if (!sp.secret && !sp.createSecret) {
      throw new InputError(
        'service-principal-secret',
        'is required with credential-type service-principal unless create-secret is true',
        "the service principal's client secret, or create-secret: true",
      );
    }
    credential = { type: 'service-principal', clientId: sp.clientId, secret: sp.secret, createSecret: sp.createSecret };
  } else if (credentialType === 'token') {
    credential = { type: 'token', tokenName };
  } else {
    credential = { type: credentialType };
  }
  if (tokenName && credentialType !== 'token')
    throw new InputError('token-name', `is only used with credential-type token, not '${credentialType}'`, 'credential-type: token');
  if (sp.resetClusterCredentials)
    throw new InputError(
      'reset-cluster-credentials',
      'is only used with auth-method service-principal',
      'auth-method: service-principal on an AKS cluster',
    );
  if (sp.createSecret && credentialType !== 'service-principal') {
    throw new InputError(
      'create-secret',
      `is only used with auth-method service-principal or credential-type service-principal, not credential-type '${credentialType}'`,
      'credential-type: service-principal',
    );
  }
  if (!fields.apply && operation !== 'attach')
    throw new InputError('apply', `'false' only renders; it cannot be combined with operation '${operation}'`, 'apply: true, or operation: attach');
  return {
    credential,
    namespaces: fields.namespaces,
    createNamespaces: fields.createNamespaces,
    secretName,
    serviceAccounts: fields.serviceAccounts,
    apply: fields.apply,
    kubeconfig: fields.kubeconfig,
    kubeContext: fields.kubeContext,
  };
}
