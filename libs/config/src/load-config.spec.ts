import { Type } from '@sinclair/typebox';
import { CommonConfig, ConfigError, loadConfig } from './index';

describe('loadConfig', () => {
  describe('Given an empty environment', () => {
    it('should apply every default of the common schema', () => {
      const config = loadConfig(CommonConfig, {});

      expect(config).toEqual({
        NATS_URL: 'nats://127.0.0.1:4222',
        PORT: 3000,
        LOG_LEVEL: 'info',
        BIFROST_NAMESPACE: '',
        SHUTDOWN_TIMEOUT_MS: 10_000,
        STREAM_REPLICAS: 1,
        DECISIONS_RETENTION_DAYS: 30,
        INGEST_RETENTION_DAYS: 30,
      });
    });

    it('should refuse stream settings out of range', () => {
      expect(() =>
        loadConfig(CommonConfig, { STREAM_REPLICAS: '0', DECISIONS_RETENTION_DAYS: '-1' }),
      ).toThrow(ConfigError);
    });

    it('should treat empty values as unset', () => {
      const config = loadConfig(CommonConfig, { PORT: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' });

      expect(config.PORT).toBe(3000);
      expect(config.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    });
  });

  describe('Given string values', () => {
    it('should convert them to the declared integers and booleans', () => {
      const schema = Type.Composite([
        CommonConfig,
        Type.Object({ GATE_OBSERVE_ONLY: Type.Boolean({ default: false }), GATE_RATIO: Type.Number() }),
      ]);

      const config = loadConfig(schema, {
        PORT: '8080',
        SHUTDOWN_TIMEOUT_MS: '250',
        LOG_LEVEL: 'debug',
        DATABASE_URL: 'postgres://db/bifrost',
        GATE_OBSERVE_ONLY: 'true',
        GATE_RATIO: '0.25',
      });

      expect(config.PORT).toBe(8080);
      expect(config.SHUTDOWN_TIMEOUT_MS).toBe(250);
      expect(config.LOG_LEVEL).toBe('debug');
      expect(config.DATABASE_URL).toBe('postgres://db/bifrost');
      expect(config.GATE_OBSERVE_ONLY).toBe(true);
      expect(config.GATE_RATIO).toBe(0.25);
    });

    it('should ignore variables the schema does not name', () => {
      const config = loadConfig(CommonConfig, { HOME: '/root', PATH: '/bin' });

      expect(Object.keys(config)).not.toContain('HOME');
      expect(Object.keys(config)).not.toContain('PATH');
    });

    it('should reject numbers that would otherwise be truncated', () => {
      expect(() => loadConfig(CommonConfig, { PORT: '3000.5' })).toThrow(
        /^PORT: must be integer >= 1 and <= 65535$/m,
      );
      expect(() => loadConfig(CommonConfig, { PORT: '1e3' })).toThrow(ConfigError);
    });
  });

  describe('Given several invalid variables', () => {
    it('should throw one error that lists every problem on its own line', () => {
      const schema = Type.Composite([CommonConfig, Type.Object({ RISK_API_KEY: Type.String() })]);

      const error = catchError(() =>
        loadConfig(schema, {
          PORT: '0',
          LOG_LEVEL: 'loud',
          BIFROST_NAMESPACE: 'a b',
          SHUTDOWN_TIMEOUT_MS: 'soon',
        }),
      );

      expect(error).toBeInstanceOf(ConfigError);
      expect(error.problems).toEqual(
        expect.arrayContaining([
          { variable: 'PORT', message: 'must be integer >= 1 and <= 65535' },
          { variable: 'LOG_LEVEL', message: 'must be one of fatal, error, warn, info, debug, trace' },
          { variable: 'BIFROST_NAMESPACE', message: 'must match ^[A-Za-z0-9_-]*$' },
          { variable: 'SHUTDOWN_TIMEOUT_MS', message: 'must be integer >= 0' },
          { variable: 'RISK_API_KEY', message: 'is required' },
        ]),
      );
      expect(error.problems).toHaveLength(5);
      const lines = error.message.split('\n');
      expect(lines[0]).toBe('Invalid configuration (5 problems):');
      for (const problem of error.problems)
        expect(lines).toContain(`${problem.variable}: ${problem.message}`);
    });

    it('should not echo the offending values, which may be secrets', () => {
      const error = catchError(() => loadConfig(CommonConfig, { PORT: 'hunter2' }));

      expect(error.message).not.toContain('hunter2');
    });
  });

  describe('Given a valid environment', () => {
    it('should return a deeply frozen object', () => {
      const schema = Type.Object({ NAMES: Type.Array(Type.String(), { default: ['a'] }) });

      const config = loadConfig(schema, {});

      expect(Object.isFrozen(config)).toBe(true);
      expect(Object.isFrozen(config.NAMES)).toBe(true);
      expect(() => {
        (config as { NAMES: string[] }).NAMES.push('b');
      }).toThrow(TypeError);
    });

    it('should not share the schema defaults with the returned object', () => {
      const schema = Type.Object({ NAMES: Type.Array(Type.String(), { default: ['a'] }) });

      loadConfig(schema, {});

      expect(Object.isFrozen(schema.properties.NAMES.default)).toBe(false);
    });
  });
});

function catchError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected an error');
}
