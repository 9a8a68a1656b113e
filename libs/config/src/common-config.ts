import { type Static, Type } from '@sinclair/typebox';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** JetStream replicas of the streams and the snapshot bucket, and how long decisions and ingest are kept. */
function StreamConfigProperties() {
  return {
    /** 1 on a single server; 3 on a three-node cluster. */
    STREAM_REPLICAS: Type.Integer({ minimum: 1, maximum: 5, default: 1 }),
    /** Days `BIFROST_DECISIONS` keeps a record; 0 = for ever. The audit log keeps them all either way. */
    DECISIONS_RETENTION_DAYS: Type.Integer({ minimum: 0, maximum: 36_500, default: 30 }),
    /** Days `BIFROST_INGEST` keeps an engine's report; 0 = for ever. */
    INGEST_RETENTION_DAYS: Type.Integer({ minimum: 0, maximum: 36_500, default: 30 }),
  };
}

export const StreamConfig = Type.Object(StreamConfigProperties());
export type StreamConfig = Static<typeof StreamConfig>;

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
  /**
   * The streams every service creates or verifies at start (DESIGN §4): give every service the same
   * values, since a stream whose settings differ is an error, never changed silently.
   */
  ...StreamConfigProperties(),
};

export const CommonConfig = Type.Object(CommonConfigProperties);
export type CommonConfig = Static<typeof CommonConfig>;
