// When a request is sent again, and how long the action waits first: the one rule every client
// (the Azure pipeline, the Kubernetes transport, the fetch clients) follows. Pure: no I/O.
//
//   - A transport failure (reset, refused, timed out) and the statuses 408, 429, 500, 502, 503
//     and 504 are retried, up to MAX_ATTEMPTS attempts in all.
//   - 429 and 503 honour the server's Retry-After (seconds or an HTTP-date, or Azure's
//     retry-after-ms / x-ms-retry-after-ms), each wait capped at RETRY_AFTER_CAP_MS; without
//     one, and for the other failures, the wait is an exponential backoff with jitter.
//   - All retries of one request end within REQUEST_RETRY_BUDGET_MS: a wait that would end past it
//     is not begun, and the request fails naming the wait the server asked for.
// A long-running operation's polls are not retries: their Retry-After is followed as Azure asks
// (10 s to 10 min), within the operation's own budget (src/net/azure.ts, operationBudgetMs).

/** The longest single wait before a retry, whatever the server's Retry-After asks. */
export const RETRY_AFTER_CAP_MS = 20_000;
/** All retries of one request are done within this time from its first attempt. */
export const REQUEST_RETRY_BUDGET_MS = 45_000;
/** Attempts in all, the first included. */
export const MAX_ATTEMPTS = 6;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 10_000;

/** Statuses that say "try again": timeouts, throttling and the transient server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/**
 * The wait a 429 or 503 answer asks for, in ms: `retry-after-ms` / `x-ms-retry-after-ms`
 * (milliseconds, Azure), else `Retry-After` as seconds or an HTTP-date (RFC 9110 section 10.2.3).
 * Undefined when there is none, or it cannot be read; a date in the past is 0.
 */
export function retryAfterMs(header: (name: string) => string | null | undefined, now: number = Date.now()): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = header(name)?.trim();
    if (v && /^\d+(\.\d+)?$/.test(v)) return Number(v);
  }
  const v = header('retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/^[A-Za-z]{3}/.test(v)) return undefined; // an HTTP-date starts with the day's name ("Wed, 21 Oct 2015 ...")
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Seconds, rounded up, for messages: "3600 s". */
export const seconds = (ms: number) => `${Math.ceil(ms / 1000)} s`;

export type RetryVerdict = { retry: true; waitMs: number } | { retry: false; note: string };

/**
 * The retry clock of one request: after each failed attempt, `next()` says how long to wait before
 * the next one, or that there is none (with a note for the error message). Time and randomness are
 * injectable for the unit tests.
 */
export class RetryClock {
  private readonly started: number;
  private attempts = 0;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(opts: { now?: () => number; random?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.started = this.now();
  }

  /** `failure`: the status of the answer (none for a transport failure) and the wait it asked for. */
  next(failure: { status?: number; retryAfterMs?: number }): RetryVerdict {
    this.attempts += 1;
    const elapsed = this.now() - this.started;
    const done = `after ${this.attempts} attempt${this.attempts === 1 ? '' : 's'} in ${seconds(elapsed)}`;
    const asked = failure.status === 429 || failure.status === 503 ? failure.retryAfterMs : undefined;
    if (this.attempts >= MAX_ATTEMPTS)
      return { retry: false, note: `${done}${asked !== undefined ? `; the server asked to wait ${seconds(asked)}` : ''}` };
    let wait: number;
    if (asked !== undefined) {
      wait = Math.min(asked, RETRY_AFTER_CAP_MS);
    } else {
      const backoff = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (this.attempts - 1));
      wait = backoff / 2 + this.random() * (backoff / 2);
    }
    if (elapsed + wait > REQUEST_RETRY_BUDGET_MS) {
      return {
        retry: false,
        note:
          asked !== undefined
            ? `${done}; the server asked to wait ${seconds(asked)} before the next attempt, and the action waits at most ${seconds(RETRY_AFTER_CAP_MS)} at a time and ${seconds(REQUEST_RETRY_BUDGET_MS)} in all for one request`
            : `${done} (the action retries one request for at most ${seconds(REQUEST_RETRY_BUDGET_MS)})`,
      };
    }
    return { retry: true, waitMs: wait };
  }
}

export interface RetryHooks<A> {
  /** the status of an answer */
  status(answer: A): number;
  /** the wait an answer asks for (Retry-After), in ms */
  retryAfterMs(answer: A): number | undefined;
  /** whether a thrown error is worth another attempt (a timeout, a reset) */
  transient(err: unknown): boolean;
  /** what to throw when the retries of a transient error run out (`note`: what was tried) */
  exhausted(err: unknown, note: string): unknown;
  /** the caller's signal: no wait outlives it */
  signal?: Abortable | null;
}

/**
 * Sends with `attempt` until an answer is not retryable, or this rule says stop: the one retry loop
 * of every transport. The last answer comes back, with `gaveUp` saying what was tried when it is
 * still a retryable failure; a transient error whose retries ran out is rethrown as `exhausted` says.
 */
export async function retrying<A>(attempt: () => Promise<A>, hooks: RetryHooks<A>): Promise<{ answer: A; gaveUp?: string }> {
  const clock = new RetryClock();
  for (;;) {
    let answer: A;
    try {
      answer = await attempt();
    } catch (e) {
      if (!hooks.transient(e) || hooks.signal?.aborted) throw e;
      const verdict = clock.next({});
      if (!verdict.retry) throw hooks.exhausted(e, verdict.note);
      await pause(verdict.waitMs, hooks.signal);
      continue;
    }
    const status = hooks.status(answer);
    if (!isRetryableStatus(status)) return { answer };
    const verdict = clock.next({ status, retryAfterMs: hooks.retryAfterMs(answer) });
    if (!verdict.retry) return { answer, gaveUp: verdict.note };
    await pause(verdict.waitMs, hooks.signal);
  }
}

/** The part of an AbortSignal pause() needs (the Azure SDK's AbortSignalLike has no `reason`). */
interface Abortable {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

const aborted = () => Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });

/** Waits ms; rejects with an AbortError as soon as the signal aborts. */
export function pause(ms: number, signal?: Abortable | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
