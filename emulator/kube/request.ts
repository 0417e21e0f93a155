// Reading a request to the emulated API server: the field manager, dryRun and fieldValidation
// query parameters, the body in JSON, YAML or protobuf, DeleteOptions, and Warning headers.
import { load as loadYaml } from 'js-yaml';
import { isObj } from './schema.ts';
import { ProtoError, decodeKubeProtobuf } from './protobuf.ts';
import { ApiError, badRequest, q, undecodable } from './status.ts';
import type { EmuRequest } from '../types.ts';

export function managerName(req: EmuRequest): string {
  const fm = req.query.get('fieldManager');
  if (fm) return fm;
  const ua = String(req.headers['user-agent'] ?? '');
  return ua.split('/')[0].slice(0, 128);
}

export function dryRun(req: EmuRequest): boolean {
  const values = req.query.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`Invalid dry run value: ${q(v)}`);
  return values.length > 0;
}

export function fieldValidation(req: EmuRequest): 'Strict' | 'Warn' | 'Ignore' {
  const v = req.query.get('fieldValidation') ?? 'Warn';
  if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore') {
    throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${q(v)}`);
  }
  return v;
}

export function mediaType(req: EmuRequest): string {
  return String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
}

function protobufBody(req: EmuRequest, kind: string): Record<string, unknown> {
  try {
    return decodeKubeProtobuf(req.body, kind);
  } catch (err) {
    if (err instanceof ProtoError) throw undecodable(kind, err.message);
    throw err;
  }
}

/** The body as an object of the kind: protobuf, JSON or YAML (the decoder's 400 and 415 otherwise). */
export function parseBody(req: EmuRequest, kind: string): unknown {
  const type = mediaType(req);
  const text = req.body.toString('utf8');
  if (type === 'application/vnd.kubernetes.protobuf') return protobufBody(req, kind);
  if (type === 'application/cbor') {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
    );
  }
  if (text.trim() === '') throw undecodable(kind, 'unexpected end of JSON input');
  if (req.json !== undefined) return req.json;
  try {
    return loadYaml(text);
  } catch (err) {
    throw undecodable(kind, (err as Error).message.split('\n')[0]);
  }
}

export function warningHeaders(warnings: string[]): Record<string, string> {
  return warnings.length ? { Warning: warnings.map((w) => `299 - ${q(w)}`).join(', ') } : {};
}

export interface DeleteOptions {
  preconditions?: { resourceVersion?: string; uid?: string };
  dryRun?: string[];
}

export function deleteOptions(req: EmuRequest): DeleteOptions {
  if (req.body.length === 0) return {};
  if (mediaType(req) === 'application/vnd.kubernetes.protobuf') return protobufBody(req, 'DeleteOptions') as DeleteOptions;
  const body =
    req.json ??
    (() => {
      try {
        return loadYaml(req.body.toString('utf8'));
      } catch {
        return undefined;
      }
    })();
  if (!isObj(body)) throw undecodable('DeleteOptions', 'the body is not an object');
  return body as DeleteOptions;
}
