// Reading a JWT's claims without verifying it: for messages (the OIDC token's iss/sub/aud) and
// expiry (ACR refresh tokens). Pure.

/** The payload of a JWT, or undefined when it is not one. */
export function jwtClaims(token: string | undefined): Record<string, unknown> | undefined {
  const part = token?.split('.')[1];
  if (!part) return undefined;
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** ISO 8601 of a JWT's `exp`, when it has one. */
export function jwtExpiry(token: string): string | undefined {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === 'number' ? new Date(exp * 1000).toISOString() : undefined;
}
