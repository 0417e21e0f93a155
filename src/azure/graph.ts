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
import type { AzureSession, GraphClient, GraphServicePrincipal } from './types.ts';

export const GRAPH_SERVICE = 'Microsoft Graph';

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

  async function call(
    operation: string,
    method: 'GET' | 'POST',
    path: string,
    tenantId: string | undefined,
    body: unknown,
  ): Promise<PipelineResponse> {
    const token = await session.token(scope, tenantId);
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

  function fail(operation: string, res: PipelineResponse, tenantId: string | undefined, hint?: string): never {
    const info = graphErrorInfo(res.status, res.bodyAsText ?? undefined);
    const where = tenantId ? ` (tenant ${tenantId})` : '';
    throw new ApiError({
      service: GRAPH_SERVICE,
      operation: `${operation}${where}`,
      status: info.status,
      code: info.code,
      message: info.message,
      hint,
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

  const denied = (what: string) => (s: number) =>
    s === 403
      ? `The signed-in identity lacks the Graph permission to ${what} (for example Application.ReadWrite.OwnedBy or Application.ReadWrite.All with admin consent).`
      : undefined;

  return {
    async servicePrincipal(appId, tenantId) {
      const op = `get service principal of app ${appId}`;
      const sel = '$select=id,appId,displayName,appOwnerOrganizationId,servicePrincipalType';
      const res = await call(op, 'GET', `/servicePrincipals(appId=${appIdKey(appId)})?${sel}`, tenantId, undefined);
      if (res.status === 404) return undefined;
      if (res.status !== 200) fail(op, res, tenantId, denied('read service principals')(res.status));
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
      if (res.status !== 201 && res.status !== 200) fail(op, res, tenantId);
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
      if (res.status !== 200) fail(op, res, tenantId, denied('read application registrations')(res.status));
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
            : denied('add client secrets to this application (own it, or Application.ReadWrite.All)')(res.status);
        fail(op, res, tenantId, hint);
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
