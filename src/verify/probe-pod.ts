// The probe Pod of verify-from cluster, and how to read what the kubelet reports about it. Pure.
//
// The Pod only has to make the kubelet pull the image, with the pull secret (pull-secret paths) or
// with nothing (attach paths: the kubelet's own identity):
//   - imagePullPolicy Always: the kubelet asks the registry even when the node has the image
//     cached, so the credential is what is proven (kubelet: shouldPullImage);
//   - restartPolicy Never, activeDeadlineSeconds (the kubelet ends it even if the action cannot),
//     terminationGracePeriodSeconds 0;
//   - no hostNetwork, no host namespaces, no service account token (automountServiceAccountToken
//     false), no service links; Pod securityContext runAsNonRoot with a fixed non-root uid (65532)
//     and seccomp RuntimeDefault; the container with allowPrivilegeEscalation false, privileged
//     false, capabilities drop ALL, readOnlyRootFilesystem: the Restricted Pod Security Standard,
//     so namespaces that enforce it admit the Pod;
//   - no command: the image's own entrypoint would run (as uid 65532, without privileges), but
//     only the pull matters and the Pod is deleted as soon as the kubelet reports it; a command
//     would have to exist in the image, which the action cannot know;
//   - small requests and limits, so a namespace whose ResourceQuota requires them admits it.
// Its name carries a hash of the image and the run (GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT), its labels
// the action and the run: a leftover (a runner killed mid-run) is found with
// `kubectl delete pod -l acr-kube-auth.github.io/probe=true`, and its deadline has ended it anyway.
import { createHash } from 'node:crypto';
import type { ContainerStateLike, KubeEvent, LivePod, PodObject } from '../kube/types.ts';

export const PROBE_LABEL = 'acr-kube-auth.github.io/probe';
export const RUN_LABEL = 'acr-kube-auth.github.io/run-id';
export const MANAGED_BY = 'app.kubernetes.io/managed-by';

/** How long the kubelet lets the probe Pod live, whatever happens to the action (s). */
export const PROBE_DEADLINE_S = 300;

/** A label value from the run's id (63 characters of [A-Za-z0-9._-], starting and ending alphanumeric). */
export function runLabel(env: Record<string, string | undefined>): string {
  const raw = env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}` : 'local';
  const v = raw
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return v || 'local';
}

/** `acr-kube-auth-probe-<image hash>-<run hash>`: one Pod per image and run, 40 characters. */
export function probeName(image: string, run: string, salt = ''): string {
  const h = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);
  return `acr-kube-auth-probe-${h(image)}-${h(`${run}${salt}`)}`;
}

export function probePod(opts: { name: string; namespace: string; image: string; pullSecret?: string; run: string }): PodObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: opts.name,
      namespace: opts.namespace,
      labels: { [MANAGED_BY]: 'acr-kube-auth', [PROBE_LABEL]: 'true', [RUN_LABEL]: opts.run },
      annotations: { 'acr-kube-auth.github.io/image': opts.image },
    },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: PROBE_DEADLINE_S,
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      ...(opts.pullSecret ? { imagePullSecrets: [{ name: opts.pullSecret }] } : {}),
      securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'probe',
          image: opts.image,
          imagePullPolicy: 'Always',
          securityContext: {
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
        },
      ],
    },
  };
}

/** The waiting reasons that mean the pull failed (kubelet pkg/kubelet/images/types.go). */
const PULL_FAILED = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RegistryUnavailable',
  'SignatureValidationFailed',
]);

export type PodVerdict = { pulled: true; imageID?: string } | { pulled: false; reason: string; message: string } | { waiting: string };

/**
 * What the Pod's status says about the pull: pulled (the container is running or has terminated:
 * its image was there), failed (a pull error reason, its message), or still waiting (and why).
 */
export function podVerdict(pod: LivePod): PodVerdict {
  const cs = pod.status?.containerStatuses?.find((c) => c.name === 'probe') ?? pod.status?.containerStatuses?.[0];
  const state: ContainerStateLike = cs?.state ?? {};
  if (state.running || state.terminated) return { pulled: true, ...(cs?.imageID ? { imageID: cs.imageID } : {}) };
  const w = state.waiting;
  if (w?.reason && PULL_FAILED.has(w.reason)) return { pulled: false, reason: w.reason, message: w.message ?? '' };
  if (pod.status?.phase === 'Failed' && pod.status.reason === 'DeadlineExceeded') {
    return { pulled: false, reason: 'DeadlineExceeded', message: pod.status.message ?? 'the Pod reached its deadline before the image was pulled' };
  }
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unschedulable)
    return {
      waiting: `not scheduled${unschedulable.reason ? ` (${unschedulable.reason})` : ''}${unschedulable.message ? `: ${unschedulable.message}` : ''}`,
    };
  return { waiting: w?.reason ? `${w.reason}${w.message ? `: ${w.message}` : ''}` : (pod.status?.phase ?? 'Pending') };
}

/** The kubelet's own words about the pull, newest last: the Pulled event, or the Failed one ("Failed to pull image ..."). */
export function pullEvents(events: readonly KubeEvent[]): { pulled?: string; failed?: string } {
  const out: { pulled?: string; failed?: string } = {};
  for (const e of events) {
    if (e.reason === 'Pulled' && e.message) out.pulled = e.message;
    if (e.reason === 'Failed' && e.message?.startsWith('Failed to pull image')) out.failed = e.message;
  }
  return out;
}

/** `sha256:...` out of a container status imageID (`docker-pullable://x@sha256:...`, `x@sha256:...`). */
export function digestOfImageID(imageID: string | undefined): string | undefined {
  const m = /@(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/.exec(imageID ?? '');
  return m?.[1];
}
