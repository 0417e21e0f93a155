// Asks a registry whether it accepts a username and password, the way docker login does: the
// `/v2/` challenge, then Basic auth, or the Bearer realm's token endpoint (ACR's /oauth2/token).
// Node's built-in fetch is enough here; no registry SDK covers a plain credential check.
export type CheckOutcome = { ok: true } | { ok: false; reason: string };

export async function checkRegistryCredential(
  loginServer: string,
  username: string,
  password: string,
  opts: { timeoutMs?: number; scope?: string } = {},
): Promise<CheckOutcome> {
  const base = `https://${loginServer}`;
  const timeout = () => AbortSignal.timeout(opts.timeoutMs ?? 15_000);
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  let challenge: Response;
  try {
    challenge = await fetch(`${base}/v2/`, { signal: timeout() });
  } catch (e) {
    return {
      ok: false,
      reason: `registry ${loginServer} is unreachable (${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message})`,
    };
  }
  await challenge.arrayBuffer().catch(() => undefined);
  if (challenge.status === 200) return { ok: true };
  const header = challenge.headers.get('www-authenticate') ?? '';
  if (/^bearer/i.test(header)) {
    const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1].toLowerCase(), m[2]]));
    if (!params.realm) return { ok: false, reason: `registry ${loginServer} sent a Bearer challenge without a realm` };
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    if (opts.scope) url.searchParams.set('scope', opts.scope);
    const res = await fetch(url, { headers: { authorization: basic }, signal: timeout() }).catch((e: Error) => e);
    if (res instanceof Error) return { ok: false, reason: `token endpoint ${url.host} is unreachable` };
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? { ok: true } : { ok: false, reason: `registry ${loginServer} rejected the credential (HTTP ${res.status})` };
  }
  const res = await fetch(`${base}/v2/`, { headers: { authorization: basic }, signal: timeout() }).catch((e: Error) => e);
  if (res instanceof Error) return { ok: false, reason: `registry ${loginServer} is unreachable` };
  await res.arrayBuffer().catch(() => undefined);
  return res.ok ? { ok: true } : { ok: false, reason: `registry ${loginServer} rejected the credential (HTTP ${res.status})` };
}
