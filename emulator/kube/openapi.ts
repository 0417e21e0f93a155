// OpenAPI v3 (what kubectl reads). `kubectl apply` (validation Strict, its default) reads
// /openapi/v3 and the group-version document to learn whether PATCH takes `fieldValidation`; when it
// does, validation is left to the server. One document per group-version (core v1 and
// rbac.authorization.k8s.io/v1), each describing its resources: paths, operations and schemas.
import { createHash } from 'node:crypto';
import { KUBE_VERSION, RBAC_GROUP, RBAC_RESOURCES, RESOURCES } from './resources.ts';
import type { ResourceInfo } from './resources.ts';
import { json, noRoute } from './status.ts';
import type { Obj } from './status.ts';
import type { EmuResponse } from '../types.ts';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const CORE = 'io.k8s.api.core.v1';
const RBAC = 'io.k8s.api.rbac.v1';
const ref = (name: string): Obj => ({ $ref: `#/components/schemas/${name}` });
const refDefault = (name: string): Obj => ({ allOf: [ref(name)], default: {} });
const str = { type: 'string' };
const strMap = { type: 'object', additionalProperties: { type: 'string', default: '' } };
const gvk = (kind: string, group = ''): Obj => ({ group, version: 'v1', kind });
const strList = { type: 'array', items: { ...str, default: '' }, 'x-kubernetes-list-type': 'atomic' };

/** The meta/v1 schemas every group-version document carries. */
function metaSchemas(): Obj {
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
  };
}

/** The list kinds of a group-version's resources. */
function listSchemas(prefix: string, resources: ResourceInfo[]): Obj {
  return Object.fromEntries(
    resources.map((r) => [
      `${prefix}.${r.listKind}`,
      {
        type: 'object',
        required: ['items'],
        properties: {
          apiVersion: str,
          items: { type: 'array', items: refDefault(`${prefix}.${r.kind}`) },
          kind: str,
          metadata: refDefault(`${META}.ListMeta`),
        },
        'x-kubernetes-group-version-kind': [gvk(r.listKind, r.group)],
      },
    ]),
  );
}

function coreSchemas(): Obj {
  return {
    ...metaSchemas(),
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
    ...listSchemas(CORE, Object.values(RESOURCES)),
  };
}

/** rbac.authorization.k8s.io/v1 (k8s.io/api rbac/v1 types.go, 1.32). */
function rbacSchemas(): Obj {
  const object = (kind: string, properties: Obj, required?: string[]): Obj => ({
    type: 'object',
    ...(required ? { required } : {}),
    properties: { apiVersion: str, kind: str, metadata: refDefault(`${META}.ObjectMeta`), ...properties },
    'x-kubernetes-group-version-kind': [gvk(kind, RBAC_GROUP)],
  });
  const rules = { type: 'array', items: refDefault(`${RBAC}.PolicyRule`), 'x-kubernetes-list-type': 'atomic' };
  const binding = {
    roleRef: refDefault(`${RBAC}.RoleRef`),
    subjects: { type: 'array', items: refDefault(`${RBAC}.Subject`), 'x-kubernetes-list-type': 'atomic' },
  };
  return {
    ...metaSchemas(),
    [`${META}.LabelSelector`]: {
      type: 'object',
      properties: {
        matchExpressions: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'atomic' },
        matchLabels: strMap,
      },
      'x-kubernetes-map-type': 'atomic',
    },
    [`${RBAC}.PolicyRule`]: {
      type: 'object',
      required: ['verbs'],
      properties: { apiGroups: strList, nonResourceURLs: strList, resourceNames: strList, resources: strList, verbs: strList },
    },
    [`${RBAC}.AggregationRule`]: {
      type: 'object',
      properties: { clusterRoleSelectors: { type: 'array', items: refDefault(`${META}.LabelSelector`), 'x-kubernetes-list-type': 'atomic' } },
    },
    [`${RBAC}.RoleRef`]: {
      type: 'object',
      required: ['apiGroup', 'kind', 'name'],
      properties: { apiGroup: { ...str, default: '' }, kind: { ...str, default: '' }, name: { ...str, default: '' } },
      'x-kubernetes-map-type': 'atomic',
    },
    [`${RBAC}.Subject`]: {
      type: 'object',
      required: ['kind', 'name'],
      properties: { apiGroup: str, kind: { ...str, default: '' }, name: { ...str, default: '' }, namespace: str },
      'x-kubernetes-map-type': 'atomic',
    },
    [`${RBAC}.Role`]: object('Role', { rules }),
    [`${RBAC}.ClusterRole`]: object('ClusterRole', { aggregationRule: ref(`${RBAC}.AggregationRule`), rules }),
    [`${RBAC}.RoleBinding`]: object('RoleBinding', binding, ['roleRef']),
    [`${RBAC}.ClusterRoleBinding`]: object('ClusterRoleBinding', binding, ['roleRef']),
    ...listSchemas(RBAC, Object.values(RBAC_RESOURCES)),
  };
}

/** A group-version's document: where its paths start, its operations' tag and id part, its schemas' prefix. */
interface GroupVersion {
  /** the key in /openapi/v3's paths: `api/v1`, `apis/<group>/v1` */
  key: string;
  prefix: string;
  tag: string;
  opId: string;
  schemaPrefix: string;
  resources: ResourceInfo[];
  schemas: () => Obj;
}

const GROUP_VERSIONS: GroupVersion[] = [
  { key: 'api/v1', prefix: '/api/v1', tag: 'core_v1', opId: 'CoreV1', schemaPrefix: CORE, resources: Object.values(RESOURCES), schemas: coreSchemas },
  {
    key: `apis/${RBAC_GROUP}/v1`,
    prefix: `/apis/${RBAC_GROUP}/v1`,
    tag: 'rbacAuthorization_v1',
    opId: 'RbacAuthorizationV1',
    schemaPrefix: RBAC,
    resources: Object.values(RBAC_RESOURCES),
    schemas: rbacSchemas,
  },
];

function queryParam(name: string, type = 'string'): Obj {
  return { name, in: 'query', description: name, schema: { type, uniqueItems: true } };
}

function openapiPaths(gv: GroupVersion): Obj {
  const paths: Obj = {};
  const content = (schema: string): Obj => ({
    'application/json': { schema: ref(schema) },
    'application/yaml': { schema: ref(schema) },
    'application/vnd.kubernetes.protobuf': { schema: ref(schema) },
  });
  const S = gv.schemaPrefix;
  const op = (r: ResourceInfo, action: string, verb: string, opKind: string, params: Obj[], body?: Obj, response = `${S}.${r.kind}`): Obj => ({
    tags: [gv.tag],
    description: `${action} ${r.kind}`,
    operationId: `${verb}${gv.opId}${r.namespaced ? 'Namespaced' : ''}${opKind}`,
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: { '200': { description: 'OK', content: content(response) }, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk(r.kind, r.group),
  });
  const writeParams = [queryParam('dryRun'), queryParam('fieldManager'), queryParam('fieldValidation')];
  for (const r of gv.resources) {
    const base = r.namespaced ? `${gv.prefix}/namespaces/{namespace}/${r.resource}` : `${gv.prefix}/${r.resource}`;
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
      get: op(r, 'list', 'list', r.kind, listParams, undefined, `${S}.${r.listKind}`),
      post: op(r, 'post', 'create', r.kind, writeParams, { content: { '*/*': { schema: ref(`${S}.${r.kind}`) } }, required: true }),
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
      put: op(r, 'put', 'replace', r.kind, writeParams, { content: { '*/*': { schema: ref(`${S}.${r.kind}`) } }, required: true }),
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

const documents = new Map<string, { doc: string; hash: string }>();

function document(gv: GroupVersion): { doc: string; hash: string } {
  let d = documents.get(gv.key);
  if (!d) {
    const doc = JSON.stringify({
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
      paths: openapiPaths(gv),
      components: {
        schemas: gv.schemas(),
        securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
      },
    });
    d = { doc, hash: createHash('sha512').update(doc).digest('hex').toUpperCase() };
    documents.set(gv.key, d);
  }
  return d;
}

/** GET /openapi/v3: the group-version documents and their hashes */
export function openapiRoot(): EmuResponse {
  return json(200, {
    paths: Object.fromEntries(GROUP_VERSIONS.map((gv) => [gv.key, { serverRelativeURL: `/openapi/v3/${gv.key}?hash=${document(gv).hash}` }])),
  });
}

/** GET /openapi/v3/api/v1, /openapi/v3/apis/<group>/v1 */
export function openapiGroupVersion(req: { path: string }): EmuResponse {
  const key = req.path.replace(/^\/openapi\/v3\//, '').replace(/\/+$/, '');
  const gv = GROUP_VERSIONS.find((g) => g.key === key);
  if (!gv) throw noRoute();
  const { doc, hash } = document(gv);
  return {
    status: 200,
    headers: { 'Content-Type': 'application/json', Etag: `"${hash}"`, 'Cache-Control': 'public, immutable' },
    body: Buffer.from(doc),
  };
}
