// The latency floor of a run over many targets (clusters, namespaces), computed from the emulator's
// request log, so that the figure does not depend on how fast the machine is.
//
// With latency L on every request, no run can end before its longest chain of dependent requests
// has passed: chain × L. A run over N targets at max-parallel p does its shared requests once
// (sign-in, the registry, a namespace list) and each target's own requests in turn on one of p
// workers, so its chain is the one-target run's chain plus (ceil(N / p) − 1) more turns of one
// target's chain. What the one-target run costs besides its latency (Node's start-up, loading the
// SDKs, its own work) is added once:
//
//   floor = (one-target chain + (ceil(N / p) − 1) × per-target chain) × L + (one-target time − one-target chain × L)
//
// Which requests belong to a target is read from the logs, not assumed: a request shape (method,
// service and path, with the target's name and ids generalised) that the N-target run makes at
// least N times is a target's own; any other is shared. One target's chain is the longest chain
// among its own requests in the one-target run (GET the cluster, then PUT its role assignment;
// create the namespace, then the Secret in it).

export interface LoggedRequest {
  time: string;
  durationMs: number;
  method: string;
  path: string;
  service: string;
}

/** The longest chain of requests in which each starts after the one before it ended. */
export function sequentialDepth(entries: Pick<LoggedRequest, 'time' | 'durationMs'>[]): number {
  const spans = entries.map((e) => ({ start: Date.parse(e.time), end: Date.parse(e.time) + e.durationMs })).sort((a, b) => a.start - b.start);
  const depth: number[] = [];
  spans.forEach((s, i) => {
    let best = 0;
    // 2 ms of slack: the log's start times are whole milliseconds
    for (let j = 0; j < i; j++) if (spans[j].end <= s.start + 2) best = Math.max(best, depth[j]);
    depth[i] = best + 1;
  });
  return Math.max(0, ...depth);
}

const ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$/i;

/** `PUT arm /subscriptions/{id}/…/managedClusters/{target}`: a request with its target and ids generalised. */
export function requestShape(e: Pick<LoggedRequest, 'method' | 'service' | 'path'>, targets: ReadonlySet<string>): string {
  const path = e.path
    .split('/')
    .map((seg) => (targets.has(seg) ? '{target}' : ID.test(seg) ? '{id}' : seg))
    .join('/');
  return `${e.method} ${e.service} ${path}`;
}

export interface RunLog {
  /** the run's wall time (for the one-target run: its median) */
  ms: number;
  log: LoggedRequest[];
  /** the names of the targets, as they appear in request paths */
  targets: string[];
}

export interface Floor {
  n: number;
  parallel: number;
  latencyMs: number;
  /** request shapes each target makes, and the shared ones */
  perTargetShapes: string[];
  sharedShapes: string[];
  oneTargetChain: number;
  perTargetChain: number;
  /** ceil(n / parallel) */
  turns: number;
  /** the chain of dependent requests the N-target run cannot go below */
  chain: number;
  /** the one-target run's time besides its latency */
  ownMs: number;
  floorMs: number;
  /** the longest sequential chain the N-target run actually made (for comparison) */
  observedChain: number;
}

export function latencyFloor(one: RunLog, many: RunLog, parallel: number, latencyMs: number): Floor {
  const n = many.targets.length;
  if (one.targets.length !== 1) throw new Error(`the one-target run names ${one.targets.length} targets`);
  const manyTargets = new Set(many.targets);
  const counts = new Map<string, number>();
  for (const e of many.log) {
    const k = requestShape(e, manyTargets);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const oneTargets = new Set(one.targets);
  const own = one.log.filter((e) => (counts.get(requestShape(e, oneTargets)) ?? 0) >= n);
  const shapes = (xs: LoggedRequest[]) => [...new Set(xs.map((e) => requestShape(e, oneTargets)))].sort();
  const oneTargetChain = sequentialDepth(one.log);
  const perTargetChain = sequentialDepth(own);
  const turns = Math.ceil(n / parallel);
  const chain = oneTargetChain + (turns - 1) * perTargetChain;
  const ownMs = one.ms - oneTargetChain * latencyMs;
  return {
    n,
    parallel,
    latencyMs,
    perTargetShapes: shapes(own),
    sharedShapes: shapes(one.log.filter((e) => !own.includes(e))),
    oneTargetChain,
    perTargetChain,
    turns,
    chain,
    ownMs,
    floorMs: chain * latencyMs + ownMs,
    observedChain: sequentialDepth(many.log),
  };
}
