// The ACR data plane as real ACR behaves, through dist/index.js against the emulator:
// - credential-type exchange asks Entra for the ACR audience (https://containerregistry.azure.net),
//   so a registry whose azureADAuthenticationAsArmPolicy is disabled (refusing ARM-audience tokens,
//   acr-dataplane/AUDIENCES.md) accepts it, and so does a default one;
// - a new token password is refused until it has propagated (knobs.acrPasswordDelayMs): verify
//   right after attach waits, bounded, with one line saying why; an old wrong password fails at once;
// - every /oauth2/token request the action makes carries a scope (knobs.acrTokenScopeRequired, on in
//   the default seed: a request without one is 400).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SUB_1 } from '../../emulator/ids.ts';
import { azureInputs, runAction, type RunResult } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';

const emu = useEmulator();

const NULL_GUID = '00000000-0000-0000-0000-000000000000';
const REGISTRY_ID = `/subscriptions/${SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/contosoacr`;
const server = () => `contosoacr.azurecr.localhost:${emu.port}`;
const inputs = (extra: Record<string, string> = {}) => azureInputs(emu, { registry: 'contosoacr', namespaces: 'team-a', ...extra });
const ok = (r: RunResult) => assert.equal(r.code, 0, r.stdout + r.stderr);
const registry = () => emu.state.resources[REGISTRY_ID.toLowerCase()]!;
const tokenRequests = () => emu.requests.filter((q) => q.path === '/oauth2/token' && q.host.startsWith('contosoacr.'));
const waitLines = (r: RunResult) => r.stdout.split('\n').filter((l) => /the registry refuses it so far/.test(l));

function entry(ns = 'team-a'): { username: string; password: string } {
  const s = emu.state.kube.secrets[ns]!['acr-contosoacr']! as unknown as { data: Record<string, string> };
  const auths = JSON.parse(Buffer.from(s.data['.dockerconfigjson']!, 'base64').toString('utf8')).auths as Record<
    string,
    { username: string; password: string }
  >;
  return auths[server()]!;
}

describe('credential-type exchange uses the ACR audience', () => {
  for (const policy of ['disabled', 'enabled'] as const) {
    test(`a registry with azureADAuthenticationAsArmPolicy ${policy} accepts the exchange, and the refresh token works`, async () => {
      registry().properties.policies.azureADAuthenticationAsArmPolicy = { status: policy };
      const r = await runAction(emu, inputs({ 'credential-type': 'exchange' }));
      ok(r);
      const exchange = emu.requests.find((q) => q.path === '/oauth2/exchange');
      assert.equal(exchange?.status, 200, 'the registry accepted the Entra token');
      assert.equal(entry().username, NULL_GUID);
      const verify = await runAction(emu, inputs({ 'credential-type': 'exchange', operation: 'verify' }));
      ok(verify);
    });
  }

  test('a refused exchange of an ARM-audience token points at the authentication-as-arm policy; of an ACR-audience token, not', async () => {
    const { exchangeRefusedHint } = await import('../../src/azure/acr-token.ts');
    const hint = exchangeRefusedHint(server(), 'tenant-a', 'https://management.core.windows.net/');
    assert.match(hint, /az acr config authentication-as-arm show -r contosoacr/);
    assert.doesNotMatch(exchangeRefusedHint(server(), 'tenant-a', 'https://containerregistry.azure.net'), /authentication-as-arm/);
  });
});

describe('every token request carries a scope', () => {
  test('token, exchange and verify: no /oauth2/token request is refused for a missing scope', async () => {
    assert.equal(emu.state.knobs?.acrTokenScopeRequired, true, 'the default seed requires a scope');
    ok(await runAction(emu, inputs()));
    ok(await runAction(emu, inputs({ operation: 'verify' })));
    ok(await runAction(emu, inputs({ 'credential-type': 'exchange', 'secret-name': 'x-exchange' })));
    ok(await runAction(emu, inputs({ 'credential-type': 'exchange', 'secret-name': 'x-exchange', operation: 'verify' })));
    const asked = tokenRequests();
    assert.ok(asked.length >= 2, 'verify asked the token service');
    assert.ok(
      asked.every((q) => q.status !== 400),
      asked.map((q) => `${q.method} ${q.status}`).join(', '),
    );
    assert.ok(
      asked.filter((q) => q.method === 'GET').every((q) => new URLSearchParams(q.query).has('scope')),
      'GET requests name a scope',
    );
  });
});

describe('a new token password: verify waits, bounded, for it to work', () => {
  test('verify right after attach: refused at first, one line says it waits and why, then verified', async () => {
    emu.state.knobs = { ...emu.state.knobs, acrPasswordDelayMs: 3000 };
    ok(await runAction(emu, inputs()));
    emu.requests.length = 0;
    const r = await runAction(emu, inputs({ operation: 'verify' }));
    ok(r);
    const statuses = tokenRequests().map((q) => q.status);
    assert.equal(statuses[0], 401, 'the registry refused the new password at first');
    assert.equal(statuses.at(-1), 200, 'and accepted it in the end');
    const lines = waitLines(r);
    assert.equal(lines.length, 1, r.stdout);
    assert.match(
      lines[0],
      /password1 of token kube-pull-team-a was created \d+ s ago .* a new ACR token password can take up to about a minute to work/,
    );
    assert.match(lines[0], /at most \d+ s more/);
  });

  test('an old, wrong password fails at once: one request, no wait', async () => {
    ok(await runAction(emu, inputs()));
    // the password is old (well past the window), and the secret holds a wrong one
    const token = emu.state.resources[`${REGISTRY_ID}/tokens/kube-pull-team-a`.toLowerCase()]!;
    const old = new Date(Date.now() - 3600_000).toISOString();
    for (const p of token.properties.credentials.passwords) p.creationTime = old;
    const s = emu.state.kube.secrets['team-a']!['acr-contosoacr']! as unknown as { data: Record<string, string> };
    const config = JSON.parse(Buffer.from(s.data['.dockerconfigjson']!, 'base64').toString('utf8'));
    config.auths[server()].password = 'Wrong-Password~1';
    config.auths[server()].auth = Buffer.from(`kube-pull-team-a:Wrong-Password~1`).toString('base64');
    s.data['.dockerconfigjson'] = Buffer.from(JSON.stringify(config)).toString('base64');
    emu.requests.length = 0;
    const r = await runAction(emu, inputs({ operation: 'verify' }));
    assert.equal(r.code, 1);
    assert.match(r.errors[0], /rejected the credential for user kube-pull-team-a \(HTTP 401/);
    assert.deepEqual(waitLines(r), []);
    assert.equal(tokenRequests().length, 1, 'asked once');
  });

  test('a young password still refused when the window ends fails, saying how long after its creation', async () => {
    emu.state.knobs = { ...emu.state.knobs, acrPasswordDelayMs: 600_000 };
    ok(await runAction(emu, inputs()));
    emu.requests.length = 0;
    const r = await runAction(emu, inputs({ operation: 'verify' }), { env: { ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS: '6000' } });
    assert.equal(r.code, 1);
    assert.equal(waitLines(r).length, 1, r.stdout);
    assert.match(r.errors[0], /still \d+ s after password1 of token kube-pull-team-a was created/);
    assert.ok(tokenRequests().length >= 2, 'asked again while the window lasted');
  });

  test('with the window set to 0 (ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS=0) a young refused password fails at once', async () => {
    emu.state.knobs = { ...emu.state.knobs, acrPasswordDelayMs: 600_000 };
    ok(await runAction(emu, inputs()));
    emu.requests.length = 0;
    const r = await runAction(emu, inputs({ operation: 'verify' }), { env: { ACR_KUBE_AUTH_PASSWORD_PROPAGATION_MS: '0' } });
    assert.equal(r.code, 1);
    assert.deepEqual(waitLines(r), []);
    assert.equal(tokenRequests().length, 1);
  });
});
