// What a scenario returns; src/report.ts turns it into outputs, masks and the job summary.
import type { AuthMethod, CredentialType } from './settings.ts';

/** One cluster (fleet, AKS methods) or one namespace (pull-secret). */
export interface TargetResult {
  /** cluster label (resourceGroup/name) or namespace */
  target: string;
  ok: boolean;
  changed: boolean;
  /** what was (or, under dry-run, would be) done: 'created', 'updated', 'unchanged', 'deleted', 'verified', ... */
  action: string;
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
  warnings: string[];
  notices: string[];
  /** extra lines for the job summary */
  summaryNotes: string[];
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
    warnings: [],
    notices: [],
    summaryNotes: [],
  };
}
