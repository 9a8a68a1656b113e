import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type ConsumerObserver } from '@bifrost/messaging';

/**
 * The series every service reports for its durable consumers (docs/operations.md "Health, metrics,
 * logs"). The service bootstrap (`@bifrost/service`) registers them and fills them from
 * `ConsumerRunner`, which the projector does not use: it fills them for its own two consumers.
 */
const CONSUMER_PENDING = 'bifrost_consumer_pending_messages';
const CONSUMER_PARKED = 'bifrost_consumer_parked_messages_total';

/** Prometheus series of the projector (docs/projector.md "Lag and health"). */
export class ProjectorMetrics {
  readonly lag: Gauge<'stream'>;
  private readonly lagSeconds: Gauge<'stream'>;
  private lagSecondsNow: () => ReadonlyMap<string, number> = () => new Map();
  readonly lastApplied: Gauge<'stream'>;
  readonly batchSize: Histogram;
  readonly batchLatency: Histogram;
  readonly messages: Counter<'outcome'>;
  readonly writer: Gauge;
  readonly blocked: Gauge<'stream'>;
  readonly auditVerifications: Counter<'result'>;
  /**
   * `bifrost_consumer_pending_messages{consumer}` and `bifrost_consumer_parked_messages_total{consumer}`
   * of `projector__events` and `projector__decisions`: the same lag as `bifrost_projector_lag_messages`
   * (messages of the stream the checkpoint has not reached yet) and the messages parked from each.
   */
  readonly consumers: ConsumerSeries;

  constructor(registry?: Registry) {
    const registers = registry ? [registry] : [];
    this.lag = new Gauge({
      name: 'bifrost_projector_lag_messages',
      help: 'Stream last sequence minus the projector checkpoint',
      labelNames: ['stream'],
      registers,
    });
    const lagSecondsNow = () => this.lagSecondsNow();
    this.lagSeconds = new Gauge({
      name: 'bifrost_projector_lag_seconds',
      help: 'While messages of the stream wait for the writer: the age of the last one it applied; 0 when caught up',
      labelNames: ['stream'],
      registers,
      collect() {
        for (const [stream, seconds] of lagSecondsNow()) this.set({ stream }, seconds);
      },
    });
    this.lastApplied = new Gauge({
      name: 'bifrost_projector_last_applied_sequence',
      help: 'Last stream sequence committed to the read models and the audit log',
      labelNames: ['stream'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'bifrost_projector_batch_size',
      help: 'Messages per committed batch',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
      registers,
    });
    this.batchLatency = new Histogram({
      name: 'bifrost_projector_batch_latency_seconds',
      help: 'Time to prepare, commit and acknowledge one batch',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.messages = new Counter({
      name: 'bifrost_projector_messages_total',
      help: 'Messages handled, by outcome: recorded, parked, skipped (already applied), duplicate (id already logged), deleted (deleted from the stream before it was applied: no audit row; alert on any increase)',
      labelNames: ['outcome'],
      registers,
    });
    // Every outcome from the start, so that increase() sees the first of each.
    for (const outcome of ['recorded', 'parked', 'skipped', 'duplicate', 'deleted'])
      this.messages.inc({ outcome }, 0);
    this.writer = new Gauge({
      name: 'bifrost_projector_writer',
      help: '1 while this instance holds the writer lock and projects',
      registers,
    });
    this.blocked = new Gauge({
      name: 'bifrost_projector_blocked',
      help: '1 while the projector refuses to go on because this stream lost messages it had not applied, or ends below its checkpoint',
      labelNames: ['stream'],
      registers,
    });
    this.auditVerifications = new Counter({
      // The gateway's GET /audit/verify counts its runs under the same name: one alert for both.
      name: 'bifrost_audit_verifications_total',
      help: "The writer's periodic runs of the audit log verification, by result: intact, broken (alert on any increase), error (could not read the log)",
      labelNames: ['result'],
      registers,
    });
    for (const result of ['intact', 'broken', 'error']) this.auditVerifications.inc({ result }, 0);
    this.consumers = registry
      ? serviceConsumerSeries(registry)
      : { pending: () => undefined, parked: () => undefined, forget: () => undefined };
  }

  /**
   * The instance no longer writes (it lost the writer lock): its lag, position and consumer lag
   * series go, as a standby never had them, so that a sum over replicas counts the writer's alone.
   */
  standby(consumers: readonly string[]): void {
    this.writer.set(0);
    this.lag.reset();
    this.lastApplied.reset();
    for (const consumer of consumers) this.consumers.forget(consumer);
  }

  /** Where `bifrost_projector_lag_seconds` is read from at each scrape (the projector). */
  lagSecondsFrom(read: () => ReadonlyMap<string, number>): void {
    this.lagSecondsNow = read;
  }
}

/**
 * Fills the bootstrap's consumer series in `registry`. They are looked up when first used, since
 * the bootstrap registers them after the service's providers (this one among them) were created;
 * a registry without them (a projector run outside a service, as in the benchmark) gets nothing.
 */
/** The consumer series, and a way to drop a consumer's lag once this instance no longer reads it. */
type ConsumerSeries = ConsumerObserver & { forget(consumer: string): void };

function serviceConsumerSeries(registry: Registry): ConsumerSeries {
  let series: { pending: Gauge<'consumer'>; parked: Counter<'consumer'> } | undefined;
  const resolve = () => {
    if (series) return series;
    const pending = registry.getSingleMetric(CONSUMER_PENDING);
    const parked = registry.getSingleMetric(CONSUMER_PARKED);
    if (pending instanceof Gauge && parked instanceof Counter) {
      series = { pending: pending as Gauge<'consumer'>, parked: parked as Counter<'consumer'> };
    }
    return series;
  };
  return {
    pending: (consumer, pending) => {
      const found = resolve();
      found?.pending.set({ consumer }, pending);
      found?.parked.inc({ consumer }, 0); // the series exists from the start: increase() sees the first
    },
    parked: (consumer) => resolve()?.parked.inc({ consumer }),
    forget: (consumer) => resolve()?.pending.remove({ consumer }),
  };
}
