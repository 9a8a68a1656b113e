import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus series of the projector (docs/projector.md "Lag and health"). */
export class ProjectorMetrics {
  readonly lag: Gauge<'stream'>;
  readonly lastApplied: Gauge<'stream'>;
  readonly batchSize: Histogram;
  readonly batchLatency: Histogram;
  readonly messages: Counter<'outcome'>;
  readonly writer: Gauge;
  readonly blocked: Gauge<'stream'>;

  constructor(registry?: Registry) {
    const registers = registry ? [registry] : [];
    this.lag = new Gauge({
      name: 'bifrost_projector_lag_messages',
      help: 'Stream last sequence minus the projector checkpoint',
      labelNames: ['stream'],
      registers,
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
      help: 'Messages handled, by outcome: recorded, parked, skipped (already applied), duplicate (id already logged)',
      labelNames: ['outcome'],
      registers,
    });
    // Every outcome from the start, so that increase() sees the first of each.
    for (const outcome of ['recorded', 'parked', 'skipped', 'duplicate']) this.messages.inc({ outcome }, 0);
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
  }
}
