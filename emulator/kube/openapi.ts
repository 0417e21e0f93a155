// OpenAPI v3 (what kubectl reads). `kubectl apply` (validation Strict, its default) reads
// /openapi/v3 and the group-version document to learn whether PATCH takes `fieldValidation`; when it
// does, validation is left to the server. The document describes the three resources: paths,
// operations and schemas.
import { createHash } from 'node:crypto';
import { KUBE_VERSION, RESOURCES } from './resources.ts';
import type { ResourceInfo } from './resources.ts';
import { json } from './status.ts';
import type { Obj } from './status.ts';
import type { EmuResponse } from '../types.ts';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const CORE = 'io.k8s.api.core.v1';
const ref = (name: string): Obj => ({ $ref: `#/components/schemas/${name}` });
const refDefault = (name: string): Obj => ({ allOf: [ref(name)], default: {} });
const str = { type: 'string' };
const strMap = { type: 'object', additionalProperties: { type: 'string', default: '' } };
const gvk = (kind: string): Obj => ({ group: '', version: 'v1', kind });

function openapiSchemas(): Obj {
  return {
    [`${META}.Time`]: { type: 'string', format: 'date-time' },
    [`${META}.FieldsV1`]: { type: 'object' },
    [`${META}.ManagedFieldsEntry`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        fieldsType: str,
        fieldsV1: ref(`${META}.FieldsV1`),
        manager: str,
        operation: str,
        subresource: str,
        time: ref(`${META}.Time`),
      },
    },
    [`${META}.OwnerReference`]: {
      type: 'object',
      required: ['apiVersion', 'kind', 'name', 'uid'],
      properties: {
        apiVersion: { ...str, default: '' },
        blockOwnerDeletion: { type: 'boolean' },
        controller: { type: 'boolean' },
        kind: { ...str, default: '' },
        name: { ...str, default: '' },
        uid: { ...str, default: '' },
      },
      'x-kubernetes-map-type': 'atomic',
    },
    [`${META}.ObjectMeta`]: {
      type: 'object',
      properties: {
        annotations: strMap,
        creationTimestamp: ref(`${META}.Time`),
        deletionGracePeriodSeconds: { type: 'integer', format: 'int64' },
        deletionTimestamp: ref(`${META}.Time`),
        finalizers: { type: 'array', items: { ...str, default: '' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
        generateName: str,
        generation: { type: 'integer', format: 'int64' },
        labels: strMap,
        managedFields: { type: 'array', items: refDefault(`${META}.ManagedFieldsEntry`), 'x-kubernetes-list-type': 'atomic' },
        name: str,
        namespace: str,
        ownerReferences: {
          type: 'array',
          items: refDefault(`${META}.OwnerReference`),
          'x-kubernetes-list-map-keys': ['uid'],
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-patch-merge-key': 'uid',
          'x-kubernetes-patch-strategy': 'merge',
        },
        resourceVersion: str,
        selfLink: str,
        uid: str,
      },
    },
    [`${META}.ListMeta`]: {
      type: 'object',
      properties: { continue: str, remainingItemCount: { type: 'integer', format: 'int64' }, resourceVersion: str, selfLink: str },
    },
    [`${META}.Status`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        code: { type: 'integer', format: 'int32' },
        details: { type: 'object' },
        kind: str,
        message: str,
        metadata: refDefault(`${META}.ListMeta`),
        reason: str,
        status: str,
      },
      'x-kubernetes-group-version-kind': [gvk('Status')],
    },
    [`${META}.Patch`]: { type: 'object' },
    [`${META}.DeleteOptions`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        dryRun: { type: 'array', items: { ...str, default: '' }, 'x-kubernetes-list-type': 'atomic' },
        gracePeriodSeconds: { type: 'integer', format: 'int64' },
        kind: str,
        preconditions: { type: 'object', properties: { resourceVersion: str, uid: str } },
        propagationPolicy: str,
      },
    },
    [`${CORE}.LocalObjectReference`]: { type: 'object', properties: { name: { ...str, default: '' } }, 'x-kubernetes-map-type': 'atomic' },
    [`${CORE}.ObjectReference`]: {
      type: 'object',
      properties: { apiVersion: str, fieldPath: str, kind: str, name: str, namespace: str, resourceVersion: str, uid: str },
      'x-kubernetes-map-type': 'atomic',
    },
    [`${CORE}.Secret`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        data: { type: 'object', additionalProperties: { type: 'string', format: 'byte' } },
        immutable: { type: 'boolean' },
        kind: str,
        metadata: refDefault(`${META}.ObjectMeta`),
        stringData: strMap,
        type: str,
      },
      'x-kubernetes-group-version-kind': [gvk('Secret')],
    },
    [`${CORE}.ServiceAccount`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        automountServiceAccountToken: { type: 'boolean' },
        imagePullSecrets: { type: 'array', items: refDefault(`${CORE}.LocalObjectReference`), 'x-kubernetes-list-type': 'atomic' },
        kind: str,
        metadata: refDefault(`${META}.ObjectMeta`),
        secrets: {
          type: 'array',
          items: refDefault(`${CORE}.ObjectReference`),
          'x-kubernetes-list-map-keys': ['name'],
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-patch-merge-key': 'name',
          'x-kubernetes-patch-strategy': 'merge',
        },
      },
      'x-kubernetes-group-version-kind': [gvk('ServiceAccount')],
    },
    [`${CORE}.NamespaceSpec`]: {
      type: 'object',
      properties: { finalizers: { type: 'array', items: { ...str, default: '' }, 'x-kubernetes-list-type': 'atomic' } },
    },
    [`${CORE}.NamespaceCondition`]: {
      type: 'object',
      required: ['type', 'status'],
      properties: {
        lastTransitionTime: ref(`${META}.Time`),
        message: str,
        reason: str,
        status: { ...str, default: '' },
        type: { ...str, default: '' },
      },
    },
    [`${CORE}.NamespaceStatus`]: {
      type: 'object',
      properties: {
        conditions: {
          type: 'array',
          items: refDefault(`${CORE}.NamespaceCondition`),
          'x-kubernetes-list-map-keys': ['type'],
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-patch-merge-key': 'type',
          'x-kubernetes-patch-strategy': 'merge',
        },
        phase: str,
      },
    },
    [`${CORE}.Namespace`]: {
      type: 'object',
      properties: {
        apiVersion: str,
        kind: str,
        metadata: refDefault(`${META}.ObjectMeta`),
        spec: refDefault(`${CORE}.NamespaceSpec`),
        status: refDefault(`${CORE}.NamespaceStatus`),
      },
      'x-kubernetes-group-version-kind': [gvk('Namespace')],
    },
    ...Object.fromEntries(
      Object.values(RESOURCES).map((r) => [
        `${CORE}.${r.listKind}`,
        {
          type: 'object',
          required: ['items'],
          properties: {
            apiVersion: str,
            items: { type: 'array', items: refDefault(`${CORE}.${r.kind}`) },
            kind: str,
            metadata: refDefault(`${META}.ListMeta`),
          },
          'x-kubernetes-group-version-kind': [gvk(r.listKind)],
        },
      ]),
    ),
  };
}

function queryParam(name: string, type = 'string'): Obj {
  return { name, in: 'query', description: name, schema: { type, uniqueItems: true } };
}

function openapiPaths(): Obj {
  const paths: Obj = {};
  const content = (schema: string): Obj => ({
    'application/json': { schema: ref(schema) },
    'application/yaml': { schema: ref(schema) },
    'application/vnd.kubernetes.protobuf': { schema: ref(schema) },
  });
  const op = (r: ResourceInfo, action: string, verb: string, opKind: string, params: Obj[], body?: Obj, response = `${CORE}.${r.kind}`): Obj => ({
    tags: ['core_v1'],
    description: `${action} ${r.kind}`,
    operationId: `${verb}CoreV1${r.namespaced ? 'Namespaced' : ''}${opKind}`,
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: { '200': { description: 'OK', content: content(response) }, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk(r.kind),
  });
  const writeParams = [queryParam('dryRun'), queryParam('fieldManager'), queryParam('fieldValidation')];
  for (const r of Object.values(RESOURCES)) {
    const base = r.namespaced ? `/api/v1/namespaces/{namespace}/${r.resource}` : `/api/v1/${r.resource}`;
    const pathParams: Obj[] = [
      ...(r.namespaced
        ? [
            {
              name: 'namespace',
              in: 'path',
              required: true,
              description: 'object name and auth scope, such as for teams and projects',
              schema: { type: 'string', uniqueItems: true },
            },
          ]
        : []),
      queryParam('pretty'),
    ];
    const listParams = ['continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'timeoutSeconds'].map((n) =>
      queryParam(n, n === 'limit' || n === 'timeoutSeconds' ? 'integer' : 'string'),
    );
    const collection: Obj = {
      get: op(r, 'list', 'list', r.kind, listParams, undefined, `${CORE}.${r.listKind}`),
      post: op(r, 'post', 'create', r.kind, writeParams, { content: { '*/*': { schema: ref(`${CORE}.${r.kind}`) } }, required: true }),
      parameters: pathParams,
    };
    if (r.verbs.includes('deletecollection')) {
      collection.delete = op(
        r,
        'deletecollection',
        'deleteCollection',
        r.kind,
        [queryParam('dryRun'), ...listParams],
        { content: { '*/*': { schema: ref(`${META}.DeleteOptions`) } } },
        `${META}.Status`,
      );
    }
    paths[base] = collection;
    paths[`${base}/{name}`] = {
      get: op(r, 'get', 'read', r.kind, []),
      put: op(r, 'put', 'replace', r.kind, writeParams, { content: { '*/*': { schema: ref(`${CORE}.${r.kind}`) } }, required: true }),
      patch: op(r, 'patch', 'patch', r.kind, [...writeParams, queryParam('force', 'boolean')], {
        content: Object.fromEntries(
          [
            'application/apply-patch+yaml',
            'application/json-patch+json',
            'application/merge-patch+json',
            'application/strategic-merge-patch+json',
          ].map((t) => [t, { schema: ref(`${META}.Patch`) }]),
        ),
        required: true,
      }),
      delete: op(
        r,
        'delete',
        'delete',
        r.kind,
        [queryParam('dryRun'), queryParam('gracePeriodSeconds', 'integer'), queryParam('propagationPolicy')],
        { content: { '*/*': { schema: ref(`${META}.DeleteOptions`) } } },
        `${META}.Status`,
      ),
      parameters: [
        { name: 'name', in: 'path', required: true, description: `name of the ${r.kind}`, schema: { type: 'string', uniqueItems: true } },
        ...pathParams,
      ],
    };
  }
  return paths;
}

let openapiCache: { doc: string; hash: string } | undefined;

function openapiV1(): { doc: string; hash: string } {
  if (!openapiCache) {
    const doc = JSON.stringify({
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
      paths: openapiPaths(),
      components: {
        schemas: openapiSchemas(),
        securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
      },
    });
    openapiCache = { doc, hash: createHash('sha512').update(doc).digest('hex').toUpperCase() };
  }
  return openapiCache;
}

/** GET /openapi/v3: the one group-version document and its hash */
export function openapiRoot(): EmuResponse {
  return json(200, { paths: { 'api/v1': { serverRelativeURL: `/openapi/v3/api/v1?hash=${openapiV1().hash}` } } });
}

/** GET /openapi/v3/api/v1 */
export function openapiCoreV1(): EmuResponse {
  const { doc, hash } = openapiV1();
  return {
    status: 200,
    headers: { 'Content-Type': 'application/json', Etag: `"${hash}"`, 'Cache-Control': 'public, immutable' },
    body: Buffer.from(doc),
  };
}
