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

/** How a request failed without an answer worth reading (src/net/ NetFailure), as far as a remedy tells them apart. */
export type Transport = 'redirect' | 'timeout' | 'unreachable' | 'too-large' | 'foreign-origin' | 'plain-http';

/**
 * What to do next, for an ApiError whose maker gave no hint: by how the request failed, else by
 * its HTTP status. Remedies that know more (a 403 on role assignments, a Kubernetes 401, a
 * missing cluster) are given where the failure is met; this makes sure no failure ends without one.
 */
export function nextStep(o: { service: string; status?: number; code?: string; transport?: Transport }): string | undefined {
  const where = endpointOf(o.service);
  const elsewhere = `Something other than ${o.service} may be answering (a proxy, or a wrong endpoint: check ${where}), then run the step again.`;
  switch (o.transport) {
    case 'timeout':
    case 'unreachable':
      return `Check that the runner can reach ${o.service} (network, DNS, firewall, proxy), then run the step again.`;
    case 'redirect':
      return `Point the step at ${o.service} itself (check ${where}), not at an address or a proxy that redirects.`;
    case 'foreign-origin':
      return "Check the environment input (a custom cloud's endpoints) and any proxy between the runner and Azure.";
    case 'plain-http':
      return 'Give an https:// endpoint.';
    case 'too-large':
      return elsewhere;
  }
  // a call that "failed" with a 2xx got an answer of the wrong shape
  const s = o.status;
  if (o.code === 'InvalidResponse' || (s !== undefined && s >= 200 && s < 300)) return elsewhere;
  if (s === undefined || s < 300) return undefined;
  if (s < 400) return nextStep({ ...o, transport: 'redirect' });
  if (s === 429 || s >= 500) return `${o.service} is throttling or failing: run the step again in a few minutes.`;
  if (s === 401)
    return 'The credentials were refused: check the sign-in inputs (client-id, tenant-id, and client-secret, creds or the OIDC federation).';
  if (s === 403)
    return "The signed-in identity lacks a permission for this: grant what README's Least-privilege permissions lists for this scenario.";
  if (s === 404) return 'Check that it exists and that the inputs name it.';
  if (s === 409) return 'Something else changed it at the same time: run the step again.';
  return `Check the inputs this request was made from: the message says what ${o.service} refused.`;
}

/** Where the address of a service comes from, for a remedy: what the user can check. */
function endpointOf(service: string): string {
  if (service === 'Kubernetes') return "the kubeconfig's server";
  if (service === 'registry') return 'the registry input';
  if (service === 'GitHub OIDC') return "the runner's network: the job's OIDC endpoint is GitHub's";
  return 'the environment input, where a custom cloud names its endpoints';
}

/** A call to a service failed after retries. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly service: string;
  readonly operation: string;
  readonly status: number | undefined;
  readonly code: string | undefined;
  /** what to do next: the maker's, else nextStep()'s */
  readonly hint: string | undefined;
  constructor(opts: {
    service: string;
    operation: string;
    status?: number;
    code?: string;
    message: string;
    hint?: string;
    /** how the request failed, when it got no answer worth reading (for the default hint) */
    transport?: Transport;
  }) {
    const status = opts.status !== undefined ? ` (HTTP ${opts.status}${opts.code ? ` ${opts.code}` : ''})` : opts.code ? ` (${opts.code})` : '';
    const hint = opts.hint ?? nextStep(opts);
    // the hint is a sentence of its own: after the service's message, whatever punctuation it ends with
    const sep = /[.!?]$/.test(opts.message.trim()) ? ' ' : '. ';
    super(`${opts.service} ${opts.operation} failed${status}: ${opts.message.trim()}${hint ? `${sep}${hint}` : ''}`);
    this.service = opts.service;
    this.operation = opts.operation;
    this.status = opts.status;
    this.code = opts.code;
    this.hint = hint;
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
