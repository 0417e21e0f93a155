// The emulator's seedable state: the default world is the merge of emulator/seed/*.json.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmulatorState } from './types.ts';

const SEED_DIR = join(dirname(fileURLToPath(import.meta.url)), 'seed');

/** An empty but well-formed state; every seed part is merged over it. */
export function emptyState(): EmulatorState {
  return {
    tenants: {},
    subscriptions: {},
    resources: {},
    roleDefinitions: [],
    roleAssignments: {},
    roleAssignmentWriters: [],
    pendingPrincipals: {},
    registrySecrets: { admin: {}, tokenPasswords: {}, refreshTokens: {} },
    kube: { token: 'emulator-kube-token', resourceVersion: 1, namespaces: {}, secrets: {}, serviceaccounts: {} },
    githubOidc: { subject: 'repo:contoso/app:ref:refs/heads/main', repository: 'contoso/app', enabled: true },
  };
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`emulator seed ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Top-level merge: keys present in `over` replace those in `base` (registrySecrets and kube merge one level deeper). */
export function mergeState(base: EmulatorState, over: Partial<EmulatorState> | Record<string, unknown>): EmulatorState {
  const out = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    if ((key === 'registrySecrets' || key === 'kube') && isPlainObject(value) && isPlainObject(out[key])) {
      out[key] = { ...(out[key] as Record<string, unknown>), ...value };
    } else {
      out[key] = value;
    }
  }
  return out as unknown as EmulatorState;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The default world: identity.json (tenants, subscriptions, githubOidc, roleAssignmentWriters,
 * pendingPrincipals) + arm.json (resources, roleDefinitions, roleAssignments, registrySecrets)
 * + kube.json (kube), each when present; arm.json also sets the knobs' defaults (knobs.acrTokenScopeRequired on). With `path`, that file (a full state, or a partial one)
 * is merged over the default. Strings keep their `{PORT}` placeholders (see substitutePort).
 */
export function loadSeed(path?: string, seedDir: string = SEED_DIR): EmulatorState {
  let state = emptyState();
  for (const part of ['identity.json', 'arm.json', 'kube.json']) {
    const file = join(seedDir, part);
    if (existsSync(file)) state = mergeState(state, readJson(file));
  }
  if (path) state = mergeState(state, readJson(path));
  return structuredClone(state);
}

/** Deep copy with every `{PORT}` in string values (and object keys) replaced by the port. */
export function substitutePort<T>(value: T, port: number): T {
  const p = String(port);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.includes('{PORT}') ? v.replaceAll('{PORT}', p) : v;
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k.includes('{PORT}') ? k.replaceAll('{PORT}', p) : k] = walk(x);
      return o;
    }
    return v;
  };
  return walk(value) as T;
}
