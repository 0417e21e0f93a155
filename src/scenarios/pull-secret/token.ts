// credential-type: token (the default). A repository-scoped ACR token: a scope map
// `<token-name>-scope` with only content/read and metadata/read on the repositories given (all
// when none are), the token bound to it, and a password that expires after `secret-expiry`.
//
// Rotation alternates the two password slots: the live secret's slot is read from this action's
// annotation and the *other* slot is generated, so the password written last time (still held by
// running pods and by nodes that pull for them) keeps working until they restart.
//
// Re-runs keep a password that is still good (the choice the README records): when the live
// secret holds this token's password, ACR still lists that slot with the same expiry (nobody
// regenerated it), and more than half of its lifetime is left, the run keeps it, writes nothing
// and reports changed: false. This is what makes a second identical run idempotent (the
// contract's rule) and keeps a deploy pipeline that runs this step on every push from minting a
// new password each time. Past half its lifetime the run rotates, so a credential written by a
// pipeline that runs at least every half `secret-expiry` never expires.
import { createHash } from 'node:crypto';
import type { PullSecretSettings as Settings } from '../../settings.ts';
import type { AcrClient, PasswordSlot, TokenInfo } from '../../azure/acr.ts';
import { checkAcrCredential } from '../../azure/acr-data.ts';
import type { AzureRegistryContext, CredentialSource, PreviousCredential, PullCredential, SourceFactory } from './credentials.ts';
import { azureRegistry } from './credentials.ts';

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

function scopeText(repositories: readonly string[]): string {
  return repositories.length ? repositories.join(', ') : 'all repositories';
}

const factory: SourceFactory = async (settings, deps) => {
  const tokenName =
    (settings.pullSecret.credential.type === 'token' ? settings.pullSecret.credential.tokenName : undefined) ?? defaultTokenName(settings);
  const mapName = scopeMapName(tokenName);
  const actions = scopeMapActions(settings.repositories);
  const az: AzureRegistryContext = await azureRegistry(settings, deps);
  const { registry } = az;
  const acr: AcrClient = az.clients.acr(az.tenantId);
  const trace = (l: string) => deps.runner.debug(l);
  const concreteRepo = settings.repositories.find((r) => !r.includes('*'));
  let generatedLast = false;

  /** Scope map and token as they should be; returns the token and what was written. */
  async function ensureToken(lines: string[]): Promise<{ token: TokenInfo; changed: boolean }> {
    let changed = false;
    let [token, map] = await Promise.all([acr.getToken(registry, tokenName), acr.getScopeMap(registry, mapName)]);
    if (!map) {
      const description = token ? MANAGED_FOR_EXISTING_TOKEN_DESCRIPTION : MANAGED_SCOPE_MAP_DESCRIPTION;
      map = await acr.putScopeMap(registry, mapName, { actions, description });
      lines.push(`created scope map ${mapName} on ${registry.name}: read-only on ${scopeText(settings.repositories)}`);
      changed = true;
    } else if (!sameActions(map.actions, actions)) {
      map = await acr.putScopeMap(registry, mapName, { actions, description: map.description });
      lines.push(`updated scope map ${mapName} on ${registry.name}: read-only on ${scopeText(settings.repositories)}`);
      changed = true;
    }
    const scopeMapId = map.id || `${registry.id}/scopeMaps/${mapName}`;
    if (!token) {
      token = await acr.createToken(registry, tokenName, { scopeMapId, status: 'enabled' });
      lines.push(`created token ${tokenName} on ${registry.name}`);
      changed = true;
    } else if (!sameId(token.scopeMapId, scopeMapId) || token.status !== 'enabled') {
      // An existing token is pointed at the read-only scope map (its rights are what the inputs say).
      if (!sameId(token.scopeMapId, scopeMapId))
        lines.push(`token ${tokenName} used scope map ${token.scopeMapId?.split('/').pop() ?? '(none)'} before`);
      token = await acr.updateToken(registry, tokenName, { scopeMapId, status: 'enabled' });
      lines.push(`updated token ${tokenName} on ${registry.name} (scope map ${mapName}, enabled)`);
      changed = true;
    }
    return { token, changed };
  }

  const source: CredentialSource = {
    loginServer: async () => registry.loginServer,
    registryId: async () => registry.id,
    describe: () =>
      `create or update scope map ${mapName} (read-only on ${scopeText(settings.repositories)}) and token ${tokenName} on ${registry.name}, and use a token password valid for ${settings.secretExpiry.text} (password1/password2 alternate)`,
    async obtain(previous): Promise<PullCredential> {
      const lines: string[] = [];
      const { token, changed } = await ensureToken(lines);
      const now = deps.now();
      const decision = decideSlot({ tokenName, previous, token, now, expiryMs: settings.secretExpiry.ms });
      generatedLast = false;
      if (decision.keep && previous) {
        lines.push(`kept the secret's password: ${decision.why}`);
        return { username: tokenName, password: previous.password, expiresOn: decision.expiresOn, slot: decision.slot, changed, lines };
      }
      const generated = await acr.generatePassword(
        registry,
        token.id || `${registry.id}/tokens/${tokenName}`,
        decision.slot,
        new Date(now.getTime() + settings.secretExpiry.ms),
      );
      deps.runner.setSecret(generated.password);
      generatedLast = true;
      lines.push(
        `generated ${decision.slot} of token ${tokenName}, valid until ${generated.expiresOn} (${decision.why}; the other password keeps working until its pods restart)`,
      );
      return {
        username: generated.username || tokenName,
        password: generated.password,
        expiresOn: generated.expiresOn,
        slot: decision.slot,
        changed: true,
        lines,
      };
    },
    async confirm(cred) {
      // A kept password is the one in the secret already; only a generated one can have been replaced.
      if (!generatedLast) return true;
      const token = await acr.getToken(registry, tokenName);
      const entry = token?.passwords.find((p) => p.name === cred.slot);
      return !!entry && (!entry.expiry || !cred.expiresOn || sameInstant(entry.expiry, cred.expiresOn));
    },
    async detach(dryRun) {
      const lines: string[] = [];
      let changed = false;
      const verb = (v: string) => (dryRun ? `would ${v}` : v.replace(/^delete/, 'deleted'));
      const [token, map] = await Promise.all([acr.getToken(registry, tokenName), acr.getScopeMap(registry, mapName)]);
      const ours = map?.description === MANAGED_SCOPE_MAP_DESCRIPTION;
      let tokenLeft = false;
      if (token) {
        if (ours && sameId(token.scopeMapId, map.id)) {
          if (!dryRun) await acr.deleteToken(registry, tokenName);
          lines.push(`${verb('delete')} token ${tokenName} on ${registry.name}`);
          changed = true;
        } else {
          tokenLeft = sameId(token.scopeMapId, map?.id);
          lines.push(
            `left token ${tokenName} on ${registry.name} alone: acr-kube-auth did not create it (its scope map is not the ${mapName} this action makes)`,
          );
        }
      }
      if (map && ours) {
        if (tokenLeft) lines.push(`left scope map ${mapName}: token ${tokenName} still uses it`);
        else {
          if (!dryRun) await acr.deleteScopeMap(registry, mapName);
          lines.push(`${verb('delete')} scope map ${mapName} on ${registry.name}`);
          changed = true;
        }
      } else if (map) lines.push(`left scope map ${mapName} on ${registry.name} alone: acr-kube-auth did not create it`);
      return { changed, lines };
    },
    async check(username, password) {
      const r = await checkAcrCredential(registry.loginServer, username, password, { repository: concreteRepo, trace });
      return r.ok ? undefined : r.reason;
    },
    warnings: [],
  };
  return source;
};
export default factory;
