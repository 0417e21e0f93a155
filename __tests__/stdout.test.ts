// src/stdout.ts: @actions/core's output goes to fd 1 directly, and to process.stdout once fd 1 is full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { stdoutWriter } from '../src/stdout.ts';

test('a full non-blocking pipe hands the rest, in order, to the fallback stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'acr-stdout-'));
  const fifo = join(dir, 'p');
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK); // never blocks; holds ~64 KiB
  try {
    const later: Buffer[] = [];
    let fallbacks = 0;
    const write = stdoutWriter(fd, () => {
      fallbacks++;
      return { write: (c) => (later.push(Buffer.from(c)), true) };
    });
    const lines = Array.from({ length: 8000 }, (_, i) => `line ${i} ${'x'.repeat(20)}\n`); // ~240 KiB
    for (const l of lines) assert.equal(write(l), true);
    const inPipe: Buffer[] = [];
    const buf = Buffer.alloc(65536);
    for (;;) {
      let n = 0;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw e;
      }
      if (!n) break;
      inPipe.push(Buffer.from(buf.subarray(0, n)));
    }
    assert.ok(inPipe.length > 0, 'the first lines went to fd 1 directly');
    assert.ok(fallbacks > 0, 'the rest went to the fallback');
    assert.equal(Buffer.concat([...inPipe, ...later]).toString('utf8'), lines.join(''));
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with room in the pipe, every write goes to fd 1 and the fallback is never created', () => {
  const dir = mkdtempSync(join(tmpdir(), 'acr-stdout-'));
  const fifo = join(dir, 'p');
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  try {
    const write = stdoutWriter(fd, () => assert.fail('fallback created'));
    write('::add-mask::x\n');
    write('✓ default: rendered\n');
    const buf = Buffer.alloc(1024);
    const n = readSync(fd, buf, 0, buf.length, null);
    assert.equal(buf.subarray(0, n).toString('utf8'), '::add-mask::x\n✓ default: rendered\n');
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
