// Bounded retries with exponential backoff and jitter, honouring Retry-After.
export interface RetryOptions {
  /** attempts in all, including the first */
  attempts?: number;
  /** first delay in ms */
  baseMs?: number;
  /** cap for one delay */
  maxDelayMs?: number;
  /** give up once this much time has passed since the first attempt */
  budgetMs?: number;
  /** whether err is worth another attempt; may return a delay in ms (e.g. from Retry-After) */
  retryable: (err: unknown) => boolean | number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const base = opts.baseMs ?? 500;
  const cap = opts.maxDelayMs ?? 10_000;
  const start = Date.now();
  const wait = opts.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const verdict = opts.retryable(err);
      if (verdict === false || attempt >= attempts) throw err;
      const backoff = Math.min(cap, base * 2 ** (attempt - 1));
      const delay = typeof verdict === 'number' ? Math.min(cap, Math.max(0, verdict)) : backoff / 2 + Math.random() * (backoff / 2);
      if (opts.budgetMs !== undefined && Date.now() - start + delay > opts.budgetMs) throw err;
      opts.onRetry?.(err, attempt, delay);
      await wait(delay);
    }
  }
}
