import type { MetricWindow } from '@bifrost/contracts';
import { DEFAULT_BREAKER_RULES, type BreakerRule } from './breaker-rules';
import { windowMetrics, type MetricsHistory, type WindowMetrics } from './command-metrics';

export type ReadinessStatus = 'READY' | 'ALMOST_READY' | 'NEEDS_WORK';
export type ReadinessCategory = 'technical' | 'process' | 'organizational';

/** An operator's statement that a checklist item holds (or not), with evidence; it may expire. */
export interface Attestation {
  readonly itemId: string;
  readonly passed: boolean;
  readonly evidence: string;
  readonly by: string;
  readonly at: string;
  readonly expiresAt?: string;
}

export interface ReadinessInput {
  readonly history: MetricsHistory;
  readonly phase: string;
  /** When the engine entered `phase` (RFC 3339). */
  readonly phaseSince: string;
  /** Keyed by item id. */
  readonly attestations: Readonly<Record<string, Attestation>>;
  /** The engine's breaker rules; the defaults (what every engine starts with) when omitted. */
  readonly breakerRules?: readonly BreakerRule[];
  readonly now: string;
}

/**
 * One checklist item. `metric` items are computed from the command history, the phase and the
 * breaker rules; `attestation` items pass on an unexpired passing attestation.
 */
export interface ChecklistItem {
  readonly id: string;
  readonly category: ReadinessCategory;
  /** The seed's sub-heading (Command Performance, Safety & Testing …). */
  readonly group: string;
  readonly name: string;
  readonly points: number;
  readonly required: boolean;
  readonly kind: 'metric' | 'attestation';
}

export interface ReadinessItemResult {
  readonly id: string;
  readonly category: ReadinessCategory;
  readonly points: number;
  readonly required: boolean;
  readonly kind: 'metric' | 'attestation';
  readonly passed: boolean;
  readonly detail: string;
}

export interface ReadinessReport {
  readonly score: number;
  readonly maxScore: 80;
  readonly byCategory: Record<ReadinessCategory, { readonly score: number; readonly max: number }>;
  readonly status: ReadinessStatus;
  readonly items: readonly ReadinessItemResult[];
  /** Why the engine is not READY: each failing required item, and a score below the bar. */
  readonly blockers: readonly string[];
}

/** Seed 003 thresholds: READY ≥ 76 (95 %) with every required item, ALMOST_READY 72–75, NEEDS_WORK < 72. */
export const READINESS_THRESHOLDS = { ready: 76, almostReady: 72 } as const;

/** The window the metric items read (the history keeps 30 days). */
export const READINESS_WINDOW: MetricWindow = '30d';

/** "6+ months at current phase", as the seed's 180-day stabilisation period. */
export const PHASE_TENURE_DAYS = 180;

const item = (
  category: ReadinessCategory,
  group: string,
  id: string,
  name: string,
  points: number,
  required: boolean,
  kind: 'metric' | 'attestation' = 'attestation',
): ChecklistItem => ({ id, category, group, name, points, required, kind });

/** Seed 003's 80-point checklist: technical 35, process 25, organizational 20. */
export const READINESS_CHECKLIST: readonly ChecklistItem[] = [
  item('technical', 'Command Performance', 'phase-tenure', '6+ months at current phase', 5, true, 'metric'),
  item('technical', 'Command Performance', 'success-rate', 'Success rate > 99.5%', 5, true, 'metric'),
  item('technical', 'Command Performance', 'approval-rate', 'Approval rate > 80%', 3, false, 'metric'),
  item('technical', 'Command Performance', 'rollback-rate', 'Rollback rate < 2%', 2, false, 'metric'),
  item('technical', 'Safety & Testing', 'eval-coverage', 'Eval coverage > 90%', 5, true),
  item(
    'technical',
    'Safety & Testing',
    'zero-critical-incidents',
    'Zero critical incidents from autonomous actions',
    5,
    true,
    'metric',
  ),
  item('technical', 'Infrastructure', 'circuit-breakers', 'Circuit breakers configured', 3, true, 'metric'),
  item('technical', 'Infrastructure', 'monitoring', 'Monitoring in place', 3, true),
  item('technical', 'Infrastructure', 'kill-switch-tested', 'Kill switch tested', 2, false),
  item('technical', 'Infrastructure', 'chaos-testing', 'Chaos testing completed', 2, false),
  item('process', 'Documentation', 'runbooks', 'Runbooks complete', 5, true),
  item('process', 'Documentation', 'incident-playbooks', 'Incident playbooks', 3, false),
  item('process', 'Documentation', 'architecture-docs', 'Architecture docs updated', 2, false),
  item('process', 'Approval Workflow', 'escalation-path', 'Clear escalation path', 4, true),
  item('process', 'Approval Workflow', 'stakeholder-signoff', 'Stakeholder sign-off', 4, true),
  item('process', 'Compliance', 'security-review', 'Security review', 3, false),
  item('process', 'Compliance', 'audit-trail', 'Audit trail implementation', 2, false),
  item('process', 'Compliance', 'rollback-plan', 'Rollback plan documented', 2, false),
  item('organizational', 'Team Readiness', 'oncall-trained', 'On-call rotation trained', 6, true),
  item('organizational', 'Team Readiness', 'team-consensus', 'Team consensus achieved', 6, true),
  item('organizational', 'Stakeholder Buy-in', 'product-approval', 'Product approval', 4, true),
  item('organizational', 'Stakeholder Buy-in', 'ops-approval', 'Ops approval', 4, true),
];

/** Ids of the items operators attest (the others are computed). */
export const ATTESTATION_ITEM_IDS: readonly string[] = READINESS_CHECKLIST.filter(
  (i) => i.kind === 'attestation',
).map((i) => i.id);

export function checklistItem(id: string): ChecklistItem | undefined {
  return READINESS_CHECKLIST.find((i) => i.id === id);
}

interface Verdict {
  readonly passed: boolean;
  readonly detail: string;
}

type MetricCheck = (input: ReadinessInput, metrics: WindowMetrics) => Verdict;

const DAY_MS = 24 * 60 * 60 * 1000;

const METRIC_CHECKS: Readonly<Record<string, MetricCheck>> = {
  'phase-tenure': (input) => {
    const days = Math.floor((Date.parse(input.now) - Date.parse(input.phaseSince)) / DAY_MS);
    return {
      passed: days >= PHASE_TENURE_DAYS,
      detail: `${days} days at ${input.phase} since ${input.phaseSince} (needs ${PHASE_TENURE_DAYS})`,
    };
  },
  'success-rate': (_input, m) =>
    m.commands === 0
      ? { passed: false, detail: `no commands in the last ${m.window}` }
      : {
          passed: m.successRate > 0.995,
          detail: `${percent(m.successRate)} of ${m.commands} commands succeeded in the last ${m.window} (needs > 99.5%)`,
        },
  'approval-rate': (_input, m) =>
    m.approvalsRequired === 0
      ? { passed: true, detail: `no command needed approval in the last ${m.window}` }
      : {
          passed: m.approvalRate > 0.8,
          detail: `${m.approvalsGranted} of ${m.approvalsRequired} approval requests granted (${percent(m.approvalRate)}, needs > 80%)`,
        },
  'rollback-rate': (_input, m) =>
    m.commands === 0
      ? { passed: false, detail: `no commands in the last ${m.window}` }
      : {
          passed: m.rollbackRate < 0.02,
          detail: `${m.rollbacks} of ${m.commands} commands rolled back (${percent(m.rollbackRate)}, needs < 2%)`,
        },
  // Every critical incident counts: one not attributed to a command may still come from an autonomous one.
  'zero-critical-incidents': (_input, m) => ({
    passed: m.criticalIncidents === 0,
    detail: `${m.criticalIncidents} critical incidents in the last ${m.window}`,
  }),
  'circuit-breakers': (input) => {
    const rules = input.breakerRules ?? DEFAULT_BREAKER_RULES;
    const enabled = rules.filter((r) => r.enabled);
    const reverting = enabled.filter((r) => r.action === 'revert_to_l3');
    return {
      passed: reverting.length > 0,
      detail:
        `${enabled.length} of ${rules.length} breaker rules enabled, ${reverting.length} reverting to L3` +
        (reverting.length > 0 ? '' : ' (needs at least one)'),
    };
  },
};

function attested(itemId: string, input: ReadinessInput): Verdict {
  const a = input.attestations[itemId];
  if (!a) return { passed: false, detail: 'not attested' };
  if (a.expiresAt !== undefined && Date.parse(a.expiresAt) <= Date.parse(input.now)) {
    return { passed: false, detail: `attestation by ${a.by} expired at ${a.expiresAt}` };
  }
  return {
    passed: a.passed,
    detail: `attested ${a.passed ? 'passing' : 'failing'} by ${a.by} at ${a.at}: ${a.evidence}`,
  };
}

/** Runs the 80-point checklist. */
export function assessReadiness(input: ReadinessInput): ReadinessReport {
  const metrics = windowMetrics(input.history, READINESS_WINDOW, input.now);
  const items = READINESS_CHECKLIST.map((checklist): ReadinessItemResult => {
    const check = METRIC_CHECKS[checklist.id];
    const verdict =
      checklist.kind === 'metric' && check ? check(input, metrics) : attested(checklist.id, input);
    return {
      id: checklist.id,
      category: checklist.category,
      points: checklist.points,
      required: checklist.required,
      kind: checklist.kind,
      passed: verdict.passed,
      detail: verdict.detail,
    };
  });
  const score = sum(items.filter((i) => i.passed));
  const byCategory = {
    technical: categoryScore(items, 'technical'),
    process: categoryScore(items, 'process'),
    organizational: categoryScore(items, 'organizational'),
  };
  const missingRequired = items.filter((i) => i.required && !i.passed);
  const status: ReadinessStatus =
    score >= READINESS_THRESHOLDS.ready && missingRequired.length === 0
      ? 'READY'
      : score >= READINESS_THRESHOLDS.almostReady
        ? 'ALMOST_READY'
        : 'NEEDS_WORK';
  const blockers = missingRequired.map((i) => `${checklistItem(i.id)?.name ?? i.id} (required): ${i.detail}`);
  if (score < READINESS_THRESHOLDS.ready) {
    blockers.push(`score ${score}/80 is below ${READINESS_THRESHOLDS.ready}`);
  }
  return { score, maxScore: 80, byCategory, status, items, blockers };
}

function categoryScore(items: readonly ReadinessItemResult[], category: ReadinessCategory) {
  const mine = items.filter((i) => i.category === category);
  return { score: sum(mine.filter((i) => i.passed)), max: sum(mine) };
}

function sum(items: readonly { readonly points: number }[]): number {
  return items.reduce((total, i) => total + i.points, 0);
}

/** A rate as a percentage to 0.001 %: 199/200 reads 99.5%, 200/201 99.502%, not both 99.5% beside a bar of 99.5%. */
function percent(rate: number): string {
  return `${Math.round(rate * 100_000) / 1_000}%`;
}
