import { hashSecret, keyIdOf, mintApiKey, mintRefreshToken } from './api-key';

describe('API keys', () => {
  describe('a minted key', () => {
    it('should carry its public id and 32 random bytes, and be stored only as its SHA-256', () => {
      const key = mintApiKey();

      expect(key.secret).toMatch(/^bfk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(keyIdOf(key.secret)).toBe(key.id);
      expect(key.hash).toBe(hashSecret(key.secret));
      expect(key.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(key.hash).not.toContain(key.secret.slice(21));
    });

    it('should never repeat', () => {
      const secrets = new Set(Array.from({ length: 100 }, () => mintApiKey().secret));

      expect(secrets.size).toBe(100);
    });
  });

  describe('a key of another shape', () => {
    it('should have no public id', () => {
      expect(keyIdOf('a-bootstrap-secret-of-at-least-32-chars')).toBeUndefined();
    });
  });

  describe('hashing', () => {
    it('should be SHA-256 hex of the UTF-8 secret', () => {
      expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });
  });

  describe('a refresh token', () => {
    it('should be opaque and stored as its hash', () => {
      const token = mintRefreshToken();

      expect(token.secret).toMatch(/^bfr_[A-Za-z0-9_-]{43}$/);
      expect(token.hash).toBe(hashSecret(token.secret));
    });
  });
});
