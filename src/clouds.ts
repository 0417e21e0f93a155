// Azure clouds: the three built-in ones and a custom cloud given as `az cloud show` JSON.
import type { Cloud } from './settings.ts';
import { InputError } from './errors.ts';

/**
 * The Entra audience of tokens for Azure Container Registry itself (not ARM's), in every cloud.
 * - Microsoft's SDKs use this one audience for all clouds: azure-sdk-for-go azcontainerregistry
 *   cloud_config.go gives AzurePublic, AzureChina and AzureGovernment the same `defaultAudience`
 *   (custom_constants.go: "https://containerregistry.azure.net"; CHANGELOG 0.2.0: "Change default
 *   audience to https://containerregistry.azure.net"), and the .NET SDK defaults to it "for all
 *   clouds", on "information from the service team" (Azure/azure-sdk-for-net#34785).
 * - The registries' DNS suffix differs per cloud (azure-cli cloud.py `acr_login_server_endpoint`:
 *   .azurecr.io, .azurecr.cn, .azurecr.us); the audience does not: Entra and ACR "don't support
 *   registry-specific Microsoft Entra authentication audiences"
 *   (container-registry-disable-authentication-as-arm.md; ../shared/azure-api/acr-dataplane/AUDIENCES.md).
 * - A custom cloud: `az cloud show` carries no ACR audience (cloud.py's CloudEndpoints has none), so
 *   the same audience is used. No source held here names another one for any cloud.
 * A token for it works whatever the registry's azureADAuthenticationAsArmPolicy says; an ARM token
 * is refused where that policy is disabled (Microsoft's recommendation).
 */
export const ACR_AUDIENCE = 'https://containerregistry.azure.net';

const BUILT_IN: Record<string, Cloud> = {
  azurecloud: {
    name: 'AzureCloud',
    resourceManager: 'https://management.azure.com',
    armAudience: 'https://management.core.windows.net/',
    authorityHost: 'https://login.microsoftonline.com',
    graph: 'https://graph.microsoft.com',
    acrSuffix: '.azurecr.io',
    acrAudience: ACR_AUDIENCE,
    custom: false,
  },
  azurechinacloud: {
    name: 'AzureChinaCloud',
    resourceManager: 'https://management.chinacloudapi.cn',
    armAudience: 'https://management.core.chinacloudapi.cn/',
    authorityHost: 'https://login.chinacloudapi.cn',
    graph: 'https://microsoftgraph.chinacloudapi.cn',
    acrSuffix: '.azurecr.cn',
    acrAudience: ACR_AUDIENCE,
    custom: false,
  },
  azureusgovernment: {
    name: 'AzureUSGovernment',
    resourceManager: 'https://management.usgovcloudapi.net',
    armAudience: 'https://management.core.usgovcloudapi.net/',
    authorityHost: 'https://login.microsoftonline.us',
    graph: 'https://graph.microsoft.us',
    acrSuffix: '.azurecr.us',
    acrAudience: ACR_AUDIENCE,
    custom: false,
  },
};

const ACCEPTED =
  'AzureCloud, AzureChinaCloud, AzureUSGovernment, or a custom cloud as `az cloud show` JSON with https endpoints.resourceManager, endpoints.activeDirectory, endpoints.microsoftGraphResourceId and suffixes.acrLoginServerEndpoint';

/** Parses the `environment` input. Pure. */
export function parseCloud(raw: string): Cloud {
  const value = raw.trim() || 'AzureCloud';
  if (!value.startsWith('{')) {
    const cloud = BUILT_IN[value.toLowerCase()];
    if (!cloud) throw new InputError('environment', `unknown cloud '${value}'`, ACCEPTED);
    return cloud;
  }
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new InputError('environment', 'is not valid JSON', ACCEPTED);
  }
  const obj = json as { name?: unknown; endpoints?: Record<string, unknown>; suffixes?: Record<string, unknown> };
  const endpoints = obj.endpoints ?? {};
  const suffixes = obj.suffixes ?? {};
  const url = (key: string, v: unknown, required: boolean): string | undefined => {
    if (v === undefined || v === null || v === '') {
      if (required) throw new InputError('environment', `custom cloud lacks ${key}`, ACCEPTED);
      return undefined;
    }
    if (typeof v !== 'string') throw new InputError('environment', `${key} is not a string`, ACCEPTED);
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new InputError('environment', `${key} '${v}' is not a URL`, ACCEPTED);
    }
    if (u.protocol !== 'https:') {
      throw new InputError('environment', `${key} '${v}' is not https (tokens only travel over TLS)`, ACCEPTED);
    }
    return v.replace(/\/+$/, '');
  };
  const resourceManager = url('endpoints.resourceManager', endpoints.resourceManager, true)!;
  const authorityHost = url('endpoints.activeDirectory', endpoints.activeDirectory, true)!;
  const graph = url('endpoints.microsoftGraphResourceId', endpoints.microsoftGraphResourceId, true)!;
  const audience = url('endpoints.activeDirectoryResourceId', endpoints.activeDirectoryResourceId, false);
  const suffix = suffixes.acrLoginServerEndpoint;
  if (typeof suffix !== 'string' || !/^\.?[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(suffix)) {
    throw new InputError('environment', 'custom cloud lacks a valid suffixes.acrLoginServerEndpoint', ACCEPTED);
  }
  return {
    name: typeof obj.name === 'string' && obj.name ? obj.name : 'Custom',
    resourceManager,
    armAudience: audience ? `${audience}/` : `${resourceManager}/`,
    authorityHost,
    graph,
    acrSuffix: suffix.startsWith('.') ? suffix.toLowerCase() : `.${suffix.toLowerCase()}`,
    acrAudience: ACR_AUDIENCE,
    custom: true,
  };
}
