// The KubeConfig @kubernetes/client-node sends with, built from the checked kubeconfig
// (kubeconfig.ts: merged, paths resolved, the context's cluster and user as kubectl uses them).
//
// client-node reads what it can itself: the server, CA, TLS server name, proxy, client
// certificate and key, token, basic auth, `as` and the oidc auth-provider. Two credentials it
// does not read as kubectl does go through its public `addAuthenticator` instead, under an
// auth-provider name of our own (none of client-node's built-in authenticators claims it):
//   - tokenFile: client-node reads only a `token-file` key (not kubectl's `tokenFile`), once,
//     untrimmed; here it is read as client-go reads it (transport/token_source.go: trimmed, re-read
//     every minute, the last good token kept, winning over a `token`), and each token read is
//     masked;
//   - exec plugins: run by exec-credential.ts (why not client-node's ExecAuth: see there). A token
//     is a header: each request carries the current one. A certificate and key go into the TLS
//     options of the dispatcher client-node builds, and src/net/kube.ts keeps the first request's
//     dispatcher for the whole client: a plugin that rotates its certificate within one run is not
//     followed (client-go closes its connections on rotation), which a run of minutes does not meet.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Cluster, User } from '@kubernetes/client-node';
import type { KubeconfigSource } from './kubeconfig.ts';
import { readTokenFile } from './kubeconfig.ts';
import { execCredentialSource, execTimeoutMs, type ExecClusterInfo, type ExecCredential } from './exec-credential.ts';

export interface KubeAuthOptions {
  /** a line an exec plugin wrote to stderr, to show (the log neutralises and masks it) */
  info?: (line: string) => void;
  /** registers a credential read at run time (a tokenFile's token, an exec plugin's credential) to mask */
  secret?: (value: string) => void;
  /** the environment an exec plugin starts from (default: process.env) */
  env?: Record<string, string | undefined>;
  now?: () => number;
}

type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];
type RequestOptions = Parameters<Authenticator['applyAuthentication']>[1];

/** Our auth-provider name: the users whose credential comes from authenticate() below. */
const PROVIDER = 'acr-kube-auth';
/** transport/token_source.go NewCachedFileTokenSource: a tokenFile is read again after a minute. */
const TOKEN_FILE_PERIOD_MS = 60_000;

/** What the exec plugin may be told of the cluster (spec.cluster), as client-go fills it: the CA as data, read from its file. */
function clusterInfo(source: KubeconfigSource): ExecClusterInfo {
  const c = source.cluster;
  let ca = c.caData;
  if (!ca && c.caFile) {
    try {
      ca = readFileSync(c.caFile).toString('base64');
    } catch {
      // checked readable before; client-node reports it on the request
    }
  }
  return {
    server: c.server,
    ...(c.tlsServerName ? { 'tls-server-name': c.tlsServerName } : {}),
    ...(c.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
    ...(ca ? { 'certificate-authority-data': ca } : {}),
    ...(c.proxyUrl ? { 'proxy-url': c.proxyUrl } : {}),
    ...(c.disableCompression ? { 'disable-compression': true } : {}),
    config: c.execConfig ?? null,
  };
}

/** The credential a request carries, for users whose tokenFile or exec plugin client-node cannot use as kubectl does. */
function credentialSource(source: KubeconfigSource, opts: KubeAuthOptions): (() => Promise<ExecCredential>) | undefined {
  const { user } = source;
  const secret = opts.secret ?? (() => undefined);
  const now = opts.now ?? Date.now;
  if (user.tokenFile) {
    const path = user.tokenFile;
    let token: string | undefined;
    let readAt = -Infinity;
    return async () => {
      if (now() - readAt >= TOKEN_FILE_PERIOD_MS) {
        readAt = now();
        const read = readTokenFile(path);
        if (read) secret(read);
        token = read ?? token;
      }
      // the file could not be read: the last token read, else the kubeconfig's own (client-go keeps the static one)
      return { token: token ?? user.token };
    };
  }
  if (user.exec) {
    const exec = user.exec;
    const who = `user '${user.name}'`;
    const name = basename(exec.command);
    return execCredentialSource(exec, {
      who,
      cluster: clusterInfo(source),
      env: opts.env ?? process.env,
      timeoutMs: execTimeoutMs(opts.env ?? process.env),
      stderr: (line) => opts.info?.(`${name} (exec plugin of ${who}): ${line}`),
      secret,
      now,
    });
  }
  return undefined;
}

/** The client-node KubeConfig for the checked source: one cluster, one user, one context. */
export function kubeConfigFor(source: KubeconfigSource, opts: KubeAuthOptions = {}): KubeConfig {
  const { cluster: c, user: u } = source;
  const kc = new KubeConfig();
  const credential = credentialSource(source, opts);
  if (credential) {
    kc.addAuthenticator({
      isAuthProvider: (user: User) => (user?.authProvider as { name?: unknown } | undefined)?.name === PROVIDER,
      applyAuthentication: async (_user: User, request: RequestOptions) => {
        const cred = await credential();
        if (cred.token) request.headers = { ...request.headers, Authorization: `Bearer ${cred.token}` };
        if (cred.clientCertificateData && cred.clientKeyData) {
          request.cert = cred.clientCertificateData;
          request.key = cred.clientKeyData;
        }
      },
    });
  }
  const cluster: Cluster = {
    name: c.name,
    server: c.server.replace(/\/$/, ''),
    caData: c.caData,
    caFile: c.caFile,
    skipTLSVerify: c.skipTLSVerify,
    tlsServerName: c.tlsServerName,
    proxyUrl: c.proxyUrl,
  };
  const user: User = {
    name: u.name,
    // with a tokenFile, the file's token wins (the authenticator sends it); client-node would let `token` override it
    token: u.tokenFile ? undefined : u.token,
    certData: u.certData,
    certFile: u.certFile,
    keyData: u.keyData,
    keyFile: u.keyFile,
    username: u.username,
    password: u.password,
    impersonateUser: u.impersonate,
    authProvider: credential ? { name: PROVIDER, config: {} } : u.authProvider,
  };
  kc.loadFromOptions({
    clusters: [cluster],
    users: [user],
    contexts: [{ name: source.context, cluster: c.name, user: u.name, namespace: source.namespace }],
    currentContext: source.context,
  });
  return kc;
}
