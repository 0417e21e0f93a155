// /_emulator/*: control routes for tests and people (never logged, never faulted).
import type { EmuResponse, EmulatorState, FaultRule, Handler, RequestLogEntry } from './types.ts';

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

/**
 * GET/DELETE /_emulator/requests, GET/PUT /_emulator/state, GET/POST/DELETE /_emulator/faults,
 * POST /_emulator/reset, GET /_emulator/info.
 */
export function createAdminHandler(control: AdminControl): Handler {
  return (req) => {
    if (!req.path.startsWith(PREFIX)) return undefined;
    const route = req.path.slice(PREFIX.length).replace(/\/+$/, '');
    const m = req.method;
    switch (route) {
      case 'requests':
        if (m === 'GET') return json(200, control.requests());
        if (m === 'DELETE') {
          control.clearRequests();
          return { status: 204 };
        }
        break;
      case 'state':
        if (m === 'GET') return json(200, control.state());
        if (m === 'PUT') {
          if (typeof req.json !== 'object' || req.json === null || Array.isArray(req.json))
            return bad('the body must be an EmulatorState JSON object');
          control.setState(req.json as EmulatorState);
          return { status: 204 };
        }
        break;
      case 'faults':
        if (m === 'GET') return json(200, control.faults());
        if (m === 'POST') {
          if (typeof req.json !== 'object' || req.json === null || Array.isArray(req.json)) return bad('the body must be a FaultRule JSON object');
          try {
            control.addFault(req.json as FaultRule);
          } catch (err) {
            return bad((err as Error).message);
          }
          return json(201, req.json);
        }
        if (m === 'DELETE') {
          control.clearFaults();
          return { status: 204 };
        }
        break;
      case 'reset':
        if (m === 'POST') {
          control.reset();
          return { status: 204 };
        }
        break;
      case 'info':
        if (m === 'GET') return json(200, control.info());
        break;
      default:
        return json(404, { error: { code: 'NotFound', message: `no admin route ${route}` } });
    }
    return json(405, { error: { code: 'MethodNotAllowed', message: `${m} is not allowed on ${req.path}` } });
  };
}
