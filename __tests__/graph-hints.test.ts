// src/azure/graph.ts: what a Graph 403 tells the user (pure parts): the permission each call
// needs, what the caller's token carries, and the commands with Microsoft's app role ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRAPH_APP_ROLES, grantGraphPermissionCommands, graphCaller, graphDeniedHint, type GraphDenial } from '../src/azure/graph.ts';

const base: GraphDenial = {
  call: 'read-service-principal',
  tenant: 'tenant-b',
  appId: 'cluster-app',
  caller: { appId: 'deployer-app', objectId: 'deployer-oid', roles: [], user: false },
  message: 'Insufficient privileges to complete the operation.',
  authorityHost: 'https://login.microsoftonline.com/',
};

test("the app role ids are Microsoft's (permissions-ids.md)", () => {
  assert.deepEqual(GRAPH_APP_ROLES, {
    'Application.Read.All': '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30',
    'Application.ReadWrite.OwnedBy': '18a4783c-866b-4cc7-a460-3d5e5662c884',
    'Application.ReadWrite.All': '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9',
  });
});

test('the grant: az ad app permission add with the role id, then admin consent in the tenant (CLI at home, the link elsewhere)', () => {
  const c = grantGraphPermissionCommands('Application.Read.All', 'app-1', 'tenant-b', 'https://login.microsoftonline.us/');
  assert.ok(
    c.startsWith(
      '`az ad app permission add --id app-1 --api 00000003-0000-0000-c000-000000000000 --api-permissions 9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30=Role` (Application.Read.All)',
    ),
    c,
  );
  assert.ok(c.includes('`az ad app permission admin-consent --id app-1` signed in to tenant-b'), c);
  assert.ok(c.includes('https://login.microsoftonline.us/tenant-b/adminconsent?client_id=app-1'), c);
});

test('each call names its permission', () => {
  const hint = (over: Partial<GraphDenial>) => graphDeniedHint({ ...base, ...over });
  assert.match(
    hint({}),
    /may not read service principals in tenant tenant-b: that needs .* Application\.Read\.All there \(its Graph token for tenant tenant-b carries no Graph application permission\)/,
  );
  assert.match(
    hint({ call: 'read-application' }),
    /may not read app registration cluster-app .* Application\.Read\.All there, or Application\.ReadWrite\.OwnedBy as an owner/,
  );
  const create = hint({ call: 'provision-service-principal', caller: { ...base.caller, roles: ['Application.Read.All'] } });
  assert.match(
    create,
    /needs Application\.ReadWrite\.All there, with admin consent \(its Graph token for tenant tenant-b carries Application\.Read\.All; Application\.ReadWrite\.OwnedBy is not enough\)/,
  );
  assert.ok(create.includes('1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9=Role'));
  assert.match(
    hint({
      call: 'provision-service-principal',
      message: 'When using this permission, the backing application of the service principal being created must in the local tenant',
    }),
    /Graph refused it under Application\.ReadWrite\.OwnedBy/,
  );
  const add = hint({ call: 'add-password' });
  assert.match(add, /Application\.ReadWrite\.OwnedBy as an owner of the app, or Application\.ReadWrite\.All/);
  assert.ok(add.includes('`az ad app owner add --id cluster-app --owner-object-id deployer-oid`'), add);
  assert.ok(add.includes('18a4783c-866b-4cc7-a460-3d5e5662c884=Role'), add);
});

test('a user sign-in (delegated token) is told about directory roles, not app permissions', () => {
  const h = graphDeniedHint({ ...base, caller: { ...base.caller, user: true } });
  assert.match(h, /signed in as a user/);
  assert.match(h, /Cloud Application Administrator/);
  assert.doesNotMatch(h, /az ad app permission add/);
});

test("graphCaller reads appid, oid, roles and whether the token is a user's", () => {
  assert.deepEqual(graphCaller({ appid: 'a', oid: 'o', roles: ['Application.Read.All', 7], idtyp: 'app' }), {
    appId: 'a',
    objectId: 'o',
    roles: ['Application.Read.All'],
    user: false,
  });
  assert.equal(graphCaller({ azp: 'a', scp: 'User.Read' }).user, true);
  assert.deepEqual(graphCaller(undefined), { appId: undefined, objectId: undefined, roles: [], user: false });
  assert.match(graphDeniedHint({ ...base, caller: graphCaller(undefined) }), /app \$CLIENT_ID/);
});
