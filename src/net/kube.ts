// The transport rules (src/net/retry.ts, errors.ts, limits.ts) as the HTTP library
// @kubernetes/client-node sends through: its public `httpApi` option (wrapHttpLibrary), so every
// Kubernetes request keeps them:
//   - HTTPS only: the bearer token and Secret bodies never go over plain HTTP;
//   - redirects are never followed (undici's Dispatcher.request does not follow them; a 3xx is an
//     error naming where it pointed);
//   - one deadline per attempt over headers and body (requestTimeoutMs(), the
//     ACR_KUBE_AUTH_REQUEST_TIMEOUT_MS knob); bodies read up to MAX_RESPONSE_BYTES;
//   - transport failures, 408, 429 and 5xx retried here, Retry-After capped.
// Requests go through undici's Dispatcher.request() on the dispatcher client-node builds from the
// kubeconfig (its TLS material and proxy), rather than fetch: fetch builds WHATWG Request, Response,
// Headers and stream objects for every call, about 1 ms of CPU per request here (bench/RESULTS.md).
// The first request's dispatcher is kept for every later request of the client (client-node builds
// one per request), so requests share one keep-alive pool: a hundred namespaces cost a handful of
// TLS handshakes instead of four hundred.
import { ResponseContext, SelfDecodingBody, wrapHttpLibrary, type HttpLibrary, type RequestContext } from '@kubernetes/client-node';
import { MAX_RESPONSE_BYTES, ResponseTooLargeError, declaredTooLarge, readCapped, requestTimeoutMs } from './limits.ts';
import { retryAfterMs, retrying } from './retry.ts';
import { NetError, plainHttp, redirected, tooLarge, transportFailure } from './errors.ts';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;
type RequestOptions = Parameters<Dispatcher['request']>[0];

export interface KubeTransportOptions {
  /** debug tracing: method, path, status, duration (never bodies or headers) */
  trace?: (line: string) => void;
  /** per attempt, headers and body (default: requestTimeoutMs()) */
  timeoutMs?: number;
}

/** The answer to a request whose retries ran out on a retryable status (429, 5xx): its status, body and what was tried. */
export class KubeRetriesExhausted extends Error {
  override name = 'KubeRetriesExhausted';
  readonly status: number;
  readonly body: string;
  constructor(status: number, body: string, note: string) {
    super(note);
    this.status = status;
    this.body = body;
  }
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function kubeHttpLibrary(opts: KubeTransportOptions = {}): HttpLibrary {
  let pinned: Dispatcher | undefined;
  return wrapHttpLibrary({
    async send(ctx) {
      const url = new URL(ctx.getUrl());
      if (url.protocol !== 'https:') throw plainHttp(url);
      pinned ??= ctx.getDispatcher();
      const dispatcher = pinned;
      const timeoutMs = opts.timeoutMs ?? requestTimeoutMs();
      const once = async (): Promise<Answer> => {
        const started = Date.now();
        const trace = (what: string | number) =>
          opts.trace?.(`Kubernetes ${ctx.getHttpMethod()} ${url.pathname} -> ${what} (${Date.now() - started} ms)`);
        let answer: Answer;
        try {
          answer = await attempt(ctx, url, dispatcher, timeoutMs);
        } catch (e) {
          const failure = e instanceof ResponseTooLargeError ? tooLarge(e.message) : transportFailure(e, url.host, timeoutMs, ctx.getSignal());
          trace(failure.failure);
          throw failure;
        }
        trace(answer.status);
        if (answer.status >= 300 && answer.status < 400) throw redirected(answer.status, answer.headers.location, url);
        return answer;
      };
      const { answer, gaveUp } = await retrying(once, {
        status: (a) => a.status,
        retryAfterMs: (a) => retryAfterMs((h) => a.headers[h]),
        transient: (e) => e instanceof NetError && e.transient,
        exhausted: (e, note) => new NetError((e as NetError).failure, `${(e as NetError).message} (${note})`),
        signal: ctx.getSignal(),
      });
      if (gaveUp) throw new KubeRetriesExhausted(answer.status, answer.body.toString('utf8'), gaveUp);
      return new ResponseContext(answer.status, answer.headers, new SelfDecodingBody(Promise.resolve(answer.body)));
    },
  });
}

async function attempt(ctx: RequestContext, url: URL, dispatcher: Dispatcher | undefined, timeoutMs: number): Promise<Answer> {
  const outer = ctx.getSignal();
  const signal = outer ? AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
  const method = ctx.getHttpMethod() as RequestOptions['method'];
  const body = ctx.getBody() as RequestOptions['body'];
  let answer: { status: number; headers: Record<string, string>; stream: AsyncIterable<Uint8Array> | null; drop: () => void };
  if (dispatcher) {
    const res = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers: ctx.getHeaders(),
      body,
      signal,
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    // dump(): discards the body (reading a little, so the connection can be reused), without the
    // unhandled 'error' a destroy() emits
    answer = { status: res.statusCode, headers, stream: res.body, drop: () => void res.body.dump().catch(() => undefined) };
  } else {
    // A kubeconfig with no TLS material (a publicly trusted server, a token): client-node sets no
    // dispatcher, and Node's fetch on its own global dispatcher sends it, under the same rules.
    const res = await fetch(url, { method, headers: ctx.getHeaders(), body: body as string | undefined, redirect: 'manual', signal });
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => (headers[name] = value));
    answer = { status: res.status, headers, stream: res.body, drop: () => void res.body?.cancel().catch(() => undefined) };
  }
  if ((answer.status >= 300 && answer.status < 400) || declaredTooLarge(answer.headers['content-length'])) {
    answer.drop();
    if (answer.status < 300 || answer.status >= 400) throw new ResponseTooLargeError(MAX_RESPONSE_BYTES);
    return { status: answer.status, headers: answer.headers, body: Buffer.alloc(0) };
  }
  const bytes = await readCapped(answer.stream);
  // undici puts the connection back in its pool a tick after the body ends; a caller that sent its
  // next request at once would open a second connection. One turn of the event loop keeps each
  // worker on one connection (tested: 41 requests, max-parallel 4, 4).
  await new Promise((resolve) => setImmediate(resolve));
  return { status: answer.status, headers: answer.headers, body: bytes };
}
