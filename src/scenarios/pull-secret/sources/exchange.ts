// credential-type: exchange. The signed-in identity's Entra access token for ACR itself (the
// cloud's ACR audience, https://containerregistry.azure.net: src/clouds.ts) is exchanged at the
// registry's POST /oauth2/exchange for an ACR refresh token (shared/azure-api/acr-dataplane/AAD-OAuth.md).
// Not an ARM token: a registry whose azureADAuthenticationAsArmPolicy is disabled (Microsoft's
// recommendation) refuses those, and an ACR-audience token works with either setting
// (acr-dataplane/AUDIENCES.md; az acr login asks for the same audience). Username: the null GUID;
// password: the refresh token; expiry: its `exp` claim, about 3 hours out. Good for a job that
// deploys right away, not for pods that restart tomorrow: the run warns.
import { REFRESH_TOKEN_USERNAME, exchangeRefreshToken } from '../../../azure/acr-token.ts';
import { jwtClaims, jwtExpiry } from '../../../jwt.ts';
import type { CredentialSource, PreviousCredential, SourceFactory } from './credential-source.ts';
import { acrCheck, azureRegistry } from './azure-registry.ts';

export function exchangeWarning(loginServer: string, expiresOn: string | undefined): string {
  return (
    `credential-type exchange puts an ACR refresh token for ${loginServer} in the secret, and it lasts only about 3 hours${expiresOn ? ` (until ${expiresOn})` : ''}: ` +
    'pods that pull after that fail with ImagePullBackOff. Run this step again before then, or use credential-type token for a long-lived, repository-scoped credential.'
  );
}

/** Keep a live refresh token: ours (null-GUID user, exchange record) with more than half of its exp - iat left. Pure. */
export function keepRefreshToken(previous: PreviousCredential, now: Date): boolean {
  if (previous.username !== REFRESH_TOKEN_USERNAME || previous.record?.credentialType !== 'exchange') return false;
  const claims = jwtClaims(previous.password);
  const exp = claims?.exp;
  const iat = claims?.iat;
  if (typeof exp !== 'number' || typeof iat !== 'number' || exp <= iat) return false;
  return exp * 1000 - now.getTime() > ((exp - iat) * 1000) / 2;
}

const factory: SourceFactory = async (settings, deps) => {
  const az = await azureRegistry(settings, deps);
  const { registry, clients } = az;
  const session = clients.session;
  const trace = (l: string) => deps.runner.debug(l);
  const warnings: string[] = [];
  const source: CredentialSource = {
    loginServer: registry.loginServer,
    registryId: registry.id,
    async prepare(previous) {
      // Like token passwords, a live refresh token with more than half its lifetime left that the
      // registry still accepts is kept: an identical re-run right away writes nothing.
      if (previous && keepRefreshToken(previous, deps.now()) && !(await source.check(previous.username, previous.password))) {
        const expiresOn = jwtExpiry(previous.password);
        const kept = { username: REFRESH_TOKEN_USERNAME, password: previous.password, expiresOn };
        const why = `valid until ${expiresOn}, more than half its lifetime`;
        return {
          writes: [],
          lines: [`would keep the secret's ACR refresh token: ${why}`],
          known: kept,
          async execute() {
            warnings.push(exchangeWarning(registry.loginServer, expiresOn));
            return { ...kept, lines: [`kept the secret's ACR refresh token: ${why}`] };
          },
        };
      }
      return {
        writes: [],
        lines: [
          `would exchange the signed-in identity's Entra token at ${registry.loginServer}/oauth2/exchange for an ACR refresh token (about 3 hours)`,
        ],
        async execute() {
          const tenant = az.tenantId ?? session.tenantId;
          const access = await session.token(`${session.cloud.acrAudience}/.default`, az.tenantId);
          const tid = tenant ?? (jwtClaims(access)?.tid as string | undefined) ?? '';
          const refresh = await exchangeRefreshToken(registry.loginServer, tid, access, { trace });
          deps.runner.setSecret(refresh);
          const expiresOn = jwtExpiry(refresh);
          warnings.push(exchangeWarning(registry.loginServer, expiresOn));
          return { username: REFRESH_TOKEN_USERNAME, password: refresh, expiresOn };
        },
      };
    },
    check: acrCheck(registry.loginServer, deps),
    warnings,
    signedIn: { session: az.clients.session, tenantId: az.tenantId, network: registry.network },
  };
  return source;
};
export default factory;
