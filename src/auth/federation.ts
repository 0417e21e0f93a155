// What to fix when Entra ID finds no federated identity credential matching the GitHub OIDC token
// (workload identity federation): one message per AADSTS code, naming the claim that did not match,
// the token's value of it, and the `az ad app federated-credential create` that adds a matching
// credential. Codes, statuses and message texts: ../shared/azure-api/entra/AADSTS.md (real responses
// cited there). Pure.

/** The claims Entra compares with the app's federated credentials. */
export interface AssertionClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
}

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const DEFAULT_AUDIENCE = 'api://AzureADTokenExchange';

/** The federated-credential codes this module explains. */
export const FEDERATION_CODES = ['AADSTS700211', 'AADSTS700212', 'AADSTS700213', 'AADSTS7002138', 'AADSTS70021'] as const;
export type FederationCode = (typeof FEDERATION_CODES)[number];

export const isFederationCode = (code: string | undefined): code is FederationCode => FEDERATION_CODES.includes(code as FederationCode);

/**
 * The token's claims, from the token itself when the action holds it, else from Entra's message:
 * 700211 names the issuer, 700212 the audience, 700213 and 7002138 the subject, 70021 all three
 * ("presented assertion issuer '…'", "Assertion Subject: '…'", AADSTS.md).
 */
export function mismatchClaims(fromToken: AssertionClaims, entraText: string): AssertionClaims {
  const quoted = (re: RegExp) => re.exec(entraText)?.[1];
  return {
    iss: fromToken.iss ?? quoted(/assertion issuer '([^']*)'/i) ?? quoted(/Assertion Issuer: '([^']*)'/i),
    sub: fromToken.sub ?? quoted(/assertion subject '([^']*)'/i) ?? quoted(/Assertion Subject: '([^']*)'/i),
    aud: fromToken.aud ?? quoted(/assertion audience '([^']*)'/i) ?? quoted(/Assertion Audience: '([^']*)'/i),
  };
}

const audienceOf = (aud: AssertionClaims['aud']): string | undefined => (Array.isArray(aud) ? aud[0] : aud);

/** A shell single-quoted word: safe for any value a claim may hold. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A federated credential name from the subject: 3-120 letters, digits, '-' and '_' (Entra's rule). */
export function credentialName(sub: string | undefined): string {
  const tail = (sub ?? '')
    .replace(/^repo:[^:]*:/, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `github-${tail || 'actions'}`.slice(0, 120).replace(/-+$/, '');
}

/** `az ad app federated-credential create` for exactly the token's issuer, subject and audience. Pure. */
export function federatedCredentialCommand(appId: string, claims: AssertionClaims): string {
  const params = JSON.stringify({
    name: credentialName(claims.sub),
    issuer: claims.iss ?? GITHUB_ISSUER,
    subject: claims.sub ?? 'repo:OWNER/REPO:ref:refs/heads/main',
    audiences: [audienceOf(claims.aud) ?? DEFAULT_AUDIENCE],
  });
  return `az ad app federated-credential create --id ${shellQuote(appId)} --parameters ${shellQuote(params)}`;
}

/**
 * The message for a federated-credential mismatch: which claim, the token's iss/sub/aud, what to
 * change, and the command. `who`: "client … in tenant …"; `appId`: the app registration's client
 * id (undefined: signed in from the environment, named $AZURE_CLIENT_ID in the command). Pure.
 */
export function federationMismatchMessage(code: FederationCode, who: string, appId: string | undefined, claims: AssertionClaims): string {
  const iss = claims.iss ?? '?';
  const sub = claims.sub ?? '?';
  const aud = Array.isArray(claims.aud) ? claims.aud.join(',') : (claims.aud ?? '?');
  const has = `The token has iss '${iss}', sub '${sub}', aud '${aud}'.`;
  const command = `\`${federatedCredentialCommand(appId ?? '$AZURE_CLIENT_ID', claims)}\``;
  const head = `Entra ID rejected the GitHub OIDC token for ${who} (${code}): `;
  switch (code) {
    case 'AADSTS700211':
      return (
        `${head}no federated credential on the app has the token's issuer '${iss}'. ${has} ` +
        `A credential's issuer must be exactly the token's: ${GITHUB_ISSUER} on GitHub.com; https://HOSTNAME/_services/token on GitHub Enterprise Server; ` +
        `${GITHUB_ISSUER}/ENTERPRISE when the enterprise customized its issuer. Add one with ${command}.`
      );
    case 'AADSTS700213': {
      const immutable = /^repo:[^/:]*@\d+\/[^:]*@\d+:/.test(sub)
        ? ' This subject carries GitHub\'s numeric ids ("repo:owner@id/repo@id:…"): a credential written with names does not match it.'
        : '';
      return (
        `${head}no federated credential with the token's issuer has its subject '${sub}'. ${has} ` +
        `The subject depends on how the job runs (an environment wins over the branch; a pull request is repo:OWNER/REPO:pull_request; README: Troubleshooting).${immutable} ` +
        `Add a credential with exactly this subject, ${command}, or change the workflow's trigger or environment so the subject matches one the app has.`
      );
    }
    case 'AADSTS7002138':
      return (
        `${head}a federated credential's subject matches the token's subject '${sub}' only when letter case is ignored, and Entra compares subjects case-sensitively (since 2024). ${has} ` +
        `Change that credential's subject to exactly '${sub}', letter for letter (az ad app federated-credential update), or add one: ${command}.`
      );
    case 'AADSTS700212':
      return (
        `${head}issuer and subject match a federated credential, but none has the token's audience '${aud}'. ${has} ` +
        `The token's audience is the audience input (default ${DEFAULT_AUDIENCE}): set it to the credential's audience, or add a credential with this one: ${command}.`
      );
    case 'AADSTS70021':
      return (
        `${head}no federated credential on the app matches the token's issuer, subject and audience together (the older code for 700211/700212/700213). ${has} ` +
        `Compare each with the app's credentials (az ad app federated-credential list --id ${appId ?? '$AZURE_CLIENT_ID'}); all three must match exactly, letter case included. ` +
        `Add a matching one with ${command}.`
      );
  }
}
