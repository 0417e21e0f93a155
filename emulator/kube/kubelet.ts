// The kubelet stand-in: for the probe Pods the action creates (label acr-kube-auth.github.io/probe),
// it does what a node's kubelet and container runtime do for an image, for real: it resolves the
// Pod's imagePullSecrets from the stored Secrets (or, with none, the credential the kubelet's own
// identity gets from ACR: an AKS cluster's kubelet identity exchanged at the registry, as the ACR
// credential provider does), and pulls the image's manifest and config with `skopeo inspect`
// through the cluster's network (emulator/network.ts: HTTPS_PROXY is the cluster egress, so the
// registry sees the cluster's connection, not the runner's). It records what the kubelet records:
//   - events, with the kubelet's reasons and messages (pkg/kubelet/images/image_manager.go and
//     kuberuntime_container.go: Pulling `Pulling image "x"`; Pulled `Successfully pulled image "x" in
//     D (D including waiting). Image size: N bytes.`; Failed `Failed to pull image "x": <err>`, then
//     Failed `Error: ErrImagePull`; BackOff `Back-off pulling image "x"`, then Failed `Error:
//     ImagePullBackOff`; FailedToRetrieveImagePullSecret for a missing secret, pkg/kubelet/
//     kubelet_pods.go), and Scheduled, Created, Started as the scheduler and kubelet write them;
//   - the container's state: waiting ErrImagePull (message: the runtime's error) and then
//     ImagePullBackOff (message: `Back-off pulling image "x"`), or running with its imageID.
// The runtime's error text inside those messages is containerd's as kubelets print it (seen in
// real events: `failed to pull and unpack image "R": failed to resolve reference "R": R: not
// found`, `... pull access denied, repository does not exist or may require authorization: server
// message: ...`, `... failed to authorize: failed to fetch oauth token: unexpected status ...: 401
// Unauthorized`, `... failed to do request: Head "https://H/v2/...": dial tcp: lookup H on
// 10.0.0.10:53: no such host`), built from what skopeo met. The stand-in pulls once and then backs
// off for good (a real kubelet retries with a growing back-off up to 5 minutes); a Pod without the
// probe label stays Pending (no node runs it).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRegistryByHost } from '../arm/acr.ts';
import { rbacAllows, ACR_ISSUER } from '../acr.ts';
import { reach } from '../network.ts';
import { nextResourceVersion } from './storage.ts';
import { timestamp } from './objects.ts';
import type { EmuContext, KubeObject, KubeState } from '../types.ts';

export const PROBE_LABEL = 'acr-kube-auth.github.io/probe';
const NODE = 'aks-nodepool1-00000000-vmss000000';
/** The cluster DNS service the kubelet's resolver asks (AKS's default kube-dns address). */
const CLUSTER_DNS = '10.0.0.10:53';
/** A public address for a registry whose connection times out (TEST-NET-1). */
const REGISTRY_PUBLIC_IP = '192.0.2.10';
const BACKOFF_MS = 1000;

type Obj = Record<string, any>;

/** Pulls in flight, by Pod uid: deleting the Pod stops its pull. */
const running = new Map<string, AbortController>();

const lc = (s: string) => s.toLowerCase();

function event(
  ctx: EmuContext,
  kube: KubeState,
  pod: KubeObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  component = 'kubelet',
): void {
  const ns = pod.metadata.namespace!;
  const now = timestamp(ctx);
  const name = `${pod.metadata.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
  const ev: KubeObject = {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name, namespace: ns, uid: ctx.newGuid(), resourceVersion: nextResourceVersion(kube), creationTimestamp: now },
    involvedObject: {
      kind: 'Pod',
      namespace: ns,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      apiVersion: 'v1',
      resourceVersion: pod.metadata.resourceVersion,
      ...(component === 'kubelet' ? { fieldPath: 'spec.containers{probe}' } : {}),
    },
    reason,
    message,
    source: component === 'kubelet' ? { component, host: NODE } : { component },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type,
    eventTime: null,
    reportingComponent: component,
    reportingInstance: component === 'kubelet' ? NODE : '',
  };
  ((kube.events ??= {})[ns] ??= {})[name] = ev;
}

/** The Pod as stored now, if it is still the one the pull is for. */
function current(kube: KubeState, pod: KubeObject): KubeObject | undefined {
  const p = kube.pods?.[pod.metadata.namespace!]?.[pod.metadata.name];
  return p && p.metadata.uid === pod.metadata.uid ? p : undefined;
}

function setStatus(kube: KubeState, pod: KubeObject, status: Obj): void {
  const p = current(kube, pod);
  if (!p) return;
  p.status = status;
  p.metadata.resourceVersion = nextResourceVersion(kube);
}

interface Credential {
  username: string;
  password: string;
}

/** The credentials the Pod's imagePullSecrets hold for `host`, in order; missing secrets named. */
function secretCredentials(kube: KubeState, pod: KubeObject, host: string): { creds: Credential[]; missing: string[] } {
  const ns = pod.metadata.namespace!;
  const names: string[] = ((pod.spec as Obj)?.imagePullSecrets ?? []).map((s: Obj) => String(s?.name ?? ''));
  const creds: Credential[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const secret = kube.secrets?.[ns]?.[name] as Obj | undefined;
    if (!secret) {
      missing.push(name);
      continue;
    }
    if (secret.type !== 'kubernetes.io/dockerconfigjson') continue;
    try {
      const cfg = JSON.parse(Buffer.from(String(secret.data?.['.dockerconfigjson'] ?? ''), 'base64').toString('utf8')) as {
        auths?: Record<string, { username?: string; password?: string; auth?: string }>;
      };
      for (const [server, a] of Object.entries(cfg.auths ?? {})) {
        const key = lc(server.replace(/^https?:\/\//, '').replace(/\/.*$/, ''));
        if (key !== lc(host)) continue;
        let { username, password } = a;
        if ((!username || !password) && a.auth) {
          const d = Buffer.from(a.auth, 'base64').toString('utf8');
          username = d.slice(0, d.indexOf(':'));
          password = d.slice(d.indexOf(':') + 1);
        }
        if (username && password) creds.push({ username, password });
      }
    } catch {
      // a secret the kubelet cannot read holds no credential
    }
  }
  return { creds, missing };
}

/**
 * The credential an AKS node gets for an ACR without a pull secret: the ACR credential provider
 * exchanges the kubelet identity's Entra token at /oauth2/exchange for a refresh token; the
 * exchange fails ("retrieving permissions failed") when the identity holds no pull role, and the
 * pull then goes anonymous. The stand-in issues that refresh token as the exchange would.
 */
function kubeletIdentityCredential(ctx: EmuContext, kube: KubeState, registry: Obj): Credential | undefined {
  const clusterId = kube.kubelet?.aksClusterId;
  const cluster = clusterId ? ctx.state.resources[lc(clusterId)] : undefined;
  const oid: string | undefined = cluster?.properties?.identityProfile?.kubeletidentity?.objectId;
  if (!oid || !rbacAllows(ctx.state, registry, oid, undefined, 'pull')) return undefined;
  const tid = ctx.state.subscriptions[String(registry.id).split('/')[2]]?.tenantId ?? '';
  const now = Math.floor(ctx.now().getTime() / 1000);
  const exp = now + 3 * 3600;
  const token = ctx.signJwt({
    jti: ctx.newGuid(),
    sub: oid,
    nbf: now,
    exp,
    iat: now,
    iss: ACR_ISSUER,
    aud: String(registry.properties.loginServer),
    version: '1.0',
    rid: lc(String(registry.id)),
    grant_type: 'refresh_token',
    tenant: tid,
    permissions: { actions: ['*'], notActions: [] },
    roles: [],
  });
  ctx.state.registrySecrets.refreshTokens[token] = { registry: String(registry.id), oid, tid, exp };
  return { username: '00000000-0000-0000-0000-000000000000', password: token };
}

interface ParsedImage {
  host: string;
  repository: string;
  reference: string;
  /** as the kubelet names it in messages (the Pod's image field) */
  text: string;
}

function parseImage(image: string): ParsedImage | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const host = image.slice(0, slash);
  let rest = image.slice(slash + 1);
  let reference = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at).replace(/:[^/]*$/, '');
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  return { host, repository: rest, reference, text: image };
}

function skopeo(
  args: string[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('skopeo', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const stop = () => child.kill('SIGKILL');
    const timer = setTimeout(stop, timeoutMs);
    timer.unref();
    signal.addEventListener('abort', stop, { once: true });
    child.on('error', (e) => {
      stderr += String(e.message);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** containerd's resolver error for what skopeo met (see the header). */
function runtimeError(img: ParsedImage, stderr: string): string {
  const head = `failed to pull and unpack image "${img.text}": failed to resolve reference "${img.text}"`;
  const manifestUrl = `https://${img.host}/v2/${img.repository}/manifests/${img.reference}`;
  if (/manifest unknown|MANIFEST_UNKNOWN|NAME_UNKNOWN|not found/i.test(stderr)) return `${head}: ${img.text}: not found`;
  if (/403|DENIED|not allowed access/i.test(stderr)) return `${head}: unexpected status from HEAD request to ${manifestUrl}: 403 Forbidden`;
  if (/retrieve auth token|invalid username\/password|oauth2\/token/i.test(stderr))
    return `${head}: failed to authorize: failed to fetch oauth token: unexpected status from POST request to https://${img.host}/oauth2/token: 401 Unauthorized`;
  if (/unauthorized|authentication required|401/i.test(stderr))
    return `${head}: pull access denied, repository does not exist or may require authorization: server message: unauthorized: authentication required, visit https://aka.ms/acr/authorization for more information.`;
  const last = stderr.trim().split('\n').pop() ?? '';
  const msg = /msg="([^"]*)"/.exec(last)?.[1] ?? last;
  return `${head}: ${msg.slice(0, 300)}`;
}

async function pull(ctx: EmuContext, kube: KubeState, pod: KubeObject, signal: AbortSignal): Promise<void> {
  const container = ((pod.spec as Obj).containers ?? [])[0] as Obj;
  const imageText = String(container.image);
  const now = () => timestamp(ctx);
  const startTime = now();
  const waiting = (reason: string, message?: string) => ({
    phase: 'Pending',
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: startTime },
      { type: 'Initialized', status: 'True', lastTransitionTime: startTime },
      {
        type: 'Ready',
        status: 'False',
        reason: 'ContainersNotReady',
        message: 'containers with unready status: [probe]',
        lastTransitionTime: startTime,
      },
      {
        type: 'ContainersReady',
        status: 'False',
        reason: 'ContainersNotReady',
        message: 'containers with unready status: [probe]',
        lastTransitionTime: startTime,
      },
    ],
    hostIP: '10.224.0.4',
    startTime,
    qosClass: 'Burstable',
    containerStatuses: [
      {
        name: String(container.name),
        image: imageText,
        imageID: '',
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason, ...(message ? { message } : {}) } },
      },
    ],
  });
  (pod.spec as Obj).nodeName = NODE;
  event(
    ctx,
    kube,
    pod,
    'Normal',
    'Scheduled',
    `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${NODE}`,
    'default-scheduler',
  );
  setStatus(kube, pod, waiting('ContainerCreating'));

  const img = parseImage(imageText);
  const fail = async (err: string) => {
    if (!current(kube, pod)) return;
    event(ctx, kube, pod, 'Warning', 'Failed', `Failed to pull image "${imageText}": ${err}`);
    event(ctx, kube, pod, 'Warning', 'Failed', 'Error: ErrImagePull');
    setStatus(kube, pod, waiting('ErrImagePull', err));
    await new Promise((r) => setTimeout(r, BACKOFF_MS).unref());
    if (!current(kube, pod) || signal.aborted) return;
    event(ctx, kube, pod, 'Normal', 'BackOff', `Back-off pulling image "${imageText}"`);
    event(ctx, kube, pod, 'Warning', 'Failed', 'Error: ImagePullBackOff');
    setStatus(kube, pod, waiting('ImagePullBackOff', `Back-off pulling image "${imageText}"`));
  };
  if (!img) {
    event(ctx, kube, pod, 'Warning', 'InspectFailed', `Failed to apply default image tag "${imageText}": couldn't parse image name "${imageText}"`);
    setStatus(kube, pod, waiting('InvalidImageName', `Failed to apply default image tag "${imageText}"`));
    return;
  }
  const { creds, missing } = secretCredentials(kube, pod, img.host);
  if (missing.length)
    event(
      ctx,
      kube,
      pod,
      'Warning',
      'FailedToRetrieveImagePullSecret',
      `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`,
    );
  event(ctx, kube, pod, 'Normal', 'Pulling', `Pulling image "${imageText}"`);
  const registry = findRegistryByHost(ctx.state, img.host);
  if (registry) {
    const route = reach(ctx.state, registry, 'cluster', kube);
    const hostname = img.host.replace(/:\d+$/, '');
    const head = `failed to pull and unpack image "${img.text}": failed to resolve reference "${img.text}": failed to do request: Head "https://${img.host}/v2/${img.repository}/manifests/${img.reference}"`;
    if (!route.ok && route.failure === 'dns') return fail(`${head}: dial tcp: lookup ${hostname} on ${CLUSTER_DNS}: no such host`);
    if (!route.ok && route.failure === 'timeout') return fail(`${head}: dial tcp ${REGISTRY_PUBLIC_IP}:443: i/o timeout`);
    if (!creds.length && !(pod.spec as Obj).imagePullSecrets?.length) {
      const own = kubeletIdentityCredential(ctx, kube, registry);
      if (own) creds.push(own);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'acr-kubelet-'));
  try {
    const certs = join(dir, 'certs');
    mkdirSync(certs);
    if (ctx.caCertPath) copyFileSync(ctx.caCertPath, join(certs, 'ca.crt'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      ...(ctx.clusterEgressUrl ? { HTTPS_PROXY: ctx.clusterEgressUrl, NO_PROXY: '' } : {}),
    };
    const timeoutMs = kube.kubelet?.pullTimeoutMs ?? 60_000;
    const started = Date.now();
    let last = '';
    // the kubelet tries each matching credential in turn, then (with none) anonymously
    for (const cred of creds.length ? creds : [undefined]) {
      const authfile = join(dir, 'auth.json');
      writeFileSync(
        authfile,
        JSON.stringify({ auths: cred ? { [img.host]: { auth: Buffer.from(`${cred.username}:${cred.password}`).toString('base64') } } : {} }),
      );
      const r = await skopeo(
        ['inspect', '--retry-times', '0', '--no-tags', '--cert-dir', certs, '--authfile', authfile, `docker://${img.text}`],
        env,
        signal,
        timeoutMs,
      );
      if (signal.aborted || !current(kube, pod)) return;
      if (r.code === 0) {
        let digest = '';
        let size = 0;
        try {
          const j = JSON.parse(r.stdout) as { Digest?: string; LayersData?: { Size?: number }[] };
          digest = j.Digest ?? '';
          size = (j.LayersData ?? []).reduce((a, l) => a + (l.Size ?? 0), 0);
        } catch {
          // skopeo printed something else
        }
        const ms = Date.now() - started;
        event(
          ctx,
          kube,
          pod,
          'Normal',
          'Pulled',
          `Successfully pulled image "${imageText}" in ${ms}ms (${ms}ms including waiting). Image size: ${size} bytes.`,
        );
        event(ctx, kube, pod, 'Normal', 'Created', 'Created container: probe');
        event(ctx, kube, pod, 'Normal', 'Started', 'Started container probe');
        const ts = now();
        setStatus(kube, pod, {
          ...waiting('ContainerCreating'),
          phase: 'Running',
          conditions: [
            { type: 'PodScheduled', status: 'True', lastTransitionTime: startTime },
            { type: 'Initialized', status: 'True', lastTransitionTime: startTime },
            { type: 'Ready', status: 'True', lastTransitionTime: ts },
            { type: 'ContainersReady', status: 'True', lastTransitionTime: ts },
          ],
          podIP: '10.244.0.23',
          containerStatuses: [
            {
              name: String(container.name),
              image: imageText,
              imageID: digest ? `${img.host}/${img.repository}@${digest}` : '',
              containerID: `containerd://${ctx.newGuid().replace(/-/g, '')}`,
              ready: true,
              restartCount: 0,
              started: true,
              state: { running: { startedAt: ts } },
            },
          ],
        });
        return;
      }
      last = r.stderr;
    }
    await fail(runtimeError(img, last));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A Pod was created: the stand-in pulls its image when it is a probe Pod of the action. */
export function podAdded(ctx: EmuContext, kube: KubeState, stored: KubeObject): void {
  if (stored.metadata.labels?.[PROBE_LABEL] !== 'true') return;
  const pod = stored;
  const abort = new AbortController();
  running.set(String(pod.metadata.uid), abort);
  const go = () => {
    if (ctx.state.kube !== kube || !current(kube, pod)) return;
    pull(ctx, kube, pod, abort.signal)
      .catch((e: unknown) => {
        if (current(kube, pod))
          event(
            ctx,
            kube,
            pod,
            'Warning',
            'Failed',
            `Failed to pull image "${String(((pod.spec as Obj).containers ?? [])[0]?.image)}": ${(e as Error).message}`,
          );
      })
      .finally(() => running.delete(String(pod.metadata.uid)));
  };
  const delay = kube.kubelet?.startDelayMs ?? 0;
  setTimeout(go, Math.max(0, delay)).unref();
}

/** A Pod was deleted: its pull stops. */
export function podDeleted(pod: KubeObject): void {
  running.get(String(pod.metadata.uid))?.abort();
}
