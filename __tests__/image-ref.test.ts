// Image references (src/verify/image-ref.ts) and the `image` / `verify-from` inputs (src/inputs/verify.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImageRef, referenceOf, sameRegistryHost, shortRef, fullRef } from '../src/verify/image-ref.ts';
import { readSettings } from '../src/inputs/index.ts';
import { InputError } from '../src/errors.ts';

const D = `sha256:${'a'.repeat(64)}`;
const inputs = (o: Record<string, string>) => (name: string) => o[name] ?? '';

test('image references: tag, digest, both, with and without the login server', () => {
  assert.deepEqual(parseImageRef('app/web:v1'), { repository: 'app/web', tag: 'v1' });
  assert.deepEqual(parseImageRef(`app/web@${D}`), { repository: 'app/web', digest: D });
  assert.deepEqual(parseImageRef(`app/web:v1@${D}`), { repository: 'app/web', tag: 'v1', digest: D });
  assert.deepEqual(parseImageRef('contosoacr.azurecr.io/app/web:v1'), { repository: 'app/web', tag: 'v1', host: 'contosoacr.azurecr.io' });
  assert.deepEqual(parseImageRef('contosoacr.azurecr.localhost:8443/a.b/c_d/e--f:1.0-rc_1'), {
    repository: 'a.b/c_d/e--f',
    tag: '1.0-rc_1',
    host: 'contosoacr.azurecr.localhost:8443',
  });
  assert.deepEqual(parseImageRef('localhost/web:v1'), { repository: 'web', tag: 'v1', host: 'localhost' });
  assert.deepEqual(parseImageRef('web:v1'), { repository: 'web', tag: 'v1' });
  const r = parseImageRef(`app/web:v1@${D}`);
  assert.ok(!('problem' in r));
  assert.equal(referenceOf(r), D, 'a digest wins over a tag');
  assert.equal(shortRef(r), `app/web:v1@${D}`);
  assert.equal(fullRef(r, 'x.azurecr.io'), `x.azurecr.io/app/web:v1@${D}`);
});

test('image references that are refused, each with its reason', () => {
  const cases: [string, RegExp][] = [
    ['app/web', /neither a tag nor a digest/],
    ['App/web:v1', /upper-case/],
    ['app//web:v1', /not lower-case path components/],
    ['app/web:', /tag ''/],
    ['app/web:-x', /tag '-x'/],
    [`app/web:${'x'.repeat(129)}`, /tag/],
    ['app/web@sha256:abc', /digest 'sha256:abc'/],
    [`app/web@md5:${'a'.repeat(32)}`, /digest/],
    ['https://contosoacr.azurecr.io/app/web:v1', /URL scheme/],
    ['app/web:v1 extra', /white space/],
    ['app/web:v1\u0007', /control character/],
    ['-bad.example/app:v1', /login server/],
    ['', /empty/],
  ];
  for (const [raw, why] of cases) {
    const r = parseImageRef(raw);
    assert.ok('problem' in r, `${raw} is refused`);
    assert.match(r.problem, why, raw);
  }
});

test('a login server in an image matches the registry by host, and by port when both carry one', () => {
  assert.ok(sameRegistryHost('contosoacr.azurecr.io', 'ContosoACR.azurecr.io'));
  assert.ok(sameRegistryHost('contosoacr.azurecr.localhost', 'contosoacr.azurecr.localhost:8443'));
  assert.ok(!sameRegistryHost('contosoacr.azurecr.localhost:1', 'contosoacr.azurecr.localhost:8443'));
  assert.ok(!sameRegistryHost('other.azurecr.io', 'contosoacr.azurecr.io'));
});

test('the image input: one a line or comma separated, duplicates once; verify-from defaults to runner', () => {
  const s = readSettings(
    inputs({ registry: 'contosoacr', operation: 'verify', image: 'app/web:v1\ncontosoacr.azurecr.io/app/api:v2, app/web:v1\n# a comment' }),
  );
  assert.deepEqual(s.verify.images, [
    { repository: 'app/web', tag: 'v1' },
    { repository: 'app/api', tag: 'v2', host: 'contosoacr.azurecr.io' },
  ]);
  assert.equal(s.verify.from, 'runner');
  assert.deepEqual(readSettings(inputs({ registry: 'contosoacr' })).verify, { images: [], from: 'runner' });
  const c = readSettings(
    inputs({ registry: 'contosoacr', operation: 'verify', image: 'app/web:v1', 'verify-from': 'Cluster', namespaces: 'team-a' }),
  );
  assert.equal(c.verify.from, 'cluster');
  assert.equal(c.verify.namespace, 'team-a');
});

test('bad image and verify-from inputs are refused before any network call, naming the input and the form', () => {
  const refused = (o: Record<string, string>, input: string, why: RegExp) => {
    assert.throws(
      () => readSettings(inputs({ registry: 'contosoacr', ...o })),
      (e: unknown) => e instanceof InputError && e.input === input && why.test(e.message) && /Expected /.test(e.message),
      JSON.stringify(o),
    );
  };
  refused({ image: 'app/Web:v1' }, 'image', /'app\/Web:v1' has a repository .* upper-case/);
  refused({ image: 'app/web' }, 'image', /names neither a tag nor a digest.*repository:tag or repository@sha256/);
  refused({ image: 'other.azurecr.io/app/web:v1' }, 'image', /names login server other\.azurecr\.io, not the registry's \(contosoacr\.azurecr\.io\)/);
  refused({ image: 'app/web:v1', operation: 'detach' }, 'image', /operation detach/);
  refused({ 'verify-from': 'node' }, 'verify-from', /unknown value 'node'.*one of runner, cluster/);
  refused({ 'verify-from': 'cluster' }, 'verify-from', /no image is given/);
  refused({ 'verify-from': 'cluster', image: 'app/web:v1', apply: 'false' }, 'verify-from', /apply is false/);
  refused({ image: Array.from({ length: 21 }, (_, i) => `app/web:v${i}`).join('\n') }, 'image', /names 21 images.*at most 20/);
  const G = '00000000-0000-4000-8000-00000000000';
  refused(
    {
      'verify-from': 'cluster',
      image: 'app/web:v1',
      clusters: 'rg/a\nrg/b',
      'client-id': `${G}1`,
      'tenant-id': `${G}2`,
      'subscription-id': `${G}3`,
    },
    'verify-from',
    /2 AKS clusters/,
  );
});
