import {
  AUTONOMY_PHASES,
  type ApproverRole,
  type AutonomyPhase,
  type PhaseLadder,
  type PhaseRung,
} from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';

export type { ApproverRole, AutonomyPhase, PhaseLadder, PhaseRung };

/** The phase every engine starts at and every `revert_to_l3` breaker returns to. */
export const BASELINE_PHASE: AutonomyPhase = 'L3';

/**
 * Seed 003's ladder: L3 baseline (nothing whitelisted), L3+ SET_POWER/SET_FAN (14 days, Tech Lead),
 * L4 + SET_DRUM/SET_AIRFLOW (21 days, + Ops Lead), L4+ + PREHEAT/COOLING_CYCLE (30 days,
 * + Product Lead), L5 + EMERGENCY_SHUTDOWN/ABORT (60 days, + Exec Sponsor). Leaving a phase needs
 * its stabilization period: 180 days for the initial expansion (seed), the phase's validation period
 * after that.
 */
export const DEFAULT_PHASE_LADDER: PhaseLadder = [
  { phase: 'L3', additions: [], validationDays: null, stabilizationDays: 180, requiredApprovals: [] },
  {
    phase: 'L3+',
    additions: ['SET_POWER', 'SET_FAN'],
    validationDays: 14,
    stabilizationDays: 14,
    requiredApprovals: ['tech_lead'],
  },
  {
    phase: 'L4',
    additions: ['SET_DRUM', 'SET_AIRFLOW'],
    validationDays: 21,
    stabilizationDays: 21,
    requiredApprovals: ['tech_lead', 'ops_lead'],
  },
  {
    phase: 'L4+',
    additions: ['PREHEAT', 'COOLING_CYCLE'],
    validationDays: 30,
    stabilizationDays: 30,
    requiredApprovals: ['tech_lead', 'ops_lead', 'product_lead'],
  },
  {
    phase: 'L5',
    additions: ['EMERGENCY_SHUTDOWN', 'ABORT'],
    validationDays: 60,
    stabilizationDays: 60,
    requiredApprovals: ['tech_lead', 'ops_lead', 'product_lead', 'exec_sponsor'],
  },
];

/**
 * Throws `GOVERNANCE.BAD_LADDER` unless the ladder lists L3 … L5 in order with distinct roles per
 * rung and whitelists nothing at L3: the baseline is where a breaker sends an engine back to, with
 * every command needing a human (seed 003).
 */
export function validateLadder(ladder: PhaseLadder): PhaseLadder {
  const phases = ladder.map((r) => r.phase);
  if (phases.length !== AUTONOMY_PHASES.length || phases.some((p, i) => p !== AUTONOMY_PHASES[i])) {
    throw new ValidationError(`the ladder must list ${AUTONOMY_PHASES.join(', ')} in order`, {
      code: 'GOVERNANCE.BAD_LADDER',
      details: { phases },
    });
  }
  const baseline = ladder[0] as PhaseRung;
  if (baseline.additions.length > 0) {
    throw new ValidationError(
      `${BASELINE_PHASE} whitelists nothing (every command needs approval there, and breakers revert to it)`,
      { code: 'GOVERNANCE.BAD_LADDER', details: { additions: baseline.additions } },
    );
  }
  for (const rung of ladder) {
    if (new Set(rung.requiredApprovals).size !== rung.requiredApprovals.length) {
      throw new ValidationError(`${rung.phase} lists a required role twice`, {
        code: 'GOVERNANCE.BAD_LADDER',
      });
    }
    if (rung.phase !== BASELINE_PHASE && rung.requiredApprovals.length === 0) {
      throw new ValidationError(`${rung.phase} needs at least one required approval`, {
        code: 'GOVERNANCE.BAD_LADDER',
      });
    }
  }
  return ladder;
}

export function rungOf(ladder: PhaseLadder, phase: AutonomyPhase): PhaseRung {
  const rung = ladder.find((r) => r.phase === phase);
  if (!rung) throw new ValidationError(`unknown phase ${phase}`, { code: 'GOVERNANCE.UNKNOWN_PHASE' });
  return rung;
}

/** The phase after `phase`, or null at the top (L5). */
export function nextPhase(phase: AutonomyPhase): AutonomyPhase | null {
  return AUTONOMY_PHASES[AUTONOMY_PHASES.indexOf(phase) + 1] ?? null;
}

/** The cumulative whitelist of a phase: its additions and those of every phase below, sorted. */
export function whitelistOf(ladder: PhaseLadder, phase: AutonomyPhase): string[] {
  const upTo = AUTONOMY_PHASES.indexOf(phase);
  const commands = ladder.filter((r) => AUTONOMY_PHASES.indexOf(r.phase) <= upTo).flatMap((r) => r.additions);
  return [...new Set(commands)].sort();
}

/** What the gate receives: the phase's whitelist without the command types a breaker paused. */
export function effectiveWhitelist(
  ladder: PhaseLadder,
  phase: AutonomyPhase,
  paused: Iterable<string>,
): string[] {
  const blocked = new Set(paused);
  return whitelistOf(ladder, phase).filter((c) => !blocked.has(c));
}

const DAY_MS = 86_400_000;

/** Whole days from `since` to `now` (never negative). */
export function daysBetween(since: string, now: string): number {
  return Math.max(0, Math.floor((Date.parse(now) - Date.parse(since)) / DAY_MS));
}

export function addDays(at: string, days: number): string {
  return new Date(Date.parse(at) + days * DAY_MS).toISOString();
}
