// Pull-secret verify: each namespace's secret holds an entry for the registry that has not expired
// and that the registry accepts (each distinct credential asked once), and each service account
// lists the secret. Writes nothing.
import type { PullSecretSettings } from '../../settings.ts';
import type { Deps } from '../../deps.ts';
import type { Result } from '../../result.ts';
import type { KubeClient } from '../../kube/types.ts';
import { parseRegistries } from '../../kube/render.ts';
import { registryEntry } from './secret-entry.ts';
import { eachNamespace, settle, type NamespaceOutcome } from './settle.ts';
import type { CredentialSource } from './sources/credential-source.ts';
import type { ImageTarget } from '../../verify/index.ts';

export async function verify(settings: PullSecretSettings, deps: Deps, kube: KubeClient, source: CredentialSource, result: Result): Promise<Result> {
  const { namespaces, serviceAccounts, secretName } = settings.pullSecret;
  const loginServer = source.loginServer;
  const checked = new Map<string, Promise<string | undefined>>();
  // `image`: each namespace's credential (or, from the cluster, its pull secret) proves each image
  const imageTargets: ImageTarget[] = [];
  const outcomes = await eachNamespace(settings, deps, async (namespace): Promise<NamespaceOutcome> => {
    const problems: string[] = [];
    const live = await kube.getSecret(namespace, secretName);
    let expiresOn: string | undefined;
    if (!live) problems.push(`Secret ${namespace}/${secretName} is missing`);
    else {
      deps.runner.setSecret(live.data?.['.dockerconfigjson'] ?? '');
      const entry = registryEntry(live, loginServer);
      if (!entry) problems.push(`Secret ${namespace}/${secretName} has no entry for ${loginServer}`);
      else {
        const { username, password } = entry;
        if (password) deps.runner.setSecret(password);
        const record = parseRegistries(live.metadata.annotations)[loginServer];
        expiresOn = record?.expiresOn;
        if (expiresOn && Date.parse(expiresOn) <= deps.now().getTime())
          problems.push(`the credential in ${namespace}/${secretName} expired on ${expiresOn}`);
        else if (username && password) {
          // verify-from cluster: the probe Pod proves the credential from where the cluster stands (the runner may not reach the registry)
          const key = `${username}\n${password}`;
          if (settings.verify.from !== 'cluster') {
            if (!checked.has(key)) checked.set(key, source.check(username, password, record));
            const rejected = await checked.get(key)!;
            if (rejected) problems.push(rejected);
          }
          imageTargets.push({
            target: namespace,
            namespace,
            pullSecret: secretName,
            credential: { username, password, via: `secret ${namespace}/${secretName} (user ${username})` },
          });
        } else problems.push(`the entry for ${loginServer} in ${namespace}/${secretName} has no username and password`);
      }
    }
    for (const sa of serviceAccounts) {
      const account = await kube.getServiceAccount(namespace, sa);
      if (!account) problems.push(`service account ${namespace}/${sa} is missing`);
      else if (!(account.imagePullSecrets ?? []).some((s) => s.name === secretName))
        problems.push(`service account ${namespace}/${sa} does not list ${secretName} in imagePullSecrets`);
    }
    return {
      result: {
        target: namespace,
        namespace,
        ok: problems.length === 0,
        changed: false,
        action: problems.length ? 'broken' : 'verified',
        secretName,
        expiresOn,
        ...(problems.length ? { error: problems.join('; '), details: problems } : {}),
      },
      writes: [],
      lines: [],
    };
  });
  settle(result, namespaces, outcomes);
  if (settings.verify.images.length) {
    const { foldVerdicts, verifyImages } = await import('../../verify/index.ts');
    const verdicts = await verifyImages({ verify: settings.verify, loginServer, deps, signedIn: source.signedIn, kube }, imageTargets);
    foldVerdicts(result, verdicts, 'broken');
    result.namespaces = result.results.filter((r) => r.ok).map((r) => r.target);
  }
  const exp = result.results
    .map((r) => r.expiresOn)
    .filter(Boolean)
    .sort()[0];
  if (exp) result.expiresOn = exp;
  return result;
}
