// Our own error types. Every SDK error is mapped into one of these at the client boundary, so
// main.ts can print one clear `::error::` line without a stack trace.
import { neutralise } from './log.ts';

/** A bad input: names the input, what is wrong with the value and the accepted form. */
export class InputError extends Error {
  override name = 'InputError';
  readonly input: string;
  constructor(input: string, problem: string, accepted?: string) {
    super(`Input '${input}': ${problem}${accepted ? `. Expected ${accepted}` : ''}.`.replace(/\.\.$/, '.'));
    this.input = input;
  }
}

/** Azure sign-in failed; the message says what to fix. */
export class AuthError extends Error {
  override name = 'AuthError';
}

/** A call to a service failed after retries. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly service: string;
  readonly operation: string;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly hint: string | undefined;
  constructor(opts: { service: string; operation: string; status?: number; code?: string; message: string; hint?: string }) {
    const status = opts.status !== undefined ? ` (HTTP ${opts.status}${opts.code ? ` ${opts.code}` : ''})` : opts.code ? ` (${opts.code})` : '';
    // the hint is a sentence of its own: after the service's message, whatever punctuation it ends with
    const sep = /[.!?]$/.test(opts.message.trim()) ? ' ' : '. ';
    super(`${opts.service} ${opts.operation} failed${status}: ${opts.message.trim()}${opts.hint ? `${sep}${opts.hint}` : ''}`);
    this.service = opts.service;
    this.operation = opts.operation;
    this.status = opts.status;
    this.code = opts.code;
    this.hint = opts.hint;
  }
}

/** The scenario ran but found the path broken (verify), or a precondition on the live state failed. */
export class CheckError extends Error {
  override name = 'CheckError';
}

/**
 * One line, no stack: what the step prints after `::error::`. Messages carry server text, so the
 * line is neutralised as src/log.ts prints every line (which does so again, and masks).
 */
export function formatError(err: unknown): string {
  if (err instanceof InputError || err instanceof AuthError || err instanceof ApiError || err instanceof CheckError) {
    return neutralise(err.message.trim());
  }
  if (err instanceof Error) return neutralise(`${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`.trim());
  return neutralise(String(err).trim());
}
