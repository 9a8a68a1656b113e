import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { EVALUATION_RESULTS } from '@bifrost/contracts';
import { evaluateEngine } from '@bifrost/domain-tripwire';
import { METRICS_REGISTRY } from '@bifrost/observability';
import { TripwireState } from '../state/tripwire-state';

export type KpiOutcome = 'recorded' | 'duplicate' | 'no_policy';

/** Prometheus series of the tripwire: state per policy and engine, current drop %, KPIs, trips. */
@Injectable()
export class TripwireMetrics {
  private readonly kpis: Counter<'outcome'>;
  private readonly triggers: Counter<'policy' | 'action'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, @Inject(TripwireState) state: TripwireState) {
    const registers = [registry];
    this.kpis = new Counter({
      name: 'bifrost_tripwire_kpis_total',
      help: 'KPI events consumed, by outcome: recorded, duplicate (redelivery), no_policy (no policy for its domain and metric)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['recorded', 'duplicate', 'no_policy']) this.kpis.inc({ outcome }, 0);
    this.triggers = new Counter({
      name: 'bifrost_tripwire_triggers_total',
      help: 'TripwireTriggered events this instance appended, by policy and action',
      labelNames: ['policy', 'action'],
      registers,
    });
    // Both series below are computed at scrape time from the in-memory windows.
    const engines = function* () {
      for (const policyId of state.policyIds()) {
        const policy = state.policy(policyId);
        if (policy.status !== 'defined') continue;
        for (const [engineId, window] of Object.entries(policy.engines)) {
          yield { policyId, engineId, policy: policy.policy, window };
        }
      }
    };
    new Gauge({
      name: 'bifrost_tripwire_policy_enabled',
      help: '1 while a policy is enabled',
      labelNames: ['policy', 'action'],
      registers,
      collect() {
        this.reset();
        for (const policyId of state.policyIds()) {
          const policy = state.policy(policyId);
          if (policy.status === 'defined')
            this.set({ policy: policyId, action: policy.policy.action }, policy.policy.enabled ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'bifrost_tripwire_triggered',
      help: 'Per policy and engine: 1 while tripped (until an operator resets it)',
      labelNames: ['policy', 'engine', 'action'],
      registers,
      collect() {
        this.reset();
        for (const { policyId, engineId, policy, window } of engines()) {
          const action = window.triggered?.action ?? policy.action;
          this.set({ policy: policyId, engine: engineId, action }, window.triggered ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'bifrost_tripwire_evaluation',
      help: 'Per policy and engine: 1 for the current evaluation result of its windows (TRIPPED = would trip; only an enabled policy trips)',
      labelNames: ['policy', 'engine', 'result'],
      registers,
      collect() {
        this.reset();
        for (const { policyId, engineId, policy, window } of engines()) {
          const current = evaluateEngine(policy, window).result;
          for (const result of EVALUATION_RESULTS) {
            this.set({ policy: policyId, engine: engineId, result }, result === current ? 1 : 0);
          }
        }
      },
    });
    new Gauge({
      name: 'bifrost_tripwire_drop_pct',
      help: 'Current drop of the recent rate from the baseline rate, in % (absent while the baseline rate is 0)',
      labelNames: ['policy', 'engine'],
      registers,
      collect() {
        this.reset();
        for (const { policyId, engineId, policy, window } of engines()) {
          const { dropPct } = evaluateEngine(policy, window).evidence;
          if (dropPct !== null) this.set({ policy: policyId, engine: engineId }, dropPct);
        }
      },
    });
  }

  kpi(outcome: KpiOutcome): void {
    this.kpis.inc({ outcome });
  }

  triggered(policyId: string, action: unknown): void {
    this.triggers.inc({ policy: policyId, action: String(action) });
  }
}
