// /_emulator/*: control routes for tests and people (never logged, never faulted).
import { trimmedPath } from './routes.ts';
import type { Service } from './routes.ts';
import type { EmuResponse, EmulatorState, FaultRule, RequestLogEntry } from './types.ts';

export interface AdminControl {
  requests(): RequestLogEntry[];
  clearRequests(): void;
  state(): EmulatorState;
  /** replace the whole state (missing top-level keys become empty) */
  setState(state: EmulatorState): void;
  faults(): FaultRule[];
  /** throws on an invalid rule */
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  /** reset to the start-up seed: state, log and faults */
  reset(): void;
  info(): Record<string, unknown>;
}

const PREFIX = '/_emulator/';

function json(status: number, body: unknown): EmuResponse {
  return { status, body };
}

function bad(message: string): EmuResponse {
  return json(400, { error: { code: 'BadRequest', message } });
}

const noContent = (): EmuResponse => ({ status: 204 });

/** The body of a PUT or POST: a JSON object, or undefined. */
const objectBody = (json: unknown): Record<string, unknown> | undefined =>
  typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;

/**
 * GET/DELETE /_emulator/requests, GET/PUT /_emulator/state, GET/POST/DELETE /_emulator/faults,
 * POST /_emulator/reset, GET /_emulator/info.
 */
export function createAdminService(control: AdminControl): Service {
  return {
    name: 'admin',
    owns: (req) => req.path.startsWith(PREFIX),
    routePath: trimmedPath,
    routes: [
      {
        path: `${PREFIX}requests`,
        GET: () => json(200, control.requests()),
        DELETE: () => {
          control.clearRequests();
          return noContent();
        },
      },
      {
        path: `${PREFIX}state`,
        GET: () => json(200, control.state()),
        PUT: (req) => {
          const body = objectBody(req.json);
          if (!body) return bad('the body must be an EmulatorState JSON object');
          control.setState(body as unknown as EmulatorState);
          return noContent();
        },
      },
      {
        path: `${PREFIX}faults`,
        GET: () => json(200, control.faults()),
        POST: (req) => {
          const body = objectBody(req.json);
          if (!body) return bad('the body must be a FaultRule JSON object');
          try {
            control.addFault(body as unknown as FaultRule);
          } catch (err) {
            return bad((err as Error).message);
          }
          return json(201, req.json);
        },
        DELETE: () => {
          control.clearFaults();
          return noContent();
        },
      },
      {
        path: `${PREFIX}reset`,
        POST: () => {
          control.reset();
          return noContent();
        },
      },
      { path: `${PREFIX}info`, GET: () => json(200, control.info()) },
      {
        path: '*',
        ANY: (req) => json(404, { error: { code: 'NotFound', message: `no admin route ${req.path.slice(PREFIX.length).replace(/\/+$/, '')}` } }),
      },
    ],
    methodNotAllowed: (req) => json(405, { error: { code: 'MethodNotAllowed', message: `${req.method} is not allowed on ${req.path}` } }),
  };
}
