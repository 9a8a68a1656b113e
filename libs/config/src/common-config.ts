import { type Static, Type } from '@sinclair/typebox';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The variables every Bifrost service reads (DESIGN §9). Spread or compose them into a service's
 * own schema: `Type.Composite([CommonConfig, Type.Object({ GATE_… })])`.
 */
export const CommonConfigProperties = {
  NATS_URL: Type.String({ minLength: 1, default: 'nats://127.0.0.1:4222' }),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3000 }),
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  /** Tracing is off when unset. */
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Type.String({ minLength: 1 })),
  /** Prefix that lets several Bifrost installations share one NATS/Postgres (tests, tenants). */
  BIFROST_NAMESPACE: Type.String({ pattern: '^[A-Za-z0-9_-]*$', default: '' }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 10_000 }),
};

export const CommonConfig = Type.Object(CommonConfigProperties);
export type CommonConfig = Static<typeof CommonConfig>;
