// The ACR management client: scope maps, tokens, token passwords (generateCredentials, a
// long-running operation where Azure answers 202) and the admin user's credentials, over
// @azure/arm-containerregistry. Every SDK failure becomes an ApiError here, at the boundary.
// The SDK's modular API (a context plus one function per operation) keeps the bundle to the
// operations used, instead of the whole ContainerRegistryManagementClient.
import { createContainerRegistryManagement, type ContainerRegistryManagementContext } from '@azure/arm-containerregistry/api';
import * as registriesApi from '@azure/arm-containerregistry/api/registries';
import * as scopeMapsApi from '@azure/arm-containerregistry/api/scopeMaps';
import * as tokensApi from '@azure/arm-containerregistry/api/tokens';
import type { Token } from '@azure/arm-containerregistry';
import type { AcrClient, AzureSession, PasswordSlot, RegistryLocation, TokenInfo } from './types.ts';
import { armCall, armClient, armClientOptions, armOperation, sessionCredential } from './arm.ts';
import { operationBudgetMs } from '../net/azure.ts';
import { ApiError } from '../errors.ts';

/**
 * Polling interval for long-running operations when Azure sends no Retry-After. ACR's scope map,
 * token and generateCredentials operations finish within a few seconds, and a run waits on up to
 * three of them in a row, so polls are frequent (still far below ARM's read limits).
 */
const LRO_INTERVAL_MS = 500;
/** The longest the action waits for one of them (they take seconds). */
const ACR_OPERATION_BUDGET_MS = 10 * 60_000;

const iso = (d: Date | string | undefined): string | undefined => {
  if (d === undefined || d === null) return undefined;
  const t = d instanceof Date ? d : new Date(d);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
};

function tokenInfo(t: Token): TokenInfo {
  return {
    id: t.id ?? '',
    name: t.name ?? '',
    scopeMapId: t.scopeMapId,
    status: t.status,
    passwords: (t.credentials?.passwords ?? [])
      .filter((p) => p.name === 'password1' || p.name === 'password2')
      .map((p) => ({ name: p.name as PasswordSlot, creationTime: iso(p.creationTime), expiry: iso(p.expiry) })),
  };
}

const missing = (e: unknown) => e instanceof ApiError && e.status === 404;

export function createAcrClient(session: AzureSession, tenantId?: string): AcrClient {
  const credential = sessionCredential(session, tenantId);
  const clients = new Map<string, ContainerRegistryManagementContext>();
  const client = (subscriptionId: string) => {
    let c = clients.get(subscriptionId);
    if (!c) {
      c = armClient(session, createContainerRegistryManagement(credential as never, subscriptionId, armClientOptions(session)));
      clients.set(subscriptionId, c);
    }
    return c;
  };
  /** One long-running ACR call, polled to its end within the operation budget. */
  const lro = <T>(operation: string, start: Parameters<typeof armOperation<T>>[2]) =>
    armOperation('ACR', operation, start, { intervalMs: LRO_INTERVAL_MS, budgetMs: operationBudgetMs(ACR_OPERATION_BUDGET_MS) });
  const where = (r: RegistryLocation) => `registry ${r.name}`;

  return {
    async getScopeMap(r, name) {
      try {
        const m = await armCall('ACR', `get scope map ${name} (${where(r)})`, () =>
          scopeMapsApi.get(client(r.subscriptionId), r.resourceGroup, r.name, name),
        );
        return { id: m.id ?? '', name: m.name ?? name, description: m.description, actions: m.actions ?? [] };
      } catch (e) {
        if (missing(e)) return undefined;
        throw e;
      }
    },
    async putScopeMap(r, name, body) {
      const m = await lro(`create scope map ${name} (${where(r)})`, (o) =>
        scopeMapsApi.create(client(r.subscriptionId), r.resourceGroup, r.name, name, { actions: body.actions, description: body.description }, o),
      );
      return { id: m.id ?? `${r.id}/scopeMaps/${name}`, name: m.name ?? name, description: m.description, actions: m.actions ?? body.actions };
    },
    async deleteScopeMap(r, name) {
      try {
        await lro(`delete scope map ${name} (${where(r)})`, (o) => scopeMapsApi.$delete(client(r.subscriptionId), r.resourceGroup, r.name, name, o));
        return true;
      } catch (e) {
        if (missing(e)) return false;
        throw e;
      }
    },
    async getToken(r, name) {
      try {
        return tokenInfo(
          await armCall('ACR', `get token ${name} (${where(r)})`, () => tokensApi.get(client(r.subscriptionId), r.resourceGroup, r.name, name)),
        );
      } catch (e) {
        if (missing(e)) return undefined;
        throw e;
      }
    },
    async createToken(r, name, body) {
      return tokenInfo(
        await lro(`create token ${name} (${where(r)})`, (o) =>
          tokensApi.create(client(r.subscriptionId), r.resourceGroup, r.name, name, { scopeMapId: body.scopeMapId, status: body.status }, o),
        ),
      );
    },
    async updateToken(r, name, body) {
      return tokenInfo(
        await lro(`update token ${name} (${where(r)})`, (o) =>
          tokensApi.update(client(r.subscriptionId), r.resourceGroup, r.name, name, { scopeMapId: body.scopeMapId, status: body.status }, o),
        ),
      );
    },
    async deleteToken(r, name) {
      try {
        await lro(`delete token ${name} (${where(r)})`, (o) => tokensApi.$delete(client(r.subscriptionId), r.resourceGroup, r.name, name, o));
        return true;
      } catch (e) {
        if (missing(e)) return false;
        throw e;
      }
    },
    async generatePassword(r, tokenId, slot, expiry) {
      const res = await lro(`generate ${slot} for token ${tokenId.split('/').pop()} (${where(r)})`, (o) =>
        registriesApi.generateCredentials(client(r.subscriptionId), r.resourceGroup, r.name, { tokenId, expiry, name: slot }, o),
      );
      const p = (res.passwords ?? []).find((x) => x.name === slot && x.value);
      if (!p?.value)
        throw new ApiError({
          service: 'ACR',
          operation: `generate ${slot} for token ${tokenId.split('/').pop()} (${where(r)})`,
          code: 'InvalidResponse',
          message: `the answer carried no ${slot}; expected its value in passwords`,
        });
      return {
        username: res.username ?? tokenId.split('/').pop() ?? '',
        name: slot,
        password: p.value,
        expiresOn: iso(p.expiry) ?? expiry.toISOString(),
      };
    },
    async listAdminCredentials(r) {
      const res = await armCall('ACR', `list admin credentials (${where(r)})`, () =>
        registriesApi.listCredentials(client(r.subscriptionId), r.resourceGroup, r.name),
      );
      const p = (res.passwords ?? []).find((x) => x.value);
      if (!res.username || !p?.value)
        throw new ApiError({
          service: 'ACR',
          operation: `list admin credentials (${where(r)})`,
          code: 'InvalidResponse',
          message: 'the answer carried no admin username and password; expected username and passwords',
        });
      return { username: res.username, password: p.value };
    },
  };
}
