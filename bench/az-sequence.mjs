// The baseline for the attach benchmark: the calls `az aks update --attach-acr` makes, in the same
// order, one after another, against the emulator (EMU_URL): sign in, GET the cluster, list the
// registries, GET the registry, list the role definitions, PUT the role assignment.
// Runs with NODE_EXTRA_CA_CERTS pointing at the emulator's CA.
const base = process.env.EMU_URL;
const SUB = 'aaaaaaaa-0000-4000-8000-000000000001';
const TENANT = '11111111-1111-4111-8111-111111111111';
const tokenRes = await fetch(`${base}/${TENANT}/oauth2/v2.0/token`, {
  method: 'POST',
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: 'd0000000-0000-4000-8000-000000000001',
    client_secret: 'deployer-secret-Value~123456789',
    scope: 'https://management.core.windows.net//.default',
  }),
});
const { access_token: token } = await tokenRes.json();
const call = async (method, path, body) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok && res.status !== 409) throw new Error(`${method} ${path}: ${res.status}`);
  return json;
};
const cluster = await call(
  'GET',
  `/subscriptions/${SUB}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-mi?api-version=2024-09-01`,
);
const list = await call('GET', `/subscriptions/${SUB}/providers/Microsoft.ContainerRegistry/registries?api-version=2023-07-01`);
const reg = list.value.find((r) => r.name === 'contosoacr');
await call('GET', `${reg.id}?api-version=2023-07-01`);
const defs = await call(
  'GET',
  `${reg.id}/providers/Microsoft.Authorization/roleDefinitions?$filter=${encodeURIComponent("roleName eq 'AcrPull'")}&api-version=2022-04-01`,
);
await call('PUT', `${reg.id}/providers/Microsoft.Authorization/roleAssignments/${process.env.ASSIGNMENT}?api-version=2022-04-01`, {
  properties: {
    roleDefinitionId: defs.value[0].id,
    principalId: cluster.properties.identityProfile.kubeletidentity.objectId,
    principalType: 'ServicePrincipal',
  },
});
