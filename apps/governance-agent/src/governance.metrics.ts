import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  assessReadiness,
  daysBetween,
  whitelistOf,
  windowMetrics,
  type EnrolledGovernance,
  type GovernanceEvent,
} from '@bifrost/domain-governance';
import { METRICS_REGISTRY } from '@bifrost/observability';

/** The window the command-rate gauges read. */
const RATE_WINDOW = '24h';
const EMERGENCY_COMMANDS = new Set(['EMERGENCY_SHUTDOWN', 'ABORT']);
export const OTHER_COMMAND_LABEL = '_other';
const ALERT_SEVERITY = {
  revert_to_l3: 'critical',
  pause_command_type: 'high',
  alert_only: 'medium',
} as const;

/**
 * Seed 003's governance series with the `bifrost_governance_` prefix, per engine. Gauges are
 * computed from the in-memory state at scrape time; counters count what this instance recorded.
 */
@Injectable()
export class GovernanceMetrics {
  private readonly commands: Counter<'engine' | 'status'>;
  private readonly incidents: Counter<'engine' | 'severity'>;
  private readonly breakerEvents: Counter<'engine' | 'rule_name' | 'action' | 'alert_severity'>;
  private readonly emergencyAborts: Counter<'engine'>;
  private readonly violations: Counter<'engine' | 'command_type'>;
  private readonly cycles: Counter<'engine' | 'proposed'>;
  private readonly cycleFailures: Counter<'engine'>;
  private source?: () => readonly EnrolledGovernance[];

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const registers = [registry];
    const engines = () => this.source?.() ?? [];
    const now = () => new Date().toISOString();
    this.commands = new Counter({
      name: 'bifrost_governance_commands_total',
      help: 'Command records, by engine and status (succeeded, failed, rejected, rolledBack)',
      labelNames: ['engine', 'status'],
      registers,
    });
    this.incidents = new Counter({
      name: 'bifrost_governance_incidents_total',
      help: 'Incident records, by engine and severity',
      labelNames: ['engine', 'severity'],
      registers,
      // Each enrolled engine's critical series exists from its first scrape, at 0: the alert
      // BifrostCriticalIncident (`increase(…[5m]) > 0`) sees no increase in a series born at 1.
      collect() {
        for (const { engineId } of engines()) this.inc({ engine: engineId, severity: 'critical' }, 0);
      },
    });
    this.breakerEvents = new Counter({
      name: 'bifrost_governance_circuit_breaker_events_total',
      help: 'Circuit breaker trips, by engine, rule, action and alert severity',
      labelNames: ['engine', 'rule_name', 'action', 'alert_severity'],
      registers,
    });
    this.emergencyAborts = new Counter({
      name: 'bifrost_governance_safety_emergency_aborts_total',
      help: 'EMERGENCY_SHUTDOWN and ABORT command records, by engine',
      labelNames: ['engine'],
      registers,
    });
    this.violations = new Counter({
      name: 'bifrost_governance_safety_constraint_violations_total',
      help: 'Command records run without approval although the phase does not whitelist their type, by engine and command type',
      labelNames: ['engine', 'command_type'],
      registers,
    });
    this.cycles = new Counter({
      name: 'bifrost_governance_cycles_total',
      help: 'Governance cycles run, by engine and whether they proposed an expansion',
      labelNames: ['engine', 'proposed'],
      registers,
    });
    this.cycleFailures = new Counter({
      name: 'bifrost_governance_cycle_failures_total',
      help: 'Governance cycles of a scheduled or all-engines run that failed, by engine',
      labelNames: ['engine'],
      registers,
    });
    const gauge = (
      name: string,
      help: string,
      value: (s: EnrolledGovernance, at: string) => number,
    ): void => {
      new Gauge({
        name: `bifrost_governance_${name}`,
        help,
        labelNames: ['engine'],
        registers,
        collect() {
          this.reset();
          const at = now();
          for (const s of engines()) this.set({ engine: s.engineId }, value(s, at));
        },
      });
    };
    new Gauge({
      name: 'bifrost_governance_current_phase_info',
      help: 'Current autonomy phase of each engine (1 on its phase label)',
      labelNames: ['engine', 'phase'],
      registers,
      collect() {
        this.reset();
        for (const s of engines()) this.set({ engine: s.engineId, phase: s.phase }, 1);
      },
    });
    gauge('days_since_phase_start', 'Days at the current phase', (s, at) => daysBetween(s.phaseSince, at));
    const rate = (s: EnrolledGovernance, at: string) => windowMetrics(s.history, RATE_WINDOW, at);
    gauge(
      'command_success_rate',
      `Success rate (0-1) over ${RATE_WINDOW}`,
      (s, at) => rate(s, at).successRate,
    );
    gauge(
      'command_approval_rate',
      `Approval rate (0-1) over ${RATE_WINDOW}`,
      (s, at) => rate(s, at).approvalRate,
    );
    gauge('command_error_rate', `Error rate (0-1) over ${RATE_WINDOW}`, (s, at) => rate(s, at).errorRate);
    gauge(
      'command_rollback_rate',
      `Rollback rate (0-1) over ${RATE_WINDOW}`,
      (s, at) => rate(s, at).rollbackRate,
    );
    const readiness = (s: EnrolledGovernance, at: string) =>
      assessReadiness({
        history: s.history,
        phase: s.phase,
        phaseSince: s.phaseSince,
        attestations: s.attestations,
        breakerRules: s.rules,
        now: at,
      });
    gauge('readiness_score', 'Overall readiness (0-1 of 80 points)', (s, at) => readiness(s, at).score / 80);
    gauge(
      'readiness_technical_score',
      'Technical readiness points (of 35)',
      (s, at) => readiness(s, at).byCategory.technical.score,
    );
    gauge(
      'readiness_process_score',
      'Process readiness points (of 25)',
      (s, at) => readiness(s, at).byCategory.process.score,
    );
    gauge(
      'readiness_organizational_score',
      'Organizational readiness points (of 20)',
      (s, at) => readiness(s, at).byCategory.organizational.score,
    );
    gauge(
      'circuit_breaker_events_unresolved',
      'Unresolved circuit breaker events',
      (s) => s.breakerEvents.filter((e) => e.resolved === null).length,
    );
    gauge('paused_command_types', 'Command types paused by a breaker', (s) => Object.keys(s.paused).length);
    gauge(
      'pending_proposals',
      'Expansion proposals awaiting approval',
      (s) => s.proposals.filter((p) => p.status === 'PENDING').length,
    );
  }

  /**
   * Engines choose command type names: a type the engine's ladder names anywhere keeps its name,
   * any other is `_other`, so labels stay bounded.
   */
  private commandLabel(engine: string, commandType: string): string {
    const state = this.source?.().find((s) => s.engineId === engine);
    return state && whitelistOf(state.ladder, 'L5').includes(commandType) ? commandType : OTHER_COMMAND_LABEL;
  }

  observe(engines: () => readonly EnrolledGovernance[]): void {
    this.source = engines;
  }

  /** Counts a cycle that failed in a run over every engine (the others went on). */
  cycleFailed(engine: string): void {
    this.cycleFailures.inc({ engine });
  }

  /** Counts what a command appended. */
  recorded(engine: string, events: readonly GovernanceEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'CommandRecorded': {
          const r = event.data.record;
          // One status per record: a command the human rejected counts as rejected, whatever its outcome.
          const status =
            r.requiredApproval && r.approved === false
              ? 'rejected'
              : r.outcome === 'success'
                ? 'succeeded'
                : r.outcome === 'error'
                  ? 'failed'
                  : 'rolledBack';
          this.commands.inc({ engine, status });
          if (EMERGENCY_COMMANDS.has(r.commandType)) this.emergencyAborts.inc({ engine });
          if (event.data.outsideAutonomy)
            this.violations.inc({ engine, command_type: this.commandLabel(engine, r.commandType) });
          break;
        }
        case 'IncidentRecorded':
          this.incidents.inc({ engine, severity: event.data.record.severity });
          break;
        case 'BreakerTripped': {
          const e = event.data.breakerEvent;
          this.breakerEvents.inc({
            engine,
            rule_name: e.ruleName,
            action: e.action,
            alert_severity: ALERT_SEVERITY[e.action],
          });
          break;
        }
        case 'CycleCompleted':
          this.cycles.inc({ engine, proposed: String(event.data.report.decision.proposed) });
          break;
        default:
          break;
      }
    }
  }
}
