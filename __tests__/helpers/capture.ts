// Second origins for the trust-boundary tests. startCapture(): an HTTPS server with the emulator's
// certificate (which names localhost, so the action trusts it) that records every request reaching
// it and answers 200 `{}`: a redirect the action followed shows up there. startPlainListener(): a
// bare TCP listener that records every byte any connection sends and never answers: a request
// sent in cleartext (a token, a Secret) shows up there, whatever it looked like.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createServer as createTcp, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Emulator } from '../../emulator/server.ts';

export interface Captured {
  method: string;
  path: string;
  authorization: boolean;
  bodyBytes: number;
  /** the raw request (headers and body), to look for secrets in */
  raw: string;
}

export interface Capture {
  /** https://localhost:PORT */
  origin: string;
  port: number;
  requests: Captured[];
  close(): Promise<void>;
}

export async function startCapture(emu: Emulator): Promise<Capture> {
  const requests: Captured[] = [];
  const sockets = new Set<Socket>();
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization !== undefined,
        bodyBytes: body.length,
        raw: `${JSON.stringify(req.headers)}\n${body.toString('utf8')}`,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  };
  const server = createHttps({ key: readFileSync(join(emu.dir, 'server.key')), cert: readFileSync(join(emu.dir, 'server.crt')) }, onRequest);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `https://localhost:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface PlainListener {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** connections accepted */
  connections(): number;
  /** everything received, all connections together */
  received(): string;
  close(): Promise<void>;
}

export async function startPlainListener(): Promise<PlainListener> {
  let connections = 0;
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createTcp((s) => {
    connections += 1;
    sockets.add(s);
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    connections: () => connections,
    received: () => Buffer.concat(chunks).toString('latin1'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
