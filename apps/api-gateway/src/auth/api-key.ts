import { createHash, randomBytes } from 'node:crypto';

const KEY_PREFIX = 'bfk';
const REFRESH_PREFIX = 'bfr';
const KEY_FORMAT = /^bfk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;

/** A freshly minted API key: `secret` is shown once, only `hash` is stored. */
export interface MintedKey {
  readonly id: string;
  readonly secret: string;
  readonly hash: string;
}

/** SHA-256 hex of a presented secret: keys are looked up by this, never stored in clear. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** `bfk_<16 hex public id>_<32 random bytes base64url>`: the id is safe to log and list. */
export function mintApiKey(): MintedKey {
  const id = randomBytes(8).toString('hex');
  const secret = `${KEY_PREFIX}_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, secret, hash: hashSecret(secret) };
}

/** The public id inside a generated key, or undefined for keys of another shape (e.g. the bootstrap key). */
export function keyIdOf(secret: string): string | undefined {
  return KEY_FORMAT.exec(secret)?.[1];
}

/** Opaque refresh token, 32 random bytes. */
export function mintRefreshToken(): { secret: string; hash: string } {
  const secret = `${REFRESH_PREFIX}_${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashSecret(secret) };
}
