// The emulator's HTTPS server and its composition. The server parses each request and verifies its
// bearer token, keeps the request log, applies injected faults and sends the answer; the services
// (github, entra, graph, kube, acr, arm, and admin for the control routes) each live in their own
// module with their routes and hooks (routes.ts), and are composed here.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acrService } from './acr.ts';
import { createAdminService } from './admin.ts';
import { armService } from './arm/index.ts';
import { entraService } from './entra.ts';
import { githubService } from './github.ts';
import { graphService } from './graph.ts';
import { createJwtSigner } from './jwt.ts';
import type { JwtSigner } from './jwt.ts';
import { kubeService } from './kube/index.ts';
import { createRouter } from './routes.ts';
import type { EmulatorHost, Service } from './routes.ts';
import { emptyState, loadSeed, mergeState, substitutePort } from './seed.ts';
import { generateTls } from './tls.ts';
import { startClusterEgress, type ClusterEgress } from './network.ts';
import type { TlsMaterial } from './tls.ts';
import type { AccessTokenClaims, EmuContext, EmuRequest, EmuResponse, EmulatorState, FaultRule, RequestLogEntry } from './types.ts';

export { createJwtSigner } from './jwt.ts';
export type { JwtSigner } from './jwt.ts';
export { RESOLVE_HOOK_PATH } from './acr.ts';

export interface Emulator {
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  /** temp dir holding ca.crt, the server key/cert and the kubeconfig (removed by close()) */
  dir: string;
  caCertPath: string;
  caCertPem: string;
  /** kubeconfig: server = url, CA data, user token = state.kube.token, current-context 'emulator' */
  kubeconfigPath: string;
  /** live state, mutable by tests (replaced by reset()) */
  state: EmulatorState;
  /** every request in arrival order (admin routes excluded); status/durationMs filled in when answered */
  requests: RequestLogEntry[];
  /** TLS connections accepted since the last reset(), each with the host name its client asked for (SNI) */
  connections: { host: string }[];
  /** the cluster's network (emulator/network.ts): an HTTP CONNECT proxy, http://127.0.0.1:PORT */
  clusterEgressUrl: string;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  /** custom cloud JSON in `az cloud show` shape pointing here */
  cloud(): CloudJson;
  /** env for running the action against this emulator */
  env(): Record<string, string>;
  /** replace state (default: the start-up seed), clear the log and faults */
  reset(seed?: EmulatorState): void;
  close(): Promise<void>;
}

export interface CloudJson {
  name: string;
  endpoints: { resourceManager: string; activeDirectory: string; activeDirectoryResourceId: string; microsoftGraphResourceId: string };
  suffixes: { acrLoginServerEndpoint: string };
}

export interface StartOptions {
  /** a state object, or the path of a state JSON; either is merged over the default seed */
  seed?: EmulatorState | string;
  /** 0 / undefined: an ephemeral port */
  port?: number;
  /** no diagnostics on stderr (handler crashes are still answered with 500) */
  quiet?: boolean;
}

// ------------------------------------------------------------------------------------- the services

/** The services, in the order they are asked (each only about the requests it owns). */
const SERVICES: readonly Service[] = [githubService, entraService, graphService, kubeService, acrService, armService];
const router = createRouter(SERVICES);
/** Services whose answers carry Azure's request ids (see Service.requestIds). */
const WITH_REQUEST_IDS = new Set<string>(SERVICES.filter((s) => s.requestIds).map((s) => s.name));

/** Which service a request belongs to when no handler answered it (a fault, a crash): the one with a route for it. */
function serviceOf(req: EmuRequest): string {
  return router.serviceOf(req) ?? 'none';
}

/** The custom cloud that points Azure clients at the services: ARM, Entra, Graph and the registries' suffix. */
function cloudOf(url: string): CloudJson {
  return {
    name: 'AzureEmulator',
    endpoints: {
      resourceManager: `${url}/`,
      activeDirectory: url,
      activeDirectoryResourceId: 'https://management.core.windows.net/',
      microsoftGraphResourceId: `${url}/graph/`,
    },
    suffixes: { acrLoginServerEndpoint: '.azurecr.localhost' },
  };
}

// ------------------------------------------------------------------------------------- helpers

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

const STATUS_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  412: 'PreconditionFailed',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

function armErrorResponse(status: number, code: string, message: string): EmuResponse {
  return { status, body: { error: { code, message } } };
}

interface FaultEntry {
  rule: FaultRule;
  regex?: RegExp;
  remaining?: number;
}

const FAULT_KINDS = new Set(['latency', 'status', 'reset', 'stall', 'armError', 'body']);

/** The largest generated body of a 'body' fault (the test bed's own memory matters too). */
const MAX_FAULT_BODY_BYTES = 256 * 1024 * 1024;

/** A valid JSON object of exactly `bytes` bytes: {"padding":"xxx…"} (at least 15 bytes). */
export function paddedJson(bytes: number): Buffer {
  const head = Buffer.from('{"padding":"');
  const tail = Buffer.from('"}');
  const buf = Buffer.alloc(Math.max(bytes, head.length + tail.length), 'x');
  head.copy(buf, 0);
  tail.copy(buf, buf.length - tail.length);
  return buf;
}

function compileFault(rule: FaultRule): FaultEntry {
  if (!rule || typeof rule !== 'object') throw new Error('a fault rule must be an object');
  if (!FAULT_KINDS.has(rule.kind)) throw new Error(`unknown fault kind '${String(rule.kind)}' (latency, status, reset, stall, armError, body)`);
  if (rule.kind === 'status' && (typeof rule.status !== 'number' || rule.status < 100 || rule.status > 599)) {
    throw new Error("a 'status' fault needs a status (100-599)");
  }
  if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 0)) throw new Error('times must be a non-negative integer');
  if (rule.kind === 'body') {
    if (rule.body === undefined && (!Number.isInteger(rule.bodyBytes) || rule.bodyBytes! < 0 || rule.bodyBytes! > MAX_FAULT_BODY_BYTES)) {
      throw new Error(`a 'body' fault needs a body string or bodyBytes (0-${MAX_FAULT_BODY_BYTES})`);
    }
    if (rule.status !== undefined && (typeof rule.status !== 'number' || rule.status < 100 || rule.status > 599)) {
      throw new Error("a 'body' fault's status must be 100-599");
    }
  }
  const copy: FaultRule = { ...rule };
  return {
    rule: copy,
    regex: rule.pathPattern !== undefined ? new RegExp(rule.pathPattern) : undefined,
    remaining: rule.times,
  };
}

interface FaultInjector {
  /** the rules, each with the count it has left */
  list(): FaultRule[];
  /** throws on an invalid rule */
  add(rule: FaultRule): void;
  clear(): void;
  /**
   * Apply the rules that match the request, in the order they were added: delays are waited out
   * here; the first rule that answers instead of the handler ends the list ('reset': no answer).
   */
  apply(req: EmuRequest, signal: AbortSignal): Promise<{ applied: string[]; answer?: EmuResponse | 'reset' }>;
}

function createFaultInjector(): FaultInjector {
  let faults: FaultEntry[] = [];
  return {
    list: () => faults.map((f) => ({ ...f.rule, ...(f.remaining !== undefined ? { times: f.remaining } : {}) })),
    add(rule) {
      faults.push(compileFault(rule));
    },
    clear() {
      faults = [];
    },
    async apply(req, signal) {
      const applied: string[] = [];
      let answer: EmuResponse | 'reset' | undefined;
      const target = `${req.hostname}${req.path}`;
      for (const f of faults) {
        if (answer) break;
        if (f.rule.method && f.rule.method.toUpperCase() !== req.method) continue;
        if (f.regex && !f.regex.test(target)) continue;
        if (f.remaining !== undefined) {
          if (f.remaining <= 0) continue;
          f.remaining -= 1;
        }
        const r = f.rule;
        switch (r.kind) {
          case 'latency':
            applied.push(`latency:${r.ms ?? 0}`);
            await sleep(r.ms ?? 0, signal);
            break;
          case 'stall':
            applied.push(`stall:${r.ms ?? 10000}`);
            await sleep(r.ms ?? 10000, signal);
            break;
          case 'reset':
            applied.push('reset');
            answer = 'reset';
            break;
          case 'status':
          case 'armError': {
            const status = r.status ?? (r.kind === 'armError' ? 409 : 500);
            const code = r.code ?? STATUS_CODES[status] ?? `Http${status}`;
            const resp = armErrorResponse(status, code, r.message ?? `Injected fault: ${status} ${code}.`);
            if (status === 429 || r.retryAfter !== undefined) resp.headers = { 'retry-after': String(r.retryAfter ?? 1) };
            applied.push(`${r.kind}:${status}${r.kind === 'armError' ? `:${code}` : ''}`);
            answer = resp;
            break;
          }
          case 'body': {
            const status = r.status ?? 200;
            const payload = r.body !== undefined ? Buffer.from(r.body) : paddedJson(r.bodyBytes ?? 0);
            applied.push(`body:${status}:${payload.length}`);
            answer = { status, headers: { ...r.headers, 'content-type': r.contentType ?? 'application/json; charset=utf-8' }, body: payload };
            break;
          }
        }
      }
      faults = faults.filter((f) => f.remaining === undefined || f.remaining > 0);
      return { applied, answer };
    },
  };
}

// ------------------------------------------------------------------------------------- HTTP

/** The request as the handlers see it; `bearer` verified against the signer as an access token the emulator's Entra issued. */
function parseRequest(req: IncomingMessage, body: Buffer, port: number, url: string, signer: JwtSigner): EmuRequest {
  const hostHeader = req.headers.host ?? `127.0.0.1:${port}`;
  // Not new URL(path, base): a path starting with // (an SDK joining "/" and a scope that starts
  // with "/") would be read as a host.
  const u = new URL(`https://${hostHeader}${req.url ?? '/'}`);
  let path = u.pathname;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    // keep the raw path when it is not valid percent-encoding
  }
  // ARM, like most front doors, treats a doubled leading slash as one.
  path = path.replace(/^\/{2,}/, '/');
  let json: unknown;
  if (body.length > 0) {
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      json = undefined;
    }
  }
  const auth = req.headers.authorization;
  const bearer = typeof auth === 'string' && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : undefined;
  let token: AccessTokenClaims | undefined;
  if (bearer) {
    const claims = signer.verify(bearer);
    if (claims && typeof claims.tid === 'string' && typeof claims.iss === 'string' && claims.iss.startsWith(`${url}/`)) {
      token = claims as AccessTokenClaims;
    }
  }
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    url: u,
    path,
    query: u.searchParams,
    headers: req.headers,
    hostname: u.hostname.toLowerCase(),
    body,
    json,
    token,
    bearer,
  };
}

/** Write the answer: lower-case headers, Azure's request ids when asked, the body as JSON, text or bytes (none for HEAD). */
function send(req: EmuRequest, res: ServerResponse, r: EmuResponse, requestIds: boolean): void {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  if (requestIds) {
    headers['x-ms-request-id'] ??= randomUUID();
    const corr = req.headers['x-ms-correlation-request-id'];
    headers['x-ms-correlation-request-id'] ??= typeof corr === 'string' && corr ? corr : randomUUID();
    const clientId = req.headers['x-ms-client-request-id'];
    if (typeof clientId === 'string' && clientId) headers['x-ms-client-request-id'] ??= clientId;
  }
  let payload: Buffer | undefined;
  const b = r.body;
  if (b === undefined || b === null || r.status === 204 || r.status === 304) {
    payload = undefined;
  } else if (Buffer.isBuffer(b)) {
    payload = b;
  } else if (typeof b === 'string') {
    payload = Buffer.from(b);
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  } else {
    payload = Buffer.from(JSON.stringify(b));
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  headers['content-length'] = String(payload?.length ?? 0);
  if (res.headersSent || res.destroyed) return;
  res.writeHead(r.status, headers);
  res.end(req.method === 'HEAD' ? undefined : payload);
}

async function readBody(raw: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of raw) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The log entry of a request (status, service and duration filled in when it is answered). */
function logEntry(seq: number, raw: IncomingMessage, req: EmuRequest): RequestLogEntry {
  const entry: RequestLogEntry = {
    seq,
    time: new Date().toISOString(),
    method: req.method,
    host: String(raw.headers.host ?? ''),
    path: req.path,
    query: req.url.search.replace(/^\?/, ''),
    status: 0,
    service: 'none',
    durationMs: 0,
  };
  if (req.token) {
    entry.tid = req.token.tid;
    entry.appid = req.token.appid;
  }
  return entry;
}

function initialSeed(seed: EmulatorState | string | undefined): EmulatorState {
  if (seed === undefined) return loadSeed();
  if (typeof seed === 'string') return loadSeed(seed);
  return structuredClone(mergeState(loadSeed(), seed));
}

interface Listening {
  port: number;
  /** TLS connections accepted, each with the host name its client asked for (SNI) */
  connections: { host: string }[];
  /** stop listening and drop every connection */
  close(): Promise<void>;
}

/** The HTTPS server on 127.0.0.1 (keep-alive as Azure's front doors keep it); a request the handler fails on gets a 500. */
async function listenHttps(
  tls: TlsMaterial,
  port: number,
  quiet: boolean,
  onRequest: (raw: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<Listening> {
  const connections: { host: string }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ key: tls.keyPem, cert: tls.certPem, keepAlive: true }, (req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      if (!quiet) process.stderr.write(`emulator: ${(err as Error).stack ?? String(err)}\n`);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(err) } }));
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 70_000;
  server.requestTimeout = 0;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: TLSSocket) => {
    connections.push({ host: typeof s.servername === 'string' && s.servername ? s.servername : '127.0.0.1' });
  });
  server.on('tlsClientError', (err) => {
    if (!quiet && !/ECONNRESET|socket hang up/i.test(String(err))) process.stderr.write(`emulator: TLS client error: ${err.message}\n`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      }),
  };
}

// ------------------------------------------------------------------------------------- the server

export async function startEmulator(opts: StartOptions = {}): Promise<Emulator> {
  const quiet = opts.quiet ?? false;
  const dir = mkdtempSync(join(tmpdir(), 'acr-kube-emulator-'));
  let tls: TlsMaterial;
  let signer: JwtSigner;
  let seed: EmulatorState;
  try {
    [tls, signer] = await Promise.all([Promise.resolve().then(() => generateTls(dir)), createJwtSigner()]);
    seed = initialSeed(opts.seed);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let port = 0;
  let url = '';
  let state: EmulatorState = emptyState();
  const requests: RequestLogEntry[] = [];
  const faults = createFaultInjector();
  let seq = 0;
  let guidCounter = 0;
  const closing = new AbortController();

  const host: EmulatorHost = {
    get url() {
      return url;
    },
    get port() {
      return port;
    },
    dir,
    caCertPath: tls.caCertPath,
    caCertPem: tls.caCertPem,
    kubeconfigPath: join(dir, 'kubeconfig'),
  };

  const ctx: EmuContext = {
    get state() {
      return state;
    },
    get baseUrl() {
      return url;
    },
    get port() {
      return port;
    },
    signJwt: (claims) => signer.sign(claims),
    verifyJwt: (token) => signer.verify(token),
    signingJwk: () => ({ ...signer.jwk }),
    armError: armErrorResponse,
    newGuid: () => {
      guidCounter += 1;
      return `0e000000-0000-4000-8000-${guidCounter.toString(16).padStart(12, '0')}`;
    },
    now: () => new Date(),
    get clusterEgressUrl() {
      return egress.current?.url;
    },
    caCertPath: tls.caCertPath,
  };
  /** the cluster egress, started once the port is known */
  const egress: { current?: ClusterEgress } = {};

  const setState = (next: EmulatorState): void => {
    state = substitutePort(structuredClone(mergeState(emptyState(), next)), port);
    for (const s of SERVICES) s.onState?.(state, host);
  };

  const adminService = createAdminService({
    requests: () => requests,
    clearRequests: () => {
      requests.length = 0;
    },
    state: () => state,
    setState,
    faults: () => faults.list(),
    addFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    reset: () => emulator.reset(),
    info: () => ({ url, port, caCertPath: tls.caCertPath, kubeconfigPath: host.kubeconfigPath, dir }),
  });
  const admin = createRouter([adminService]);

  /** The control routes: never logged, never faulted. */
  function answerAdmin(req: EmuRequest, res: ServerResponse): void {
    let r: EmuResponse | undefined;
    try {
      r = admin.dispatch(req, ctx)?.response;
    } catch (err) {
      r = armErrorResponse(500, 'InternalServerError', (err as Error).message);
    }
    send(req, res, r ?? armErrorResponse(404, 'NotFound', 'no admin route'), false);
  }

  /** A deferred answer (one that needed I/O), or the 500 of a handler that failed on the way. */
  async function settleDeferred(req: EmuRequest, deferred: () => Promise<EmuResponse>, service: string): Promise<EmuResponse> {
    try {
      const r = await deferred();
      return r.deferred ? armErrorResponse(500, 'InternalServerError', 'a deferred answer deferred again') : r;
    } catch (err) {
      if (!quiet) process.stderr.write(`emulator: ${service} handler error on ${req.method} ${req.path}: ${(err as Error).stack ?? String(err)}\n`);
      return armErrorResponse(500, 'InternalServerError', `Emulator handler error: ${(err as Error).message}`);
    }
  }

  /** The services' answer, a 404 when none has a route, a 500 when a handler throws. */
  function answer(req: EmuRequest): { response: EmuResponse; service: string } {
    try {
      return (
        router.dispatch(req, ctx) ?? {
          response: armErrorResponse(404, 'NotFound', `The emulator has no route for ${req.method} ${req.path}.`),
          service: 'none',
        }
      );
    } catch (err) {
      if (!quiet) process.stderr.write(`emulator: handler error on ${req.method} ${req.path}: ${(err as Error).stack ?? String(err)}\n`);
      return {
        response: armErrorResponse(500, 'InternalServerError', `Emulator handler error: ${(err as Error).message}`),
        service: serviceOf(req),
      };
    }
  }

  async function onRequest(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const req = parseRequest(raw, await readBody(raw), port, url, signer);
    req.caller = egress.current?.ports.has(raw.socket.remotePort ?? -1) ? 'cluster' : 'runner';
    if (adminService.owns(req)) return answerAdmin(req, res);

    const entry = logEntry(++seq, raw, req);
    requests.push(entry);
    const finish = (status: number, service: string): void => {
      entry.status = status;
      entry.service = service;
      entry.durationMs = Math.round((performance.now() - started) * 10) / 10;
    };

    const injected = await faults.apply(req, closing.signal);
    if (injected.applied.length) entry.fault = injected.applied.join(',');
    if (closing.signal.aborted) {
      raw.socket.destroy();
      return;
    }
    if (injected.answer === 'reset') {
      finish(0, serviceOf(req));
      raw.socket.destroy();
      return;
    }
    if (injected.answer) {
      // an injected answer has the shape of ARM's, request ids included, whichever service it stands in for
      finish(injected.answer.status, serviceOf(req));
      send(req, res, injected.answer, true);
      return;
    }

    const result = answer(req);
    if (result.response.deferred) result.response = await settleDeferred(req, result.response.deferred, result.service);
    finish(result.response.status, result.service);
    send(req, res, result.response, WITH_REQUEST_IDS.has(result.service));
  }

  let listening: Listening;
  try {
    listening = await listenHttps(tls, opts.port ?? 0, quiet, onRequest);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  port = listening.port;
  url = `https://127.0.0.1:${port}`;
  egress.current = await startClusterEgress(port, () => state);
  setState(seed);

  const emulator: Emulator = {
    url,
    port,
    dir,
    caCertPath: tls.caCertPath,
    caCertPem: tls.caCertPem,
    kubeconfigPath: host.kubeconfigPath,
    get state() {
      return state;
    },
    set state(next: EmulatorState) {
      setState(next);
    },
    get requests() {
      return requests;
    },
    get connections() {
      return listening.connections;
    },
    get clusterEgressUrl() {
      return egress.current!.url;
    },
    addFault(rule) {
      faults.add(rule);
    },
    clearFaults() {
      faults.clear();
    },
    cloud: () => cloudOf(url),
    env() {
      const env: Record<string, string> = { NODE_EXTRA_CA_CERTS: tls.caCertPath };
      for (const s of SERVICES) Object.assign(env, s.env?.(host));
      return env;
    },
    reset(next?: EmulatorState) {
      setState(next ?? seed);
      requests.length = 0;
      listening.connections.length = 0;
      faults.clear();
    },
    async close() {
      closing.abort();
      await egress.current?.close();
      await listening.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return emulator;
}
