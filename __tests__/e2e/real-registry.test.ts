// Proof against real peers: the .dockerconfigjson the action writes is read by skopeo (a real image
// client) against Debian's docker-registry (the CNCF distribution registry) with htpasswd basic auth
// and TLS from the emulator's CA; wrong credentials are refused; verify asks the real registry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { runAction } from '../helpers/harness.ts';
import {
  REGISTRY_BINARIES,
  buildOciLayout,
  requireBinaries,
  skopeoInspect,
  skopeoPush,
  startRegistry,
  type RealRegistry,
} from '../helpers/registry.ts';

const PUSHER = ['pusher', 'Push-Pa55word~registry'] as const;
const PULLER = ['puller', 'Pull-Pa55word~registry'] as const;
const IMAGE = 'app/web:v1';

let skip: string | undefined;
let emu: Emulator;
let reg: RealRegistry;
let work: string;
let digest: string;

before(async () => {
  skip = await requireBinaries(REGISTRY_BINARIES);
  if (skip) return;
  emu = await startEmulator({ quiet: true });
  reg = await startRegistry({
    users: Object.fromEntries([PUSHER, PULLER]),
    certPath: join(emu.dir, 'server.crt'),
    keyPath: join(emu.dir, 'server.key'),
    caPath: emu.caCertPath,
    caPem: emu.caCertPem,
  });
  work = mkdtempSync(join(tmpdir(), 'acr-real-'));
  const layout = join(work, 'layout');
  digest = buildOciLayout(layout, 'v1').manifestDigest;
  const pushed = await skopeoPush(layout, 'v1', reg, IMAGE, PUSHER.join(':'));
  assert.equal(pushed.code, 0, `skopeo copy: ${pushed.stderr}`);
});
after(async () => {
  await reg?.close();
  await emu?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const inputs = (extra: Record<string, string> = {}) => ({
  registry: reg.host,
  'credential-type': 'basic',
  username: PULLER[0],
  password: PULLER[1],
  namespaces: 'team-a',
  'secret-name': 'real-registry',
  ...extra,
});

function secretConfig(): string {
  const s = emu.state.kube.secrets['team-a']?.['real-registry'] as unknown as { data: Record<string, string> } | undefined;
  assert.ok(s, 'the secret was written');
  return Buffer.from(s.data['.dockerconfigjson'], 'base64').toString('utf8');
}

test("skopeo reads the image with the action's .dockerconfigjson", async (t) => {
  if (skip) return t.skip(skip);
  const r = await runAction(emu, inputs());
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const config = secretConfig();
  assert.deepEqual(JSON.parse(config), JSON.parse(r.outputs['docker-config-json']), 'the output is what the secret holds');
  const authfile = join(work, 'auth.json');
  writeFileSync(authfile, config);
  const inspect = await skopeoInspect(reg, IMAGE, authfile);
  assert.equal(inspect.code, 0, `skopeo inspect: ${inspect.stderr}`);
  assert.equal((JSON.parse(inspect.stdout) as { Digest: string }).Digest, digest, 'the pushed image');

  // verify asks the real registry (the /v2/ challenge, then basic auth) and passes
  const v = await runAction(emu, inputs({ operation: 'verify' }));
  assert.equal(v.code, 0, v.stdout);
  assert.match(v.stdout, /team-a: verified/);
});

test('wrong credentials are refused, by skopeo and by verify', async (t) => {
  if (skip) return t.skip(skip);
  const wrong = await runAction(emu, inputs({ password: 'Wrong-Pa55word~registry' }));
  assert.equal(wrong.code, 0, wrong.stdout);
  const authfile = join(work, 'wrong.json');
  writeFileSync(authfile, secretConfig());
  const inspect = await skopeoInspect(reg, IMAGE, authfile);
  assert.notEqual(inspect.code, 0, 'skopeo inspect fails');
  assert.match(inspect.stderr, /unauthorized|authentication required/i);

  const v = await runAction(emu, inputs({ password: 'Wrong-Pa55word~registry', operation: 'verify' }));
  assert.equal(v.code, 1);
  assert.equal(v.errors.length, 1);
  assert.match(v.errors[0], new RegExp(`registry ${reg.host.replace(/\./g, '\\.')} rejected the credential \\(HTTP 401\\)`));
});
