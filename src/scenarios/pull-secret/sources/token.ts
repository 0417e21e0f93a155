// credential-type: token (the default). A repository-scoped ACR token: a scope map
// `<token-name>-scope` with only content/read and metadata/read on the repositories given (all
// when none are), the token bound to it, and a password that expires after `secret-expiry`.
//
// Rotation alternates the two password slots: the live secret's slot is read from this action's
// annotation and the *other* slot is generated, so the password written last time (still held by
// nodes that pull for running pods) stays valid until its own expiry.
//
// Re-runs keep a password that is still good (the choice the README records): when the live
// secret holds this token's password, ACR still lists that slot with the same expiry (nobody
// regenerated it), and more than half of its lifetime is left, the run keeps it, writes nothing
// and reports changed: false. This is what makes a second identical run idempotent (the
// contract's rule) and keeps a deploy pipeline that runs this step on every push from minting a
// new password each time. Past half its lifetime the run rotates, so a credential written by a
// pipeline that runs at least every half `secret-expiry` never expires.
import { createHash } from 'node:crypto';
import type { PullSecretSettings as Settings } from '../../../settings.ts';
import type { PasswordSlot, Registry, ScopeMapInfo, TokenInfo } from '../../../azure/types.ts';
import type { Write } from '../../../result.ts';
import type { CredentialSource, PreviousCredential, PullCredential, SourceDetachPlan, SourceFactory, SourcePlan } from './credential-source.ts';
import { acrCheckOutcome, azureRegistry, concreteRepository } from './azure-registry.ts';
import { awaitPropagation, propagationWindowMs } from '../../../registry-login.ts';
import type { RegistryRecord } from '../../../kube/render.ts';

/**
 * Descriptions of the scope maps this action creates: what detach reads to tell what attach made.
 * The first marks a scope map and token both created here (detach deletes both); the second a
 * scope map created for a token that already existed (detach leaves the token, and with it the map).
 */
export const MANAGED_SCOPE_MAP_DESCRIPTION = 'Read-only pull for Kubernetes pull secrets (managed by acr-kube-auth)';
export const MANAGED_FOR_EXISTING_TOKEN_DESCRIPTION =
  'Read-only pull for Kubernetes pull secrets (managed by acr-kube-auth; the token was not created by it)';

const SLOTS: readonly PasswordSlot[] = ['password1', 'password2'];
const other = (slot: PasswordSlot): PasswordSlot => (slot === 'password1' ? 'password2' : 'password1');

/** `kube-pull-<cluster or namespaces>`, cut to ACR's 5-50 letters, digits and hyphens. */
export function defaultTokenName(settings: Pick<Settings, 'clusters'> & { pullSecret: { namespaces: string[] } }): string {
  const base = settings.clusters[0]?.name ?? settings.pullSecret.namespaces.join('-');
  const clean = base
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const name = clean ? `kube-pull-${clean}` : 'kube-pull';
  if (name.length <= 50) return name;
  return `${name.slice(0, 41).replace(/-+$/, '')}-${createHash('sha256').update(base).digest('hex').slice(0, 8)}`;
}

/** `<token-name>-scope`, within ACR's 50 characters. */
export function scopeMapName(tokenName: string): string {
  return `${tokenName.slice(0, 44).replace(/-+$/, '')}-scope`;
}

/** Read-only actions: content/read and metadata/read on each repository (`*` for all). */
export function scopeMapActions(repositories: readonly string[]): string[] {
  const repos = repositories.length ? [...new Set(repositories.map((r) => r.trim().toLowerCase()).filter(Boolean))] : ['*'];
  const list = repos.includes('*') ? ['*'] : repos.sort();
  return list.flatMap((r) => [`repositories/${r}/content/read`, `repositories/${r}/metadata/read`]);
}

export function sameActions(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a.map((s) => s.toLowerCase()))].sort();
  const y = [...new Set(b.map((s) => s.toLowerCase()))].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

const sameId = (a: string | undefined, b: string | undefined) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

/**
 * Two timestamps name the same instant (to the millisecond: both come from ACR's answers, and two
 * runs generating the same slot at nearly the same time still differ).
 */
const sameInstant = (a: string | undefined, b: string | undefined) => !!a && !!b && Date.parse(a) === Date.parse(b);

export type SlotDecision = { keep: true; slot: PasswordSlot; expiresOn?: string; why: string } | { keep: false; slot: PasswordSlot; why: string };

/**
 * Which password slot to use: keep the live one while it is good, else generate the other slot;
 * with no live password of ours, replace an empty slot, else the older one, so the newest
 * password (perhaps held by another secret) survives. Pure.
 */
export function decideSlot(opts: { tokenName: string; previous?: PreviousCredential; token?: TokenInfo; now: Date; expiryMs: number }): SlotDecision {
  const { tokenName, previous, token, now } = opts;
  const rec = previous?.record;
  const liveSlot =
    previous && previous.username === tokenName && rec?.credentialType === 'token' && SLOTS.includes(rec.slot as PasswordSlot)
      ? (rec.slot as PasswordSlot)
      : undefined;
  if (liveSlot) {
    const entry = token?.passwords.find((p) => p.name === liveSlot);
    if (!entry) return { keep: false, slot: other(liveSlot), why: `the secret's ${liveSlot} no longer exists on token ${tokenName}` };
    if (rec?.expiresOn && entry.expiry && !sameInstant(rec.expiresOn, entry.expiry)) {
      return { keep: false, slot: other(liveSlot), why: `${liveSlot} of token ${tokenName} was regenerated elsewhere since the secret was written` };
    }
    if (!entry.expiry) return { keep: true, slot: liveSlot, why: `${liveSlot} of token ${tokenName} does not expire` };
    const expires = Date.parse(entry.expiry);
    const created = entry.creationTime ? Date.parse(entry.creationTime) : NaN;
    const lifetime = Number.isNaN(created) || created >= expires ? opts.expiryMs : expires - created;
    const left = expires - now.getTime();
    if (left > lifetime / 2)
      return {
        keep: true,
        slot: liveSlot,
        expiresOn: new Date(expires).toISOString(),
        why: `${liveSlot} of token ${tokenName} is valid until ${new Date(expires).toISOString()}, more than half its lifetime`,
      };
    return {
      keep: false,
      slot: other(liveSlot),
      why: left > 0 ? `${liveSlot} of token ${tokenName} is past half its lifetime` : `${liveSlot} of token ${tokenName} expired`,
    };
  }
  const present = token?.passwords ?? [];
  const empty = SLOTS.find((s) => !present.some((p) => p.name === s));
  if (empty) return { keep: false, slot: empty, why: `${empty} of token ${tokenName} is unused` };
  const [a, b] = SLOTS.map((s) => present.find((p) => p.name === s)!);
  const older = Date.parse(a.creationTime ?? a.expiry ?? '') <= Date.parse(b.creationTime ?? b.expiry ?? '') ? a : b;
  return { keep: false, slot: older.name, why: `${older.name} is the older password of token ${tokenName}` };
}

/**
 * What a new password in `slot` leaves in the token's other slot, as it was read: nothing (a new
 * token, or one with a single password), the secret's previous password (still valid until its
 * expiry, for nodes that hold it), or a password this secret never held (left as it is). Pure.
 */
export function otherPasswordNote(slot: PasswordSlot, token: TokenInfo | undefined, previousSlot: PasswordSlot | undefined, now: Date): string {
  const o = other(slot);
  const entry = token?.passwords.find((p) => p.name === o);
  if (!token) return "the token is new: it is the token's only password";
  if (!entry) return `it is the token's only password (${o} is unused)`;
  const expires = entry.expiry ? Date.parse(entry.expiry) : NaN;
  const until = Number.isNaN(expires)
    ? 'does not expire'
    : expires <= now.getTime()
      ? `expired on ${entry.expiry}`
      : `stays valid until ${entry.expiry}`;
  if (previousSlot === o) return `${o}, which the secret held until now, ${until}${until.startsWith('stays') ? ' for nodes that still use it' : ''}`;
  return `${o} is left as it is (it ${until.replace(/^stays/, 'is')})`;
}

function scopeText(repositories: readonly string[]): string {
  return repositories.length ? repositories.join(', ') : 'all repositories';
}

/** What attach does to the scope map and the token, from what was read. Pure. */
export interface TokenResourcesPlan {
  scopeMap: { kind: 'create'; description: string } | { kind: 'update'; description?: string } | { kind: 'keep' };
  token: { kind: 'create' } | { kind: 'update'; previousScopeMap?: string } | { kind: 'keep' };
}

export function planTokenResources(
  token: TokenInfo | undefined,
  map: ScopeMapInfo | undefined,
  actions: readonly string[],
  scopeMapId: string,
): TokenResourcesPlan {
  const scopeMap: TokenResourcesPlan['scopeMap'] = !map
    ? { kind: 'create', description: token ? MANAGED_FOR_EXISTING_TOKEN_DESCRIPTION : MANAGED_SCOPE_MAP_DESCRIPTION }
    : !sameActions(map.actions, actions)
      ? { kind: 'update', description: map.description }
      : { kind: 'keep' };
  // An existing token is pointed at the read-only scope map (its rights are what the inputs say).
  const tokenPlan: TokenResourcesPlan['token'] = !token
    ? { kind: 'create' }
    : !sameId(token.scopeMapId, scopeMapId) || token.status !== 'enabled'
      ? { kind: 'update', ...(!sameId(token.scopeMapId, scopeMapId) ? { previousScopeMap: token.scopeMapId?.split('/').pop() ?? '(none)' } : {}) }
      : { kind: 'keep' };
  return { scopeMap, token: tokenPlan };
}

/** What detach removes: the token and scope map only where this action made them. Pure. */
export function planTokenRemoval(
  token: TokenInfo | undefined,
  map: ScopeMapInfo | undefined,
): { deleteToken: boolean; deleteScopeMap: boolean; tokenLeft: boolean; ours: boolean } {
  const ours = map?.description === MANAGED_SCOPE_MAP_DESCRIPTION;
  const deleteToken = !!token && ours && sameId(token.scopeMapId, map?.id);
  const tokenLeft = !!token && !deleteToken && sameId(token.scopeMapId, map?.id);
  return { deleteToken, deleteScopeMap: !!map && ours && !tokenLeft, tokenLeft, ours };
}

const factory: SourceFactory = async (settings, deps) => {
  const credential = settings.pullSecret.credential;
  const tokenName = (credential.type === 'token' ? credential.tokenName : undefined) ?? defaultTokenName(settings);
  const mapName = scopeMapName(tokenName);
  const actions = scopeMapActions(settings.repositories);
  const az = await azureRegistry(settings, deps);
  const registry: Registry = az.registry;
  const acr = az.clients.acr(az.tenantId);
  const scope = scopeText(settings.repositories);
  const write = (kind: 'put-scope-map' | 'create-token' | 'update-token' | 'delete-token' | 'delete-scope-map', name: string): Write => ({
    kind,
    registryId: registry.id,
    name,
  });
  let generatedLast = false;
  const ask = acrCheckOutcome(registry.loginServer, deps, concreteRepository(settings));

  /** When the slot the secret records was generated, if it is still the one the secret holds (same expiry). */
  async function slotCreatedAt(username: string, record: RegistryRecord | undefined): Promise<number | undefined> {
    if (!record || record.credentialType !== 'token' || !SLOTS.includes(record.slot as PasswordSlot)) return undefined;
    if (record.username && record.username.toLowerCase() !== username.toLowerCase()) return undefined;
    let token: TokenInfo | undefined;
    try {
      token = await acr.getToken(registry, username);
    } catch {
      return undefined; // the refusal stands: reading the token was not possible
    }
    const entry = token?.passwords.find((p) => p.name === record.slot);
    if (!entry?.creationTime) return undefined;
    if (record.expiresOn && entry.expiry && !sameInstant(record.expiresOn, entry.expiry)) return undefined;
    return Date.parse(entry.creationTime);
  }

  const source: CredentialSource = {
    loginServer: registry.loginServer,
    registryId: registry.id,
    async prepare(previous): Promise<SourcePlan> {
      const [token, map] = await Promise.all([acr.getToken(registry, tokenName), acr.getScopeMap(registry, mapName)]);
      const plan = planTokenResources(token, map, actions, map?.id || `${registry.id}/scopeMaps/${mapName}`);
      const now = deps.now();
      // A new token has no passwords, and an update keeps them: the slot is decided from the token as read.
      const decision = decideSlot({
        tokenName,
        previous,
        token: plan.token.kind === 'create' ? undefined : token,
        now,
        expiryMs: settings.secretExpiry.ms,
      });
      const writes: Write[] = [];
      const lines: string[] = [];
      const previousSlot =
        previous?.username === tokenName && previous.record?.credentialType === 'token' ? (previous.record.slot as PasswordSlot) : undefined;
      const otherNote = otherPasswordNote(decision.slot, plan.token.kind === 'create' ? undefined : token, previousSlot, now);
      if (plan.scopeMap.kind !== 'keep') {
        writes.push(write('put-scope-map', mapName));
        lines.push(`would ${plan.scopeMap.kind} scope map ${mapName} on ${registry.name}: read-only on ${scope}`);
      }
      if (plan.token.kind === 'create') {
        writes.push(write('create-token', tokenName));
        lines.push(`would create token ${tokenName} on ${registry.name}`);
      } else if (plan.token.kind === 'update') {
        writes.push(write('update-token', tokenName));
        if (plan.token.previousScopeMap) lines.push(`token ${tokenName} uses scope map ${plan.token.previousScopeMap} now`);
        lines.push(`would update token ${tokenName} on ${registry.name} (scope map ${mapName}, enabled)`);
      }
      const keep = decision.keep && previous ? previous : undefined;
      const keptExpiry = decision.keep ? decision.expiresOn : undefined;
      if (keep) lines.push(`would keep the secret's password: ${decision.why}`);
      else {
        writes.push({ kind: 'generate-password', registryId: registry.id, token: tokenName, slot: decision.slot });
        lines.push(`would generate ${decision.slot} of token ${tokenName}, valid for ${settings.secretExpiry.text} (${decision.why})`);
      }
      return {
        writes,
        lines,
        ...(keep ? { known: { username: tokenName, password: keep.password, expiresOn: keptExpiry, slot: decision.slot } } : {}),
        async execute(): Promise<PullCredential> {
          const done: string[] = [];
          let mapNow = map;
          if (plan.scopeMap.kind !== 'keep') {
            mapNow = await acr.putScopeMap(registry, mapName, { actions, description: plan.scopeMap.description });
            done.push(`${plan.scopeMap.kind === 'create' ? 'created' : 'updated'} scope map ${mapName} on ${registry.name}: read-only on ${scope}`);
          }
          const scopeMapId = mapNow?.id || `${registry.id}/scopeMaps/${mapName}`;
          let tokenNow = token;
          if (plan.token.kind === 'create') {
            tokenNow = await acr.createToken(registry, tokenName, { scopeMapId, status: 'enabled' });
            done.push(`created token ${tokenName} on ${registry.name}`);
          } else if (plan.token.kind === 'update') {
            if (plan.token.previousScopeMap) done.push(`token ${tokenName} used scope map ${plan.token.previousScopeMap} before`);
            tokenNow = await acr.updateToken(registry, tokenName, { scopeMapId, status: 'enabled' });
            done.push(`updated token ${tokenName} on ${registry.name} (scope map ${mapName}, enabled)`);
          }
          const changed = plan.scopeMap.kind !== 'keep' || plan.token.kind !== 'keep';
          const azureWrites = writes.filter((w) => w.kind !== 'generate-password');
          generatedLast = false;
          if (keep) {
            done.push(`kept the secret's password: ${decision.why}`);
            return {
              username: tokenName,
              password: keep.password,
              expiresOn: keptExpiry,
              slot: decision.slot,
              changed,
              lines: done,
              writes: azureWrites,
            };
          }
          const generated = await acr.generatePassword(
            registry,
            tokenNow?.id || `${registry.id}/tokens/${tokenName}`,
            decision.slot,
            new Date(now.getTime() + settings.secretExpiry.ms),
          );
          deps.runner.setSecret(generated.password);
          generatedLast = true;
          done.push(
            plan.token.kind === 'create'
              ? `generated ${decision.slot} of the new token ${tokenName}, valid until ${generated.expiresOn} (the token's only password)`
              : `generated ${decision.slot} of token ${tokenName}, valid until ${generated.expiresOn} (${decision.why}); ${otherNote}`,
          );
          return {
            username: generated.username || tokenName,
            password: generated.password,
            expiresOn: generated.expiresOn,
            slot: decision.slot,
            changed: true,
            lines: done,
            writes,
          };
        },
      };
    },
    async confirm(cred) {
      // A kept password is the one in the secret already; only a generated one can have been replaced.
      if (!generatedLast) return true;
      const token = await acr.getToken(registry, tokenName);
      const entry = token?.passwords.find((p) => p.name === cred.slot);
      return !!entry && (!entry.expiry || !cred.expiresOn || sameInstant(entry.expiry, cred.expiresOn));
    },
    async prepareDetach(): Promise<SourceDetachPlan> {
      const [token, map] = await Promise.all([acr.getToken(registry, tokenName), acr.getScopeMap(registry, mapName)]);
      const plan = planTokenRemoval(token, map);
      const writes: Write[] = [];
      if (plan.deleteToken) writes.push(write('delete-token', tokenName));
      if (plan.deleteScopeMap) writes.push(write('delete-scope-map', mapName));
      const lines = (dryRun: boolean) => {
        const verb = dryRun ? 'would delete' : 'deleted';
        const out: string[] = [];
        if (token) {
          if (plan.deleteToken) out.push(`${verb} token ${tokenName} on ${registry.name}`);
          else
            out.push(
              `left token ${tokenName} on ${registry.name} alone: acr-kube-auth did not create it (its scope map is not the ${mapName} this action makes)`,
            );
        }
        if (map && plan.ours) {
          if (plan.tokenLeft) out.push(`left scope map ${mapName}: token ${tokenName} still uses it`);
          else out.push(`${verb} scope map ${mapName} on ${registry.name}`);
        } else if (map) out.push(`left scope map ${mapName} on ${registry.name} alone: acr-kube-auth did not create it`);
        return out;
      };
      return {
        writes,
        lines: lines(true),
        async execute() {
          if (plan.deleteToken) await acr.deleteToken(registry, tokenName);
          if (plan.deleteScopeMap) await acr.deleteScopeMap(registry, mapName);
          return { changed: writes.length > 0, lines: lines(false) };
        },
      };
    },
    async check(username, password, record) {
      // A password generated moments ago (by the attach just before this verify) may not work yet:
      // the registry's refusal is asked again, bounded, while the slot the secret records is younger
      // than the propagation window. An old password, or one the secret does not record, fails at once.
      const r = await awaitPropagation(() => ask(username, password), {
        what: `${record?.slot ?? 'the password'} of token ${username}`,
        createdAt: () => slotCreatedAt(username, record),
        windowMs: propagationWindowMs(deps.env),
        now: () => deps.now().getTime(),
        sleep: deps.sleep,
        onWait: (line) => deps.runner.info(line),
      });
      return r.ok ? undefined : r.reason;
    },
    warnings: [],
    signedIn: { session: az.clients.session, tenantId: az.tenantId, network: registry.network },
  };
  return source;
};
export default factory;
