import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@bifrost/observability';

/** The canary's Prometheus series: each probe's last result and failure run, engines' staleness. */
@Injectable()
export class CanaryMetrics {
  private readonly up: Gauge<'probe'>;
  private readonly failures: Gauge<'probe'>;
  private readonly checks: Counter<'probe' | 'result'>;
  private readonly status: Gauge<'probe' | 'status'>;
  private staleEngines: () => string[] = () => [];

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.up = new Gauge({
      name: 'bifrost_canary_up',
      help: "1 when the probe's last check passed, 0 when it failed",
      labelNames: ['probe'],
      registers,
    });
    this.failures = new Gauge({
      name: 'bifrost_canary_consecutive_failures',
      help: 'Failed checks in a row of each probe (0 after a pass)',
      labelNames: ['probe'],
      registers,
    });
    this.checks = new Counter({
      name: 'bifrost_canary_checks_total',
      help: 'Checks run, by probe and result (pass/fail)',
      labelNames: ['probe', 'result'],
      registers,
    });
    this.status = new Gauge({
      name: 'bifrost_canary_probe_status',
      help: 'Probe status: 1 for the status it is in (UNKNOWN, UP, DOWN), 0 for the others',
      labelNames: ['probe', 'status'],
      registers,
    });
    const stale = () => this.staleEngines();
    new Gauge({
      name: 'bifrost_canary_engines_stale',
      help: 'Watched engines that are STALE (silent past their allowed heartbeat gap)',
      registers,
      collect() {
        this.set(stale().length);
      },
    });
  }

  observeEngines(stale: () => string[]): void {
    this.staleEngines = stale;
  }

  checked(probe: string, passed: boolean, consecutiveFailures: number): void {
    this.up.set({ probe }, passed ? 1 : 0);
    this.failures.set({ probe }, consecutiveFailures);
    this.checks.inc({ probe, result: passed ? 'pass' : 'fail' });
  }

  statusIs(probe: string, status: 'UNKNOWN' | 'UP' | 'DOWN'): void {
    for (const s of ['UNKNOWN', 'UP', 'DOWN'] as const)
      this.status.set({ probe, status: s }, s === status ? 1 : 0);
  }

  forget(probe: string): void {
    this.up.remove({ probe });
    this.failures.remove({ probe });
    for (const status of ['UNKNOWN', 'UP', 'DOWN']) this.status.remove({ probe, status });
  }
}
