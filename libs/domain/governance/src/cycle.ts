import { clipText, type Actor, type CycleReportSchema, type ProposalSchema } from '@bifrost/contracts';
import { assessReadiness, READINESS_THRESHOLDS, type ReadinessReport } from './readiness';
import { windowMetrics, type WindowMetrics } from './command-metrics';
import type { EnrolledGovernance } from './governance.decider';
import { addDays, daysBetween, nextPhase, rungOf, stabilizationPeriod, whitelistOf } from './phases';

export type CycleReport = CycleReportSchema;
export type Proposal = ProposalSchema;
export type ExpansionCheck = CycleReport['decision']['checks'][number];

/** Report and breaker texts are bounded by the event schema (2,000 code points). */
export const TEXT_MAX_LENGTH = 2000;

/** Seed 003: a proposal needs a readiness score of at least 95 % (76 of 80 points). */
export const READY_SCORE = READINESS_THRESHOLDS.ready;
/** Days a proposal waits for its approvals before it expires (the seed names none; two weekly cycles). */
export const DEFAULT_PROPOSAL_TTL_DAYS = 14;

export interface CycleInput {
  readonly state: EnrolledGovernance;
  readonly now: string;
  readonly trigger: 'schedule' | 'operator';
  readonly reportId: string;
  readonly proposalId: string;
  /** Who ran the cycle: the system on schedule, the operator on demand (who may then not approve). */
  readonly proposedBy: Actor;
  readonly proposalTtlDays: number;
}

export interface CycleResult {
  readonly report: CycleReport;
  readonly proposal: Proposal | null;
}

/**
 * The weekly governance cycle (seed 003): collect the last 7 days of command metrics, assess
 * readiness, check the breaker events, decide on expansion and report. A proposal comes out exactly
 * when every expansion condition holds.
 */
export function runGovernanceCycle(input: CycleInput): CycleResult {
  const { state, now } = input;
  // Collect
  const metrics = windowMetrics(state.history, '7d', now);
  const periodStart = addDays(now, -7);
  // Assess
  const unresolved = state.breakerEvents.filter((e) => e.resolved === null);
  const readiness = assessReadiness({
    history: state.history,
    phase: state.phase,
    phaseSince: state.phaseSince,
    attestations: state.attestations,
    breakerRules: state.rules,
    now,
  });
  // Check breakers
  const trippedInPeriod = state.breakerEvents.filter((e) => e.trippedAt >= periodStart).length;
  // Decide
  const checks = expansionChecks(state, readiness, now);
  const proposed = checks.every((c) => c.met);
  const proposal = proposed ? propose(input, metrics, readiness) : null;
  // Report
  const report: CycleReport = {
    reportId: input.reportId,
    trigger: input.trigger,
    ranAt: now,
    periodStart,
    periodEnd: now,
    phase: state.phase,
    phaseSince: state.phaseSince,
    daysAtPhase: daysBetween(state.phaseSince, now),
    metrics: { ...metrics },
    readiness: {
      score: readiness.score,
      maxScore: 80,
      byCategory: readiness.byCategory,
      status: readiness.status,
      items: readiness.items.map((i) => ({ ...i, detail: clipText(i.detail, TEXT_MAX_LENGTH) })),
      blockers: readiness.blockers.map((b) => clipText(b, TEXT_MAX_LENGTH)),
    },
    breakers: {
      unresolved: unresolved.length,
      trippedInPeriod,
      unresolvedEventIds: unresolved.map((e) => e.eventId),
    },
    decision: {
      proposed,
      proposalId: proposal?.proposalId ?? null,
      checks,
      summary: clipText(
        proposal
          ? `propose ${state.phase} → ${proposal.targetPhase}`
          : `no expansion: ${checks
              .filter((c) => !c.met)
              .map((c) => c.detail)
              .join('; ')}`,
        TEXT_MAX_LENGTH,
      ),
    },
  };
  return { report, proposal };
}

/** The seed's expansion conditions (plus "there is a next phase"), each with why it holds or not. */
export function expansionChecks(
  state: EnrolledGovernance,
  readiness: Pick<ReadinessReport, 'score' | 'items'>,
  now: string,
): ExpansionCheck[] {
  const unresolved = state.breakerEvents.filter((e) => e.resolved === null).length;
  const pending = state.proposals.filter((p) => p.status === 'PENDING');
  const missing = readiness.items.filter((i) => i.required && !i.passed).map((i) => i.id);
  const days = daysBetween(state.phaseSince, now);
  const needed = stabilizationPeriod(state.ladder, state.phase);
  const next = nextPhase(state.phase);
  return [
    {
      condition: 'readinessScore',
      met: readiness.score >= READY_SCORE,
      detail: `readiness ${readiness.score}/80 (needs ≥ ${READY_SCORE})`,
    },
    {
      condition: 'requiredItems',
      met: missing.length === 0,
      detail:
        missing.length === 0
          ? 'every required checklist item passed'
          : `required items not passed: ${missing.join(', ')}`,
    },
    {
      condition: 'noUnresolvedBreakerEvents',
      met: unresolved === 0,
      detail:
        unresolved === 0
          ? 'no unresolved circuit breaker events'
          : `${unresolved} unresolved breaker event(s)`,
    },
    {
      condition: 'noPendingProposal',
      met: pending.length === 0,
      detail:
        pending.length === 0
          ? 'no proposal awaiting approval'
          : `proposal ${pending.map((p) => p.proposal.proposalId).join(', ')} awaits approval`,
    },
    {
      condition: 'stabilizationPeriod',
      met: days >= needed,
      detail: `${days} day(s) at ${state.phase} (needs ≥ ${needed})`,
    },
    {
      condition: 'nextPhaseExists',
      met: next !== null,
      detail: next === null ? `${state.phase} is the highest phase` : `next phase ${next}`,
    },
  ];
}

const RISK_LEVELS = ['low', 'medium', 'high'] as const;
/** Inherent risk of entering a phase: the seed's low-, moderate- and high-risk command families. */
const PHASE_RISK: Record<string, number> = { 'L3+': 0, L4: 1, 'L4+': 2, L5: 2 };

function propose(input: CycleInput, metrics: WindowMetrics, readiness: ReadinessReport): Proposal {
  const { state, now } = input;
  const target = nextPhase(state.phase) as Proposal['targetPhase'];
  const rung = rungOf(state.ladder, target);
  const days = daysBetween(state.phaseSince, now);
  const enabledRules = state.rules.filter((r) => r.enabled);

  const factors = [
    clipText(`automates ${rung.additions.join(', ') || 'no new command types'}`, TEXT_MAX_LENGTH),
  ];
  let level = PHASE_RISK[target] ?? 2;
  if (metrics.rollbackRate > 0.02) {
    factors.push(`rollback rate ${pct(metrics.rollbackRate)} over the last 7 days`);
    level += 1;
  }
  if (metrics.incidents > 0) {
    factors.push(`${metrics.incidents} incident(s) over the last 7 days (max ${metrics.maxSeverity})`);
    level += 1;
  }
  return {
    proposalId: input.proposalId,
    fromPhase: state.phase,
    targetPhase: target,
    whitelistAdditions: [...rung.additions],
    whitelist: whitelistOf(state.ladder, target),
    validationPeriodDays: rung.validationDays,
    achievements: [
      `${days} days at ${state.phase}`,
      `readiness ${readiness.score}/80 (${readiness.status})`,
      `success rate ${pct(metrics.successRate)} over ${metrics.commands} command(s) in the last 7 days`,
      `${metrics.criticalIncidents} critical incident(s) in the last 7 days`,
      'no unresolved circuit breaker events',
    ],
    riskAssessment: {
      level: RISK_LEVELS[Math.min(level, 2)] as Proposal['riskAssessment']['level'],
      factors,
      mitigations: [
        `validation period of ${rung.validationDays ?? 0} day(s) at ${target} before any further expansion`,
        clipText(
          `circuit breakers checked continuously: ${enabledRules.map((r) => r.name).join(', ') || 'none enabled'}`,
          TEXT_MAX_LENGTH,
        ),
        'a revert_to_l3 breaker returns the engine to L3 at once',
      ],
    },
    requiredApprovals: [...rung.requiredApprovals],
    reportId: input.reportId,
    proposedBy: input.proposedBy,
    createdAt: now,
    expiresAt: addDays(now, input.proposalTtlDays),
  };
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(2)}%`;
}
