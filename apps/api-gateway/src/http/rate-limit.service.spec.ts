import { loadConfig } from '@bifrost/config';
import type { Principal, Role } from '../auth/roles';
import { GatewayConfig } from '../gateway.config';
import { ProblemError } from './problem';
import { clientNetwork, RateLimits } from './rate-limit.service';

describe('rate limits per principal', () => {
  let limits: RateLimits | undefined;
  afterEach(() => limits?.onModuleDestroy());

  const limitsOf = (env: Record<string, string> = {}) => {
    limits = new RateLimits(loadConfig(GatewayConfig, { ...REQUIRED, ...env }));
    return limits;
  };

  describe('Given the default configuration', () => {
    it.each<[Role | 'anonymous', number, number]>([
      // rate × GATEWAY_RATE_BURST_SECONDS (2) at once, then one per 1/rate seconds.
      ['viewer', 20, 40],
      ['operator', 20, 40],
      ['admin', 20, 40],
      ['owner', 20, 40],
      ['engine', 500, 1_000],
      ['anonymous', 5, 10],
    ])(
      'should let a fresh %s take %i/s with a burst of %i, then refuse with Retry-After: 1',
      (who, rate, burst) => {
        const rateLimits = limitsOf();
        const caller = callerOf(who);

        for (let i = 0; i < burst; i += 1) rateLimits.take(caller, T0);
        const refusal = refusalOf(() => rateLimits.take(caller, T0));

        expect(refusal).toMatchObject({
          kind: 'rateLimited',
          code: 'RATE.LIMITED',
          message: `rate limit of ${rate}/s exceeded; retry in 1 s`,
          headers: { 'retry-after': '1' },
        });
        // One token back after 1/rate seconds, not before.
        expect(() => rateLimits.take(caller, T0 + 1_000 / rate - 1)).toThrow(ProblemError);
        expect(() => rateLimits.take(caller, T0 + 1_000 / rate)).not.toThrow();
      },
    );

    it('should keep one principal’s bucket apart from another’s of the same role', () => {
      const rateLimits = limitsOf();
      for (let i = 0; i < 40; i += 1) rateLimits.take(callerOf('viewer'), T0);

      expect(() => rateLimits.take(callerOf('viewer'), T0)).toThrow(ProblemError);
      expect(() =>
        rateLimits.take({ id: 'another-viewer', role: 'viewer', via: 'api-key' }, T0),
      ).not.toThrow();
    });
  });

  describe('Given a slow configured rate', () => {
    it('should answer Retry-After with the whole seconds until a token is back, rounded up', () => {
      // 0.25/s with a 2 s burst: a bucket of max(1, 0.5) = 1 token, one back every 4 s.
      const rateLimits = limitsOf({ GATEWAY_RATE_LIMIT_VIEWER: '0.25' });
      const viewer = callerOf('viewer');
      rateLimits.take(viewer, T0);

      const retryAfter = (at: number) => refusalOf(() => rateLimits.take(viewer, at)).headers['retry-after'];

      expect(retryAfter(T0)).toBe('4');
      expect(retryAfter(T0 + 1)).toBe('4');
      expect(retryAfter(T0 + 1_000)).toBe('3');
      expect(retryAfter(T0 + 2_500)).toBe('2');
      expect(retryAfter(T0 + 3_999)).toBe('1');
      expect(() => rateLimits.take(viewer, T0 + 4_000)).not.toThrow();
    });
  });
});

describe('the network of an anonymous caller', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::FFFF:203.0.113.9', '203.0.113.9'],
    ['2001:db8:0:7::1', '2001:db8:0:7::/64'],
    ['2001:0DB8:0000:0007:ab:cd:ef:12', '2001:db8:0:7::/64'],
    ['2001:db8::7:0:0:0:2', '2001:db8:0:7::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::198.51.100.1', '64:ff9b:0:0::/64'],
    ['not an address', 'not an address'],
  ])('should file %s under %s', (address, network) => {
    expect(clientNetwork(address)).toBe(network);
  });
});

const REQUIRED = {
  DATABASE_URL: 'postgres://gateway@db:5432/bifrost',
  GATEWAY_JWT_SECRET: 'j'.repeat(32),
};
const T0 = 1_700_000_000_000;

function callerOf(who: Role | 'anonymous'): Principal | { address: string } {
  return who === 'anonymous' ? { address: '203.0.113.9' } : { id: `key-${who}`, role: who, via: 'api-key' };
}

function refusalOf(take: () => void): ProblemError {
  try {
    take();
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('expected the call to be refused');
}
