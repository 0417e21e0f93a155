// The real dependencies: the Actions runner, the clock, and factories that load the heavy SDKs
// only when a path asks for them.
import type { Deps } from './deps.ts';
import { actionsRunner } from './runner-actions.ts';
import { sleep } from './retry.ts';
import { githubAssertion } from './auth/assertion.ts';

export function createDeps(): Deps {
  const runner = actionsRunner();
  return {
    runner,
    env: process.env,
    now: () => new Date(),
    sleep,
    azure: async (settings) => {
      // The session (identity) loads first and asks for its ARM token at once; the clients' chunk
      // loads while MSAL prepares that request. Measured (bench/RESULTS.md): MSAL's first request
      // is issued about 40 ms after the session exists, as the clients' chunk finishes loading,
      // so the two overlap; the token itself still takes its two round trips after that.
      // OIDC: GitHub's token is asked for first, so that its answer time overlaps the SDK load.
      const login = settings.login;
      const assertion = login.kind === 'oidc' ? githubAssertion(login.audience, process.env, (aud) => runner.getIDToken(aud)) : undefined;
      assertion?.prefetch();
      const { createSession } = await import('./azure/session.ts');
      const session = createSession(settings, runner, process.env, assertion);
      session.token(`${settings.cloud.armAudience}.default`).catch(() => undefined); // the real call reports failures
      const { createAzureClients } = await import('./azure/index.ts');
      return createAzureClients(settings, runner, process.env, session);
    },
    kube: async (source) =>
      (await import('./kube/client.ts')).createKubeClient(source, {
        debug: (l) => runner.debug(l),
        warn: (l) => runner.warning(l),
        info: (l) => runner.info(l),
        secret: (v) => runner.setSecret(v),
      }),
  };
}
