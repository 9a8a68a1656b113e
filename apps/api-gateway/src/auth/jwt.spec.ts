import { signJwt, verifyJwt, type AccessClaims } from './jwt';

describe('HS256 access tokens', () => {
  describe('a token signed with the secret', () => {
    it('should verify and return its claims before expiry', () => {
      const token = signJwt(claims({ exp: NOW + 60 }), SECRET);

      expect(verifyJwt(token, SECRET, NOW, ISSUER)).toEqual({ ok: true, claims: claims({ exp: NOW + 60 }) });
    });

    it('should verify one second before expiry and be expired at the expiry second', () => {
      const token = signJwt(claims({ exp: NOW + 1 }), SECRET);

      expect(verifyJwt(token, SECRET, NOW, ISSUER).ok).toBe(true);
      expect(verifyJwt(token, SECRET, NOW + 1, ISSUER)).toEqual({ ok: false, reason: 'EXPIRED' });
    });

    it('should be a compact JWS whose header names HS256', () => {
      const [header] = signJwt(claims(), SECRET).split('.');

      expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({
        alg: 'HS256',
        typ: 'JWT',
      });
    });
  });

  describe('a tampered or foreign token', () => {
    it('should be refused when the payload was changed', () => {
      const [h, , s] = signJwt(claims({ role: 'viewer' }), SECRET).split('.');
      const forged = Buffer.from(JSON.stringify(claims({ role: 'owner' }))).toString('base64url');

      expect(verifyJwt(`${h}.${forged}.${s}`, SECRET, NOW, ISSUER)).toEqual({
        ok: false,
        reason: 'BAD_SIGNATURE',
      });
    });

    it('should be refused when signed with another secret', () => {
      const token = signJwt(claims(), 'another-secret-of-at-least-32-characters!');

      expect(verifyJwt(token, SECRET, NOW, ISSUER)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    });

    it('should take its signature in one spelling only: no padding, no standard alphabet, nothing appended', () => {
      const token = signJwt(claims(), SECRET);
      const signature = token.split('.')[2] as string;
      const standard = Buffer.from(signature, 'base64url').toString('base64');

      expect(standard).not.toBe(signature);
      for (const variant of [`${token}=`, `${token}%%%`, token.replace(signature, standard)])
        expect(verifyJwt(variant, SECRET, NOW, ISSUER)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    });

    it('should refuse alg "none" whatever the signature', () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify(claims())).toString('base64url');

      expect(verifyJwt(`${header}.${payload}.`, SECRET, NOW, ISSUER)).toEqual({
        ok: false,
        reason: 'UNSUPPORTED_ALG',
      });
    });

    it('should refuse another issuer', () => {
      const token = signJwt(claims({ iss: 'someone-else' }), SECRET);

      expect(verifyJwt(token, SECRET, NOW, ISSUER)).toEqual({ ok: false, reason: 'WRONG_ISSUER' });
    });

    it.each(['', 'a.b', 'a.b.c.d', 'not-base64.!!!.x'])('should call %p malformed', (token) => {
      expect(verifyJwt(token, SECRET, NOW, ISSUER)).toEqual({ ok: false, reason: 'MALFORMED' });
    });
  });
});

const SECRET = 'test-secret-that-is-at-least-32-characters';
const ISSUER = 'bifrost-api-gateway';
const NOW = 1_800_000_000;

function claims(overrides: Partial<AccessClaims> = {}): AccessClaims {
  return { sub: 'k1', role: 'operator', iat: NOW, exp: NOW + 900, jti: 'j1', iss: ISSUER, ...overrides };
}
