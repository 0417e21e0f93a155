// Proves the `image` input's images from the runner: each distinct credential through the token
// flow (registry-probe.ts), and the signed-in identity through the registry API (image-exists.ts).
// The outcomes become VerifiedImage entries and, for the targets, problems to fail on.
import type { AzureSession } from '../azure/types.ts';
import type { ImageSetting } from '../settings.ts';
import { imagesExist, type ExistsOutcome } from './image-exists.ts';
import { fullRef, referenceOf } from './image-ref.ts';
import { probeImage, type ProbeOutcome } from './registry-probe.ts';
import type { VerifiedImage } from './types.ts';

export interface CredentialToProve {
  username: string;
  password: string;
  /** whose credential, for the entry: "secret team-a/acr-x (user kube-pull-x)" */
  via: string;
  /** the namespace or cluster it belongs to */
  target?: string;
}

/** The entries for one credential's probe outcomes. Pure. */
export function tokenFlowEntries(
  loginServer: string,
  images: readonly ImageSetting[],
  outcomes: readonly ProbeOutcome[],
  cred: Pick<CredentialToProve, 'via' | 'target'>,
): VerifiedImage[] {
  return images.map((image, i) => {
    const o = outcomes[i];
    return {
      image: fullRef(image, loginServer),
      proof: 'token-flow',
      via: cred.via,
      ...(cred.target ? { target: cred.target } : {}),
      ok: o.ok,
      ...(o.ok && o.digest ? { digest: o.digest } : {}),
      ...(o.ok
        ? {}
        : {
            error: o.reason,
            ...(o.failure === 'not-found' ? { missing: true } : {}),
            ...(o.failure === 'rejected' || o.failure === 'not-covered' ? { retryable: true } : {}),
          }),
    };
  });
}

/**
 * Each credential proves each image (a credential shared by several targets is asked once); the
 * entries in credential order. `trace`: the debug trace (never bodies or headers).
 */
export async function proveWithCredentials(
  loginServer: string,
  creds: readonly CredentialToProve[],
  images: readonly ImageSetting[],
  opts: { trace?: (line: string) => void } = {},
): Promise<VerifiedImage[]> {
  const asked = new Map<string, Promise<ProbeOutcome[]>>();
  const out: VerifiedImage[] = [];
  for (const cred of creds) {
    const key = `${cred.username}\n${cred.password}`;
    let p = asked.get(key);
    if (!p) {
      p = (async () => {
        const outcomes: ProbeOutcome[] = [];
        for (const image of images) outcomes.push(await probeImage(loginServer, cred, image.repository, referenceOf(image), opts));
        return outcomes;
      })();
      asked.set(key, p);
    }
    out.push(...tokenFlowEntries(loginServer, images, await p, cred));
  }
  return out;
}

/** The signed-in identity's entries (registry-api). An image it could not ask about is `unchecked`, not failed. Pure. */
export function existenceEntries(loginServer: string, images: readonly ImageSetting[], outcomes: readonly ExistsOutcome[]): VerifiedImage[] {
  return images.map((image, i) => {
    const o = outcomes[i];
    const base = { image: fullRef(image, loginServer), proof: 'registry-api' as const, via: 'signed-in identity' };
    if (o.exists === true) return { ...base, ok: true, digest: o.digest };
    if (o.exists === false) return { ...base, ok: false, missing: true, error: o.reason };
    return { ...base, ok: true, unchecked: true, error: o.reason };
  });
}

/** Asks the registry, as the signed-in identity, whether each image exists. */
export async function proveExistence(
  session: AzureSession,
  loginServer: string,
  images: readonly ImageSetting[],
  tenantId?: string,
): Promise<VerifiedImage[]> {
  return existenceEntries(loginServer, images, await imagesExist(session, loginServer, images, { tenantId }));
}

/** The problems of a target's entries, one line each: the image that does not exist said apart from the one that cannot be pulled. */
export function imageProblems(entries: readonly VerifiedImage[]): string[] {
  return entries.filter((e) => !e.ok).map((e) => (e.missing ? `image ${e.image} does not exist: ${e.error}` : `cannot pull ${e.image}: ${e.error}`));
}
