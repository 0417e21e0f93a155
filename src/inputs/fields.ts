// How one input is read: the shared field readers and forms every section reader uses. Each
// throws an InputError naming the input, what is wrong with the value and the accepted form.
// Pure: no SDK import, no I/O.
import { InputError } from '../errors.ts';
import type { Duration } from '../settings.ts';

export type GetInput = (name: string) => string;

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const GUID_FORM = 'a GUID such as 00000000-0000-0000-0000-000000000000';
// ARM resource group names: 1-90 of letters, digits, _ - . ( ), not ending in a period.
export const RESOURCE_GROUP = /^[-\w.()]{0,89}[-\w()]$/;

const MIN_EXPIRY_MS = 60 * 60 * 1000; // 1 hour
const MAX_EXPIRY_MS = 730 * 24 * 60 * 60 * 1000; // 2 years: Entra's longest client secret

export function choice<T extends string>(get: GetInput, name: string, allowed: readonly T[], fallback: T): T {
  const raw = get(name).trim();
  if (raw === '') return fallback;
  const v = raw.toLowerCase() as T;
  if (!allowed.includes(v)) throw new InputError(name, `unknown value '${clip(raw)}'`, `one of ${allowed.join(', ')}`);
  return v;
}

export function bool(get: GetInput, name: string, fallback: boolean): boolean {
  const raw = get(name).trim();
  if (raw === '') return fallback;
  if (/^(true|yes|1)$/i.test(raw)) return true;
  if (/^(false|no|0)$/i.test(raw)) return false;
  throw new InputError(name, `'${clip(raw)}' is not a boolean`, '`true` or `false`');
}

export function optional(get: GetInput, name: string): string | undefined {
  const raw = get(name).trim();
  return raw === '' ? undefined : raw;
}

export function noControl(name: string, v: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new InputError(name, 'contains a line break or control character', 'a single line');
  return v;
}

export function guid(get: GetInput, name: string): string | undefined {
  const v = optional(get, name);
  if (v !== undefined && !GUID.test(v)) throw new InputError(name, `'${clip(v)}' is not a GUID`, GUID_FORM);
  return v?.toLowerCase();
}

/** Splits a list input: one item a line, or comma separated; blank lines and `#` comments ignored. */
export function list(raw: string): string[] {
  return raw
    .split(/[\r\n,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
}

/** A value as an error message quotes it: one line, at most 80 characters. */
export function clip(v: string): string {
  const oneLine = v.replace(/[\r\n]+/g, '\\n');
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine;
}

export function checkGroup(name: string, v: string): string {
  noControl(name, v);
  if (!RESOURCE_GROUP.test(v))
    throw new InputError(name, `'${clip(v)}' is not a valid resource group name`, '1-90 letters, digits, _ - . ( ), not ending in a period');
  return v;
}

/** `90d`, `12h`, `30m`, `2w`, or ISO 8601 (`P90D`, `PT12H`, `P1DT6H`). */
export function parseDuration(name: string, raw: string): Duration {
  const accepted = 'a duration between 1h and 730d such as 90d, 12h, 2w, or ISO 8601 P90D / PT12H';
  const v = raw.trim();
  let ms: number | undefined;
  const short = /^(\d{1,6})\s*(m|h|d|w)$/i.exec(v);
  if (short) {
    const unit = { m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 }[short[2].toLowerCase() as 'm' | 'h' | 'd' | 'w'];
    ms = Number(short[1]) * unit;
  } else {
    const iso = /^P(?:(\d{1,6})Y)?(?:(\d{1,6})M)?(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?)?$/i.exec(v);
    if (iso && v.length > 1 && !/T$/i.test(v)) {
      const n = (i: number) => Number(iso[i] ?? 0);
      ms = ((n(1) * 365 + n(2) * 30 + n(3) * 7 + n(4)) * 86400 + n(5) * 3600 + n(6) * 60 + n(7)) * 1000;
    }
  }
  if (ms === undefined) throw new InputError(name, `'${clip(v)}' is not a duration`, accepted);
  if (ms < MIN_EXPIRY_MS || ms > MAX_EXPIRY_MS) throw new InputError(name, `'${clip(v)}' is out of range`, accepted);
  return { ms, text: v };
}
