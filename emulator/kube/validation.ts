// What kube-apiserver 1.32 validates on the objects the emulator stores: object names (RFC 1123
// labels and subdomains; path segment names for the RBAC kinds), label and annotation keys and
// values, Secret data keys, size and the per-type required keys, immutable fields, the list fields
// of a ServiceAccount, and the rules, subjects and roleRef of the RBAC kinds.
import { pathSegmentNameErrors } from './attributes.ts';
import { deepEqual, isObj } from './schema.ts';
import { RBAC_GROUP } from './resources.ts';
import type { ResourceInfo } from './resources.ts';
import { invalid, q } from './status.ts';
import type { FieldError, Obj } from './status.ts';
import type { KubeObject } from '../types.ts';
import { eventErrors, podErrors } from './pods.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

function nameErrors(name: string, label: boolean, field = 'metadata.name'): FieldError[] {
  const invalid = (why: string): FieldError[] => [{ field, type: 'FieldValueInvalid', detail: `Invalid value: ${q(name)}: ${why}` }];
  if (label) {
    if (name.length > 63) return invalid('must be no more than 63 characters');
    if (!DNS1123_LABEL.test(name)) {
      return invalid(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      );
    }
    return [];
  }
  if (name.length > 253) return invalid('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return invalid(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return [];
}

function qualifiedNameErrors(key: string, field: string): FieldError[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const bad = (why: string): FieldError[] => [{ field, type: 'FieldValueInvalid', detail: `Invalid value: ${q(key)}: ${why}` }];
  if (slash >= 0 && (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    return bad(
      "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    );
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return bad(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
  }
  return [];
}

function metadataErrors(md: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (md.labels !== undefined) {
    for (const [k, v] of Object.entries(md.labels as Obj)) {
      errs.push(...qualifiedNameErrors(k, 'metadata.labels'));
      const s = String(v);
      if (s.length > 63 || !LABEL_VALUE.test(s)) {
        errs.push({
          field: 'metadata.labels',
          type: 'FieldValueInvalid',
          detail: `Invalid value: ${q(s)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
        });
      }
    }
  }
  if (md.annotations !== undefined) {
    let size = 0;
    for (const [k, v] of Object.entries(md.annotations as Obj)) {
      errs.push(...qualifiedNameErrors(k.toLowerCase(), 'metadata.annotations'));
      size += k.length + String(v).length;
    }
    if (size > 256 * 1024)
      errs.push({ field: 'metadata.annotations', type: 'FieldValueTooLong', detail: 'Too long: must have at most 262144 bytes' });
  }
  return errs;
}

function jsonSyntaxError(text: string): string | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    if (!isObj(v)) {
      const t = Array.isArray(v) ? 'array' : v === null ? '' : typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : 'bool';
      return t ? `json: cannot unmarshal ${t} into Go value of type map[string]interface {}` : undefined;
    }
    return undefined;
  } catch (err) {
    if (text.trim() === '') return 'unexpected end of JSON input';
    const m = /position (\d+)/.exec((err as Error).message);
    const ch = m ? text[Number(m[1])] : undefined;
    return ch !== undefined ? `invalid character ${q(ch).replace(/^"|"$/g, "'")} looking for beginning of value` : 'unexpected end of JSON input';
  }
}

export function validate(info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined): void {
  const md = obj.metadata;
  const errs: FieldError[] = [];
  if (!md.name) errs.push({ field: 'metadata.name', type: 'FieldValueRequired', detail: 'Required value: name or generateName is required' });
  else if (!old && info.group === RBAC_GROUP) {
    // rbac's ValidateRBACName: path.IsValidPathSegmentName
    for (const why of pathSegmentNameErrors(md.name))
      errs.push({ field: 'metadata.name', type: 'FieldValueInvalid', detail: `Invalid value: ${q(md.name)}: ${why}` });
  } else if (!old) errs.push(...nameErrors(md.name, info.resource === 'namespaces'));
  errs.push(...metadataErrors(md));
  if (info.group === RBAC_GROUP) errs.push(...rbacErrors(info, obj, old));
  if (info.resource === 'pods') errs.push(...podErrors(obj, old));
  if (info.resource === 'events') errs.push(...eventErrors(obj));
  if (info.resource === 'secrets') {
    const data = (obj.data ?? {}) as Record<string, string>;
    let total = 0;
    for (const [k, v] of Object.entries(data)) {
      if (k.length > 253 || !CONFIG_KEY.test(k)) {
        errs.push({
          field: `data[${k}]`,
          type: 'FieldValueInvalid',
          detail: `Invalid value: ${q(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
        });
      }
      total += Buffer.from(v, 'base64').length;
    }
    if (total > 1024 * 1024) errs.push({ field: 'data', type: 'FieldValueTooLong', detail: 'Too long: must have at most 1048576 bytes' });
    const type = String(obj.type);
    const jsonKey = type === 'kubernetes.io/dockerconfigjson' ? '.dockerconfigjson' : type === 'kubernetes.io/dockercfg' ? '.dockercfg' : undefined;
    if (jsonKey) {
      if (data[jsonKey] === undefined) errs.push({ field: `data[${jsonKey}]`, type: 'FieldValueRequired', detail: 'Required value' });
      else {
        const why = jsonSyntaxError(Buffer.from(data[jsonKey], 'base64').toString('utf8'));
        if (why) errs.push({ field: `data[${jsonKey}]`, type: 'FieldValueInvalid', detail: `Invalid value: "<secret contents redacted>": ${why}` });
      }
    }
    if (type === 'kubernetes.io/basic-auth' && data.username === undefined && data.password === undefined) {
      errs.push({ field: 'data[username]', type: 'FieldValueRequired', detail: 'Required value' });
    }
    if (type === 'kubernetes.io/ssh-auth' && data['ssh-privatekey'] === undefined) {
      errs.push({ field: 'data[ssh-privatekey]', type: 'FieldValueRequired', detail: 'Required value' });
    }
    if (type === 'kubernetes.io/tls' && (data['tls.crt'] === undefined || data['tls.key'] === undefined)) {
      errs.push({ field: `data[${data['tls.crt'] === undefined ? 'tls.crt' : 'tls.key'}]`, type: 'FieldValueRequired', detail: 'Required value' });
    }
    if (old) {
      if (old.type !== obj.type) errs.push({ field: 'type', type: 'FieldValueInvalid', detail: `Invalid value: ${q(obj.type)}: field is immutable` });
      if (old.immutable === true) {
        if (obj.immutable !== true)
          errs.push({ field: 'immutable', type: 'FieldValueForbidden', detail: 'Forbidden: field is immutable when `immutable` is set' });
        if (!deepEqual(old.data ?? {}, obj.data ?? {}))
          errs.push({ field: 'data', type: 'FieldValueForbidden', detail: 'Forbidden: field is immutable when `immutable` is set' });
      }
    }
  }
  if (info.resource === 'serviceaccounts') {
    for (const [field, list] of [
      ['secrets', obj.secrets],
      ['imagePullSecrets', obj.imagePullSecrets],
    ] as const) {
      if (list !== undefined && !Array.isArray(list))
        errs.push({ field, type: 'FieldValueInvalid', detail: `Invalid value: ${q(list)}: must be a list` });
    }
  }
  if (errs.length) throw invalid(info.kind, md.name ?? '', errs, info.group);
}

// ---------------------------------------------------------------- rbac.authorization.k8s.io (kubernetes pkg/apis/rbac/validation/validation.go)

/** Go's %#v of a []string: `[]string{"a", "b"}`. */
const goStrings = (v: unknown): string => `[]string{${(Array.isArray(v) ? v : []).map((x) => q(String(x))).join(', ')}}`;
const required = (field: string, detail = ''): FieldError => ({
  field,
  type: 'FieldValueRequired',
  detail: detail ? `Required value: ${detail}` : 'Required value',
});
const notSupported = (field: string, value: unknown, supported: string[]): FieldError => ({
  field,
  type: 'FieldValueNotSupported',
  detail: `Unsupported value: ${q(String(value ?? ''))}: supported values: ${supported.map((x) => q(x)).join(', ')}`,
});
const count = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/** ValidatePolicyRule */
function ruleErrors(rule: Obj, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!count(rule.verbs)) errs.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
  if (count(rule.nonResourceURLs)) {
    const bad = (detail: string): FieldError => ({
      field: `${path}.nonResourceURLs`,
      type: 'FieldValueInvalid',
      detail: `Invalid value: ${goStrings(rule.nonResourceURLs)}: ${detail}`,
    });
    if (namespaced) errs.push(bad('namespaced rules cannot apply to non-resource URLs'));
    if (count(rule.apiGroups) || count(rule.resources) || count(rule.resourceNames))
      errs.push(bad('rules cannot apply to both regular resources and non-resource URLs'));
    return errs;
  }
  if (!count(rule.apiGroups)) errs.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (!count(rule.resources)) errs.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

/** ValidateRoleBindingSubject */
function subjectErrors(s: Obj, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof s.name === 'string' ? s.name : '';
  if (!name) errs.push(required(`${path}.name`));
  switch (s.kind) {
    case 'ServiceAccount':
      // ValidateServiceAccountName: a DNS-1123 subdomain
      if (name) errs.push(...nameErrors(name, false, `${path}.name`));
      if (s.apiGroup) errs.push(notSupported(`${path}.apiGroup`, s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(notSupported(`${path}.apiGroup`, s.apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(`${path}.kind`, s.kind, ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function rbacErrors(info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (info.resource === 'roles' || info.resource === 'clusterroles') {
    const rules = Array.isArray(obj.rules) ? obj.rules : [];
    rules.forEach((r, i) => errs.push(...ruleErrors(isObj(r) ? r : {}, info.namespaced, `rules[${i}]`)));
    const agg = obj.aggregationRule;
    if (isObj(agg) && !count(agg.clusterRoleSelectors)) {
      errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    }
    return errs;
  }
  const ref: Obj = isObj(obj.roleRef) ? obj.roleRef : {};
  if (ref.apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', ref.apiGroup, [RBAC_GROUP]));
  const kinds = info.namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(String(ref.kind))) errs.push(notSupported('roleRef.kind', ref.kind, kinds));
  const refName = typeof ref.name === 'string' ? ref.name : '';
  if (!refName) errs.push(required('roleRef.name'));
  else
    for (const why of pathSegmentNameErrors(refName))
      errs.push({ field: 'roleRef.name', type: 'FieldValueInvalid', detail: `Invalid value: ${q(refName)}: ${why}` });
  const subjects = Array.isArray(obj.subjects) ? obj.subjects : [];
  subjects.forEach((s, i) => errs.push(...subjectErrors(isObj(s) ? s : {}, info.namespaced, `subjects[${i}]`)));
  if (old && !deepEqual(old.roleRef, obj.roleRef)) {
    const o: Obj = isObj(obj.roleRef) ? obj.roleRef : {};
    errs.push({
      field: 'roleRef',
      type: 'FieldValueInvalid',
      // %#v of the internal rbac.RoleRef
      detail: `Invalid value: rbac.RoleRef{APIGroup:${q(String(o.apiGroup ?? ''))}, Kind:${q(String(o.kind ?? ''))}, Name:${q(String(o.name ?? ''))}}: cannot change roleRef`,
    });
  }
  return errs;
}
