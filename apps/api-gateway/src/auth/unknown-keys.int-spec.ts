import { randomBytes } from 'node:crypto';
import type { Repository } from 'typeorm';
import { startGateway, type GatewayHarness } from '../testing/gateway.fixtures';
import type { ApiKeyRow } from './api-key.entity';
import { KeyStore } from './key-store.service';

describe('API keys the gateway does not know', () => {
  let h: GatewayHarness;
  let findOneBy: jest.SpyInstance;

  beforeAll(async () => {
    h = await startGateway('gwunknown', {
      // Five unknown keys per address, and no token back while the spec runs (one per 100 s).
      GATEWAY_RATE_LIMIT_ANONYMOUS: '0.01',
      GATEWAY_RATE_BURST_SECONDS: '500',
      // No cache: every request with a good key is looked up again, so a free lookup shows.
      GATEWAY_KEY_CACHE_MS: '0',
      // Each client names its address in X-Forwarded-For.
      GATEWAY_TRUST_PROXY_HOPS: '1',
    });
    // The real query, counted on its way to Postgres.
    const repository = (h.gateway.app.get(KeyStore) as unknown as { keys: Repository<ApiKeyRow> }).keys;
    findOneBy = jest.spyOn(repository, 'findOneBy');
  });
  afterAll(async () => {
    findOneBy.mockRestore();
    await h.close();
  });

  /** Key lookups by hash that reached the database while `run` ran. */
  async function lookupsDuring<T>(run: () => Promise<T>): Promise<{ result: T; lookups: number }> {
    findOneBy.mockClear();
    const result = await run();
    const lookups = findOneBy.mock.calls.filter(([where]) => 'keyHash' in (where as object)).length;
    return { result, lookups };
  }

  const me = (address: string, key: string) =>
    h.http('GET', '/api/v1/auth/me', { key, headers: { 'x-forwarded-for': address } });

  describe('a flood of made-up keys from one address', () => {
    it('should reach the database only until the address spent its budget, then answer 429 problems', async () => {
      const { result: flood, lookups } = await lookupsDuring(() =>
        Promise.all(Array.from({ length: 30 }, () => me('203.0.113.1', madeUpKey()))),
      );

      expect(lookups).toBe(5);
      expect(flood.filter((r) => r.status === 401)).toHaveLength(5);
      const refused = flood.filter((r) => r.status === 429);
      expect(refused).toHaveLength(25);
      expect(refused[0]?.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused[0]?.body).toMatchObject({
        type: '/problems/rate-limited',
        status: 429,
        code: 'RATE.LIMITED',
      });
      expect(Number(refused[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

      const later = await lookupsDuring(() => me('203.0.113.1', madeUpKey()));
      expect(later).toMatchObject({ lookups: 0, result: { status: 429 } });
    });

    it('should leave other addresses their own budget, and their keys working', async () => {
      await Promise.all(Array.from({ length: 10 }, () => me('203.0.113.2', madeUpKey())));
      const viewer = await h.createKey('viewer');

      const other = await lookupsDuring(() => me('203.0.113.3', madeUpKey()));
      expect(other).toMatchObject({ lookups: 1, result: { status: 401 } });
      expect((await me('203.0.113.3', viewer.apiKey)).body).toMatchObject({ id: viewer.id });
    });

    it('should still look up, for free, a key found active before from that address', async () => {
      const viewer = await h.createKey('viewer');
      expect((await me('203.0.113.4', viewer.apiKey)).status).toBe(200);
      await Promise.all(Array.from({ length: 10 }, () => me('203.0.113.4', madeUpKey())));
      expect((await me('203.0.113.4', madeUpKey())).status).toBe(429);

      const again = await lookupsDuring(() =>
        Promise.all(Array.from({ length: 10 }, () => me('203.0.113.4', viewer.apiKey))),
      );

      expect(again.result.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(again.lookups).toBe(10);
      const created = await h.createKey('viewer');
      expect((await me('203.0.113.4', created.apiKey)).body).toMatchObject({ id: created.id });
    });
  });

  describe('a key created on another instance, sent by many requests at once', () => {
    it('should cost its address one lookup of its budget, not one per request', async () => {
      const other = await startGateway('gwunknown2', {}, h);
      const viewer = await other.createKey('viewer').finally(() => other.close());

      const burst = await Promise.all(Array.from({ length: 20 }, () => me('203.0.113.5', viewer.apiKey)));

      expect(burst.map((r) => r.status)).toEqual(Array(20).fill(200));
      // Four of the five left: the fifth made-up key is refused unasked.
      const flood = await Promise.all(Array.from({ length: 5 }, () => me('203.0.113.5', madeUpKey())));
      expect(flood.map((r) => r.status).sort()).toEqual([401, 401, 401, 401, 429]);
    });
  });
});

/** A key of the gateway's shape that no one created. */
function madeUpKey(): string {
  return `bfk_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
}
