// A small Microsoft Graph client: service principals (get by appId, provision) and applications
// (get with passwordCredentials, addPassword), each call with a token for the tenant it names.
//
// Why our own: there is no small, well-kept Graph SDK for this. @microsoft/microsoft-graph-client
// is in maintenance and brings its own auth plumbing, and the Kiota-based @microsoft/msgraph-sdk
// is a very large generated package for four REST calls. So this is an @azure/core-rest-pipeline
// pipeline under the transport rules of every Azure call (src/net/azure.ts: no redirects, capped
// Retry-After, timeouts, size cap, Graph tokens to Graph's origin only) plus session.token(scope,
// tenant), which caches and masks tokens per tenant.
import { createHttpHeaders, createPipelineFromOptions, createPipelineRequest } from '@azure/core-rest-pipeline';
import type { HttpClient, Pipeline, PipelineResponse } from '@azure/core-rest-pipeline';
import { ApiError } from '../errors.ts';
import { azureHttpClient, restErrorInfo, useNetPolicies } from '../net/azure.ts';
import { jwtClaims } from '../jwt.ts';
import type { AzureSession, GraphClient, GraphServicePrincipal } from './types.ts';

export const GRAPH_SERVICE = 'Microsoft Graph';

/** Microsoft Graph's own app id: the resource whose application permissions (app roles) are granted. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/**
 * The Graph application permissions the action's calls need, and their app role ids, from
 * Microsoft's generated list (microsoftgraph/microsoft-graph-docs-contrib
 * concepts/includes/permissions-ids.md @ 0fcd5cbe, the "All permissions and IDs" of
 * https://learn.microsoft.com/graph/permissions-reference). Which call needs which:
 * ../shared/azure-api/graph/PERMISSIONS.md, and README's Least-privilege permissions.
 */
export const GRAPH_APP_ROLES = {
  'Application.Read.All': '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30',
  'Application.ReadWrite.OwnedBy': '18a4783c-866b-4cc7-a460-3d5e5662c884',
  'Application.ReadWrite.All': '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9',
} as const;
export type GraphAppRole = keyof typeof GRAPH_APP_ROLES;

/** The calls the client makes, as a 403 names them. */
export type GraphCall = 'read-service-principal' | 'provision-service-principal' | 'read-application' | 'add-password';

/** What a 403 hint is made from: the call, its tenant, who called (from the Graph token) and Graph's message. */
export interface GraphDenial {
  call: GraphCall;
  /** the tenant the call went to */
  tenant: string;
  /** the app the call was about (the cluster's, or the credential's) */
  appId: string;
  /** the caller, from its Graph token: client id, object id in `tenant`, its `roles`, and whether it is a user (delegated) */
  caller: { appId?: string; objectId?: string; roles: string[]; user: boolean };
  /** Graph's error message */
  message: string;
  /** the cloud's Entra authority, for the admin-consent link */
  authorityHost: string;
}

/** The caller facts a hint needs, from the claims of the Graph access token used. Pure. */
export function graphCaller(claims: Record<string, unknown> | undefined): GraphDenial['caller'] {
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const roles = Array.isArray(claims?.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  return {
    appId: str(claims?.appid) ?? str(claims?.azp),
    objectId: str(claims?.oid),
    roles,
    user: claims?.idtyp === 'user' || typeof claims?.scp === 'string',
  };
}

/**
 * The commands that grant the caller a Graph application permission in `tenant`: add it to the
 * app registration (in the app's home tenant), then an administrator of `tenant` consents, with
 * `az ad app permission admin-consent` where `tenant` is the app's home tenant, else through the
 * admin-consent link (which consents to what the app registration requests). Pure.
 */
export function grantGraphPermissionCommands(role: GraphAppRole, callerAppId: string, tenant: string, authorityHost: string): string {
  const consentUrl = `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenant)}/adminconsent?client_id=${encodeURIComponent(callerAppId)}`;
  return (
    `\`az ad app permission add --id ${callerAppId} --api ${GRAPH_APP_ID} --api-permissions ${GRAPH_APP_ROLES[role]}=Role\` (${role}), ` +
    `then an administrator of tenant ${tenant} consents: \`az ad app permission admin-consent --id ${callerAppId}\` signed in to ${tenant} if it is the app's home tenant, else opening ${consentUrl}`
  );
}

/** What to do about a 403 from Graph: the permission the call needs, what the caller holds, and the commands. Pure. */
export function graphDeniedHint(d: GraphDenial): string {
  const caller = d.caller.appId ?? '$CLIENT_ID';
  const holds = d.caller.roles.length
    ? `its Graph token for tenant ${d.tenant} carries ${d.caller.roles.join(', ')}`
    : `its Graph token for tenant ${d.tenant} carries no Graph application permission`;
  const who = `The signed-in identity (app ${caller})`;
  if (d.caller.user) {
    return (
      `${who} signed in as a user, and Graph checks the user's directory role: reading service principals needs a directory reader, creating them or adding client secrets ` +
      `Application Administrator or Cloud Application Administrator (or ownership of the app). Or sign in as an app with the permission README's Least-privilege permissions lists.`
    );
  }
  const grant = (role: GraphAppRole) => grantGraphPermissionCommands(role, caller, d.tenant, d.authorityHost);
  switch (d.call) {
    case 'read-service-principal':
      return `${who} may not read service principals in tenant ${d.tenant}: that needs the Microsoft Graph application permission Application.Read.All there (${holds}). Grant it: ${grant('Application.Read.All')}.`;
    case 'read-application':
      return (
        `${who} may not read app registration ${d.appId} in tenant ${d.tenant}: that needs Application.Read.All there, or Application.ReadWrite.OwnedBy as an owner of the app (${holds}). ` +
        `Grant it: ${grant('Application.Read.All')}.`
      );
    case 'provision-service-principal': {
      const ownedBy = d.caller.roles.includes('Application.ReadWrite.OwnedBy') || /When using this permission/i.test(d.message);
      return (
        `${who} may not create the service principal of app ${d.appId} in tenant ${d.tenant}: for an app of another tenant that needs Application.ReadWrite.All there, with admin consent ` +
        `(${holds}${ownedBy ? '; Graph refused it under Application.ReadWrite.OwnedBy, which only covers apps of the local tenant the caller owns' : '; Application.ReadWrite.OwnedBy is not enough'}). ` +
        `Grant it: ${grant('Application.ReadWrite.All')}.`
      );
    }
    case 'add-password':
      return (
        `${who} may not add a client secret to app ${d.appId} in tenant ${d.tenant}: that needs Application.ReadWrite.OwnedBy as an owner of the app, or Application.ReadWrite.All (${holds}). ` +
        `Either make it an owner, \`az ad app owner add --id ${d.appId} --owner-object-id ${d.caller.objectId ?? '$OBJECT_ID'}\`, and grant ${grant('Application.ReadWrite.OwnedBy')}; ` +
        `or grant Application.ReadWrite.All the same way (api permission ${GRAPH_APP_ROLES['Application.ReadWrite.All']}).`
      );
  }
}

export interface GraphClientOptions {
  /** called with every secret value the moment it exists (the runner's setSecret) */
  mask: (value: string) => void;
  httpClient?: HttpClient;
}

/** `appId='…'` key segment: OData string literal, URL-encoded. */
export function appIdKey(appId: string): string {
  return `'${encodeURIComponent(appId.replace(/'/g, "''"))}'`;
}

/** Graph's `{ error: { code, message } }` from a response body. */
export function graphErrorInfo(status: number, bodyText: string | undefined): { status: number; code?: string; message: string } {
  let code: string | undefined;
  let message = `HTTP ${status}`;
  if (bodyText) {
    try {
      const j = JSON.parse(bodyText) as { error?: { code?: string; message?: string } };
      if (j.error?.code) code = j.error.code;
      if (j.error?.message) message = j.error.message;
    } catch {
      // not JSON: keep the status only (never print a whole body)
    }
  }
  if (message.length > 600) message = `${message.slice(0, 600)}...`;
  return { status, code, message: message.replace(/\s*\r?\n\s*/g, ' ') };
}

export function createGraphClient(session: AzureSession, opts: GraphClientOptions): GraphClient {
  const base = `${session.cloud.graph.replace(/\/+$/, '')}/v1.0`;
  const scope = `${session.cloud.graph.replace(/\/+$/, '')}/.default`;
  const pipeline: Pipeline = useNetPolicies(createPipelineFromOptions({ userAgentOptions: { userAgentPrefix: 'acr-kube-auth' } }), {
    service: 'Graph',
    origin: session.cloud.graph,
    trace: (line) => session.trace(line),
  });
  const http = opts.httpClient ?? azureHttpClient();

  /** The claims of the Graph token last used per tenant: who the caller is, for a 403's hint. */
  const callers = new Map<string, Record<string, unknown> | undefined>();

  async function call(
    operation: string,
    method: 'GET' | 'POST',
    path: string,
    tenantId: string | undefined,
    body: unknown,
  ): Promise<PipelineResponse> {
    const token = await session.token(scope, tenantId);
    callers.set(tenantId ?? '', jwtClaims(token));
    const headers = createHttpHeaders({ authorization: `Bearer ${token}`, accept: 'application/json' });
    if (body !== undefined) headers.set('content-type', 'application/json');
    const request = createPipelineRequest({
      url: `${base}${path}`,
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let res: PipelineResponse;
    try {
      res = await pipeline.sendRequest(http, request);
    } catch (e) {
      const info = restErrorInfo(e);
      if (info.status === undefined && (e as Error)?.name === 'AbortError') info.message = 'timed out';
      throw new ApiError({
        service: GRAPH_SERVICE,
        operation,
        status: info.status,
        code: info.code,
        message: info.message,
        transport: info.transport,
      });
    }
    return res;
  }

  /** The failed call as an ApiError; a 403 gets the hint naming the permission `call` needs (graphDeniedHint). */
  function fail(operation: string, res: PipelineResponse, tenantId: string | undefined, call: GraphCall, appId: string, hint?: string): never {
    const info = graphErrorInfo(res.status, res.bodyAsText ?? undefined);
    const where = tenantId ? ` (tenant ${tenantId})` : '';
    const denied =
      res.status === 403
        ? graphDeniedHint({
            call,
            tenant: tenantId ?? session.tenantId ?? 'organizations',
            appId,
            caller: graphCaller(callers.get(tenantId ?? '')),
            message: info.message,
            authorityHost: session.cloud.authorityHost,
          })
        : undefined;
    throw new ApiError({
      service: GRAPH_SERVICE,
      operation: `${operation}${where}`,
      status: info.status,
      code: info.code,
      message: info.message,
      hint: denied ?? hint,
    });
  }

  /** The answer as a JSON object with the `required` string fields, or an ApiError saying what was expected. */
  function parse(operation: string, res: PipelineResponse, required: string[]): Record<string, unknown> {
    let o: unknown;
    try {
      o = JSON.parse(res.bodyAsText ?? '');
    } catch {
      throw new ApiError({ service: GRAPH_SERVICE, operation, status: res.status, message: 'the response is not JSON' });
    }
    const missing =
      o && typeof o === 'object' && !Array.isArray(o) ? required.filter((k) => typeof (o as Record<string, unknown>)[k] !== 'string') : required;
    if (missing.length) {
      throw new ApiError({
        service: GRAPH_SERVICE,
        operation,
        status: res.status,
        code: 'InvalidResponse',
        message: `the answer is not what Graph sends: expected a JSON object with ${required.join(', ')} (missing ${missing.join(', ')})`,
      });
    }
    return o as Record<string, unknown>;
  }

  function toSp(o: Record<string, unknown>): GraphServicePrincipal {
    return {
      id: String(o.id),
      appId: String(o.appId),
      displayName: typeof o.displayName === 'string' ? o.displayName : undefined,
      appOwnerOrganizationId: typeof o.appOwnerOrganizationId === 'string' ? o.appOwnerOrganizationId : undefined,
      servicePrincipalType: typeof o.servicePrincipalType === 'string' ? o.servicePrincipalType : undefined,
    };
  }

  return {
    async servicePrincipal(appId, tenantId) {
      const op = `get service principal of app ${appId}`;
      const sel = '$select=id,appId,displayName,appOwnerOrganizationId,servicePrincipalType';
      const res = await call(op, 'GET', `/servicePrincipals(appId=${appIdKey(appId)})?${sel}`, tenantId, undefined);
      if (res.status === 404) return undefined;
      if (res.status !== 200) fail(op, res, tenantId, 'read-service-principal', appId);
      return toSp(parse(op, res, ['id', 'appId']));
    },

    async provisionServicePrincipal(appId, tenantId) {
      const op = `create service principal of app ${appId}`;
      const res = await call(op, 'POST', '/servicePrincipals', tenantId, { appId });
      if (res.status === 409) {
        // created meanwhile (a concurrent run): read it back
        const sp = await this.servicePrincipal(appId, tenantId);
        if (sp) return sp;
      }
      if (res.status !== 201 && res.status !== 200) fail(op, res, tenantId, 'provision-service-principal', appId);
      return toSp(parse(op, res, ['id', 'appId']));
    },

    async application(appId, tenantId) {
      const op = `get application ${appId}`;
      const res = await call(
        op,
        'GET',
        `/applications(appId=${appIdKey(appId)})?$select=id,appId,displayName,passwordCredentials`,
        tenantId,
        undefined,
      );
      if (res.status === 404) return undefined;
      if (res.status !== 200) fail(op, res, tenantId, 'read-application', appId);
      const o = parse(op, res, ['id', 'appId']);
      const creds = (Array.isArray(o.passwordCredentials) ? (o.passwordCredentials as unknown[]) : []).filter(
        (c): c is Record<string, unknown> => !!c && typeof c === 'object' && typeof (c as { keyId?: unknown }).keyId === 'string',
      );
      return {
        id: String(o.id),
        appId: String(o.appId),
        displayName: typeof o.displayName === 'string' ? o.displayName : undefined,
        passwordCredentials: creds.map((c) => ({
          keyId: String(c.keyId),
          displayName: (c.displayName as string | null | undefined) ?? null,
          startDateTime: (c.startDateTime as string | null | undefined) ?? null,
          endDateTime: (c.endDateTime as string | null | undefined) ?? null,
          hint: (c.hint as string | null | undefined) ?? null,
        })),
      };
    },

    async addPassword(appId, credential, tenantId) {
      const op = `add client secret to application ${appId}`;
      const res = await call(op, 'POST', `/applications(appId=${appIdKey(appId)})/addPassword`, tenantId, { passwordCredential: credential });
      if (res.status !== 200 && res.status !== 201) {
        const hint =
          res.status === 404
            ? `The app registration is not in tenant ${tenantId ?? session.tenantId ?? '(login tenant)'}: secrets are added in the app's home tenant.`
            : undefined;
        fail(op, res, tenantId, 'add-password', appId, hint);
      }
      const o = parse(op, res, []);
      const secretText = typeof o.secretText === 'string' ? o.secretText : '';
      if (secretText) opts.mask(secretText); // before anything else can fail and print
      if (!secretText || typeof o.keyId !== 'string')
        throw new ApiError({ service: GRAPH_SERVICE, operation: op, status: res.status, message: 'the response has no secretText and keyId' });
      return {
        keyId: String(o.keyId),
        secretText,
        startDateTime: typeof o.startDateTime === 'string' ? o.startDateTime : undefined,
        endDateTime: typeof o.endDateTime === 'string' ? o.endDateTime : credential.endDateTime,
        tenantId,
      };
    },
  };
}
