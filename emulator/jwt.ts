// The emulator's token signing key (RS256): Entra signs access tokens and the GitHub OIDC endpoint
// its ID tokens with it; the server verifies bearer tokens against it before any handler runs.
import { createHash, generateKeyPair, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export interface JwtSigner {
  kid: string;
  jwk: Record<string, unknown>;
  sign(claims: Record<string, unknown>): string;
  /** claims when the signature is ours and exp/nbf hold (nbf with 5 min skew), else undefined */
  verify(token: string): Record<string, unknown> | undefined;
}

let signingKeyPromise: Promise<{ privateKey: KeyObject; publicKey: KeyObject }> | undefined;

/** One RSA 2048 key pair per process (generation takes a while; every emulator in the process shares it). */
function signingKeyPair(): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  signingKeyPromise ??= new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ privateKey, publicKey })));
  });
  return signingKeyPromise;
}

export async function createJwtSigner(): Promise<JwtSigner> {
  const { privateKey, publicKey } = await signingKeyPair();
  const pub = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  // RFC 7638 thumbprint: stable for the key
  const kid = createHash('sha256')
    .update(JSON.stringify({ e: pub.e, kty: 'RSA', n: pub.n }))
    .digest('base64url');
  const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid, x5t: kid })).toString('base64url');
  return {
    kid,
    jwk: { kty: 'RSA', use: 'sig', alg: 'RS256', kid, x5t: kid, n: pub.n, e: pub.e },
    sign(claims) {
      const data = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      return `${data}.${cryptoSign('RSA-SHA256', Buffer.from(data), privateKey).toString('base64url')}`;
    },
    verify(token) {
      const parts = token.split('.');
      if (parts.length !== 3) return undefined;
      const [h, p, s] = parts as [string, string, string];
      try {
        const hdr = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: string };
        if (hdr.alg !== 'RS256') return undefined;
        if (!cryptoVerify('RSA-SHA256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))) return undefined;
        const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
        if (typeof claims !== 'object' || claims === null) return undefined;
        const now = Date.now() / 1000;
        if (typeof claims.exp === 'number' && claims.exp <= now) return undefined;
        if (typeof claims.nbf === 'number' && claims.nbf > now + 300) return undefined;
        return claims;
      } catch {
        return undefined;
      }
    },
  };
}
