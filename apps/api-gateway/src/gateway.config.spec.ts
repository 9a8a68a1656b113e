import { ConfigError, loadConfig } from '@bifrost/config';
import { GatewayConfig } from './gateway.config';

describe('gateway configuration', () => {
  describe('Given only the required variables', () => {
    it('should apply the documented defaults (docs/api.md "Configuration", deploy/env.example)', () => {
      const config = loadConfig(GatewayConfig, REQUIRED);

      expect(config).toMatchObject({
        DATABASE_URL: REQUIRED.DATABASE_URL,
        GATEWAY_JWT_SECRET: REQUIRED.GATEWAY_JWT_SECRET,
        GATEWAY_ACCESS_TOKEN_TTL_SECONDS: 900,
        GATEWAY_REFRESH_TOKEN_TTL_SECONDS: 604_800,
        GATEWAY_SESSION_MAX_AGE_SECONDS: 2_592_000,
        GATEWAY_KEY_CACHE_MS: 5_000,
        GATEWAY_RATE_LIMIT_VIEWER: 20,
        GATEWAY_RATE_LIMIT_OPERATOR: 20,
        GATEWAY_RATE_LIMIT_ADMIN: 20,
        GATEWAY_RATE_LIMIT_OWNER: 20,
        GATEWAY_RATE_LIMIT_ENGINE: 500,
        GATEWAY_RATE_LIMIT_ANONYMOUS: 5,
        GATEWAY_RATE_BURST_SECONDS: 2,
        GATEWAY_TRUST_PROXY_HOPS: 0,
        GATEWAY_CORS_ALLOWED_ORIGINS: '',
        GATEWAY_MAX_STREAMS_PER_PRINCIPAL: 4,
        GATEWAY_STREAM_HEARTBEAT_MS: 15_000,
        GATEWAY_FACT_MAX_AGE_SECONDS: 2_592_000,
        GATEWAY_RPC_TIMEOUT_MS: 5_000,
        GATEWAY_REQUEST_TIMEOUT_MS: 30_000,
      });
      // No bootstrap owner key unless one is configured.
      expect(config.GATEWAY_BOOTSTRAP_OWNER_KEY).toBeUndefined();
    });

    it('should treat an empty variable as unset, so it takes its default', () => {
      const config = loadConfig(GatewayConfig, {
        ...REQUIRED,
        GATEWAY_RATE_LIMIT_VIEWER: '',
        GATEWAY_BOOTSTRAP_OWNER_KEY: '',
      });

      expect(config.GATEWAY_RATE_LIMIT_VIEWER).toBe(20);
      expect(config.GATEWAY_BOOTSTRAP_OWNER_KEY).toBeUndefined();
    });
  });

  describe('Given values in range', () => {
    it('should read them as numbers, fractional rates included', () => {
      const config = loadConfig(GatewayConfig, {
        ...REQUIRED,
        GATEWAY_BOOTSTRAP_OWNER_KEY: 'b'.repeat(32),
        GATEWAY_RATE_LIMIT_ANONYMOUS: '0.5',
        GATEWAY_RATE_BURST_SECONDS: '1.5',
        GATEWAY_TRUST_PROXY_HOPS: '10',
        GATEWAY_STREAM_HEARTBEAT_MS: '100',
        GATEWAY_ACCESS_TOKEN_TTL_SECONDS: '10',
      });

      expect(config).toMatchObject({
        GATEWAY_BOOTSTRAP_OWNER_KEY: 'b'.repeat(32),
        GATEWAY_RATE_LIMIT_ANONYMOUS: 0.5,
        GATEWAY_RATE_BURST_SECONDS: 1.5,
        GATEWAY_TRUST_PROXY_HOPS: 10,
        GATEWAY_STREAM_HEARTBEAT_MS: 100,
        GATEWAY_ACCESS_TOKEN_TTL_SECONDS: 10,
      });
    });
  });

  describe('Given an empty environment', () => {
    it('should refuse to start, naming both required variables', () => {
      const error = configError({});

      expect(error.problems).toEqual([
        { variable: 'DATABASE_URL', message: 'is required' },
        { variable: 'GATEWAY_JWT_SECRET', message: 'is required' },
      ]);
    });
  });

  describe('Given invalid values', () => {
    it.each<[string, string, string]>([
      ['GATEWAY_JWT_SECRET', 'x'.repeat(31), 'must be at least 32 characters long'],
      ['GATEWAY_BOOTSTRAP_OWNER_KEY', 'too-short', 'must be at least 32 characters long'],
      ['GATEWAY_RATE_LIMIT_VIEWER', '0', 'must be number > 0'],
      ['GATEWAY_RATE_LIMIT_ENGINE', '-5', 'must be number > 0'],
      ['GATEWAY_RATE_LIMIT_ANONYMOUS', 'fast', 'must be number > 0'],
      ['GATEWAY_RATE_BURST_SECONDS', '0.5', 'must be number >= 1'],
      ['GATEWAY_ACCESS_TOKEN_TTL_SECONDS', '9', 'must be integer >= 10'],
      ['GATEWAY_REFRESH_TOKEN_TTL_SECONDS', '59', 'must be integer >= 60'],
      ['GATEWAY_KEY_CACHE_MS', '-1', 'must be integer >= 0'],
      ['GATEWAY_TRUST_PROXY_HOPS', '11', 'must be integer >= 0 and <= 10'],
      ['GATEWAY_MAX_STREAMS_PER_PRINCIPAL', '0', 'must be integer >= 1'],
      ['GATEWAY_STREAM_HEARTBEAT_MS', '99', 'must be integer >= 100'],
      ['GATEWAY_FACT_MAX_AGE_SECONDS', '0', 'must be integer >= 1 and <= 3153600000'],
      ['GATEWAY_RPC_TIMEOUT_MS', '99', 'must be integer >= 100'],
      ['GATEWAY_REQUEST_TIMEOUT_MS', '999', 'must be integer >= 1000'],
      // Not truncated to 5000: a typo fails instead of running with another value.
      ['GATEWAY_RPC_TIMEOUT_MS', '5000.5', 'must be integer >= 100'],
    ])('should refuse %s=%s: "%s"', (variable, value, message) => {
      const error = configError({ ...REQUIRED, [variable]: value });

      expect(error.problems).toEqual([{ variable, message }]);
      expect(error.message).toContain(`${variable}: ${message}`);
    });

    it('should list every problem in one error, without echoing the values (secrets among them)', () => {
      const error = configError({
        DATABASE_URL: REQUIRED.DATABASE_URL,
        GATEWAY_JWT_SECRET: 'short-secret',
        GATEWAY_RATE_LIMIT_OPERATOR: '0',
        GATEWAY_TRUST_PROXY_HOPS: '-1',
      });

      expect(error.problems).toHaveLength(3);
      expect(error.message.split('\n')).toEqual([
        'Invalid configuration (3 problems):',
        'GATEWAY_JWT_SECRET: must be at least 32 characters long',
        'GATEWAY_RATE_LIMIT_OPERATOR: must be number > 0',
        'GATEWAY_TRUST_PROXY_HOPS: must be integer >= 0 and <= 10',
      ]);
      expect(error.message).not.toContain('short-secret');
    });
  });
});

const REQUIRED = {
  DATABASE_URL: 'postgres://gateway@db:5432/bifrost',
  GATEWAY_JWT_SECRET: 'j'.repeat(32),
};

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(GatewayConfig, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}
