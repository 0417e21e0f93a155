// Preload (`node --import=./emulator/resolve-hook.mjs ...`): resolve every host ending in
// `.azurecr.localhost` to 127.0.0.1, so registry login servers of the emulator reach it without DNS.
// Patches dns.lookup (callback form, incl. `options.all`) and dns.promises.lookup on the node:dns
// module object, which net/tls/https (and undici's connector) call at connect time.
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';

const SUFFIX = '.azurecr.localhost';
const LOOPBACK = '127.0.0.1';

/** True for `<registry>.azurecr.localhost` (case-insensitive, with or without a trailing dot). */
export function isEmulatedRegistryHost(hostname) {
  if (typeof hostname !== 'string') return false;
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h.endsWith(SUFFIX) && h.length > SUFFIX.length;
}

function wantsAll(options) {
  return typeof options === 'object' && options !== null && options.all === true;
}

function familyAllowed(options) {
  const family = typeof options === 'number' ? options : typeof options === 'object' && options !== null ? options.family : undefined;
  return family === undefined || family === 0 || family === 4 || family === 'IPv4';
}

if (!dns.lookup.__acrKubeAuthPatched) {
  const originalLookup = dns.lookup;
  const patchedLookup = function lookup(hostname, options, callback) {
    const cb = typeof options === 'function' ? options : callback;
    const opts = typeof options === 'function' ? undefined : options;
    if (typeof cb !== 'function' || !isEmulatedRegistryHost(hostname)) {
      return originalLookup.call(this, hostname, options, callback);
    }
    process.nextTick(() => {
      if (!familyAllowed(opts)) {
        const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
          code: 'ENOTFOUND',
          errno: -3008,
          syscall: 'getaddrinfo',
          hostname,
        });
        cb(err);
      } else if (wantsAll(opts)) {
        cb(null, [{ address: LOOPBACK, family: 4 }]);
      } else {
        cb(null, LOOPBACK, 4);
      }
    });
    return {};
  };
  Object.defineProperty(patchedLookup, '__acrKubeAuthPatched', { value: true });
  dns.lookup = patchedLookup;

  const originalPromisesLookup = dns.promises.lookup;
  dns.promises.lookup = async function lookup(hostname, options) {
    if (!isEmulatedRegistryHost(hostname)) return originalPromisesLookup.call(this, hostname, options);
    if (!familyAllowed(options)) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname });
    }
    return wantsAll(options) ? [{ address: LOOPBACK, family: 4 }] : { address: LOOPBACK, family: 4 };
  };
  // named ESM imports (`import { lookup } from 'node:dns'`) see the patched functions too
  syncBuiltinESMExports();
}
