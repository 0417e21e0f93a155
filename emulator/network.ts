// Who can reach a registry: the emulator's model of the two places a pull comes from, the runner
// (the action, on the public internet) and the cluster's nodes (the kubelet stand-in), and what
// stands between them and the registry, read from the registry's ARM properties:
//   - publicNetworkAccess Disabled: public clients are refused; networkRuleSet defaultAction Deny:
//     public clients whose address no ipRule allows are refused. Real ACR answers both with 403
//     {"errors":[{"code":"DENIED","message":"client with IP '<ip>' is not allowed access. Refer
//     https://aka.ms/acr/firewall to grant access."}]} (the message as ACR's clients quote it: docker
//     login, Azure SDK for Java's troubleshooting guide, the ACR troubleshooting docs), at /v2/, at a
//     manifest and at /oauth2/token alike;
//   - a private endpoint connection (Approved) whose endpoint sits in the nodes' virtual network:
//     the nodes reach the registry privately, whatever the public rules (ACR's firewall rules apply
//     to public traffic only: container-registry-private-link.md);
//   - the nodes' DNS resolving the registry through a linked privatelink.azurecr.io zone with no
//     record for it (a private endpoint elsewhere): "no such host"; outbound internet blocked: the
//     connection times out.
// How the emulator tells the callers apart: the kubelet stand-in's skopeo runs with HTTPS_PROXY set
// to the cluster egress (startClusterEgress below), an HTTP CONNECT proxy standing for the nodes'
// network; each tunnel it opens to the emulator is remembered by its local port, and the server
// marks requests on those connections `caller: 'cluster'`; every other connection is the runner's.
// Where a private endpoint lives is Microsoft.Network's to say, which the emulator does not serve:
// state.network.privateEndpoints stands in for it (endpoint id -> subnet id).
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { findRegistryByHost } from './arm/acr.ts';
import type { EmulatorState, KubeState } from './types.ts';

const lc = (s: string) => s.toLowerCase();

/** The runner's public address when a test names none (TEST-NET-3, RFC 5737). */
export const DEFAULT_RUNNER_IP = '203.0.113.7';
/** The cluster's outbound public address when a test names none (TEST-NET-2). */
export const DEFAULT_NODE_EGRESS_IP = '198.51.100.20';

export type Caller = 'runner' | 'cluster';

export type Reach =
  | { ok: true; route: 'public' | 'private'; ip?: string }
  | { ok: false; failure: 'denied'; ip: string; why: string }
  | { ok: false; failure: 'dns' | 'timeout'; why: string };

/** The ACR firewall's 403 message for a client address. */
export const deniedMessage = (ip: string) => `client with IP '${ip}' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.`;

function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** An ipRule value (an address or an IPv4 CIDR range) allows `ip`. */
export function ipRuleMatches(value: string, ip: string): boolean {
  const [base, bits] = value.split('/');
  const a = ipToInt(base);
  const b = ipToInt(ip);
  if (a === undefined || b === undefined) return false;
  const n = bits === undefined ? 32 : Number(bits);
  if (!Number.isInteger(n) || n < 0 || n > 32) return false;
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (a & mask) === (b & mask);
}

/** The public route: publicNetworkAccess, then networkRuleSet's default action and its ipRules. */
function publicRoute(registry: Record<string, any>, ip: string): Reach {
  const p = registry.properties ?? {};
  if (lc(String(p.publicNetworkAccess ?? 'Enabled')) === 'disabled')
    return { ok: false, failure: 'denied', ip, why: 'publicNetworkAccess is Disabled' };
  const rules = p.networkRuleSet;
  if (rules && lc(String(rules.defaultAction ?? 'Allow')) === 'deny') {
    const allowed = (rules.ipRules ?? []).some(
      (r: { value?: string; action?: string }) => lc(r.action ?? 'Allow') === 'allow' && ipRuleMatches(String(r.value ?? ''), ip),
    );
    if (!allowed) return { ok: false, failure: 'denied', ip, why: `networkRuleSet denies by default and no ipRule allows ${ip}` };
  }
  return { ok: true, route: 'public', ip };
}

/** `/subscriptions/.../virtualNetworks/<vnet>` of a subnet id, lower case. */
export const vnetOf = (subnetId: string | undefined): string | undefined => (subnetId ? lc(subnetId).replace(/\/subnets\/[^/]+$/, '') : undefined);

/** The nodes' subnet: the AKS cluster's first agent pool's vnetSubnetID, else the kubelet settings' own. */
export function nodeSubnet(state: EmulatorState, kube: KubeState | undefined): string | undefined {
  const k = kube?.kubelet;
  if (k?.subnetId) return k.subnetId;
  const cluster = k?.aksClusterId ? state.resources[lc(k.aksClusterId)] : undefined;
  const pools: { vnetSubnetID?: string }[] = cluster?.properties?.agentPoolProfiles ?? [];
  return pools.find((p) => p.vnetSubnetID)?.vnetSubnetID;
}

/** Approved private endpoint connections of the registry whose endpoint is in `vnet`. */
function privateEndpointIn(state: EmulatorState, registry: Record<string, any>, vnet: string | undefined): boolean {
  if (!vnet) return false;
  const conns: Record<string, any>[] = registry.properties?.privateEndpointConnections ?? [];
  return conns.some((c) => {
    const status = c.properties?.privateLinkServiceConnectionState?.status;
    const pe = String(c.properties?.privateEndpoint?.id ?? '');
    const subnet = state.network?.privateEndpoints?.[lc(pe)]?.subnetId;
    return status === 'Approved' && vnetOf(subnet) === vnet;
  });
}

/** Can `caller` reach `registry`, and by which route? */
export function reach(state: EmulatorState, registry: Record<string, any>, caller: Caller, kube: KubeState | undefined = state.kube): Reach {
  if (caller === 'runner') return publicRoute(registry, state.network?.runnerIp ?? DEFAULT_RUNNER_IP);
  const k = kube?.kubelet ?? {};
  if (privateEndpointIn(state, registry, vnetOf(nodeSubnet(state, kube)))) return { ok: true, route: 'private' };
  if (k.privateDnsZone)
    return {
      ok: false,
      failure: 'dns',
      why: "the nodes' DNS resolves the registry through privatelink.azurecr.io, which has no record for it in their network",
    };
  if (k.egressBlocked) return { ok: false, failure: 'timeout', why: "the nodes' outbound internet traffic is blocked" };
  return publicRoute(registry, k.egressIp ?? DEFAULT_NODE_EGRESS_IP);
}

// ------------------------------------------------------------------------------ the cluster egress

export interface ClusterEgress {
  /** http://127.0.0.1:PORT, for HTTPS_PROXY */
  url: string;
  /** local ports of the tunnels it opened to the emulator: requests on them are the cluster's */
  readonly ports: ReadonlySet<number>;
  close(): Promise<void>;
}

/**
 * The nodes' network as an HTTP CONNECT proxy: a tunnel to an emulated registry host goes to the
 * emulator's port when the cluster can reach that registry (reach() decides, DNS and timeouts
 * included), else the CONNECT is answered 502 (the kubelet stand-in writes the kubelet's own error
 * text, from the same reach()). Any other host is not the emulator's to reach: 502 as well.
 */
export async function startClusterEgress(emulatorPort: number, state: () => EmulatorState): Promise<ClusterEgress> {
  const ports = new Set<number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('the cluster egress tunnels CONNECT only');
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const host = String(req.url ?? '').replace(/:\d+$/, '');
    const registry = findRegistryByHost(state(), host);
    const verdict = registry ? reach(state(), registry, 'cluster') : undefined;
    if (!registry || !verdict || (!verdict.ok && verdict.failure !== 'denied')) {
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const upstream = connect(emulatorPort, '127.0.0.1', () => {
      const port = upstream.localPort;
      if (port) {
        ports.add(port);
        upstream.once('close', () => ports.delete(port));
      }
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    ports,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
