import { createHmac, timingSafeEqual } from 'node:crypto';

/** Claims of a gateway access token. */
export interface AccessClaims {
  /** The principal: the id of the API key the token was issued from. */
  readonly sub: string;
  readonly role: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly iss: string;
}

export type JwtVerification =
  | { ok: true; claims: AccessClaims }
  | { ok: false; reason: 'MALFORMED' | 'BAD_SIGNATURE' | 'UNSUPPORTED_ALG' | 'EXPIRED' | 'WRONG_ISSUER' };

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

function sign(data: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

/** HS256 (RFC 7519 / 7515 compact serialization). */
export function signJwt(claims: AccessClaims, secret: string): string {
  const body = `${HEADER}.${base64url(JSON.stringify(claims))}`;
  return `${body}.${sign(body, secret).toString('base64url')}`;
}

/**
 * Verifies signature, algorithm, issuer and expiry at `nowSeconds`. Only HS256 is accepted:
 * the header's `alg` is checked, never trusted to pick the algorithm (no `none`, no key confusion).
 */
export function verifyJwt(
  token: string,
  secret: string,
  nowSeconds: number,
  issuer: string,
): JwtVerification {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'MALFORMED' };
  const [header, payload, signature] = parts as [string, string, string];
  let parsedHeader: unknown;
  let claims: unknown;
  try {
    parsedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'MALFORMED' };
  }
  if (!isRecord(parsedHeader) || parsedHeader['alg'] !== 'HS256')
    return { ok: false, reason: 'UNSUPPORTED_ALG' };
  // Compared as text, in the one base64url spelling of the signature: Node's decoder takes padding,
  // the standard alphabet and stray characters, and one token must not have several spellings.
  const expected = Buffer.from(sign(`${header}.${payload}`, secret).toString('base64url'));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'BAD_SIGNATURE' };
  }
  if (!isClaims(claims)) return { ok: false, reason: 'MALFORMED' };
  if (claims.iss !== issuer) return { ok: false, reason: 'WRONG_ISSUER' };
  if (claims.exp <= nowSeconds) return { ok: false, reason: 'EXPIRED' };
  return { ok: true, claims };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isClaims(value: unknown): value is AccessClaims {
  return (
    isRecord(value) &&
    typeof value['sub'] === 'string' &&
    typeof value['role'] === 'string' &&
    typeof value['jti'] === 'string' &&
    typeof value['iss'] === 'string' &&
    Number.isInteger(value['iat']) &&
    Number.isInteger(value['exp'])
  );
}
