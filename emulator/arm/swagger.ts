// The official ARM REST specs as the emulator's contract: which api-versions each resource provider
// accepts, which operation a request is, whether its body is valid, and whether the emulator's own
// answer is what the spec says at the api-version called.
//
// The specs are verbatim copies under emulator/specs (from ../shared/azure-api/specs, which copies
// Azure/azure-rest-api-specs; emulator/specs/SOURCES.md names each commit). Swagger 2.0 definitions
// become JSON Schema for ajv (a dev dependency, like the emulator itself; no schema library ships
// with the action):
// - `$ref`s resolve within the spec file; the common-types definitions the specs reference but the
//   folder does not hold (Resource, ProxyResource, TrackedResource, ErrorResponse, ErrorDetail,
//   DelegatedResource, systemData) resolve to stand-ins below, shaped as SOURCES.md describes them;
// - `allOf` is flattened, and every object without an explicit `additionalProperties` gets
//   `additionalProperties: false`: a field the spec does not define fails;
// - properties that are not `required` may be null (Azure sends `"condition": null`).
// __tests__/emulator-schemas.test.ts holds the conversion to the official examples and recordings,
// so it is not stricter than Azure.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';

type Json = Record<string, any>;

const SPEC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'specs');

/**
 * The specs held, per resource provider namespace (lower case) and api-version. An api-version not
 * listed for a namespace is one "the specs do not define for that resource provider" (issue #14).
 * Microsoft.Resources (subscriptions, resource groups) has no spec here: its api-versions are not checked.
 */
const SPEC_FILES: Record<string, Record<string, string>> = {
  'microsoft.containerregistry': {
    '2025-04-01': 'containerregistry/2025-04-01/containerregistry.json',
    '2025-11-01': 'containerregistry/2025-11-01/containerregistry.json',
  },
  'microsoft.containerservice': {
    '2026-02-01': 'containerservice/2026-02-01/managedClusters.json',
    '2026-04-01': 'containerservice/2026-04-01/managedClusters.json',
  },
  // role assignments only; the role definitions operations (authorization-RoleDefinitionsCalls.json) are not held
  'microsoft.authorization': { '2022-04-01': 'authorization/2022-04-01/authorization-RoleAssignmentsCalls.json' },
};

/** The api-versions the held specs define for a namespace, newest first; undefined when no spec is held for it. */
export function supportedApiVersions(namespace: string): string[] | undefined {
  const files = SPEC_FILES[namespace.toLowerCase()];
  return files ? Object.keys(files).sort().reverse() : undefined;
}

/** The resource provider a path addresses: the namespace after its last `/providers/` (undefined: ARM itself). */
export function namespaceOf(path: string): string | undefined {
  const segments = path.split('/').filter(Boolean);
  for (let i = segments.length - 2; i >= 0; i--) if (segments[i].toLowerCase() === 'providers') return segments[i + 1];
  return undefined;
}

// ---------------------------------------------------------------- common-types stand-ins

/** common-types definitions the specs reference but the folder does not hold (swagger form). */
export const COMMON_TYPES: Record<string, Json> = {
  systemData: {
    type: 'object',
    properties: {
      createdBy: { type: 'string' },
      createdByType: { type: 'string', enum: ['User', 'Application', 'ManagedIdentity', 'Key'] },
      createdAt: { type: 'string', format: 'date-time' },
      lastModifiedBy: { type: 'string' },
      lastModifiedByType: { type: 'string', enum: ['User', 'Application', 'ManagedIdentity', 'Key'] },
      lastModifiedAt: { type: 'string', format: 'date-time' },
    },
  },
  Resource: {
    type: 'object',
    properties: { id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, systemData: { $ref: '#/definitions/systemData' } },
  },
  ProxyResource: { type: 'object', allOf: [{ $ref: '#/definitions/Resource' }] },
  TrackedResource: {
    type: 'object',
    allOf: [{ $ref: '#/definitions/Resource' }],
    properties: { tags: { type: 'object', additionalProperties: { type: 'string' } }, location: { type: 'string' } },
    required: ['location'],
  },
  ErrorAdditionalInfo: { type: 'object', properties: { type: { type: 'string' }, info: { type: 'object', additionalProperties: true } } },
  ErrorDetail: {
    type: 'object',
    properties: {
      code: { type: 'string' },
      message: { type: 'string' },
      target: { type: 'string' },
      details: { type: 'array', items: { $ref: '#/definitions/ErrorDetail' } },
      additionalInfo: { type: 'array', items: { $ref: '#/definitions/ErrorAdditionalInfo' } },
    },
  },
  ErrorResponse: { type: 'object', properties: { error: { $ref: '#/definitions/ErrorDetail' } } },
  DelegatedResource: {
    type: 'object',
    properties: { resourceId: { type: 'string' }, tenantId: { type: 'string' }, referralResource: { type: 'string' }, location: { type: 'string' } },
  },
};

/**
 * Fields the emulator sends at 2025-04-01 that the held containerregistry.json of that api-version (an
 * older commit of it) lacks, each backed by an official source: the same api-version's RegistryGet.json
 * example (anonymousPullEnabled, policies.azureADAuthenticationAsArmPolicy; ../shared/azure-api
 * specs/containerregistry/examples/2025-04-01/RegistryGet.json) and the @azure/arm-containerregistry 12
 * model (roleAssignmentMode: LegacyRegistryPermissions | AbacRepositoryPermissions). 2025-11-01 defines all three.
 */
function patchAcr20250401(spec: Json): Json {
  const out = structuredClone(spec);
  const props = out.definitions.RegistryProperties.properties;
  props.anonymousPullEnabled ??= { type: 'boolean' };
  props.roleAssignmentMode ??= { type: 'string', enum: ['LegacyRegistryPermissions', 'AbacRepositoryPermissions'] };
  out.definitions.Policies.properties.azureADAuthenticationAsArmPolicy ??= {
    type: 'object',
    properties: { status: { type: 'string', enum: ['enabled', 'disabled'] } },
  };
  return out;
}

const PATCHES: Record<string, (spec: Json) => Json> = { 'containerregistry/2025-04-01/containerregistry.json': patchAcr20250401 };

// ---------------------------------------------------------------- swagger -> JSON Schema

const STRIP = new Set(['allOf', 'properties', 'required', 'additionalProperties', 'discriminator', 'example', 'x-nullable', 'items', '$ref']);
/** Document ids are URIs of their own scheme, so ajv resolves `<doc id>#/definitions/<name>` as absolute. */
const COMMON = 'spec:common-types';
const docIdOf = (file: string): string => `spec:${file}`;

/** Swagger 2.0 schemas of several documents as JSON Schema documents with absolute `$ref`s (`<doc id>#/definitions/<name>`). */
export class SpecConverter {
  readonly docs = new Map<string, Json>();

  constructor() {
    this.docs.set(COMMON, { definitions: COMMON_TYPES });
  }

  add(id: string, swagger: Json): void {
    this.docs.set(id, swagger);
  }

  /** Swagger ref -> [doc id, definition name]. */
  private target(ref: string, docId: string): [string, string] {
    const [file, pointer] = ref.split('#');
    const name = (pointer ?? '').replace(/^\/definitions\//, '');
    if (!pointer?.startsWith('/definitions/')) throw new Error(`unsupported $ref ${ref}`);
    if (!file) return [docId, name];
    if (/common-types\//.test(file)) {
      if (!COMMON_TYPES[name]) throw new Error(`no stand-in for common-types definition ${name} (${ref})`);
      return [COMMON, name];
    }
    throw new Error(`$ref to a file outside the folder: ${ref}`);
  }

  private definition(docId: string, name: string): Json {
    const def = this.docs.get(docId)?.definitions?.[name];
    if (!def) throw new Error(`unknown definition ${docId}#/definitions/${name}`);
    return def;
  }

  /** properties/required of a swagger schema with its allOf bases merged in. */
  private flatten(node: Json, docId: string): { properties: Record<string, [Json, string]>; required: Set<string>; additional: unknown } {
    const properties: Record<string, [Json, string]> = {};
    const required = new Set<string>();
    let additional: unknown = node.additionalProperties;
    for (const part of node.allOf ?? []) {
      let base = part;
      let baseDoc = docId;
      if (part.$ref) {
        const [d, n] = this.target(part.$ref, docId);
        base = this.definition(d, n);
        baseDoc = d;
      }
      const f = this.flatten(base, baseDoc);
      Object.assign(properties, f.properties);
      for (const r of f.required) required.add(r);
      if (additional === undefined && f.additional !== undefined) additional = f.additional;
    }
    for (const [k, v] of Object.entries(node.properties ?? {})) properties[k] = [v as Json, docId];
    for (const r of node.required ?? []) required.add(r);
    return { properties, required, additional };
  }

  convert(node: Json, docId: string): Json {
    if (node.$ref) {
      const [d, n] = this.target(node.$ref, docId);
      return { $ref: `${d}#/definitions/${n}` };
    }
    const out: Json = {};
    for (const [k, v] of Object.entries(node)) {
      if (STRIP.has(k) || k.startsWith('x-')) continue;
      out[k] = v;
    }
    if (out.type === 'file') delete out.type;
    if (node.items) out.items = this.convert(node.items, docId);
    const isObject = node.type === 'object' || node.properties || node.allOf;
    if (isObject) {
      const { properties, required, additional } = this.flatten(node, docId);
      out.type = 'object';
      out.properties = {};
      for (const [k, [v, d]] of Object.entries(properties)) {
        const converted = this.convert(v, d);
        out.properties[k] = required.has(k) && !v['x-nullable'] ? converted : { anyOf: [{ type: 'null' }, converted] };
      }
      if (required.size) out.required = [...required];
      if (additional === undefined) {
        if (Object.keys(properties).length > 0 || node.allOf) out.additionalProperties = false;
      } else if (typeof additional === 'boolean') {
        out.additionalProperties = additional;
      } else {
        out.additionalProperties = this.convert(additional as Json, docId);
      }
    }
    return out;
  }

  schemaDoc(id: string): Json {
    const swagger = this.docs.get(id)!;
    const definitions: Json = {};
    for (const [name, def] of Object.entries(swagger.definitions ?? {})) definitions[name] = this.convert(def as Json, id);
    return { $id: id, definitions };
  }
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An ajv instance with the formats Azure specs use (date-time checked, the rest accepted as strings). */
export function newAjv(): Ajv {
  const a = new Ajv({ strict: false, allErrors: true });
  a.addFormat('date-time', { type: 'string', validate: (s: string) => ISO_DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)) });
  for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'password', 'uuid', 'duration', 'arm-id', 'uri', 'date', 'unixtime', 'binary', 'url'])
    a.addFormat(f, true);
  return a;
}

// ---------------------------------------------------------------- loaded specs

/** An operation of a spec at one api-version. */
export interface SpecOperation {
  namespace: string;
  apiVersion: string;
  /** `spec:<file relative to emulator/specs>`: its definitions are `${docId}#/definitions/<name>` */
  docId: string;
  operationId: string;
  method: string;
  template: string;
  /** the body parameter, when the operation takes one */
  body?: { required: boolean; schema: Json };
  /** status code (or 'default') -> the response's schema (converted) and the headers it declares (lower case) */
  responses: Record<string, { schema?: Json; headers: string[] }>;
  longRunning: boolean;
  /** x-ms-long-running-operation-options */
  finalStateVia?: string;
  finalStateSchema?: Json;
}

interface CompiledOperation {
  op: SpecOperation;
  pattern: RegExp;
  /** characters outside `{parameters}`: the most specific template wins */
  literal: number;
}

interface LoadedSpec {
  docId: string;
  operations: CompiledOperation[];
}

const converter = new SpecConverter();
let ajv: Ajv | undefined;
const loaded = new Map<string, LoadedSpec>();
const compiled = new WeakMap<Json, ValidateFunction>();

/** The shared ajv instance, with the spec documents added as they are loaded (compiled lazily, per schema). */
export function specAjv(): Ajv {
  if (!ajv) {
    ajv = newAjv();
    ajv.addSchema(converter.schemaDoc(COMMON));
  }
  return ajv;
}

/** Read a spec file (relative to emulator/specs), with its documented patch. */
export function readSpec(file: string): Json {
  const raw = JSON.parse(readFileSync(join(SPEC_DIR, file), 'utf8')) as Json;
  return PATCHES[file]?.(raw) ?? raw;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Path parameters that carry slashes (`x-ms-skip-url-encoding`): the role assignment scope. */
function multiSegment(param: Json | undefined, name: string): boolean {
  if (param?.['x-ms-skip-url-encoding'] === true) return true;
  // common-types' ScopeParameter (not held) is `x-ms-skip-url-encoding: true`; its name in the template is `scope`
  return name === 'scope';
}

function compileTemplate(template: string, params: Json[]): { pattern: RegExp; literal: number } {
  let literal = 0;
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([^}]+)\}$/.exec(part);
      if (!m) {
        literal += part.replace(/\//g, '').length;
        return escapeRe(part);
      }
      const param = params.find((p) => p.name === m[1] && p.in === 'path');
      return multiSegment(param, m[1]) ? '(.+?)' : '([^/]+)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}/?$`, 'i'), literal };
}

function load(namespace: string, apiVersion: string): LoadedSpec | undefined {
  const file = SPEC_FILES[namespace.toLowerCase()]?.[apiVersion];
  if (!file) return undefined;
  const cached = loaded.get(file);
  if (cached) return cached;
  const swagger = readSpec(file);
  const docId = docIdOf(file);
  converter.add(docId, swagger);
  specAjv().addSchema(converter.schemaDoc(docId));
  const resolveParam = (p: Json): Json => {
    if (!p.$ref) return p;
    const local = /^#\/parameters\/(.+)$/.exec(p.$ref);
    if (local) return swagger.parameters?.[local[1]] ?? {};
    // parameters of files not held (common-types): subscription, resource group, api-version, scope: none is a body
    return { in: 'path', name: /ScopeParameter$/.test(p.$ref) ? 'scope' : '', $external: p.$ref };
  };
  const operations: CompiledOperation[] = [];
  for (const [template, item] of Object.entries(swagger.paths ?? {}) as Array<[string, Json]>) {
    const shared = (item.parameters ?? []).map(resolveParam);
    for (const [method, raw] of Object.entries(item) as Array<[string, Json]>) {
      if (method === 'parameters') continue;
      const params = [...shared, ...(raw.parameters ?? []).map(resolveParam)];
      const { pattern, literal } = compileTemplate(template, params);
      // `/{roleAssignmentId}` (RoleAssignments_*ById) matches any path: the scope templates cover the ids the emulator serves
      if (literal === 0) continue;
      const bodyParam = params.find((p) => p.in === 'body');
      const responses: SpecOperation['responses'] = {};
      for (const [status, r] of Object.entries(raw.responses ?? {}) as Array<[string, Json]>) {
        responses[status] = {
          schema: r.schema ? converter.convert(r.schema, docId) : undefined,
          headers: Object.keys(r.headers ?? {}).map((h) => h.toLowerCase()),
        };
      }
      const options = raw['x-ms-long-running-operation-options'] ?? {};
      operations.push({
        pattern,
        literal,
        op: {
          namespace,
          apiVersion,
          docId,
          operationId: String(raw.operationId ?? `${method} ${template}`),
          method: method.toUpperCase(),
          template,
          body: bodyParam ? { required: bodyParam.required === true, schema: converter.convert(bodyParam.schema ?? {}, docId) } : undefined,
          responses,
          longRunning: raw['x-ms-long-running-operation'] === true,
          finalStateVia: options['final-state-via'],
          finalStateSchema: options['final-state-schema'] ? converter.convert({ $ref: options['final-state-schema'] }, docId) : undefined,
        },
      });
    }
  }
  operations.sort((a, b) => b.literal - a.literal);
  const spec = { docId, operations };
  loaded.set(file, spec);
  return spec;
}

/** The spec operation a request is (method and collapsed path), at the api-version called; undefined when no held spec describes it. */
export function specOperation(namespace: string, apiVersion: string, method: string, path: string): SpecOperation | undefined {
  const spec = load(namespace, apiVersion);
  if (!spec) return undefined;
  const m = method.toUpperCase();
  return spec.operations.find((c) => c.op.method === m && c.pattern.test(path))?.op;
}

// ---------------------------------------------------------------- validation

function validatorOf(schema: Json): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = specAjv().compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** ajv's errors as one line each: `<path> <message>` (at most `limit`). */
function describeErrors(v: ValidateFunction, limit = 5): string[] {
  return (v.errors ?? []).slice(0, limit).map((e) => {
    const where = e.instancePath || '(root)';
    const extra = e.keyword === 'additionalProperties' ? ` '${String((e.params as { additionalProperty?: string }).additionalProperty)}'` : '';
    const allowed = e.keyword === 'enum' ? ` (${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')})` : '';
    return `${where} ${e.message ?? e.keyword}${extra}${allowed}`;
  });
}

/** Validate a value against a converted schema: undefined when it conforms, else the problems. */
export function schemaProblems(schema: Json, value: unknown): string[] | undefined {
  const v = validatorOf(schema);
  return v(value) ? undefined : describeErrors(v);
}

/** Validate a value against a definition of a loaded spec (e.g. `Registry` of containerregistry 2025-11-01). */
export function definitionProblems(namespace: string, apiVersion: string, definition: string, value: unknown): string[] | undefined {
  const spec = load(namespace, apiVersion);
  if (!spec) throw new Error(`no spec for ${namespace} ${apiVersion}`);
  return schemaProblems({ $ref: `${spec.docId}#/definitions/${definition}` }, value);
}

/** What is wrong with a request body for the operation (undefined: nothing). `json` is undefined for an empty or non-JSON body. */
export function requestBodyProblems(op: SpecOperation, rawLength: number, json: unknown): string[] | undefined {
  if (!op.body) return undefined;
  if (rawLength === 0) return op.body.required ? ['the request body is required'] : undefined;
  if (json === undefined) return ['the request body is not JSON'];
  return schemaProblems(op.body.schema, json);
}

export interface ResponseLike {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const hasBody = (body: unknown): boolean => body !== undefined && body !== null && !(Buffer.isBuffer(body) && body.length === 0);

const isAbsoluteUrl = (s: string): boolean => /^https:\/\/[^/]+\//i.test(s);

/**
 * What is wrong with the emulator's answer to an operation: a status the operation does not declare
 * (2xx; errors fall under `default`), a body against its schema (or a body where none is declared),
 * and the long-running headers of ARM's async guideline (../shared/azure-api/arm/ASYNC-OPERATIONS.md:
 * "Location header should be absolute URI", "Azure-AsyncOperation header should be absolute URI",
 * "Retry-After should be (integer)"); a 202 of a long-running operation must say where to poll.
 */
export function responseProblems(op: SpecOperation, res: ResponseLike, method: string): string[] {
  const problems: string[] = [];
  const status = String(res.status);
  const declared = op.responses[status];
  // an error status falls under `default`; an operation declaring none (some of 2025-04-01's) still
  // answers errors in ARM's shape: ARM itself answers 401, 404 and the like for any operation
  const entry =
    declared ?? (res.status >= 400 ? (op.responses.default ?? { schema: { $ref: `${COMMON}#/definitions/ErrorResponse` }, headers: [] }) : undefined);
  if (!entry) {
    problems.push(`status ${status} is not among the responses of ${op.operationId} (${Object.keys(op.responses).join(', ')})`);
    return problems;
  }
  if (method !== 'HEAD') {
    if (entry.schema) {
      if (!hasBody(res.body)) problems.push(`${op.operationId} ${status} must have a body`);
      else if (!Buffer.isBuffer(res.body) && typeof res.body !== 'string') {
        const bad = schemaProblems(entry.schema, res.body);
        if (bad) problems.push(...bad.map((p) => `body ${p}`));
      }
    } else if (hasBody(res.body)) {
      problems.push(`${op.operationId} ${status} declares no body, the emulator sent one`);
    }
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers ?? {})) headers[k.toLowerCase()] = v;
  for (const h of ['location', 'azure-asyncoperation']) {
    if (headers[h] !== undefined && !isAbsoluteUrl(headers[h])) problems.push(`header ${h} '${headers[h]}' is not an absolute URL`);
  }
  if (headers['retry-after'] !== undefined && !/^\d+$/.test(headers['retry-after'])) {
    problems.push(`header retry-after '${headers['retry-after']}' is not an integer number of seconds`);
  }
  if (op.longRunning && res.status === 202 && !headers.location && !headers['azure-asyncoperation']) {
    // a 202 must say where to poll; a PUT's 201 may be read again on the resource itself, whose
    // provisioningState tells ("If the resource returns no provisioningState, it is assumed to be Succeeded")
    problems.push(`${op.operationId} 202 starts a long-running operation without a Location or Azure-AsyncOperation header`);
  }
  return problems;
}

/**
 * The operation resource an Azure-AsyncOperation URL answers (ASYNC-OPERATIONS.md, "Azure-AsyncOperation
 * resource"): `status` required; `error` (with `code`) required if Failed or Canceled, `error.message`
 * required if Failed; `id`, `name`, `startTime`, `endTime`, `percentComplete`, `properties` optional.
 */
export function operationStatusProblems(body: unknown): string[] | undefined {
  if (typeof body !== 'object' || body === null) return ['the operation resource is not a JSON object'];
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof b.status !== 'string' || b.status === '') problems.push('status is required');
  const error = b.error as Record<string, unknown> | undefined;
  if (b.status === 'Failed' || b.status === 'Canceled') {
    if (!error || typeof error.code !== 'string') problems.push(`error.code is required when status is ${String(b.status)}`);
    if (b.status === 'Failed' && typeof error?.message !== 'string') problems.push('error.message is required when status is Failed');
  }
  for (const k of ['startTime', 'endTime']) {
    if (b[k] !== undefined && (typeof b[k] !== 'string' || !ISO_DATE_TIME.test(b[k] as string))) problems.push(`${k} is not an ISO 8601 date-time`);
  }
  if (b.percentComplete !== undefined && (typeof b.percentComplete !== 'number' || b.percentComplete < 0 || b.percentComplete > 100)) {
    problems.push('percentComplete must be a number between 0 and 100');
  }
  return problems.length ? problems : undefined;
}

/**
 * What is wrong with the final answer of a Location URL (ASYNC-OPERATIONS.md: "the URL that was
 * returned in the Location header MUST now return what would have been a successful response if the
 * API completed ... It is acceptable for this to be a 200/204 NoContent if the action does not
 * require a response"): the operation's 200 body (or its final-state-schema), or 204 without a body
 * when the operation has no result body.
 */
export function finalLocationProblems(op: SpecOperation, res: ResponseLike): string[] {
  if (res.status >= 400) return responseProblems(op, res, 'GET');
  const schema = op.responses['200']?.schema ?? op.finalStateSchema;
  if (res.status === 204) return schema ? [`${op.operationId} has a result body; its Location URL cannot end in 204`] : [];
  if (res.status !== 200) return [`a Location URL ends in 200 or 204, not ${res.status}`];
  if (!schema) return hasBody(res.body) ? [`${op.operationId} has no result body; its Location URL sent one`] : [];
  if (!hasBody(res.body)) return [`${op.operationId}'s Location URL must end with its result body`];
  return (schemaProblems(schema, res.body) ?? []).map((p) => `body ${p}`);
}
