// verify-from cluster: one short-lived, unprivileged Pod per image in the target namespace
// (probe-pod.ts renders it), watched by polling (get, at most every second) until the kubelet
// reports the pull (the container runs or ended) or a pull error (ErrImagePull, ImagePullBackOff,
// ...), its words quoted from the Pod's events ("Failed to pull image ...") or its container
// state. The Pod is deleted afterwards whatever happened: in a finally, also after a fault or the
// wait's end, and the delete itself is bounded. It needs, in that namespace: pods create, get,
// delete and events list (README "verify-from: cluster"). Polling rather than a watch: the Role
// then needs no `watch`, and a proxy that cuts long requests cannot stall it.
import type { Deps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import type { KubeClient, LivePod } from '../kube/types.ts';
import type { ImageSetting } from '../settings.ts';
import { fullRef } from './image-ref.ts';
import { digestOfImageID, podVerdict, probeName, probePod, pullEvents, runLabel, PROBE_LABEL } from './probe-pod.ts';
import type { ImageTarget, VerifiedImage } from './types.ts';

/** The longest the action waits for the kubelet's verdict on one image (a large image on a slow node takes minutes). */
export const PROBE_WAIT_MS = 180_000;
const POLL_MS = 1000;
/** The longest the cleanup of one probe Pod may take (its requests are retried within it). */
const DELETE_BUDGET_MS = 60_000;

/** A knob the tests turn: whole milliseconds within [min, max], else the default. */
function knob(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const v = env[name]?.trim();
  if (!v || !/^\d{1,7}$/.test(v)) return fallback;
  return Math.min(max, Math.max(min, Number(v)));
}

export interface ClusterProbeContext {
  kube: KubeClient;
  deps: Pick<Deps, 'runner' | 'env' | 'sleep' | 'now'>;
  loginServer: string;
  images: readonly ImageSetting[];
}

async function withinMs<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The probe Pods of one target, one image after the other; an entry for each image. */
export async function probeInCluster(ctx: ClusterProbeContext, target: ImageTarget): Promise<VerifiedImage[]> {
  const { kube, deps } = ctx;
  const namespace = target.namespace ?? 'default';
  if (!kube.createPod || !kube.getPod || !kube.deletePod || !kube.listEvents) throw new Error('the Kubernetes client cannot run probe Pods');
  const run = runLabel(deps.env);
  const waitMs = knob(deps.env, 'ACR_KUBE_AUTH_PROBE_TIMEOUT_MS', PROBE_WAIT_MS, 1000, 3_600_000);
  const via = target.pullSecret ? `pull secret ${namespace}/${target.pullSecret}` : "the kubelet's own identity (no pull secret)";
  const out: VerifiedImage[] = [];
  for (const image of ctx.images) {
    const ref = fullRef(image, ctx.loginServer);
    const name = probeName(ref, run, namespace);
    const base = { image: ref, proof: 'probe-pod' as const, via, target: target.target, pod: `${namespace}/${name}` };
    let created = false;
    try {
      const pod = probePod({ name, namespace, image: ref, pullSecret: target.pullSecret, run });
      try {
        await kube.createPod(pod);
      } catch (e) {
        // this run's own Pod of an earlier attempt (a retried create whose first answer was lost, a re-run attempt): replace it
        if (!(e instanceof ApiError && e.status === 409)) throw e;
        await kube.deletePod(namespace, name);
        await kube.createPod(pod);
      }
      created = true;
      deps.runner.info(
        `verify-from cluster: Pod ${namespace}/${name} pulls ${ref} (${via}); waiting up to ${Math.round(waitMs / 1000)} s for the kubelet`,
      );
      out.push({ ...base, ...(await watch(kube, namespace, name, waitMs, deps)) });
    } catch (e) {
      out.push({ ...base, ok: false, error: `the probe Pod could not be run: ${(e as Error).message}` });
    } finally {
      // whatever happened: the Pod goes (a create that failed may still have made it)
      try {
        await withinMs(DELETE_BUDGET_MS, `deleting Pod ${namespace}/${name}`, () => kube.deletePod!(namespace, name));
        if (created) deps.runner.debug(`deleted probe Pod ${namespace}/${name}`);
      } catch (e) {
        deps.runner.warning(
          `Could not delete the probe Pod ${namespace}/${name}: ${(e as Error).message}. Its deadline ends it; remove it with \`kubectl delete pod -n ${namespace} -l ${PROBE_LABEL}=true\`.`,
        );
      }
    }
  }
  return out;
}

/** Polls the Pod until the kubelet's verdict or `waitMs`; the entry's outcome. */
async function watch(
  kube: KubeClient,
  namespace: string,
  name: string,
  waitMs: number,
  deps: ClusterProbeContext['deps'],
): Promise<Pick<VerifiedImage, 'ok' | 'digest' | 'error' | 'retryable'>> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const pod: LivePod | undefined = await kube.getPod!(namespace, name);
    if (!pod) return { ok: false, error: `Pod ${namespace}/${name} was deleted before the kubelet reported the pull` };
    const v = podVerdict(pod);
    if ('pulled' in v) {
      const events = pullEvents(await kube.listEvents!(namespace, name).catch(() => []));
      if (v.pulled) return { ok: true, ...(digestOfImageID(v.imageID) ? { digest: digestOfImageID(v.imageID) } : {}) };
      const said = events.failed ?? v.message;
      // a refused credential (401, authorization): a new password or role may still be taking effect
      const retryable = /401 Unauthorized|may require authorization|failed to authorize/.test(said);
      return { ok: false, error: `the kubelet reported ${v.reason}${said ? `: "${said}"` : ''}`, ...(retryable ? { retryable: true } : {}) };
    }
    if (Date.now() >= deadline) {
      return { ok: false, error: `the kubelet reported no pull within ${Math.round(waitMs / 1000)} s (the Pod was ${v.waiting})` };
    }
    await deps.sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
  }
}
