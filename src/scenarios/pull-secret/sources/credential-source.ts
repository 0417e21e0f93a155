// What a pull secret's credential source (`credential-type`) is: one small strategy per source,
// each knowing the registry's login server, what obtaining a credential would write in Azure (its
// plan) and how to carry that out, how to undo what it made (detach), and how to ask the registry
// whether a credential still works. Types only: the sources import this, and so does the scenario.
import type { PullSecretSettings } from '../../../settings.ts';
import type { Deps } from '../../../deps.ts';
import type { Write } from '../../../result.ts';
import type { RegistryRecord } from '../../../kube/render.ts';
import type { AzureSession, RegistryNetwork } from '../../../azure/types.ts';

export interface PullCredential {
  username: string;
  password: string;
  /** ISO 8601, when the credential expires */
  expiresOn?: string;
  /** token passwords: which slot (password1/password2) holds it, recorded in the secret's annotation */
  slot?: string;
  /** true when obtaining it wrote something in Azure (scope map, token, password, client secret, role) */
  changed?: boolean;
  /** what was done in Azure, for the log and the job summary */
  lines?: string[];
  /** service-principal: the principal (object id in the registry's tenant), its pull role and the assignment */
  principalId?: string;
  role?: string;
  roleAssignmentId?: string;
  /** the Azure writes made */
  writes?: Write[];
}

/** What the live secret holds for this registry (read before obtain, already masked). */
export interface PreviousCredential {
  username: string;
  password: string;
  /** this action's annotation for the registry: credential type, username, expiry, slot */
  record?: RegistryRecord;
}

/** What obtaining the credential would do, decided from reads alone (GETs, and checks of a kept credential). */
export interface SourcePlan {
  /** the Azure writes obtain makes, in order */
  writes: Write[];
  /** what the dry run prints ("would …") */
  lines: string[];
  /** the credential, when it is known without writing (kept, given, read): the secrets' plans use it */
  known?: Pick<PullCredential, 'username' | 'password' | 'expiresOn' | 'slot'>;
  /** carries the plan out: the credential (values masked as soon as the source has them) */
  execute(): Promise<PullCredential>;
}

/** What detach would remove in Azure, and removing it. */
export interface SourceDetachPlan {
  writes: Write[];
  /** under dry-run, what would be done */
  lines: string[];
  execute(): Promise<{ changed: boolean; lines: string[] }>;
}

export interface CredentialSource {
  /** the registry's login server */
  loginServer: string;
  /** the registry's ARM id, when Azure was asked */
  registryId?: string;
  /**
   * Reads what obtaining needs (GETs, and checks of a credential it would keep) and plans it with
   * the source's pure planners; nothing is written until the plan's execute().
   */
  prepare(previous?: PreviousCredential): Promise<SourcePlan>;
  /** detach: reads and plans what attach made in Azure that detach removes (e.g. the token and scope map) */
  prepareDetach?(): Promise<SourceDetachPlan>;
  /**
   * after the secrets were written: is the credential obtained still the live one? False when a
   * concurrent run regenerated the same token password slot meanwhile (attach obtains again).
   */
  confirm?(cred: PullCredential): Promise<boolean>;
  /**
   * verify: undefined when the registry accepts the credential, else what is wrong. `record`: this
   * action's annotation for the registry in the secret checked (slot, expiry), when there is one:
   * the token source waits, bounded, for a password made moments ago (awaitPropagation).
   */
  check(username: string, password: string, record?: RegistryRecord): Promise<string | undefined>;
  /** warnings to print (e.g. short-lived exchange tokens) */
  warnings: string[];
  /** the signed-in identity (Azure-backed sources): verify asks it whether the `image` input's images exist */
  signedIn?: { session: AzureSession; tenantId?: string; network?: RegistryNetwork };
}

export type SourceFactory = (settings: PullSecretSettings, deps: Deps) => Promise<CredentialSource>;
