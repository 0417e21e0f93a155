// What the `verified-images` output and the job summary's "Verified images" block hold: one entry
// per image and per way it was proven (each credential through the token flow, the signed-in
// identity through the registry API, each probe Pod, the kubelet identity's role). Types only.

/** How an image was proven. */
export type Proof =
  /** the credential's own token flow: /v2/ challenge, /oauth2/token for repository:<repo>:pull, a manifest HEAD */
  | 'token-flow'
  /** the signed-in identity through the registry API (@azure/container-registry: the manifest's properties) */
  | 'registry-api'
  /** a short-lived Pod in the cluster: the kubelet pulled it (verify-from cluster) */
  | 'probe-pod'
  /** the pulling principal's role assignments and ABAC condition cover the repository (AKS, from the runner) */
  | 'role-assignment';

export interface VerifiedImage {
  /** the full reference: login server/repository:tag or @digest */
  image: string;
  proof: Proof;
  ok: boolean;
  /** whose credential or which principal: "secret team-a/acr-contosoacr (token kube-pull-x)", "kubelet identity <oid>", "signed-in identity" */
  via: string;
  /** where: the namespace or cluster */
  target?: string;
  /** the manifest digest, when the proof saw it */
  digest?: string;
  /** what failed (or, with ok, what to know), already one line */
  error?: string;
  /** the image (its tag or digest) does not exist: said apart from "cannot pull" */
  missing?: boolean;
  /** the proof could not be made (e.g. the signed-in identity may not read the repository): not a failure, a warning */
  unchecked?: boolean;
  /** the credential was refused or does not cover the repository: a new credential or role may still be taking effect */
  retryable?: boolean;
  /** the probe Pod, for verify-from cluster */
  pod?: string;
}

/** One target of the proofs (a namespace or a cluster): the credential it pulls with, or where its probe Pod runs. */
export interface ImageTarget {
  /** the target's name in results (namespace or cluster label) */
  target: string;
  /** the credential the target pulls with, when the runner can hold it (pull secrets, a service principal's secret) */
  credential?: { username: string; password: string; via: string; target?: string };
  /** verify-from cluster: the namespace of the probe Pod and the pull secret it names (none: the kubelet's own identity) */
  namespace?: string;
  pullSecret?: string;
  /** entries proven another way already (the AKS kubelet identity's role assignments) */
  entries?: VerifiedImage[];
}
