import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { VERDICT_ACTIONS, type VerdictAction } from '@bifrost/contracts';
import {
  assessDrift,
  healthScore,
  maturityIndex,
  outcomeWindow,
  registeredView,
  type RegisteredStrategy,
} from '@bifrost/domain-gate';
import { METRICS_REGISTRY } from '@bifrost/observability';
import { GATE_POLICIES, type GatePolicies } from '../gate.config';
import { GateState } from '../state/gate-state';

/** Prometheus metrics of the gate (DESIGN §9). */
@Injectable()
export class GateMetrics {
  readonly decisions: Counter<'action'>;
  readonly latency: Histogram;
  readonly recordFailures: Counter;

  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(GateState) state: GateState,
    @Inject(GATE_POLICIES) policies: GatePolicies,
  ) {
    this.decisions = new Counter({
      name: 'bifrost_gate_decisions_total',
      help: 'Gate verdicts by action',
      labelNames: ['action'],
      registers: [registry],
    });
    for (const action of VERDICT_ACTIONS) this.decisions.inc({ action }, 0);
    this.latency = new Histogram({
      name: 'bifrost_gate_decision_latency_seconds',
      help: 'Time from request to recorded verdict',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
    this.recordFailures = new Counter({
      name: 'bifrost_gate_record_failures_total',
      help: 'Checks answered with an error because the decision record or the events the check leaves behind could not be stored',
      registers: [registry],
    });
    /** One series per strategy, as `value` gives it (none where it gives undefined). */
    const perStrategy = (
      name: string,
      help: string,
      value: (strategy: RegisteredStrategy, now: string) => number | undefined,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['engine', 'strategy'],
        registers: [registry],
        collect() {
          this.reset();
          const now = new Date().toISOString();
          for (const id of state.strategies.ids()) {
            const [engine = '', strategy = ''] = id.split(':');
            const view = registeredView(state.strategies.get(id).state, engine, strategy, now);
            const measured = value(view.strategy, now);
            if (measured !== undefined) this.set({ engine, strategy }, measured);
          }
        },
      });
    perStrategy('bifrost_gate_strategy_maturity_level', 'Current maturity level (0..4) per strategy', (s) =>
      maturityIndex(s.level),
    );
    perStrategy(
      'bifrost_gate_strategy_health_score',
      'Health score (0..1, debt/credit over the outcome window) per strategy',
      (s) => healthScore(outcomeWindow(s, policies.strategy)),
    );
    perStrategy(
      'bifrost_gate_strategy_drift_ratio',
      'Largest shortfall against the backtest baseline (0.3 = 30 %) per strategy; absent without a baseline or enough outcomes',
      (s) => {
        const drift = assessDrift(outcomeWindow(s, policies.strategy), s.baseline, policies.strategy);
        return drift.status === 'measured' ? drift.drift : undefined;
      },
    );
    perStrategy(
      'bifrost_gate_strategy_active_tokens',
      'Execution tokens per strategy that can still be used (active and not expired)',
      (s, now) => Object.values(s.tokens).filter((t) => t.status === 'active' && t.expiresAt > now).length,
    );
    new Gauge({
      name: 'bifrost_gate_kill_switch_engaged',
      help: '1 while a kill switch is engaged (scope "global", or "engine" with the engine id), by mode; the global one is always there, 0 with mode "none" while released',
      // The engine in a label of its own: an engine may be named "global".
      labelNames: ['scope', 'engine', 'mode'],
      registers: [registry],
      collect() {
        this.reset();
        const { killSwitches } = state.controlState();
        // Always present: "released" must not look like "the gate does not report".
        if (killSwitches.global) this.set({ scope: 'global', engine: '', mode: killSwitches.global.mode }, 1);
        else this.set({ scope: 'global', engine: '', mode: 'none' }, 0);
        for (const [engine, kill] of Object.entries(killSwitches.engines))
          this.set({ scope: 'engine', engine, mode: kill.mode }, 1);
      },
    });
    new Gauge({
      name: 'bifrost_gate_state_staleness_seconds',
      help: 'Time since this replica last proved its state current (checks are refused past GATE_MAX_STATE_LAG_MS)',
      registers: [registry],
      collect() {
        this.set(state.context.staleness / 1000);
      },
    });
    new Gauge({
      name: 'bifrost_gate_go_live_enabled',
      help: '1 when go-live is enabled',
      registers: [registry],
      collect() {
        this.set(state.controlState().goLive.enabled ? 1 : 0);
      },
    });
  }

  observeDecision(action: VerdictAction, started: bigint): void {
    this.decisions.inc({ action });
    this.latency.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }
}
