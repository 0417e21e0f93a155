// README's Microsoft Graph permission table held to what the emulator's Graph enforces (the token's
// `roles` claim, TenantState.graphAppRoles; ../shared/azure-api/graph/PERMISSIONS.md): each path
// runs through dist/index.js as a deployer holding exactly the Graph application permissions the
// table names for it, and passes; with one fewer it fails with Graph's 403, and the error names the
// missing permission and the command that grants it. Paths the table says need no Graph call run
// with no Graph permission at all and make no Graph request.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { azureInputs, ROOT, runAction, type RunResult } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { CLUSTER_SP_APP_ID, DEPLOYER_APP_ID, DEPLOYER_OID_A, DEPLOYER_OID_B, SUB_B, TENANT_A, TENANT_B } from '../../emulator/ids.ts';

const emu = useEmulator();

interface Row {
  /** the permission the row names first */
  primary: string;
  /** names after "or " */
  alternatives: string[];
  /** "as an owner of the app" follows the primary */
  asOwner: boolean;
  text: string;
}

/** README's "### Microsoft Graph" table, by Graph call. */
function graphTable(): Record<'find' | 'create' | 'addPassword' | 'readApp', Row> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^### Microsoft Graph$/m)[1]?.split(/^#{2,3} /m)[0];
  assert.ok(section, 'README has a "### Microsoft Graph" section');
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .slice(2)
    .map((l) => l.split(' | ').map((c) => c.replace(/^\|\s*|\s*\|$/g, '').trim()));
  const byCall = (re: RegExp): Row => {
    const row = rows.find((r) => re.test(r[1] ?? ''));
    assert.ok(row, `README's Graph table has a row for ${re}`);
    const text = row[3]!;
    const names = [...text.matchAll(/(or )?`(Application\.[A-Za-z.]+)`( as an owner)?/g)];
    assert.ok(names.length, `a permission in ${text}`);
    return {
      primary: names[0]![2]!,
      asOwner: !!names[0]![3],
      alternatives: names.filter((m) => m[1]).map((m) => m[2]!),
      text,
    };
  };
  return {
    find: byCall(/^`GET \/servicePrincipals/),
    create: byCall(/^`POST \/servicePrincipals`$/),
    addPassword: byCall(/addPassword/),
    readApp: byCall(/^`GET \/applications/),
  };
}

const table = graphTable();
const ROLE_IDS: Record<string, string> = {
  'Application.Read.All': '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30',
  'Application.ReadWrite.OwnedBy': '18a4783c-866b-4cc7-a460-3d5e5662c884',
  'Application.ReadWrite.All': '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9',
};

const sameTenant = { registry: 'contosoacr', 'cluster-name': 'aks-sp', 'cluster-resource-group': 'rg-aks', 'auth-method': 'service-principal' };
const crossTenant = { ...sameTenant, registry: 'tenantbacr', 'registry-subscription-id': SUB_B, 'registry-tenant-id': TENANT_B };
const fastRetry = { env: { ACR_KUBE_AUTH_PRINCIPAL_RETRY_BASE_MS: '20', ACR_KUBE_AUTH_PRINCIPAL_RETRY_BUDGET_MS: '5000' } };

/** The deployer holds exactly these Graph application permissions, in each tenant. */
function holds(a: string[], b: string[] = []): void {
  emu.state.tenants[TENANT_A].graphAppRoles = { [DEPLOYER_OID_A]: a };
  emu.state.tenants[TENANT_B].graphAppRoles = { [DEPLOYER_OID_B]: b };
}
const disown = () => (emu.state.tenants[TENANT_A].applications.find((x) => x.appId === CLUSTER_SP_APP_ID)!.owners = []);
const graphCalls = () => emu.requests.filter((q) => q.service === 'graph');

function passes(r: RunResult): void {
  assert.equal(r.code, 0, r.stdout + r.stderr);
}
/** Failed with Graph's 403, naming `missing` and the command granting it. */
function deniedNaming(r: RunResult, missing: string, tenant: string): string {
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.errors.length, 1, r.stdout);
  const e = r.errors[0]!;
  assert.match(e, /Microsoft Graph .* failed \(HTTP 403 Authorization_RequestDenied\)/);
  assert.ok(e.includes(missing), `names ${missing}: ${e}`);
  assert.ok(
    e.includes(
      `az ad app permission add --id ${DEPLOYER_APP_ID} --api 00000003-0000-0000-c000-000000000000 --api-permissions ${ROLE_IDS[missing]}=Role`,
    ),
    e,
  );
  assert.ok(e.includes(`administrator of tenant ${tenant} consents`), e);
  return e;
}

describe("README's Graph table, path by path", () => {
  test('the table names the permissions Microsoft documents (PERMISSIONS.md)', () => {
    assert.equal(table.find.primary, 'Application.Read.All');
    assert.equal(table.create.primary, 'Application.ReadWrite.All');
    assert.match(table.create.text, /`Application\.ReadWrite\.OwnedBy` cannot provision another tenant's app/);
    assert.equal(table.addPassword.primary, 'Application.ReadWrite.OwnedBy');
    assert.ok(table.addPassword.asOwner);
    assert.deepEqual(table.addPassword.alternatives, ['Application.ReadWrite.All']);
    assert.equal(table.readApp.primary, 'Application.Read.All');
  });

  test("finds the principal: the table's permission passes; without it, a 403 naming Application.Read.All", async () => {
    holds([table.find.primary]);
    passes(await runAction(emu, azureInputs(emu, sameTenant)));
    holds([]);
    const e = deniedNaming(await runAction(emu, azureInputs(emu, { ...sameTenant, operation: 'verify' })), table.find.primary, TENANT_A);
    assert.match(e, /may not read service principals in tenant 11111111-1111-4111-8111-111111111111/);
    assert.match(e, /carries no Graph application permission/);
  });

  test("creates the missing principal in the registry's tenant: find + create pass; without create, or with OwnedBy instead, a 403 naming Application.ReadWrite.All", async () => {
    holds([], [table.find.primary, table.create.primary]);
    passes(await runAction(emu, azureInputs(emu, crossTenant), fastRetry));
    assert.ok(emu.state.tenants[TENANT_B].servicePrincipals.some((s) => s.appId === CLUSTER_SP_APP_ID));

    for (const roles of [[table.find.primary], [table.find.primary, 'Application.ReadWrite.OwnedBy']]) {
      emu.reset();
      holds([], roles);
      const r = await runAction(emu, azureInputs(emu, crossTenant), fastRetry);
      assert.equal(r.code, 1, r.stdout);
      const e = r.errors[0]!;
      assert.match(e, /does not exist in the registry's tenant 22222222-2222-4222-8222-222222222222/);
      assert.ok(e.includes(`${emu.url}/${TENANT_B}/adminconsent?client_id=${CLUSTER_SP_APP_ID}`), 'the consent link for the cluster app');
      assert.match(e, /for an app of another tenant that needs Application\.ReadWrite\.All there/);
      assert.ok(e.includes(`--api-permissions ${ROLE_IDS['Application.ReadWrite.All']}=Role`), e);
      if (roles.includes('Application.ReadWrite.OwnedBy')) assert.match(e, /Graph refused it under Application\.ReadWrite\.OwnedBy/);
      else assert.match(e, /Application\.ReadWrite\.OwnedBy is not enough/);
      assert.equal(r.outputs['consent-url'], `${emu.url}/${TENANT_B}/adminconsent?client_id=${CLUSTER_SP_APP_ID}`);
    }
  });

  test('create-secret: find + OwnedBy as an owner passes, and so does ReadWrite.All without ownership; without either, a 403 naming both', async () => {
    const withSecret = { ...sameTenant, 'create-secret': 'true', 'reset-cluster-credentials': 'true' };
    holds([table.find.primary, table.addPassword.primary]);
    passes(await runAction(emu, azureInputs(emu, withSecret)));

    emu.reset();
    disown();
    holds([table.find.primary, ...table.addPassword.alternatives]);
    passes(await runAction(emu, azureInputs(emu, withSecret)));

    for (const [roles, owned] of [
      [[table.find.primary], true],
      [[table.find.primary, table.addPassword.primary], false],
    ] as const) {
      emu.reset();
      if (!owned) disown();
      holds([...roles]);
      const r = await runAction(emu, azureInputs(emu, withSecret));
      const e = deniedNaming(r, 'Application.ReadWrite.OwnedBy', TENANT_A);
      assert.match(e, /may not add a client secret to app c0000000-0000-4000-8000-000000000001/);
      assert.match(e, /Application\.ReadWrite\.OwnedBy as an owner of the app, or Application\.ReadWrite\.All/);
      assert.ok(e.includes(`az ad app owner add --id ${CLUSTER_SP_APP_ID} --owner-object-id ${DEPLOYER_OID_A}`), e);
    }
  });

  test("reads the app's secrets: with the table's permission verify judges them; as an owner with OwnedBy too", async () => {
    holds([table.find.primary]);
    passes(await runAction(emu, azureInputs(emu, sameTenant)));
    for (const roles of [[table.readApp.primary], ['Application.ReadWrite.OwnedBy']]) {
      holds(roles);
      const r = await runAction(emu, azureInputs(emu, { ...sameTenant, operation: 'verify' }));
      passes(r);
      const details = (JSON.parse(r.outputs.results) as Array<{ details: string[] }>)[0]!.details.join('\n');
      assert.match(details, /newest client secret 'rbac' .* of app c0000000-0000-4000-8000-000000000001 expires/, details);
    }
  });

  test('credential-type service-principal: the same permissions as the AKS path', async () => {
    const pull = {
      registry: 'contosoacr',
      namespaces: 'team-a',
      'credential-type': 'service-principal',
      'service-principal-client-id': CLUSTER_SP_APP_ID,
      'create-secret': 'true',
    };
    holds([table.find.primary, table.addPassword.primary]);
    passes(await runAction(emu, azureInputs(emu, pull)));
    emu.reset();
    holds([table.find.primary]);
    deniedNaming(await runAction(emu, azureInputs(emu, pull)), 'Application.ReadWrite.OwnedBy', TENANT_A);
  });

  test('the paths the table leaves out call no Graph: managed identity, a token pull secret, exchange', async () => {
    holds([], []);
    const paths: Record<string, string>[] = [
      { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks' },
      { registry: 'contosoacr', namespaces: 'team-a' },
      { registry: 'contosoacr', namespaces: 'team-a', 'credential-type': 'exchange', 'secret-name': 'x' },
    ];
    for (const inputs of paths) {
      emu.requests.length = 0;
      passes(await runAction(emu, azureInputs(emu, inputs)));
      assert.deepEqual(graphCalls(), [], JSON.stringify(inputs));
    }
  });
});
