// TLS material for the emulator: a throw-away CA and a server certificate it signs, made with the
// openssl CLI (EC prime256v1: a few milliseconds each).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsMaterial {
  caCertPath: string;
  caCertPem: string;
  caKeyPath: string;
  certPath: string;
  certPem: string;
  keyPath: string;
  keyPem: string;
}

/** Subject alternative names of the server certificate. */
export const SERVER_SANS = ['IP:127.0.0.1', 'DNS:localhost', 'DNS:*.azurecr.localhost'];

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/** Write ca.crt/ca.key and server.crt/server.key into `dir` and return them. */
export function generateTls(dir: string, sans: string[] = SERVER_SANS): TlsMaterial {
  const caKeyPath = join(dir, 'ca.key');
  const caCertPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'server.key');
  const csrPath = join(dir, 'server.csr');
  const certPath = join(dir, 'server.crt');
  const extPath = join(dir, 'server.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      caKeyPath,
      '-out',
      caCertPath,
      '-days',
      '7',
      '-subj',
      '/CN=acr-kube-auth emulator CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-addext',
      'subjectKeyIdentifier=hash',
    ],
    dir,
  );
  openssl(['req', '-new', ...ec, '-keyout', keyPath, '-out', csrPath, '-subj', '/CN=127.0.0.1'], dir);
  writeFileSync(
    extPath,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${sans.join(',')}`,
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'),
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csrPath,
      '-CA',
      caCertPath,
      '-CAkey',
      caKeyPath,
      '-CAcreateserial',
      '-days',
      '7',
      '-sha256',
      '-extfile',
      extPath,
      '-out',
      certPath,
    ],
    dir,
  );
  return {
    caCertPath,
    caCertPem: readFileSync(caCertPath, 'utf8'),
    caKeyPath,
    certPath,
    certPem: readFileSync(certPath, 'utf8'),
    keyPath,
    keyPem: readFileSync(keyPath, 'utf8'),
  };
}
