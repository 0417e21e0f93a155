// One emulator per test file: started before the first test, closed after the last, and (unless
// `reset: false`) reset to its seed before each test. Returns a stand-in that forwards to it, so a
// test file reads `emu.requests`, `emu.state = ...` as if it held the emulator itself.
import { after, before, beforeEach } from 'node:test';
import { startEmulator, type Emulator } from '../../emulator/server.ts';

export function useEmulator(opts: { reset?: boolean } = {}): Emulator {
  let current: Emulator | undefined;
  before(async () => {
    current = await startEmulator({ quiet: true });
  });
  after(async () => {
    await current?.close();
  });
  if (opts.reset !== false) beforeEach(() => current?.reset());
  const live = () => {
    if (!current) throw new Error('the emulator is used before it started (outside a test)');
    return current as unknown as Record<PropertyKey, unknown>;
  };
  return new Proxy({} as Emulator, {
    get: (_, key) => {
      const target = live();
      const value = target[key];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    set: (_, key, value) => {
      live()[key] = value;
      return true;
    },
  });
}
