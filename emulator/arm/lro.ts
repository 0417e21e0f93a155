// ARM long-running operations, in every shape ARM's async guideline allows
// (../shared/azure-api/arm/ASYNC-OPERATIONS.md, from Azure/azure-resource-manager-rpc
// v1.0/async-api-reference.md and proxy-api-reference.md):
// - sync: "The resource provider should return 200 (OK) to indicate that the action completed
//   successfully" (a PUT: its 200/201 with the resource, no polling);
// - 202 (a PUT: its 201) with Azure-AsyncOperation only, polled on the operation resource;
// - 202 with Location only: "Location URI should return 202 Accepted with no response body while
//   operation is in progress", then "what would have been a successful response if the API completed
//   ... It is acceptable for this to be a 200/204 NoContent if the action does not require a response";
// - both headers;
// - a terminal status Failed or Canceled ("the terminal values can be one of (1) Succeeded, (2) Failed
//   or (3) Canceled"), with `error` as the operation resource requires;
// - Retry-After present (an integer of seconds) or absent ("Clients should wait for the Retry-After
//   interval, if it was specified, or the default of 60 seconds if it was not").
// Each operation keeps its own default shape (the emulator's earlier answer); state.lroShapes selects
// another per test. Not written down anywhere held here, so chosen: a Location URL of a failed or
// canceled operation answers 400 with the error (the guideline says only that it returns "the exact
// same response that would have been returned had the operation been executed synchronously"), and
// a canceled operation's default error is { code: 'Canceled', message: 'The operation was canceled.' }.
import type { ArmOperation, EmuContext, EmuRequest, EmuResponse, EmulatorState, LroShapeRule } from '../types.ts';
import { checkedFinal, checkedStatus } from './contract.ts';
import { collapsedPath } from '../routes.ts';

type Shape = NonNullable<LroShapeRule['shape']>;

export interface LroStart {
  /** the ARM resource the operation acts on (its status URLs are found under it) */
  resourceId: string;
  /** an action (POST), a PUT/PATCH (answers with the resource) or a DELETE */
  kind: 'action' | 'put' | 'delete';
  /** the operation's own answer when no rule selects another (the emulator's earlier answer) */
  defaultShape: Shape;
  /** where its status (Azure-AsyncOperation) and its result (Location) are read, by operation id */
  urls(opId: string): { asyncUrl: string; locationUrl: string };
  /** the change, applied at once unless the operation fails; returns what the Location URL ends with */
  apply(): { status: number; body?: unknown };
  /** a PUT's first answer: its status (200 update, 201 create) and the resource while it is provisioned */
  accepted?: { status: number; body: unknown };
  /** a PUT that creates the resource (its synchronous answer is 201, else 200) */
  created?: boolean;
  /** a failure the request itself causes (e.g. a secret that does not sign in) */
  failure?: { code: string; message: string };
}

export type Json = (status: number, body: unknown, extra?: Record<string, string>) => EmuResponse;
export type Empty = (status: number, extra?: Record<string, string>) => EmuResponse;
export type ArmErr = (ctx: EmuContext, status: number, code: string, message: string, extra?: Record<string, string>) => EmuResponse;

/** ARM's response builders (common.ts), passed in so this module does not import its importer. */
export interface Builders {
  json: Json;
  empty: Empty;
  armErr: ArmErr;
}

function operations(state: EmulatorState): Record<string, ArmOperation> {
  state.armOperations ??= {};
  return state.armOperations;
}

const lc = (s: string): string => s.toLowerCase();

/** The first rule of `rules` matching the request, consumed when it has a count. */
function take<T extends { method?: string; pathPattern: string; times?: number }>(rules: T[] | undefined, req: EmuRequest): T | undefined {
  for (const rule of rules ?? []) {
    if (rule.method && rule.method.toUpperCase() !== req.method.toUpperCase()) continue;
    if (!new RegExp(rule.pathPattern, 'i').test(req.path)) continue;
    if (rule.times !== undefined) {
      if (rule.times <= 0) continue;
      rule.times -= 1;
    }
    return rule;
  }
  return undefined;
}

const CANCELED = { code: 'Canceled', message: 'The operation was canceled.' };

function retryHeader(seconds: number | null | undefined): Record<string, string> {
  return seconds === null ? {} : { 'retry-after': String(seconds ?? 0) };
}

/**
 * Start an operation and answer its first request in the selected shape. Unless it fails, `apply`
 * runs now (the state changes at once); the operation reports InProgress for `state.lroPolls` polls
 * (default 1) before its terminal status.
 */
export function startLro(req: EmuRequest, ctx: EmuContext, start: LroStart, b: Builders): EmuResponse {
  const rule = take(ctx.state.lroShapes, req);
  const injected = take(ctx.state.lroFailures, req);
  const shape: Shape = rule?.shape ?? start.defaultShape;
  const retryAfter = rule?.retryAfter === undefined ? 0 : rule.retryAfter;
  let outcome: ArmOperation['outcome'] = rule?.outcome ?? 'Succeeded';
  let error: { code: string; message: string } | undefined;
  if (injected) error = { code: injected.code, message: injected.message };
  else if (start.failure) error = start.failure;
  else if (outcome === 'Failed') error = { code: rule?.code ?? 'OperationFailed', message: rule?.message ?? 'The operation failed.' };
  else if (outcome === 'Canceled') error = { code: rule?.code ?? CANCELED.code, message: rule?.message ?? CANCELED.message };
  if (error && outcome === 'Succeeded') outcome = 'Failed';

  const id = lc(ctx.newGuid());
  const op: ArmOperation = {
    id,
    resourceId: start.resourceId,
    status: 'InProgress',
    asyncPolls: 0,
    locationPolls: 0,
    startTime: ctx.now().toISOString(),
    outcome,
    retryAfter,
    origin: { method: req.method, path: collapsedPath(req), apiVersion: req.query.get('api-version') ?? '' },
  };
  if (error) op.error = error;
  else {
    const result = start.apply();
    // a Location URL may end in 204 for an operation without a result body (ASYNC-OPERATIONS.md)
    op.result = result.body === undefined && rule?.final === 204 ? { status: 204 } : result;
  }

  if (shape === 'sync') {
    // the operation completes within the request: nothing to poll
    if (error) return b.armErr(ctx, 400, error.code, error.message);
    // a PUT: 201 when it created the resource, else 200, with the resource as it now is
    if (start.kind === 'put') return b.json(start.created ? 201 : 200, op.result?.body);
    return op.result?.body === undefined ? b.empty(200) : b.json(200, op.result.body);
  }
  operations(ctx.state)[id] = op;
  const { asyncUrl, locationUrl } = start.urls(id);
  const headers: Record<string, string> = { ...retryHeader(retryAfter) };
  if (shape === 'async-operation' || shape === 'both') headers['azure-asyncoperation'] = asyncUrl;
  if (shape === 'location' || shape === 'both') headers.location = locationUrl;
  if (start.kind === 'put' && start.accepted) return b.json(start.accepted.status, start.accepted.body, headers);
  return b.empty(202, headers);
}

export function findOperation(state: EmulatorState, id: string): ArmOperation | undefined {
  return state.armOperations?.[lc(id)];
}

function complete(op: ArmOperation, ctx: EmuContext): void {
  if (op.status !== 'InProgress') return;
  op.status = op.outcome ?? (op.error ? 'Failed' : 'Succeeded');
  op.endTime = ctx.now().toISOString();
}

const pollsBeforeDone = (state: EmulatorState): number => Math.max(0, state.lroPolls ?? 1);

/** What the Azure-AsyncOperation URL answers: 200 with the operation resource (InProgress, then its terminal status). */
export function pollAsyncOperation(req: EmuRequest, ctx: EmuContext, op: ArmOperation, selfUrl: string, b: Builders): EmuResponse {
  if (op.status === 'InProgress') {
    if (op.asyncPolls < pollsBeforeDone(ctx.state)) op.asyncPolls += 1;
    else complete(op, ctx);
  }
  const body: Record<string, unknown> = { id: new URL(selfUrl).pathname, name: op.id, status: op.status, startTime: op.startTime };
  if (op.endTime) body.endTime = op.endTime;
  if ((op.status === 'Failed' || op.status === 'Canceled') && op.error) body.error = { code: op.error.code, message: op.error.message };
  return checkedStatus(req, ctx, b.json(200, body, op.status === 'InProgress' ? retryHeader(op.retryAfter) : {}));
}

/** What the Location URL answers: 202 while running, then the final result (or the error). */
export function pollLocation(req: EmuRequest, ctx: EmuContext, op: ArmOperation, selfUrl: string, b: Builders): EmuResponse {
  if (op.status === 'InProgress') {
    if (op.locationPolls < pollsBeforeDone(ctx.state)) {
      op.locationPolls += 1;
      return b.empty(202, { location: selfUrl, ...retryHeader(op.retryAfter) });
    }
    complete(op, ctx);
  }
  if (op.status === 'Failed' || op.status === 'Canceled') {
    const error = op.error ?? (op.status === 'Canceled' ? CANCELED : { code: 'OperationFailed', message: 'The operation failed.' });
    return checkedFinal(req, ctx, op.origin, b.armErr(ctx, 400, error.code, error.message));
  }
  const result = op.result ?? { status: 200 };
  return checkedFinal(req, ctx, op.origin, result.body === undefined ? b.empty(result.status) : b.json(result.status, result.body));
}
