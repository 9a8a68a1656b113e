import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ReserveReply, RiskPolicy } from '@bifrost/contracts';
import type { LedgerState } from '@bifrost/domain-risk';
import { METRICS_REGISTRY } from '@bifrost/observability';

/** risk-guard's Prometheus series: decisions by outcome, latency, and the ledger as it stands. */
@Injectable()
export class RiskMetrics {
  private readonly reservations: Counter<'outcome' | 'reason'>;
  private readonly failures: Counter<'operation'>;
  private readonly latency: Histogram;
  private source?: {
    ledger: () => LedgerState;
    policies: () => Record<string, RiskPolicy>;
    leader: () => boolean;
  };

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.reservations = new Counter({
      name: 'bifrost_risk_reservations_total',
      help: 'Reserve decisions recorded, by outcome (GRANTED/DENIED) and denial reason',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.failures = new Counter({
      name: 'bifrost_risk_request_failures_total',
      help: 'Requests the risk desk refused, by operation (every error reply: bifrost_rpc_requests_total)',
      labelNames: ['operation'],
      registers,
    });
    this.latency = new Histogram({
      name: 'bifrost_risk_decision_seconds',
      help: 'From taking a reserve request to its recorded decision',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    const source = () => this.source;
    new Gauge({
      name: 'bifrost_risk_usage_minor_units',
      help: "Today's money usage per policy, in minor units of its currency: realized_loss, reserved_loss, reserved_exposure",
      labelNames: ['policy', 'measure', 'currency'],
      registers,
      collect() {
        this.reset();
        const ledger = source()?.ledger();
        if (ledger?.status !== 'open') return;
        const policies = source()?.policies() ?? {};
        for (const [policy, u] of Object.entries(ledger.usage)) {
          const currency = policies[policy]?.maxDailyLoss.currency ?? 'unknown';
          this.set({ policy, measure: 'realized_loss', currency }, u.realizedLoss);
          this.set({ policy, measure: 'reserved_loss', currency }, u.reservedLoss);
          this.set({ policy, measure: 'reserved_exposure', currency }, u.reservedExposure);
        }
      },
    });
    new Gauge({
      name: 'bifrost_risk_usage_actions',
      help: "Today's actions (granted reservations) per policy",
      labelNames: ['policy'],
      registers,
      collect() {
        this.reset();
        const ledger = source()?.ledger();
        if (ledger?.status !== 'open') return;
        for (const [policy, u] of Object.entries(ledger.usage)) this.set({ policy }, u.actions);
      },
    });
    new Gauge({
      name: 'bifrost_risk_policy_state',
      help: 'Per policy: enabled (1/0) and throttled (1/0)',
      labelNames: ['policy', 'flag'],
      registers,
      collect() {
        this.reset();
        for (const p of Object.values(source()?.policies() ?? {})) {
          this.set({ policy: p.policyId, flag: 'enabled' }, p.enabled ? 1 : 0);
          this.set({ policy: p.policyId, flag: 'throttled' }, p.throttled ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'bifrost_risk_leader',
      help: '1 while this instance holds the risk-guard lease',
      registers,
      collect() {
        this.set(source()?.leader() ? 1 : 0);
      },
    });
  }

  observe(
    ledger: () => LedgerState,
    policies: () => Record<string, RiskPolicy>,
    leader: () => boolean,
  ): void {
    this.source = { ledger, policies, leader };
  }

  decided(reply: ReserveReply, receivedAt: bigint): void {
    this.reservations.inc({ outcome: reply.outcome, reason: reply.reason ?? '' });
    this.latency.observe(Number(process.hrtime.bigint() - receivedAt) / 1e9);
  }

  failed(operation: string): void {
    this.failures.inc({ operation });
  }
}
