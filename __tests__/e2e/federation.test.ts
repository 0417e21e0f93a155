// OIDC sign-in failures through dist/index.js against the emulator's Entra, one per AADSTS code
// Entra gives for a federated-credential mismatch (../shared/azure-api/entra/AADSTS.md): each
// error names the claim that did not match, prints the token's iss, sub and aud, says what to
// change, and gives the `az ad app federated-credential create` filled in with the token's values.
// Each run is a read-only dry-run attach.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { oidcInputs, runAction } from '../helpers/harness.ts';
import { DEPLOYER_APP_ID, TENANT_A } from '../../emulator/ids.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { credentialName, federatedCredentialCommand, federationMismatchMessage, mismatchClaims } from '../../src/auth/federation.ts';

const emu = useEmulator();

const target = { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks', 'dry-run': 'true' };
const GITHUB = 'https://token.actions.githubusercontent.com';
const SUB = 'repo:contoso/app:ref:refs/heads/main';
const AUD = 'api://AzureADTokenExchange';
const deployerCredential = () => emu.state.tenants[TENANT_A].applications.find((a) => a.appId === DEPLOYER_APP_ID)!.federatedIdentityCredentials[0];
const command = (sub = SUB, aud = AUD) =>
  `az ad app federated-credential create --id '${DEPLOYER_APP_ID}' --parameters '${JSON.stringify({ name: credentialName(sub), issuer: GITHUB, subject: sub, audiences: [aud] })}'`;

async function failure(extra: Record<string, string> = {}): Promise<string> {
  const r = await runAction(emu, oidcInputs(emu, { ...target, ...extra }));
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.errors.length, 1, r.stdout);
  return r.errors[0];
}

describe('federated-credential mismatches name the claim, the token and the command', () => {
  test('AADSTS700211 (issuer): the issuer rule for GitHub.com and GHES, and the command', async () => {
    deployerCredential().issuer = 'https://ghes.contoso.example/_services/token';
    const e = await failure();
    assert.match(e, /\(AADSTS700211\): no federated credential on the app has the token's issuer 'https:\/\/token\.actions\.githubusercontent\.com'/);
    assert.match(e, /https:\/\/HOSTNAME\/_services\/token on GitHub Enterprise Server/);
    assert.ok(e.includes(`sub '${SUB}'`) && e.includes(`aud '${AUD}'`), e);
    assert.ok(e.includes(command()), e);
  });

  test('AADSTS700213 (subject): the token subject, what it depends on, and the command with it', async () => {
    emu.state.githubOidc.subject = 'repo:contoso/app:environment:production';
    const e = await failure();
    assert.match(e, /\(AADSTS700213\): no federated credential with the token's issuer has its subject 'repo:contoso\/app:environment:production'/);
    assert.match(e, /an environment wins over the branch/);
    assert.ok(e.includes(command('repo:contoso/app:environment:production')), e);
    assert.doesNotMatch(e, /numeric ids/);
  });

  test("AADSTS700213 with GitHub's immutable subject (numeric ids) says so", async () => {
    emu.state.githubOidc.subject = 'repo:contoso@1234/app@5678:ref:refs/heads/main';
    assert.match(await failure(), /carries GitHub's numeric ids/);
  });

  test('AADSTS7002138 (letter case): prints the token subject and says it must match case-sensitively', async () => {
    deployerCredential().subject = 'repo:Contoso/App:ref:refs/heads/main';
    const e = await failure();
    assert.match(
      e,
      /\(AADSTS7002138\): a federated credential's subject matches the token's subject 'repo:contoso\/app:ref:refs\/heads\/main' only when letter case is ignored/,
    );
    assert.match(e, /case-sensitively/);
    assert.match(e, /exactly 'repo:contoso\/app:ref:refs\/heads\/main', letter for letter/);
    assert.ok(e.includes(command()), e);
    assert.doesNotMatch(e, /Look AADSTS/, 'not the generic message');
  });

  test('AADSTS700212 (audience): names the audience input and the command with the token audience', async () => {
    const e = await failure({ audience: 'api://contoso-deploy' });
    assert.match(e, /\(AADSTS700212\): issuer and subject match a federated credential, but none has the token's audience 'api:\/\/contoso-deploy'/);
    assert.match(e, /audience input \(default api:\/\/AzureADTokenExchange\)/);
    assert.ok(e.includes(command(SUB, 'api://contoso-deploy')), e);
  });

  test('AADSTS70021 (the older code, 400 invalid_request): all three claims and the command', async () => {
    emu.state.knobs = { ...emu.state.knobs, federatedErrors: 'aadsts70021' };
    emu.state.githubOidc.subject = 'repo:contoso/app:pull_request';
    const e = await failure();
    const answer = emu.requests.find((q) => q.method === 'POST' && q.path.endsWith('/oauth2/v2.0/token'));
    assert.equal(answer?.status, 400, 'Entra answered the older 400');
    assert.match(e, /\(AADSTS70021\): no federated credential on the app matches the token's issuer, subject and audience together/);
    assert.ok(e.includes(`az ad app federated-credential list --id ${DEPLOYER_APP_ID}`), e);
    assert.ok(e.includes(command('repo:contoso/app:pull_request')), e);
  });
});

describe('the message parts (pure)', () => {
  test("claims come from Entra's message when the token is not at hand", () => {
    assert.deepEqual(
      mismatchClaims(
        {},
        "AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://i'. Assertion Subject: 's'. Assertion Audience: 'a'.",
      ),
      { iss: 'https://i', sub: 's', aud: 'a' },
    );
    assert.deepEqual(
      mismatchClaims({}, "AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:x/y:pull_request'."),
      {
        iss: undefined,
        sub: 'repo:x/y:pull_request',
        aud: undefined,
      },
    );
    assert.equal(mismatchClaims({ sub: 'from-token' }, "assertion subject 'from-message'").sub, 'from-token');
  });

  test('the command is one shell word per value, whatever the claims hold', () => {
    const c = federatedCredentialCommand("app'id", { iss: GITHUB, sub: "repo:o/r:environment:it's", aud: AUD });
    assert.ok(c.startsWith(`az ad app federated-credential create --id 'app'\\''id' --parameters '`), c);
    assert.ok(c.includes(`"subject":"repo:o/r:environment:it'\\''s"`), c);
    assert.equal(credentialName('repo:o/r:environment:production'), 'github-environment-production');
    assert.equal(credentialName(undefined), 'github-actions');
    assert.ok(credentialName(`repo:o/r:${'x'.repeat(300)}`).length <= 120);
  });

  test('an environment login names $AZURE_CLIENT_ID in the command', () => {
    const m = federationMismatchMessage('AADSTS700213', 'the environment / Azure CLI login', undefined, { sub: 's' });
    assert.match(m, /--id '\$AZURE_CLIENT_ID'/);
  });
});
