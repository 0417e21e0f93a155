// The sink for @actions/core's workflow commands and log lines (scripts/build.mjs routes its
// `process.stdout.write` calls here). Creating `process.stdout` builds a stream (about 20 internal
// stream modules: 5-8 ms on a pipe), a twentieth of the render path, whose budget is kubectl's
// start-up; a synchronous write to fd 1 costs nothing to set up. Same bytes, same order: when fd 1
// cannot take a write at once (a non-blocking pipe that is full: EAGAIN), the rest of that text
// and everything after it go through `process.stdout`, which waits for the reader.
import { writeSync } from 'node:fs';

interface Fallback {
  write(chunk: string | Uint8Array): boolean;
}

export function stdoutWriter(fd: number, fallback: () => Fallback): (text: string) => boolean {
  let direct = true;
  return (text) => {
    if (!direct) return fallback().write(text);
    const bytes = Buffer.from(text, 'utf8');
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      direct = false;
      return fallback().write(bytes.subarray(done));
    }
  };
}

export const writeStdout = stdoutWriter(1, () => process.stdout);
