// ARM's contract with its callers, enforced on every request the emulated ARM serves: the api-version
// must be one the held specs define for the resource provider, the request body must match the
// operation's schema at that api-version, and the emulator's own answer must match it too (an answer
// that does not is an emulator bug: it fails loudly, with a 500 and a line on stderr, and is recorded
// in specViolations for the tests).
import type { EmuContext, EmuRequest, EmuResponse, EmulatorState } from '../types.ts';
import { collapsedPath } from '../routes.ts';
import {
  finalLocationProblems,
  namespaceOf,
  operationStatusProblems,
  requestBodyProblems,
  responseProblems,
  specOperation,
  supportedApiVersions,
} from './swagger.ts';
import type { SpecOperation } from './swagger.ts';

const lc = (s: string): string => s.toLowerCase();

/** Every answer of this process's emulators that broke the spec (newest last): read by the tests. */
export const specViolations: Array<{ method: string; path: string; apiVersion: string; problems: string[] }> = [];

/** The path's resource type after its namespace (`registries/tokens`, `managedClusters`, `roleAssignments`). */
function resourceTypeOf(path: string, namespace: string): string {
  const segments = path.split('/').filter(Boolean);
  let at = -1;
  for (let i = segments.length - 2; i >= 0; i--) {
    if (lc(segments[i]) === 'providers' && lc(segments[i + 1]) === lc(namespace)) {
      at = i + 1;
      break;
    }
  }
  const tail = segments.slice(at + 1);
  return tail.filter((_, i) => i % 2 === 0).join('/') || namespace;
}

function locationOf(state: EmulatorState, path: string): string {
  const id = lc(path);
  for (const [key, res] of Object.entries(state.resources)) {
    if (id === key || id.startsWith(`${key}/`)) return String(res.location ?? '');
  }
  const rg = /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+/.exec(id)?.[0];
  return (rg && state.resourceGroups?.[rg]?.location) || 'global';
}

/**
 * An api-version the held specs do not define for the path's resource provider: 400
 * NoRegisteredProviderFound, as ARM answers for a resource provider's type (real answers:
 * Azure/azure-cli#9834 "No registered resource provider found for location 'westeurope' and API
 * version '2019-05-01' for type 'registries'. The supported api-versions are '…'. The supported
 * locations are '…'."; nebari-dev/nebari#2374, Status=400, for 'managedClusters';
 * MicrosoftDocs/azure-docs#82469 for 'roleAssignments', "The supported locations are ''").
 * InvalidApiVersionParameter ("The api-version '…' is invalid. The supported versions are '…'.") is
 * ARM's own answer for its own endpoints (subscriptions, resource groups: Azure/azure-cli#28038) and
 * for requests it routes to itself (pulumi/pulumi-azure-native#3637, a malformed role assignment
 * scope); the emulator holds no Microsoft.Resources spec, so it checks no api-version there.
 * Which location ARM names for a collection or a missing resource is not documented: the emulator
 * names the resource's, else its resource group's, else 'global'; the supported locations it lists
 * are those of the emulator's resources of that namespace (none for Microsoft.Authorization, as recorded).
 */
export function apiVersionProblem(req: EmuRequest, ctx: EmuContext): EmuResponse | undefined {
  const path = collapsedPath(req);
  const namespace = namespaceOf(path);
  if (!namespace) return undefined;
  const versions = supportedApiVersions(namespace);
  const apiVersion = req.query.get('api-version') ?? '';
  if (!versions || versions.includes(apiVersion)) return undefined;
  const type = resourceTypeOf(path, namespace);
  const locations =
    lc(namespace) === 'microsoft.authorization'
      ? []
      : [
          ...new Set(
            Object.values(ctx.state.resources)
              .filter((r) => lc(String(r.type ?? '')).startsWith(`${lc(namespace)}/`))
              .map((r) => lc(String(r.location ?? '')).replace(/\s+/g, ''))
              .filter(Boolean),
          ),
        ];
  return ctx.armError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location '${locationOf(ctx.state, path)}' and API version '${apiVersion}' for type '${type}'. The supported api-versions are '${versions.join(', ')}'. The supported locations are '${locations.join(', ')}'.`,
  );
}

/** The spec operation of a request at its api-version (undefined: no held spec describes it, e.g. operation status URLs). */
export function operationOf(req: EmuRequest): SpecOperation | undefined {
  const path = collapsedPath(req);
  const namespace = namespaceOf(path);
  const apiVersion = req.query.get('api-version');
  if (!namespace || !apiVersion) return undefined;
  return specOperation(namespace, apiVersion, req.method, path);
}

/**
 * A request body the operation's schema rejects: 400 InvalidRequestContent, ARM's code for a body it
 * cannot deserialize ("The request content was invalid and could not be deserialized: …", e.g.
 * Azure/azure-cli#31885). What each resource provider says about a body that parses but breaks its
 * schema (an unknown member, a wrong enum value) differs per provider and was not found for ACR, AKS
 * or Authorization: the emulator says what the schema found, in that shape.
 */
export function requestProblem(req: EmuRequest, ctx: EmuContext, op: SpecOperation): EmuResponse | undefined {
  const problems = requestBodyProblems(op, req.body.length, req.json);
  if (!problems) return undefined;
  return ctx.armError(
    400,
    'InvalidRequestContent',
    `The request content was invalid and could not be deserialized: ${problems.join('; ')} (${op.operationId}, api-version ${op.apiVersion}).`,
  );
}

/** The emulator broke the spec: say so on stderr, record it, and answer 500 so no caller takes the answer for Azure's. */
function violation(req: EmuRequest, ctx: EmuContext, apiVersion: string, problems: string[]): EmuResponse {
  const entry = { method: req.method, path: req.path, apiVersion, problems };
  specViolations.push(entry);
  process.stderr.write(
    `emulator: SPEC VIOLATION (an emulator bug) on ${req.method} ${req.path} (api-version ${apiVersion}): ${problems.join('; ')}\n`,
  );
  return ctx.armError(500, 'EmulatorSpecViolation', `The emulator's answer does not match the spec (${apiVersion}): ${problems.join('; ')}`);
}

/** The answer itself when it matches the operation at the api-version called; else the loud 500. */
export function checkedResponse(req: EmuRequest, ctx: EmuContext, op: SpecOperation, res: EmuResponse): EmuResponse {
  const problems = responseProblems(op, res, req.method);
  return problems.length ? violation(req, ctx, op.apiVersion, problems) : res;
}

/** An Azure-AsyncOperation URL's answer, checked against the operation resource of ARM's async guideline. */
export function checkedStatus(req: EmuRequest, ctx: EmuContext, res: EmuResponse): EmuResponse {
  if (res.status !== 200) return res;
  const problems = operationStatusProblems(res.body);
  return problems ? violation(req, ctx, req.query.get('api-version') ?? '', problems) : res;
}

/** A Location URL's final answer, checked against the operation that started it. */
export function checkedFinal(
  req: EmuRequest,
  ctx: EmuContext,
  origin: { method: string; path: string; apiVersion: string } | undefined,
  res: EmuResponse,
): EmuResponse {
  if (!origin || res.status === 202) return res;
  const namespace = namespaceOf(origin.path);
  const op = namespace ? specOperation(namespace, origin.apiVersion, origin.method, origin.path) : undefined;
  if (!op) return res;
  const problems = finalLocationProblems(op, res);
  return problems.length ? violation(req, ctx, origin.apiVersion, problems) : res;
}
