// What kube-apiserver 1.32 validates on the objects the emulator stores: object names (RFC 1123
// labels and subdomains), label and annotation keys and values, Secret data keys, size and the
// per-type required keys, immutable fields, and the list fields of a ServiceAccount.
import { deepEqual, isObj } from './schema.ts';
import type { ResourceInfo } from './resources.ts';
import { invalid, q } from './status.ts';
import type { FieldError, Obj } from './status.ts';
import type { KubeObject } from '../types.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

function nameErrors(name: string, label: boolean): FieldError[] {
  const invalid = (why: string): FieldError[] => [{ field: 'metadata.name', type: 'FieldValueInvalid', detail: `Invalid value: ${q(name)}: ${why}` }];
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
  else if (!old) errs.push(...nameErrors(md.name, info.resource === 'namespaces'));
  errs.push(...metadataErrors(md));
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
  if (errs.length) throw invalid(info.kind, md.name ?? '', errs);
}
