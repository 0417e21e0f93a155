// Well-known ids of the emulator's default world (emulator/seed/*.json use the same values).
// Every id is a valid GUID (version 4 layout) so SDK-side validation accepts it.

/** Contoso: home tenant of every app registration in the default world. */
export const TENANT_A = '11111111-1111-4111-8111-111111111111';
/** Fabrikam: a second tenant (cross-tenant scenarios). */
export const TENANT_B = '22222222-2222-4222-8222-222222222222';

export const SUB_1 = 'aaaaaaaa-0000-4000-8000-000000000001'; // tenant A
export const SUB_2 = 'aaaaaaaa-0000-4000-8000-000000000002'; // tenant A
export const SUB_B = 'bbbbbbbb-0000-4000-8000-000000000001'; // tenant B

/** The identity the action signs in as: multitenant app, home tenant A, SP in A and B. */
export const DEPLOYER_APP_ID = 'd0000000-0000-4000-8000-000000000001';
/** object id of the deployer's application registration (tenant A) */
export const DEPLOYER_APP_OBJECT_ID = 'd9000000-0000-4000-8000-000000000001';
export const DEPLOYER_OID_A = 'd1000000-0000-4000-8000-000000000001';
export const DEPLOYER_OID_B = 'd2000000-0000-4000-8000-000000000001';
export const DEPLOYER_SECRET = 'deployer-secret-Value~123456789';

/** An identity with no rights to provision service principals or write role assignments. */
export const LIMITED_APP_ID = 'e0000000-0000-4000-8000-000000000001';
export const LIMITED_APP_OBJECT_ID = 'e9000000-0000-4000-8000-000000000001';
export const LIMITED_OID_A = 'e1000000-0000-4000-8000-000000000001';
export const LIMITED_OID_B = 'e2000000-0000-4000-8000-000000000001';
export const LIMITED_SECRET = 'limited-secret-Value~123456789';

/** The AKS cluster's service principal: multitenant app, home tenant A, SP only in A. */
export const CLUSTER_SP_APP_ID = 'c0000000-0000-4000-8000-000000000001';
export const CLUSTER_SP_APP_OBJECT_ID = 'c9000000-0000-4000-8000-000000000001';
export const CLUSTER_SP_OID_A = 'c1000000-0000-4000-8000-000000000001';
export const CLUSTER_SP_SECRET = 'cluster-sp-secret-Value~123456';
/** keyIds of the cluster SP's two seeded password credentials */
export const CLUSTER_SP_EXPIRED_KEY_ID = 'c2000000-0000-4000-8000-000000000001';
export const CLUSTER_SP_VALID_KEY_ID = 'c2000000-0000-4000-8000-000000000002';

/** Kubelet identity of the managed-identity cluster: a managed identity SP in tenant A. */
export const KUBELET_OID = 'f0000000-0000-4000-8000-000000000001';
/** its client id (appId of the managed identity's SP) */
export const KUBELET_CLIENT_ID = 'f1000000-0000-4000-8000-000000000001';

/** Bearer token the emulated Kubernetes API server accepts. */
export const KUBE_TOKEN = 'emulator-kube-token';

/** GitHub OIDC: the runner's ACTIONS_ID_TOKEN_REQUEST_TOKEN the emulated endpoint accepts. */
export const GITHUB_RUNTIME_TOKEN = 'emulator-runtime-token';
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const GITHUB_SUBJECT = 'repo:contoso/app:ref:refs/heads/main';
export const GITHUB_REPOSITORY = 'contoso/app';
export const OIDC_AUDIENCE = 'api://AzureADTokenExchange';

/** ARM's resource id as Azure clouds name it (token audience for ARM). */
export const ARM_RESOURCE = 'https://management.core.windows.net/';
