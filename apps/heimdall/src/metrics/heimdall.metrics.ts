import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EvaluateRecommendationReply, HeimdallDomainView } from '@bifrost/contracts';
import { METRICS_REGISTRY } from '@bifrost/observability';
import { HeimdallState } from '../state/heimdall-state';

/** Label of domains without a policy (evaluations, sandbox trials): engines choose domain names, labels stay bounded. */
export const UNKNOWN_DOMAIN_LABEL = '_unknown';

/** Heimdall's Prometheus series: evaluations by outcome, and every domain's scorecard as it stands. */
@Injectable()
export class HeimdallMetrics {
  private readonly evaluations: Counter<'outcome' | 'domain'>;
  private readonly recordFailures: Counter;
  private readonly latency: Histogram;
  private source?: () => HeimdallDomainView[];

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, @Inject(HeimdallState) state: HeimdallState) {
    const registers = [registry];
    this.evaluations = new Counter({
      name: 'bifrost_heimdall_evaluations_total',
      help: 'Recommendation evaluations recorded, by outcome (ELIGIBLE/INCONCLUSIVE/NOT_ELIGIBLE) and domain',
      labelNames: ['outcome', 'domain'],
      registers,
    });
    this.recordFailures = new Counter({
      name: 'bifrost_heimdall_record_failures_total',
      help: 'Evaluations answered with an error because their record could not be published',
      registers,
    });
    this.latency = new Histogram({
      name: 'bifrost_heimdall_evaluation_seconds',
      help: 'From taking an evaluate request to its recorded evaluation',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    new Gauge({
      name: 'bifrost_heimdall_state_staleness_seconds',
      help: 'Time since this replica last proved its state current (evaluations are refused past HEIMDALL_MAX_STATE_LAG_MS)',
      registers,
      collect() {
        this.set(state.context.staleness / 1000);
      },
    });
    const views = () => this.source?.() ?? [];
    new Gauge({
      name: 'bifrost_heimdall_sandbox_success_rate',
      help: 'Cumulative sandbox success rate per domain with a policy (absent before its first trial)',
      labelNames: ['domain'],
      registers,
      collect() {
        this.reset();
        for (const v of views())
          if (v.policy && v.scorecard.successRate !== null)
            this.set({ domain: v.domain }, v.scorecard.successRate);
      },
    });
    new Gauge({
      name: 'bifrost_heimdall_sandbox_trials',
      help: `Cumulative sandbox trials per domain with a policy (the others summed as ${UNKNOWN_DOMAIN_LABEL}), by result (success/failure)`,
      labelNames: ['domain', 'result'],
      registers,
      collect() {
        this.reset();
        for (const v of views()) {
          const domain = v.policy ? v.domain : UNKNOWN_DOMAIN_LABEL;
          this.inc({ domain, result: 'success' }, v.scorecard.successes);
          this.inc({ domain, result: 'failure' }, v.scorecard.trials - v.scorecard.successes);
        }
      },
    });
    new Gauge({
      name: 'bifrost_heimdall_prod_use_enabled',
      help: 'Per domain with a policy: 1 while its recommendations may reach production',
      labelNames: ['domain'],
      registers,
      collect() {
        this.reset();
        for (const v of views())
          if (v.policy) this.set({ domain: v.domain }, v.policy.prodUseEnabled ? 1 : 0);
      },
    });
  }

  observe(views: () => HeimdallDomainView[]): void {
    this.source = views;
  }

  evaluated(reply: EvaluateRecommendationReply, knownDomain: boolean, startedAt: bigint): void {
    this.evaluations.inc({
      outcome: reply.outcome,
      domain: knownDomain ? reply.domain : UNKNOWN_DOMAIN_LABEL,
    });
    this.latency.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
  }

  recordFailed(): void {
    this.recordFailures.inc();
  }
}
