// A real registry and a real image client for the suite (shared/RECIPES.md): Debian's
// `docker-registry` (the CNCF distribution registry) on 127.0.0.1 with htpasswd basic auth and TLS
// from the emulator's CA, an OCI image layout built here without Docker, and `skopeo` to push and
// to read with a pull secret's .dockerconfigjson.
//
// Locally a test may skip when a binary is absent; under CI=true it must not (it fails instead).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const REGISTRY_BINARIES = ['docker-registry', 'skopeo', 'htpasswd'] as const;

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, env: opts.env ?? process.env, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === 127 ? String(err.message) : '') });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Whether `name` is on PATH. */
export async function hasBinary(name: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${name}`])).code === 0;
}

/**
 * The binaries a test needs: the missing ones, or a reason to skip. Under CI=true a missing binary
 * throws, so the suite fails instead of passing without the proof.
 */
export async function requireBinaries(names: readonly string[]): Promise<string | undefined> {
  const missing: string[] = [];
  for (const n of names) if (!(await hasBinary(n))) missing.push(n);
  if (!missing.length) return undefined;
  const why = `${missing.join(', ')} not installed (apt-get install -y docker-registry skopeo apache2-utils)`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${why}; these tests must not skip in CI`);
  return why;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RealRegistry {
  /** 127.0.0.1:PORT */
  host: string;
  /** a directory holding ca.crt, for skopeo --cert-dir / --dest-cert-dir */
  certDir: string;
  dir: string;
  close(): Promise<void>;
}

/** GET https://host/v2/ trusting `caPem`; the status code, or 0 when unreachable. */
function v2Status(host: string, caPem: string, auth?: string): Promise<number> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve) => {
    const req = request(
      {
        host: hostname,
        port: Number(port),
        path: '/v2/',
        ca: caPem,
        headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {},
        timeout: 2000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Starts `docker-registry serve` on 127.0.0.1 with htpasswd (bcrypt) users and the given TLS key
 * and certificate (the emulator's server certificate, which its CA signed for IP:127.0.0.1).
 */
export async function startRegistry(opts: {
  users: Record<string, string>;
  certPath: string;
  keyPath: string;
  caPath: string;
  caPem: string;
}): Promise<RealRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'acr-real-registry-'));
  const certDir = join(dir, 'certs');
  mkdirSync(certDir);
  copyFileSync(opts.caPath, join(certDir, 'ca.crt'));
  const lines: string[] = [];
  for (const [user, pass] of Object.entries(opts.users)) {
    const r = await run('htpasswd', ['-Bbn', user, pass]);
    if (r.code !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
    lines.push(r.stdout.trim());
  }
  writeFileSync(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      '  tls:',
      `    certificate: ${opts.certPath}`,
      `    key: ${opts.keyPath}`,
      'auth:',
      '  htpasswd:',
      '    realm: acr-kube-auth-test',
      `    path: ${join(dir, 'htpasswd')}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = await v2Status(host, opts.caPem);
    if (status === 401) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not come up on ${host} (last /v2/ status ${status}): ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    certDir,
    dir,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A tar archive holding nothing: two 512-byte zero blocks (1024 bytes). */
function emptyTar(): Buffer {
  return Buffer.alloc(1024);
}

/**
 * A small image as an OCI image layout in `dir` (no Docker): one gzipped empty-tar layer, a config
 * whose rootfs.diff_ids holds the sha256 of the uncompressed tar, an OCI manifest, and index.json
 * naming it `tag`. Returns the manifest digest.
 */
export function buildOciLayout(dir: string, tag = 'v1'): { manifestDigest: string } {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer) => {
    const d = sha256(b);
    writeFileSync(join(blobs, d), b);
    return { digest: `sha256:${d}`, size: b.length };
  };
  const tar = emptyTar();
  const layer = put(gzipSync(tar));
  const config = put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/hello'] },
        rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(tar)}`] },
        history: [{ created_by: 'acr-kube-auth test' }],
      }),
    ),
  );
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } },
      ],
    }),
  );
  return { manifestDigest: manifest.digest };
}

/** skopeo copy from an OCI layout to the registry, with basic credentials. */
export function skopeoPush(layoutDir: string, tag: string, registry: RealRegistry, ref: string, creds: string) {
  return run('skopeo', [
    'copy',
    '--dest-cert-dir',
    registry.certDir,
    '--dest-creds',
    creds,
    `oci:${layoutDir}:${tag}`,
    `docker://${registry.host}/${ref}`,
  ]);
}

/** skopeo inspect with a docker config (a pull secret's .dockerconfigjson) as the auth file. */
export function skopeoInspect(registry: RealRegistry, ref: string, authfile: string) {
  return run('skopeo', ['inspect', '--cert-dir', registry.certDir, '--authfile', authfile, `docker://${registry.host}/${ref}`]);
}
