// The HTTP library @kubernetes/client-node sends through (its `httpApi` option), over undici's
// Dispatcher.request(). The library's default runs `fetch` on the same dispatcher; fetch builds
// WHATWG Request, Response, Headers and stream objects for every call, about 1 ms of CPU per
// request here, which at eight requests in flight kept the 100-namespace benchmark's workers
// waiting on the CPU (bench/RESULTS.md). Same dispatcher, so the kubeconfig's TLS material, proxy
// and connection pool apply unchanged. Every body read stops at MAX_RESPONSE_BYTES.
import { Readable } from 'node:stream';
import { ResponseContext } from '@kubernetes/client-node';
import type { HttpLibrary, RequestContext } from '@kubernetes/client-node';
import { from } from '@kubernetes/client-node/dist/gen/rxjsStub.js';
import { MAX_RESPONSE_BYTES, ResponseTooLargeError, readCapped } from '../net-limits.ts';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;
type RequestOptions = Parameters<Dispatcher['request']>[0];

export const dispatcherHttpLibrary: HttpLibrary = {
  send(ctx) {
    return from(
      (async () => {
        const dispatcher = ctx.getDispatcher();
        // client-node sets one on every request (KubeConfig.applySecurityAuthentication)
        if (!dispatcher) throw new Error('no HTTP dispatcher on the request (kubeconfig not applied)');
        const url = new URL(ctx.getUrl());
        const res = await dispatcher.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: ctx.getHttpMethod() as RequestOptions['method'],
          headers: ctx.getHeaders(),
          body: ctx.getBody() as RequestOptions['body'],
          signal: ctx.getSignal(),
        });
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers))
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        const declared = Number(headers['content-length']);
        const read = async () => {
          if (Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES) {
            res.body.destroy();
            throw new ResponseTooLargeError();
          }
          const bytes = await readCapped(res.body);
          // undici puts the connection back in its pool a tick after the body ends; a caller that
          // sent its next request at once would open a second connection. One turn of the event
          // loop keeps each worker on one connection (tested: 41 requests, max-parallel 4, 4).
          await new Promise((resolve) => setImmediate(resolve));
          return bytes;
        };
        return new ResponseContext(res.statusCode, headers, {
          text: async () => (await read()).toString('utf8'),
          binary: read,
          stream: () => Readable.toWeb(res.body) as ReadableStream<Uint8Array>,
        });
      })(),
    );
  },
};
