// What a scenario returns; src/report.ts turns it into outputs, masks and the job summary.
import type { AuthMethod, CredentialType } from './settings.ts';
import type { VerifiedImage } from './verify/types.ts';

/**
 * One write a plan makes: planned under dry-run, made otherwise. The dry run lists exactly the
 * writes the real run makes (a test holds the two to the emulator's request log).
 */
export type Write =
  | { kind: 'provision-principal'; appId: string; tenantId?: string }
  /** principalId undefined: the principal an earlier write provisions */
  | { kind: 'grant'; scope: string; roleGuid: string; principalId?: string; condition?: string }
  | { kind: 'revoke'; id: string }
  /** in the app's home tenant (its one registration) */
  | { kind: 'add-client-secret'; appId: string }
  | { kind: 'reset-credentials'; clusterId: string; appId: string }
  | { kind: 'put-scope-map'; registryId: string; name: string }
  | { kind: 'create-token'; registryId: string; name: string }
  | { kind: 'update-token'; registryId: string; name: string }
  | { kind: 'generate-password'; registryId: string; token: string; slot: 'password1' | 'password2' }
  | { kind: 'delete-token'; registryId: string; name: string }
  | { kind: 'delete-scope-map'; registryId: string; name: string }
  | { kind: 'create-namespace'; namespace: string }
  | { kind: 'create-secret'; namespace: string; name: string }
  | { kind: 'apply-secret'; namespace: string; name: string }
  | { kind: 'delete-secret'; namespace: string; name: string }
  | { kind: 'set-image-pull-secrets'; namespace: string; serviceAccount: string };

/** One cluster (fleet, AKS methods) or one namespace (pull-secret). */
export interface TargetResult {
  /** cluster label (resourceGroup/name) or namespace */
  target: string;
  ok: boolean;
  changed: boolean;
  /** what was (or, under dry-run, would be) done: 'created', 'updated', 'unchanged', 'deleted', 'verified', ... */
  action: string;
  /** the AKS method this cluster got (a fleet under auth-method: auto can mix them) */
  authMethod?: AuthMethod;
  error?: string;
  principalId?: string;
  role?: string;
  roleAssignmentIds?: string[];
  secretName?: string;
  namespace?: string;
  expiresOn?: string;
  /** extra findings for the summary (verify) */
  details?: string[];
}

export interface Result {
  authMethod: AuthMethod;
  credentialType?: CredentialType;
  loginServer: string;
  registryId?: string;
  principalId?: string;
  role?: string;
  roleAssignmentIds: string[];
  secretName?: string;
  namespaces: string[];
  manifest?: string;
  dockerConfigJson?: string;
  username?: string;
  expiresOn?: string;
  consentUrl?: string;
  changed: boolean;
  results: TargetResult[];
  /** the plan lines (dry-run prints them) */
  plan: string[];
  /** the writes: planned under dry-run, made otherwise (in the order made; concurrent targets in input order) */
  writes: Write[];
  warnings: string[];
  notices: string[];
  /** extra lines for the job summary */
  summaryNotes: string[];
  /** images proven (`image` input): the `verified-images` output and its summary block (src/verify/) */
  verifiedImages?: VerifiedImage[];
}

export function emptyResult(authMethod: AuthMethod, loginServer: string): Result {
  return {
    authMethod,
    loginServer,
    roleAssignmentIds: [],
    namespaces: [],
    changed: false,
    results: [],
    plan: [],
    writes: [],
    warnings: [],
    notices: [],
    summaryNotes: [],
  };
}
