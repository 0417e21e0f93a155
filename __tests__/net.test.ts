// src/net/: the transport rules in-process. The retry rule's arithmetic (Retry-After shapes, the
// 20 s cap, the 45 s budget, the attempt limit) with a fake clock, and each transport (the fetch
// client, the Azure pipeline, the Kubernetes HTTP library) against a local HTTPS server: no
// redirect followed, Retry-After honoured, a body that stalls timed out and retried, oversized
// bodies refused, plain HTTP and foreign origins refused before any byte is sent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { RestError, createHttpHeaders, createPipelineFromOptions, createPipelineRequest, type HttpClient } from '@azure/core-rest-pipeline';
import { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { generateTls } from '../emulator/tls.ts';
import { ApiError } from '../src/errors.ts';
import { MAX_ATTEMPTS, REQUEST_RETRY_BUDGET_MS, RETRY_AFTER_CAP_MS, RetryClock, isRetryableStatus, retryAfterMs } from '../src/net/retry.ts';
import { NetApiError, NetError } from '../src/net/errors.ts';
import { send } from '../src/net/http.ts';
import { guardedHttpClient, jsonObjectPolicy, operationBudgetMs, operationWithin, restErrorInfo, useNetPolicies } from '../src/net/azure.ts';
import { KubeRetriesExhausted, kubeHttpLibrary } from '../src/net/kube.ts';
import { startPlainListener } from './helpers/capture.ts';

// ------------------------------------------------------------------------------------ the rule

describe('the retry rule', () => {
  const at = Date.parse('2030-01-01T00:00:00Z');
  const h = (headers: Record<string, string>) => (name: string) => headers[name];

  test('Retry-After: seconds, an HTTP-date, Azure’s millisecond headers; absent or unreadable is undefined', () => {
    assert.equal(retryAfterMs(h({ 'retry-after': '7' }), at), 7000);
    assert.equal(retryAfterMs(h({ 'retry-after': new Date(at + 90_000).toUTCString() }), at), 90_000);
    assert.equal(retryAfterMs(h({ 'retry-after': new Date(at - 5000).toUTCString() }), at), 0, 'a date in the past: no wait');
    assert.equal(retryAfterMs(h({ 'retry-after-ms': '250', 'retry-after': '9' }), at), 250);
    assert.equal(retryAfterMs(h({ 'x-ms-retry-after-ms': '40' }), at), 40);
    assert.equal(retryAfterMs(h({}), at), undefined);
    assert.equal(retryAfterMs(h({ 'retry-after': 'soon' }), at), undefined);
    assert.equal(retryAfterMs(h({ 'retry-after': '-3' }), at), undefined);
  });

  test('retryable: 408, 429 and the transient 5xx; never 3xx, other 4xx, 501', () => {
    assert.deepEqual(
      [200, 301, 307, 400, 401, 403, 404, 408, 409, 429, 500, 501, 502, 503, 504].filter(isRetryableStatus),
      [408, 429, 500, 502, 503, 504],
    );
  });

  /** A clock the test moves: each wait the rule asks for is "waited" at once. */
  function run(failures: Array<{ status?: number; retryAfterMs?: number }>) {
    let now = 0;
    const clock = new RetryClock({ now: () => now, random: () => 1 });
    const waits: number[] = [];
    for (const f of failures) {
      const v = clock.next(f);
      if (!v.retry) return { waits, note: v.note, elapsed: now };
      waits.push(v.waitMs);
      now += v.waitMs + 100; // the attempt itself
    }
    return { waits, note: undefined, elapsed: now };
  }

  test('a wait just below the cap is waited as asked, one just above is cut to the cap', () => {
    assert.equal(RETRY_AFTER_CAP_MS, 20_000);
    assert.deepEqual(run([{ status: 429, retryAfterMs: 19_000 }, {}]).waits.slice(0, 1), [19_000]);
    assert.deepEqual(run([{ status: 503, retryAfterMs: 21_000 }, {}]).waits.slice(0, 1), [20_000]);
    assert.deepEqual(run([{ status: 500, retryAfterMs: 21_000 }, {}]).waits.slice(0, 1), [500], 'Retry-After counts on 429 and 503 only: a backoff');
  });

  test('Retry-After: 3600 on every attempt: 20 s, 20 s, then no wait that would end past 45 s; the note names the 3600 s asked', () => {
    const r = run(Array.from({ length: 10 }, () => ({ status: 429, retryAfterMs: 3_600_000 })));
    assert.deepEqual(r.waits, [20_000, 20_000]);
    assert.ok(r.elapsed <= REQUEST_RETRY_BUDGET_MS);
    assert.match(r.note!, /after 3 attempts in 41 s; the server asked to wait 3600 s/);
  });

  test('all retries of one request end within 45 s, whatever mix of waits is asked', () => {
    const r = run([
      { status: 429, retryAfterMs: 15_000 },
      { status: 503, retryAfterMs: 15_000 },
      { status: 429, retryAfterMs: 15_000 },
      { status: 429, retryAfterMs: 15_000 },
    ]);
    assert.deepEqual(r.waits, [15_000, 15_000]);
    assert.match(r.note!, /asked to wait 15 s/);
  });

  test('without Retry-After: exponential backoff, at most MAX_ATTEMPTS attempts', () => {
    const r = run(Array.from({ length: 10 }, () => ({})));
    assert.equal(r.waits.length, MAX_ATTEMPTS - 1);
    assert.deepEqual(r.waits, [500, 1000, 2000, 4000, 8000]); // random() = 1: the top of each jitter range
    assert.match(r.note!, /after 6 attempts in \d+ s/);
  });
});

// ------------------------------------------------------------------------------------ a local HTTPS server

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

let dir: string;
let caPem: string;
let server: Server;
let origin: string;
const seen: string[] = [];
const routes = new Map<string, Handler>();
const count = (path: string) => seen.filter((p) => p === path).length;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'acr-net-test-'));
  const tls = generateTls(dir);
  caPem = tls.caCertPem;
  setDefaultCACertificates([...getCACertificates('default'), caPem]);
  server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    seen.push(path);
    req.resume();
    const handler = routes.get(path);
    if (!handler) {
      res.writeHead(404).end('{}');
      return;
    }
    handler(req, res, count(path));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  routes.set('/ok', (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  routes.set('/redirect', (_q, res) =>
    res.writeHead(307, { location: 'https://localhost:1/elsewhere', 'content-type': 'application/json' }).end('{}'),
  );
  // odd requests answer the failure, even ones succeed: each test sends a failing one, then its retry
  routes.set('/busy-once', (_q, res, n) =>
    n % 2 === 1
      ? res
          .writeHead(429, { 'retry-after-ms': '200', 'content-type': 'application/json' })
          .end('{"error":{"code":"TooManyRequests","message":"slow down"}}')
      : res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
  );
  routes.set('/busy', (_q, res) =>
    res
      .writeHead(503, { 'retry-after-ms': '20', 'content-type': 'application/json' })
      .end('{"error":{"code":"Busy","message":"busy"},"message":"busy"}'),
  );
  // headers at once, then the body stalls (odd requests)
  routes.set('/stall-body-once', (_q, res, n) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
    if (n % 2 === 1) res.write('{"ok"');
    else res.end('{"ok":true}');
  });
  routes.set('/declared-big', (_q, res) =>
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) }).end(),
  );
  routes.set('/chunked-big', (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    let sent = 0;
    const pump = () => {
      while (sent < 17 && res.write(chunk)) sent++;
      if (sent >= 17) res.end();
      else res.once('drain', pump);
    };
    pump();
    res.on('error', () => undefined);
  });
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------ the fetch client

describe('the fetch client (ACR token service, registry check, GitHub OIDC)', () => {
  const req = (path: string) => ({ service: 'Test', operation: 'call', method: 'GET' as const, url: new URL(`${origin}${path}`) });

  test('a 3xx is an ApiError naming where it pointed; it is sent once and not followed', async () => {
    const before = count('/redirect');
    const e = await send(req('/redirect')).catch((x: unknown) => x);
    assert.ok(e instanceof NetApiError && e.failure === 'redirect');
    assert.match(e.message, /^Test call failed \(HTTP 307\): the answer is a redirect to https:\/\/localhost:1; the action never follows redirects/);
    assert.equal(count('/redirect') - before, 1);
  });

  test('429 with Retry-After is waited out and sent again', async () => {
    const started = Date.now();
    const r = await send(req('/busy-once'));
    assert.equal(r.status, 200);
    assert.ok(Date.now() - started >= 190, 'the 200 ms asked were waited');
  });

  test('503 every time: the last answer comes back with what was tried', async () => {
    const r = await send(req('/busy'));
    assert.equal(r.status, 503);
    assert.match(r.gaveUp!, /after 6 attempts in \d+ s; the server asked to wait 1 s/);
  });

  test('a body that stalls after the headers times out and is retried', async () => {
    const before = count('/stall-body-once');
    const r = await send(req('/stall-body-once'), { timeoutMs: 300 });
    assert.equal(r.text, '{"ok":true}');
    assert.equal(count('/stall-body-once') - before, 2);
  });

  test('bodies over 16 MiB are not read, declared or streamed', async () => {
    for (const path of ['/declared-big', '/chunked-big']) {
      const e = await send(req(path)).catch((x: unknown) => x);
      assert.ok(e instanceof NetApiError && e.failure === 'too-large', path);
      assert.match(e.message, /larger than 16 MiB/);
    }
  });

  test('plain HTTP is refused before a connection is made', async () => {
    const plain = await startPlainListener();
    try {
      const e = await send({ ...req('/'), url: new URL(`${plain.origin}/token`), headers: { authorization: 'Bearer secret-token' } }).catch(
        (x: unknown) => x,
      );
      assert.ok(e instanceof NetApiError && e.failure === 'plain-http');
      assert.match(e.message, new RegExp(`${plain.origin.replace(/[.:/]/g, '\\$&')} is plain HTTP`));
      assert.equal(plain.connections(), 0);
    } finally {
      await plain.close();
    }
  });
});

// ------------------------------------------------------------------------------------ the Azure pipeline

describe('the Azure pipeline (ARM, Graph, identity)', () => {
  const pipeline = () => useNetPolicies(createPipelineFromOptions({}), { service: 'Test', origin });
  const http = guardedHttpClient();
  const get = (url: string) => pipeline().sendRequest(http, createPipelineRequest({ url, method: 'GET', timeout: 300 }));

  test('a 3xx, even to the same origin, is a RestError naming where it pointed; core-rest-pipeline’s redirect policy is gone', async () => {
    routes.set('/same-origin-redirect', (_q, res) => res.writeHead(307, { location: `${origin}/ok` }).end());
    const before = count('/ok');
    const e = await get(`${origin}/same-origin-redirect`).catch((x: unknown) => x);
    assert.ok(e instanceof RestError);
    assert.equal(e.code, 'Redirect');
    assert.equal(e.statusCode, 307);
    assert.match(e.message, new RegExp(`redirect to ${origin.replace(/[.:/]/g, '\\$&')}`));
    assert.equal(count('/ok'), before, 'not followed');
    assert.equal(restErrorInfo(e).status, 307);
  });

  test('429 with Retry-After is waited out; 503 every time ends in a RestError that says what was tried', async () => {
    assert.equal((await get(`${origin}/busy-once`)).status, 200);
    const e = await get(`${origin}/busy`).catch((x: unknown) => x);
    assert.ok(e instanceof RestError);
    assert.equal(e.code, 'RetriesExhausted');
    const info = restErrorInfo(e);
    assert.deepEqual([info.status, info.code], [503, 'Busy']);
    assert.match(info.message, /^busy \(after 6 attempts in \d+ s; the server asked to wait 1 s\)$/);
  });

  test('a body that stalls after the headers times out (ETIMEDOUT) and is retried', async () => {
    const before = count('/stall-body-once');
    const res = await get(`${origin}/stall-body-once`);
    assert.equal(res.bodyAsText, '{"ok":true}');
    assert.equal(count('/stall-body-once') - before, 2);
  });

  test('a streamed body over 16 MiB stops being read', async () => {
    const e = await get(`${origin}/chunked-big`).catch((x: unknown) => x);
    assert.ok(e instanceof RestError);
    assert.equal(e.code, 'RESPONSE_TOO_LARGE');
  });

  test('credentials only to their own origin: another origin or plain HTTP is refused unsent', async () => {
    const sent: string[] = [];
    const recorder: HttpClient = { sendRequest: async (r) => (sent.push(r.url), { status: 200, headers: createHttpHeaders(), request: r }) };
    const p = pipeline();
    const other = await p.sendRequest(recorder, createPipelineRequest({ url: 'https://localhost:1/steal', method: 'GET' })).catch((x: unknown) => x);
    assert.ok(other instanceof RestError && other.code === 'ForeignUrl');
    assert.match(other.message, /pointed at https:\/\/localhost:1, not at https:\/\/127\.0\.0\.1:\d+; the request was not sent/);
    assert.deepEqual(sent, []);
    const plain = await startPlainListener();
    try {
      const e = await http.sendRequest(createPipelineRequest({ url: `${plain.origin}/x`, method: 'GET' })).catch((x: unknown) => x);
      assert.ok(e instanceof RestError && e.code === 'PlainHttp');
      assert.equal(plain.connections(), 0);
    } finally {
      await plain.close();
    }
  });

  test('ARM answers are JSON objects: null, a list or a scalar is InvalidResponse with its status', async () => {
    const p = createPipelineFromOptions({});
    p.addPolicy(jsonObjectPolicy());
    const answer = (body: string): HttpClient => ({
      sendRequest: async (r) => ({ status: 200, headers: createHttpHeaders(), request: r, bodyAsText: body }),
    });
    for (const [body, kind] of [
      ['null', 'null'],
      ['[1]', 'a list'],
      ['"x"', 'a string'],
      ['42', 'a number'],
    ]) {
      const e = await p.sendRequest(answer(body), createPipelineRequest({ url: 'https://arm.example/x', method: 'GET' })).catch((x: unknown) => x);
      assert.ok(e instanceof RestError && e.code === 'InvalidResponse', body);
      assert.equal(restErrorInfo(e).message, `the answer (HTTP 200) is ${kind}, not the JSON object the service sends`);
    }
    for (const body of ['{"id":"x"}', '', '<html>']) {
      assert.equal((await p.sendRequest(answer(body), createPipelineRequest({ url: 'https://arm.example/x', method: 'GET' }))).status, 200);
    }
  });

  test('an SDK tripping over an answer (TypeError) maps to InvalidResponse, never its text', () => {
    const info = restErrorInfo(new TypeError("Cannot read properties of undefined (reading 'error')"));
    assert.equal(info.code, 'InvalidResponse');
    assert.doesNotMatch(info.message, /TypeError|Cannot read/);
  });

  test('a long-running operation that outlives its budget is an ApiError naming it; the budget knob is read and clamped', async () => {
    const forever = {
      pollUntilDone: (o?: { abortSignal?: AbortSignal }) =>
        new Promise<never>((_, reject) => o?.abortSignal?.addEventListener('abort', () => reject(new Error('aborted')))),
    };
    const started = Date.now();
    const e = await operationWithin({ service: 'ACR', operation: 'create token t' }, () => forever, { intervalMs: 10, budgetMs: 200 }).catch(
      (x: unknown) => x,
    );
    assert.ok(e instanceof ApiError);
    assert.match(e.message, /^ACR create token t failed \(OperationTimedOut\): the operation was still running after 1 s/);
    assert.ok(Date.now() - started < 2000);
    assert.equal(operationBudgetMs(600_000, {}), 600_000);
    assert.equal(operationBudgetMs(600_000, { ACR_KUBE_AUTH_OPERATION_BUDGET_MS: '15000' }), 15_000);
    assert.equal(operationBudgetMs(600_000, { ACR_KUBE_AUTH_OPERATION_BUDGET_MS: '5' }), 1000);
    assert.equal(operationBudgetMs(600_000, { ACR_KUBE_AUTH_OPERATION_BUDGET_MS: 'soon' }), 600_000);
  });
});

// ------------------------------------------------------------------------------------ the Kubernetes transport

describe('the Kubernetes transport (client-node’s httpApi)', () => {
  /** A request as client-node makes it: the kubeconfig's dispatcher (its CA) on the context. */
  async function context(path: string, method: 'GET' | 'POST' = 'GET') {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: origin, caData: Buffer.from(caPem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'u', token: 'kube-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const ctx = new RequestContext(`${origin}${path}`, method);
    await kc.applySecurityAuthentication(ctx);
    assert.ok(ctx.getDispatcher(), 'the kubeconfig gave the request a dispatcher');
    return ctx;
  }
  const lib = kubeHttpLibrary({ timeoutMs: 300 });
  const sendK = async (path: string) => lib.send(await context(path)).toPromise();

  test('a 3xx is a NetError naming where it pointed, sent once', async () => {
    const before = count('/redirect');
    const e = await sendK('/redirect').catch((x: unknown) => x);
    assert.ok(e instanceof NetError && e.failure === 'redirect' && e.status === 307);
    assert.match(e.message, /redirect to https:\/\/localhost:1/);
    assert.equal(count('/redirect') - before, 1);
  });

  test('429 with Retry-After is waited out; 503 every time ends with the last answer and what was tried', async () => {
    assert.equal((await sendK('/busy-once')).httpStatusCode, 200);
    const e = await sendK('/busy').catch((x: unknown) => x);
    assert.ok(e instanceof KubeRetriesExhausted);
    assert.equal(e.status, 503);
    assert.match(e.message, /after 6 attempts/);
    assert.match(e.body, /busy/);
  });

  test('a body that stalls after the headers times out and is retried; bodies over 16 MiB are not read', async () => {
    const before = count('/stall-body-once');
    assert.equal(await (await sendK('/stall-body-once')).body.text(), '{"ok":true}');
    assert.equal(count('/stall-body-once') - before, 2);
    for (const path of ['/declared-big', '/chunked-big']) {
      const e = await sendK(path).catch((x: unknown) => x);
      assert.ok(e instanceof NetError && e.failure === 'too-large', path);
    }
  });

  test('plain HTTP is refused before a connection is made', async () => {
    const plain = await startPlainListener();
    try {
      const ctx = new RequestContext(`${plain.origin}/api/v1/namespaces`, 'GET');
      ctx.setHeaderParam('Authorization', 'Bearer kube-token');
      const e = await lib
        .send(ctx)
        .toPromise()
        .catch((x: unknown) => x);
      assert.ok(e instanceof NetError && e.failure === 'plain-http');
      assert.equal(plain.connections(), 0);
    } finally {
      await plain.close();
    }
  });
});
