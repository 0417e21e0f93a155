// The pull-secret scenario: any cluster. Obtain a registry credential, write a
// kubernetes.io/dockerconfigjson Secret into each namespace (merging with other registries'
// entries, never delete-then-create), add it to service accounts (attach.ts); or detach
// (detach.ts), verify (verify.ts), render (attach.ts). Where the credential comes from is the
// source's business (sources/).
import type { PullSecretSettings } from '../../settings.ts';
import type { Deps } from '../../deps.ts';
import type { Result } from '../../result.ts';
import { emptyResult } from '../../result.ts';
import { formatError } from '../../errors.ts';
import { ConsentRequiredError } from '../steps/tenant-principal.ts';
import { credentialSource } from './sources/index.ts';
import { attach, render } from './attach.ts';
import { detach } from './detach.ts';
import { verify } from './verify.ts';
import type { KubeClient } from '../../kube/types.ts';
import type { CredentialSource } from './sources/credential-source.ts';

/**
 * Reads the kubeconfig before any network call; undefined when the run does not touch the cluster.
 * Loaded on demand, so the render path (apply: false) loads neither it nor js-yaml's parser.
 */
async function preflight(settings: PullSecretSettings, deps: Deps) {
  const ps = settings.pullSecret;
  if (!ps.apply && settings.operation === 'attach') return undefined;
  const { resolveKubeconfig } = await import('../../kube/kubeconfig.ts');
  return resolveKubeconfig(ps.kubeconfig, ps.kubeContext, deps.env);
}

/** attach with `image`: each namespace written pulls each image with the credential just written (verify.ts's proofs), propagation waited for. */
async function verifyAfterAttach(
  settings: PullSecretSettings,
  deps: Deps,
  kube: KubeClient,
  source: CredentialSource,
  result: Result,
): Promise<void> {
  const { foldVerdicts, verifyImagesWithin, PROPAGATION } = await import('../../verify/index.ts');
  const entry = result.dockerConfigJson
    ? (JSON.parse(result.dockerConfigJson) as { auths?: Record<string, { username?: string; password?: string }> }).auths?.[source.loginServer]
    : undefined;
  const { secretName } = settings.pullSecret;
  const targets = result.results
    .filter((r) => r.ok)
    .map((r) => ({
      target: r.target,
      namespace: r.target,
      pullSecret: secretName,
      ...(entry?.username && entry.password
        ? { credential: { username: entry.username, password: entry.password, via: `secret ${r.target}/${secretName} (user ${entry.username})` } }
        : {}),
    }));
  const type = settings.pullSecret.credential.type;
  const verdicts = await verifyImagesWithin(
    { verify: settings.verify, loginServer: source.loginServer, deps, signedIn: source.signedIn, kube },
    targets,
    type === 'service-principal'
      ? { budgetMs: PROPAGATION.role, what: 'a new role assignment' }
      : { budgetMs: PROPAGATION.password, what: type === 'token' ? 'a new token password' : 'the new credential' },
  );
  foldVerdicts(result, verdicts, 'written, not pullable');
  result.namespaces = result.results.filter((r) => r.ok).map((r) => r.target);
}

export async function runPullSecret(settings: PullSecretSettings, deps: Deps): Promise<Result> {
  // The kubeconfig is an input too: read and checked here, before any network call.
  const kubeSource = await preflight(settings, deps);
  const source = await credentialSource(settings, deps);
  const result = emptyResult('pull-secret', source.loginServer);
  result.credentialType = settings.pullSecret.credential.type;
  result.secretName = settings.pullSecret.secretName;
  result.registryId = source.registryId;

  try {
    if (!kubeSource) return await render(settings, deps, source, result);
    const kube = await deps.kube(kubeSource);
    if (settings.operation === 'detach') return await detach(settings, deps, kube, source, result);
    if (settings.operation === 'verify') return await verify(settings, deps, kube, source, result);
    const attached = await attach(settings, deps, kube, source, result);
    if (settings.verify.images.length && !settings.dryRun) await verifyAfterAttach(settings, deps, kube, source, attached);
    return attached;
  } catch (e) {
    if (!(e instanceof ConsentRequiredError)) throw e;
    // No namespace can get its secret without the principal; the consent link is the way out.
    result.consentUrl = e.consentUrl;
    result.results = settings.pullSecret.namespaces.map((ns) => ({
      target: ns,
      namespace: ns,
      ok: false,
      changed: false,
      action: 'failed',
      secretName: settings.pullSecret.secretName,
      error: formatError(e),
    }));
    result.namespaces = [];
    return result;
  }
}
