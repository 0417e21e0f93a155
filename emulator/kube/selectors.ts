// List filters: label selectors (equality and set-based requirements) and field selectors (the
// fields kube-apiserver supports for each resource).
import type { ResourceInfo } from './resources.ts';
import { badRequest } from './status.ts';
import type { Obj } from './status.ts';
import type { KubeObject } from '../types.ts';

interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';
  values: string[];
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

export function parseLabelSelector(sel: string): Requirement[] {
  const reqs: Requirement[] = [];
  for (const part of splitTopLevel(sel)) {
    let m: RegExpExecArray | null;
    if ((m = /^!\s*([^\s=!<>(),]+)$/.exec(part))) reqs.push({ key: m[1], op: '!', values: [] });
    else if ((m = /^([^\s=!<>(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
      reqs.push({ key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((x) => x.trim()) });
    } else if ((m = /^([^\s=!<>(),]+)\s*(==|=|!=)\s*([^\s=!<>(),]*)$/.exec(part))) {
      reqs.push({ key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] });
    } else if ((m = /^([^\s=!<>(),]+)\s*(<|>)\s*(-?\d+)$/.exec(part))) {
      reqs.push({ key: m[1], op: m[2] === '>' ? 'gt' : 'lt', values: [m[3]] });
    } else if ((m = /^([^\s=!<>(),]+)$/.exec(part))) reqs.push({ key: m[1], op: 'exists', values: [] });
    else throw badRequest(`unable to parse requirement: found '${part}', expected: identifier`);
  }
  return reqs;
}

export function matchesLabels(labels: Record<string, string>, reqs: Requirement[]): boolean {
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case 'in':
        return has && r.values.includes(v);
      case 'notin':
        return !has || !r.values.includes(v);
      case 'exists':
        return has;
      case '!':
        return !has;
      case 'gt':
        return has && /^-?\d+$/.test(v) && Number(v) > Number(r.values[0]);
      case 'lt':
        return has && /^-?\d+$/.test(v) && Number(v) < Number(r.values[0]);
    }
  });
}

function fieldValue(obj: KubeObject, field: string): string | undefined {
  if (field === 'metadata.name') return obj.metadata.name;
  if (field === 'metadata.namespace') return obj.metadata.namespace ?? '';
  if (field === 'type' && obj.kind === 'Secret') return String(obj.type ?? '');
  if (field === 'status.phase' && (obj.kind === 'Namespace' || obj.kind === 'Pod')) return String((obj.status as Obj | undefined)?.phase ?? '');
  if (field === 'spec.nodeName' && obj.kind === 'Pod') return String((obj.spec as Obj | undefined)?.nodeName ?? '');
  if (obj.kind === 'Event') {
    // the event's selectable fields (pkg/registry/core/event/strategy.go ToSelectableFields)
    const io = (obj.involvedObject as Obj | undefined) ?? {};
    const m = /^involvedObject\.(kind|namespace|name|uid|apiVersion|resourceVersion|fieldPath)$/.exec(field);
    if (m) return String(io[m[1]] ?? '');
    if (field === 'reason' || field === 'type' || field === 'reportingComponent') return String(obj[field] ?? '');
    if (field === 'source') return String(((obj.source as Obj | undefined) ?? {}).component ?? '');
  }
  return undefined;
}

/** The terms of a field selector (`a=b,c!=d`): field, `=` (also `==`) or `!=`, value. */
export function fieldSelectorTerms(sel: string): { field: string; op: '=' | '!='; value: string }[] {
  return splitTopLevel(sel).map((part) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${sel}'; can't understand '${part}'`);
    return { field: m[1], op: m[2] === '!=' ? '!=' : '=', value: m[3] };
  });
}

export function parseFieldSelector(sel: string, info: ResourceInfo): ((o: KubeObject) => boolean)[] {
  const allowed = [
    'metadata.name',
    'metadata.namespace',
    ...(info.resource === 'secrets' ? ['type'] : []),
    ...(info.resource === 'namespaces' ? ['status.phase'] : []),
    ...(info.resource === 'pods' ? ['status.phase', 'spec.nodeName'] : []),
    ...(info.resource === 'events'
      ? [
          'involvedObject.kind',
          'involvedObject.namespace',
          'involvedObject.name',
          'involvedObject.uid',
          'involvedObject.apiVersion',
          'involvedObject.resourceVersion',
          'involvedObject.fieldPath',
          'reason',
          'type',
          'reportingComponent',
          'source',
        ]
      : []),
  ];
  return fieldSelectorTerms(sel).map(({ field, op, value }) => {
    if (!allowed.includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    return (o: KubeObject) => (fieldValue(o, field) === value) === (op !== '!=');
  });
}
