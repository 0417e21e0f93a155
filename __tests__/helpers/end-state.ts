// A normalised snapshot of what a run leaves behind in the emulator, so that "the same end state as
// a clean run" is one deepEqual. It keeps what a user would call the outcome and drops what differs
// between two correct runs (resource versions, timestamps, generated password values, the port):
//   - role assignments: scope, role GUID, principal, condition;
//   - Kubernetes: namespaces; dockerconfigjson secrets as registry -> username, whether `auth` is
//     base64(username:password), and which live credential the password is (a token slot, the
//     admin user, a client secret, a refresh token, or something else), plus the registries
//     annotation without expiry values; service accounts' imagePullSecrets;
//   - ACR: tokens (scope map, status, which password slots hold a value), scope maps' actions;
//   - Entra: how many client secrets each app has, which apps have a service principal in a tenant;
//   - AKS: each cluster's service principal client id (profile and last reset).
// Pure: reads an EmulatorState, never the network.
import type { EmulatorState, KubeObject } from '../../emulator/types.ts';

export interface SecretSummary {
  type: string;
  managedBy?: string;
  /** login server (port replaced by PORT) -> what the entry holds */
  registries: Record<string, { username?: string; auth: 'consistent' | 'missing' | 'inconsistent'; credential: string }>;
  /** the action's registries annotation, without expiry values (they depend on the clock) */
  annotation: Record<string, { credentialType?: string; username?: string; slot?: string; expires: boolean }>;
}

export interface EndState {
  roleAssignments: string[];
  namespaces: string[];
  secrets: Record<string, SecretSummary>;
  serviceAccounts: Record<string, string[]>;
  acrTokens: Record<string, { scopeMap: string; status: string; passwords: string[] }>;
  scopeMaps: Record<string, string[]>;
  appPasswords: Record<string, number>;
  servicePrincipals: Record<string, string[]>;
  clusterServicePrincipals: Record<string, string>;
}

const lc = (s: unknown) => String(s ?? '').toLowerCase();
/** `name.azurecr.localhost:39595` -> `name.azurecr.localhost:PORT` (two emulators, two ports, one outcome). */
export const normaliseHost = (s: string) => s.replace(/(\.azurecr\.localhost|127\.0\.0\.1|localhost):\d+/gi, '$1:PORT');
const lastSegment = (id: unknown) => lc(id).split('/').pop() ?? '';
const sorted = <T>(xs: T[]) => [...xs].sort();
const sortedRecord = <T>(r: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));

/** Which credential of the emulated world a password is, by value (never the value itself). */
function credentialIndex(state: EmulatorState): Map<string, string> {
  const idx = new Map<string, string>();
  for (const [tokenId, slots] of Object.entries(state.registrySecrets?.tokenPasswords ?? {})) {
    for (const slot of ['password1', 'password2'] as const) {
      const v = slots[slot]?.value;
      if (v) idx.set(v, `token ${lastSegment(tokenId)} ${slot}`);
    }
  }
  for (const [registryId, a] of Object.entries(state.registrySecrets?.admin ?? {})) {
    idx.set(a.password, `admin ${lastSegment(registryId)}`);
    idx.set(a.password2, `admin ${lastSegment(registryId)}`);
  }
  for (const token of Object.keys(state.registrySecrets?.refreshTokens ?? {})) idx.set(token, 'refresh token');
  for (const tenant of Object.values(state.tenants ?? {})) {
    for (const app of tenant.applications) for (const p of app.passwordCredentials) idx.set(p.secretText, `client secret of ${lc(app.appId)}`);
  }
  return idx;
}

function summariseSecret(obj: KubeObject, creds: Map<string, string>): SecretSummary {
  const data = (obj.data ?? {}) as Record<string, string>;
  const registries: SecretSummary['registries'] = {};
  let auths: Record<string, { username?: string; password?: string; auth?: string }>;
  try {
    auths = JSON.parse(Buffer.from(data['.dockerconfigjson'] ?? '', 'base64').toString('utf8')).auths ?? {};
  } catch {
    auths = { '(unparsable .dockerconfigjson)': {} };
  }
  for (const [server, e] of Object.entries(auths)) {
    const expectedAuth =
      e.username !== undefined && e.password !== undefined ? Buffer.from(`${e.username}:${e.password}`).toString('base64') : undefined;
    registries[normaliseHost(server)] = {
      username: e.username,
      auth: e.auth === undefined ? 'missing' : e.auth === expectedAuth ? 'consistent' : 'inconsistent',
      credential: e.password === undefined ? 'none' : (creds.get(e.password) ?? 'other'),
    };
  }
  const annotation: SecretSummary['annotation'] = {};
  const raw = obj.metadata.annotations?.['acr-kube-auth.github.io/registries'];
  if (raw) {
    let parsed: Record<string, { credentialType?: string; username?: string; slot?: string; expiresOn?: string }>;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = { '(unparsable annotation)': {} };
    }
    for (const [server, r] of Object.entries(parsed)) {
      annotation[normaliseHost(server)] = {
        ...(r.credentialType ? { credentialType: r.credentialType } : {}),
        ...(r.username ? { username: r.username } : {}),
        ...(r.slot ? { slot: r.slot } : {}),
        expires: !!r.expiresOn,
      };
    }
  }
  return {
    type: String(obj.type ?? ''),
    ...(obj.metadata.labels?.['app.kubernetes.io/managed-by'] ? { managedBy: obj.metadata.labels['app.kubernetes.io/managed-by'] } : {}),
    registries: sortedRecord(registries),
    annotation: sortedRecord(annotation),
  };
}

/** The normalised end state of an emulator. */
export function endState(state: EmulatorState): EndState {
  const creds = credentialIndex(state);
  const roleAssignments = sorted(
    Object.values(state.roleAssignments ?? {}).map((a) => {
      const p = (a.properties ?? {}) as Record<string, unknown>;
      return `${lc(p.scope)} | ${lastSegment(p.roleDefinitionId)} | ${lc(p.principalId)} | ${p.condition ? String(p.condition).replace(/\s+/g, ' ') : ''}`;
    }),
  );
  const secrets: Record<string, SecretSummary> = {};
  for (const [ns, byName] of Object.entries(state.kube?.secrets ?? {})) {
    for (const [name, obj] of Object.entries(byName)) secrets[`${ns}/${name}`] = summariseSecret(obj, creds);
  }
  const serviceAccounts: Record<string, string[]> = {};
  for (const [ns, byName] of Object.entries(state.kube?.serviceaccounts ?? {})) {
    for (const [name, obj] of Object.entries(byName)) {
      const refs = ((obj.imagePullSecrets as { name: string }[] | undefined) ?? []).map((r) => r.name);
      if (refs.length) serviceAccounts[`${ns}/${name}`] = refs; // order kept: it is what the pod spec gets
    }
  }
  const acrTokens: EndState['acrTokens'] = {};
  const scopeMaps: EndState['scopeMaps'] = {};
  const clusterServicePrincipals: EndState['clusterServicePrincipals'] = {};
  for (const [id, r] of Object.entries(state.resources ?? {})) {
    const key = id.replace(/^.*\/registries\//, '').replace(/^.*\/managedclusters\//, 'cluster ');
    if (/\/tokens\/[^/]+$/.test(id)) {
      const values = state.registrySecrets?.tokenPasswords?.[id] ?? {};
      acrTokens[key] = {
        scopeMap: lastSegment(r.properties?.scopeMapId),
        status: String(r.properties?.status ?? ''),
        passwords: sorted(
          ((r.properties?.credentials?.passwords ?? []) as { name: string }[])
            .map((p) => p.name)
            .filter((n) => values[n as 'password1' | 'password2']?.value),
        ),
      };
    } else if (/\/scopemaps\/[^/]+$/.test(id)) {
      scopeMaps[key] = sorted((r.properties?.actions ?? []) as string[]);
    } else if (/\/managedclusters\/[^/]+$/.test(id)) {
      const profile = lc(r.properties?.servicePrincipalProfile?.clientId);
      const reset = state.clusterSecrets?.[id];
      clusterServicePrincipals[key] = reset ? `${profile} (reset to ${lc(reset.clientId)})` : profile;
    }
  }
  const appPasswords: Record<string, number> = {};
  const servicePrincipals: Record<string, string[]> = {};
  for (const [tid, t] of Object.entries(state.tenants ?? {})) {
    for (const app of t.applications) appPasswords[lc(app.appId)] = app.passwordCredentials.length;
    servicePrincipals[tid] = sorted(t.servicePrincipals.map((s) => lc(s.appId)));
  }
  return {
    roleAssignments,
    namespaces: sorted(Object.keys(state.kube?.namespaces ?? {})),
    secrets: sortedRecord(secrets),
    serviceAccounts: sortedRecord(serviceAccounts),
    acrTokens: sortedRecord(acrTokens),
    scopeMaps: sortedRecord(scopeMaps),
    appPasswords: sortedRecord(appPasswords),
    servicePrincipals: sortedRecord(servicePrincipals),
    clusterServicePrincipals: sortedRecord(clusterServicePrincipals),
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Where two end states differ, one line per object (empty when they are the same). */
export function diffEndState(expected: EndState, actual: EndState): string[] {
  const out: string[] = [];
  for (const part of Object.keys(expected) as (keyof EndState)[]) {
    const e = expected[part] as unknown;
    const a = actual[part] as unknown;
    if (Array.isArray(e) && Array.isArray(a)) {
      for (const x of e) if (!a.includes(x)) out.push(`${part}: missing ${x}`);
      for (const x of a) if (!e.includes(x)) out.push(`${part}: unexpected ${x}`);
      continue;
    }
    const er = e as Record<string, unknown>;
    const ar = a as Record<string, unknown>;
    for (const k of new Set([...Object.keys(er), ...Object.keys(ar)])) {
      if (!(k in ar)) out.push(`${part}: missing ${k}`);
      else if (!(k in er)) out.push(`${part}: unexpected ${k} = ${JSON.stringify(ar[k])}`);
      else if (!same(er[k], ar[k])) out.push(`${part}: ${k} is ${JSON.stringify(ar[k])}, expected ${JSON.stringify(er[k])}`);
    }
  }
  return out;
}

/**
 * For a run that failed: every object is either as it was before the run or as a clean run leaves
 * it, never something in between (a secret half-merged, a reference to a secret that is not there).
 * Returns the objects that are neither (empty when the end state is clean).
 */
export function neitherBeforeNorAfter(before: EndState, after: EndState, actual: EndState): string[] {
  const out: string[] = [];
  for (const part of Object.keys(actual) as (keyof EndState)[]) {
    const b = before[part] as unknown;
    const f = after[part] as unknown;
    const a = actual[part] as unknown;
    if (Array.isArray(a)) {
      const bs = b as string[];
      const fs = f as string[];
      for (const x of a) if (!bs.includes(x) && !fs.includes(x)) out.push(`${part}: ${x} is in neither`);
      for (const x of bs) if (fs.includes(x) && !a.includes(x)) out.push(`${part}: ${x} was lost`);
      continue;
    }
    const br = b as Record<string, unknown>;
    const fr = f as Record<string, unknown>;
    const ar = a as Record<string, unknown>;
    for (const k of new Set([...Object.keys(br), ...Object.keys(fr), ...Object.keys(ar)])) {
      if (!same(ar[k], br[k]) && !same(ar[k], fr[k])) out.push(`${part}: ${k} is ${JSON.stringify(ar[k] ?? null)}, neither before nor after`);
    }
  }
  // A service account must never point at a secret that does not exist.
  for (const [sa, refs] of Object.entries(actual.serviceAccounts)) {
    const ns = sa.split('/')[0];
    for (const r of refs)
      if (!actual.secrets[`${ns}/${r}`] && (before.serviceAccounts[sa] ?? []).indexOf(r) < 0)
        out.push(`serviceAccounts: ${sa} points at missing secret ${r}`);
  }
  return out;
}
