// The registry section: registry (a name, a login server or a resource id), registry-resource-group,
// registry-subscription-id and registry-tenant-id -> the registry reference.
import { InputError } from '../errors.ts';
import type { RegistryRef } from '../settings.ts';
import { GUID, RESOURCE_GROUP, checkGroup, clip, guid, noControl, optional, type GetInput } from './fields.ts';

// ACR registry names: 5-50 alphanumerics.
const REGISTRY_NAME = /^[a-zA-Z0-9]{5,50}$/;
// host[:port] for a login server
const HOST_PORT = /^(?=.{1,253}(?::\d+)?$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

/** Registry name, login server or resource id; `basic` (given credentials) accepts any registry host. */
export function parseRegistry(raw: string, acrSuffix: string, basic: boolean): RegistryRef {
  const v = raw.trim();
  const accepted = `a registry name (5-50 letters and digits), a login server (name${acrSuffix}) or a resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>)`;
  if (v === '') throw new InputError('registry', 'is required', accepted);
  noControl('registry', v);
  if (v.startsWith('/')) {
    const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i.exec(v);
    if (!m || !GUID.test(m[1]) || !RESOURCE_GROUP.test(m[2]) || !REGISTRY_NAME.test(m[3])) {
      throw new InputError('registry', `'${clip(v)}' is not a registry resource id`, accepted);
    }
    return { kind: 'resourceId', name: m[3].toLowerCase(), resourceId: v, subscriptionId: m[1].toLowerCase(), resourceGroup: m[2] };
  }
  if (REGISTRY_NAME.test(v)) return { kind: 'name', name: v.toLowerCase() };
  const host = v
    .replace(/^https:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
  if (HOST_PORT.test(host)) {
    const hostname = host.replace(/:\d+$/, '');
    if (hostname.endsWith(acrSuffix)) {
      const name = hostname.slice(0, -acrSuffix.length).split('.')[0];
      if (!REGISTRY_NAME.test(name)) throw new InputError('registry', `'${clip(v)}' does not start with a valid registry name`, accepted);
      return { kind: 'loginServer', name, loginServer: host };
    }
    // Any other registry host is fine for given credentials (custom domains, other registries).
    if (basic) return { kind: 'loginServer', name: hostname.split('.')[0], loginServer: host };
    throw new InputError('registry', `'${clip(v)}' is not under this cloud's registry suffix ${acrSuffix}`, accepted);
  }
  throw new InputError('registry', `'${clip(v)}' is not a registry name, login server or resource id`, accepted);
}

export function readRegistry(get: GetInput, acrSuffix: string, basic: boolean): RegistryRef {
  const tenantId = guid(get, 'registry-tenant-id');
  const registry = parseRegistry(get('registry'), acrSuffix, basic);
  const registryGroup = optional(get, 'registry-resource-group');
  const registrySub = guid(get, 'registry-subscription-id');
  if (registry.kind === 'resourceId') {
    if (registryGroup || registrySub) {
      throw new InputError(
        'registry-resource-group',
        'is given together with a registry resource id that already names it',
        'a registry name or login server with registry-resource-group/registry-subscription-id',
      );
    }
  } else {
    if (registryGroup) registry.resourceGroup = checkGroup('registry-resource-group', registryGroup);
    if (registrySub) registry.subscriptionId = registrySub;
  }
  if (tenantId) registry.tenantId = tenantId;
  return registry;
}
