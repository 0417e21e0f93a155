// Finds the registry the `registry` input names (a name, a login server or a resource id) and
// reads the facts the scenarios need: id, login server, roleAssignmentMode. Where it is given by
// name only, the subscriptions are searched in this order: registry-subscription-id (only it),
// else subscription-id first and then every other subscription the caller can list.
// The SDK's modular API (a context plus one function per operation) keeps the bundle to the
// operations used, instead of the whole ContainerRegistryManagementClient.
import { createContainerRegistryManagement, type ContainerRegistryManagementContext } from '@azure/arm-containerregistry/api';
import * as registriesApi from '@azure/arm-containerregistry/api/registries';
import type { Registry as SdkRegistry } from '@azure/arm-containerregistry';
import type { AzureSession, Registry, RegistryResolver } from './types.ts';
import type { RegistryRef } from '../settings.ts';
import { armCall, armClient, armClientOptions, armPages, armRestClient, sessionCredential } from './arm.ts';
import { ApiError, CheckError, InputError } from '../errors.ts';

export const ACR_SERVICE = 'ACR';

export interface SubscriptionInfo {
  subscriptionId: string;
  displayName?: string;
  tenantId?: string;
}

/** {subscriptionId, resourceGroup, name} from a registry resource id. */
export function parseRegistryId(id: string): { subscriptionId: string; resourceGroup: string; name: string } | undefined {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i.exec(id);
  return m ? { subscriptionId: m[1], resourceGroup: m[2], name: m[3] } : undefined;
}

export function toRegistry(r: SdkRegistry): Registry {
  const id = r.id ?? '';
  const where = parseRegistryId(id);
  return {
    id,
    name: r.name ?? where?.name ?? '',
    subscriptionId: (where?.subscriptionId ?? '').toLowerCase(),
    resourceGroup: where?.resourceGroup ?? '',
    loginServer: (r.loginServer ?? '').toLowerCase(),
    roleAssignmentMode: r.roleAssignmentMode,
    adminUserEnabled: r.adminUserEnabled,
    sku: r.sku?.name,
    location: r.location,
    network: {
      publicNetworkAccess: r.publicNetworkAccess,
      defaultAction: r.networkRuleSet?.defaultAction,
      ipRules: (r.networkRuleSet?.ipRules ?? []).map((i) => ({ value: i.iPAddressOrRange, action: i.action })),
      privateEndpoints: (r.privateEndpointConnections ?? []).map((c) => ({
        id: c.id ?? '',
        endpointId: c.privateEndpoint?.id,
        status: c.privateLinkServiceConnectionState?.status,
      })),
      anonymousPullEnabled: r.anonymousPullEnabled,
      networkRuleBypassOptions: r.networkRuleBypassOptions,
    },
  };
}

const hostOf = (loginServer: string) =>
  loginServer
    .toLowerCase()
    .replace(/^https:\/\//, '')
    .replace(/\/+$/, '')
    .replace(/:\d+$/, '');

/** Does this registry answer to the reference (name, or login server host)? Pure. */
export function matches(r: Registry, ref: RegistryRef): boolean {
  if (ref.kind === 'loginServer') return hostOf(r.loginServer) === hostOf(ref.loginServer);
  return r.name.toLowerCase() === ref.name.toLowerCase();
}

/** A login server must be under the cloud's registry suffix (no registry of this cloud lives elsewhere). */
export function checkLoginServer(loginServer: string, acrSuffix: string): void {
  if (!hostOf(loginServer).endsWith(acrSuffix.toLowerCase())) {
    throw new InputError(
      'registry',
      `'${loginServer}' is not under this cloud's registry suffix ${acrSuffix}`,
      `a login server such as name${acrSuffix}, a registry name, or a resource id`,
    );
  }
}

const describe = (s: SubscriptionInfo) => (s.displayName ? `${s.subscriptionId} (${s.displayName})` : s.subscriptionId);

export function createRegistryResolver(session: AzureSession): RegistryResolver {
  // one SDK client per tenant and subscription
  const clients = new Map<string, ContainerRegistryManagementContext>();
  const client = (subscriptionId: string, tenantId: string | undefined) => {
    const key = `${tenantId ?? ''}|${subscriptionId.toLowerCase()}`;
    let c = clients.get(key);
    if (!c) {
      c = armClient(
        session,
        createContainerRegistryManagement(sessionCredential(session, tenantId) as never, subscriptionId, armClientOptions(session)),
      );
      clients.set(key, c);
    }
    return c;
  };

  async function get(subscriptionId: string, resourceGroup: string, name: string, tenantId: string | undefined): Promise<Registry | undefined> {
    try {
      const r = await armCall(
        ACR_SERVICE,
        `get registry ${name}`,
        () => registriesApi.get(client(subscriptionId, tenantId), resourceGroup, name),
        (info) =>
          info.status === 403
            ? `The signed-in identity needs at least Reader on the registry (subscription ${subscriptionId}, resource group ${resourceGroup}).`
            : undefined,
      );
      return toRegistry(r);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  async function listIn(subscriptionId: string, tenantId: string | undefined): Promise<Registry[]> {
    const out: Registry[] = [];
    await armCall(
      ACR_SERVICE,
      `list registries in subscription ${subscriptionId}`,
      async () => {
        for await (const r of registriesApi.list(client(subscriptionId, tenantId))) out.push(toRegistry(r));
      },
      (info) =>
        info.status === 403
          ? `The signed-in identity may not list registries in subscription ${subscriptionId}; give registry-resource-group or the registry's resource id.`
          : undefined,
    );
    return out;
  }

  const resolver: RegistryResolver = {
    async resolve(ref) {
      const tenantId = ref.tenantId;
      if (ref.kind === 'loginServer') checkLoginServer(ref.loginServer, session.cloud.acrSuffix);
      if (ref.kind === 'resourceId') {
        const r = await get(ref.subscriptionId, ref.resourceGroup, ref.name, tenantId);
        if (!r)
          throw new CheckError(
            `Registry ${ref.resourceId} was not found. Check the registry input (resource id) and that the signed-in identity can read it.`,
          );
        return r;
      }
      if (ref.resourceGroup) {
        const sub = ref.subscriptionId ?? session.subscriptionId;
        if (!sub)
          throw new InputError(
            'registry-subscription-id',
            'is required to find the registry by resource group',
            'a subscription id, or subscription-id, or the registry as a resource id',
          );
        const r = await get(sub, ref.resourceGroup, ref.name, tenantId);
        if (r && matches(r, ref)) return r;
        throw new CheckError(
          `Registry '${ref.kind === 'loginServer' ? ref.loginServer : ref.name}' was not found in resource group ${ref.resourceGroup} of subscription ${sub}. Check registry, registry-resource-group and registry-subscription-id.`,
        );
      }
      const searched: string[] = [];
      const search = async (subs: string[]) => {
        const lists = await Promise.all(subs.map(async (s) => ({ s, list: await listIn(s, tenantId) })));
        for (const { s, list } of lists) {
          searched.push(s);
          const hit = list.find((r) => matches(r, ref));
          if (hit) return hit;
        }
        return undefined;
      };
      let known: SubscriptionInfo[] = [];
      if (ref.subscriptionId) {
        const hit = await search([ref.subscriptionId]);
        if (hit) return hit;
      } else {
        // subscription-id first (one request on the common path), then every other subscription
        const first = session.subscriptionId?.toLowerCase();
        if (first) {
          const hit = await search([first]);
          if (hit) return hit;
        }
        known = await listSubscriptions(session, tenantId);
        const hit = await search(known.map((s) => s.subscriptionId).filter((s) => s !== first));
        if (hit) return hit;
      }
      const label = (id: string) => describe(known.find((k) => k.subscriptionId === id.toLowerCase()) ?? { subscriptionId: id });
      const what = ref.kind === 'loginServer' ? `with login server ${ref.loginServer}` : `named '${ref.name}'`;
      throw new CheckError(
        `No registry ${what} was found in ${searched.length ? `the subscription${searched.length > 1 ? 's' : ''} searched: ${searched.map(label).join(', ')}` : 'any subscription: the signed-in identity can list none'}. ` +
          'Check the registry input, give registry-subscription-id (and registry-resource-group), or give the registry as a resource id; the signed-in identity needs at least Reader on the registry.',
      );
    },
  };
  return {
    async resolve(ref) {
      const r = await resolver.resolve(ref);
      checkReportedLoginServer(r, session.cloud.acrSuffix);
      return r;
    },
  };
}

/**
 * The login server ARM reports for a registry must be under the cloud's registry suffix: pull
 * credentials, Entra tokens (exchange) and credential checks are sent to it, so a registry
 * answering with any other host is refused before anything is sent there.
 */
export function checkReportedLoginServer(r: Registry, acrSuffix: string): void {
  const host = hostOf(r.loginServer);
  const suffix = acrSuffix.toLowerCase();
  const label = host.slice(0, host.length - suffix.length);
  if (!host.endsWith(suffix) || !/^[a-z0-9][a-z0-9-]*$/.test(label)) {
    throw new CheckError(
      `Registry ${r.name || r.id} reports login server '${r.loginServer.slice(0, 200)}', which is not a registry of this cloud (name${acrSuffix}); nothing was sent to it. Check the registry and the environment input.`,
    );
  }
}

/** GET /subscriptions (every page): the subscriptions the caller can see, cached per session. */
const subscriptionCache = new WeakMap<AzureSession, Map<string, Promise<SubscriptionInfo[]>>>();

export function listSubscriptions(session: AzureSession, tenantId?: string): Promise<SubscriptionInfo[]> {
  let perTenant = subscriptionCache.get(session);
  if (!perTenant) subscriptionCache.set(session, (perTenant = new Map()));
  const key = tenantId ?? '';
  let p = perTenant.get(key);
  if (!p) {
    p = fetchSubscriptions(session, tenantId);
    perTenant.set(key, p);
    p.catch(() => perTenant.delete(key));
  }
  return p;
}

async function fetchSubscriptions(session: AzureSession, tenantId: string | undefined): Promise<SubscriptionInfo[]> {
  const client = armRestClient(session, tenantId);
  type Wire = { subscriptionId?: unknown; displayName?: unknown; tenantId?: unknown; state?: unknown };
  const list = await armCall('ARM', 'list subscriptions', () =>
    armPages<Wire>(client, () => client.pathUnchecked('/subscriptions').get({ queryParameters: { 'api-version': '2022-12-01' } })),
  );
  const out: SubscriptionInfo[] = [];
  for (const s of list) {
    if (s && typeof s.subscriptionId === 'string' && s.subscriptionId && (s.state ?? 'Enabled') !== 'Disabled')
      out.push({
        subscriptionId: s.subscriptionId.toLowerCase(),
        displayName: typeof s.displayName === 'string' ? s.displayName : undefined,
        tenantId: typeof s.tenantId === 'string' ? s.tenantId : undefined,
      });
  }
  return out;
}
