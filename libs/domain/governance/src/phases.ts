import {
  AUTONOMY_PHASES,
  MAX_WHITELIST_ITEMS,
  type ApproverRole,
  type AutonomyPhase,
  type PhaseLadder,
  type PhaseRung,
} from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';

export type { ApproverRole, AutonomyPhase, PhaseLadder, PhaseRung };

/** The phase every engine starts at and every `revert_to_l3` breaker returns to. */
export const BASELINE_PHASE: AutonomyPhase = 'L3';

/** Seed 003: "180+ days for initial expansion", the least a ladder may ask at the L3 baseline. */
export const INITIAL_STABILIZATION_DAYS = 180;

/**
 * Seed 003's ladder: L3 baseline (nothing whitelisted), L3+ SET_POWER/SET_FAN (14 days, Tech Lead),
 * L4 + SET_DRUM/SET_AIRFLOW (21 days, + Ops Lead), L4+ + PREHEAT/COOLING_CYCLE (30 days,
 * + Product Lead), L5 + EMERGENCY_SHUTDOWN/ABORT (60 days, + Exec Sponsor). Leaving a phase needs
 * its stabilization period (see {@link stabilizationPeriod}): 180 days for the initial expansion
 * (seed), the phase's validation period after that.
 */
export const DEFAULT_PHASE_LADDER: PhaseLadder = [
  {
    phase: 'L3',
    additions: [],
    validationDays: null,
    stabilizationDays: INITIAL_STABILIZATION_DAYS,
    requiredApprovals: [],
  },
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
 * rung, adds each command type at one phase only, whitelists nothing at L3 (the baseline is where a breaker sends an engine back to, with
 * every command needing a human, seed 003) and states each stabilization period once: L3 has no
 * validation period and stabilizes at least 180 days; above L3 a rung's `stabilizationDays` is its
 * `validationDays` (the contract carries that period twice, so a ladder where they differ is refused
 * rather than one of them silently ignored).
 */
export function validateLadder(ladder: PhaseLadder): PhaseLadder {
  const phases = ladder.map((r) => r.phase);
  if (phases.length !== AUTONOMY_PHASES.length || phases.some((p, i) => p !== AUTONOMY_PHASES[i])) {
    throw badLadder(`the ladder must list ${AUTONOMY_PHASES.join(', ')} in order`, { phases });
  }
  const baseline = ladder[0] as PhaseRung;
  if (baseline.additions.length > 0) {
    throw badLadder(
      `${BASELINE_PHASE} whitelists nothing (every command needs approval there, and breakers revert to it)`,
      { additions: baseline.additions },
    );
  }
  if (baseline.validationDays !== null || baseline.stabilizationDays < INITIAL_STABILIZATION_DAYS) {
    throw badLadder(
      `${BASELINE_PHASE} has no validation period (validationDays null) and stabilizes at least ${INITIAL_STABILIZATION_DAYS} days`,
      { validationDays: baseline.validationDays, stabilizationDays: baseline.stabilizationDays },
    );
  }
  // The top phase whitelists every type of the ladder: each phase's whitelist must fit the events
  // that carry it, or every cycle proposing that phase would fail.
  const added = ladder.flatMap((rung) => rung.additions);
  const whitelisted = new Set(added).size;
  // A type is added once, at the phase that first allows it: twice would be a typo or a rung that
  // means to add something else (as a role listed twice is).
  const twice = [...new Set(added.filter((type, i) => added.indexOf(type) !== i))];
  if (twice.length > 0) {
    throw badLadder(
      `the ladder adds ${twice.join(', ')} more than once; each command type joins at one phase`,
      {
        twice,
      },
    );
  }
  if (whitelisted > MAX_WHITELIST_ITEMS) {
    throw badLadder(
      `the ladder whitelists ${whitelisted} command types in all; a whitelist holds at most ${MAX_WHITELIST_ITEMS}`,
      { whitelisted },
    );
  }
  for (const rung of ladder) {
    if (new Set(rung.requiredApprovals).size !== rung.requiredApprovals.length) {
      throw badLadder(`${rung.phase} lists a required role twice`);
    }
    if (rung.phase === BASELINE_PHASE) continue;
    if (rung.requiredApprovals.length === 0) {
      throw badLadder(`${rung.phase} needs at least one required approval`);
    }
    if (rung.validationDays === null || rung.stabilizationDays !== rung.validationDays) {
      throw badLadder(
        `${rung.phase} needs a validation period, and its stabilizationDays must equal its validationDays`,
        { validationDays: rung.validationDays, stabilizationDays: rung.stabilizationDays },
      );
    }
  }
  return ladder;
}

function badLadder(message: string, details?: Record<string, unknown>): ValidationError {
  return new ValidationError(message, { code: 'GOVERNANCE.BAD_LADDER', ...(details ? { details } : {}) });
}

export function rungOf(ladder: PhaseLadder, phase: AutonomyPhase): PhaseRung {
  const rung = ladder.find((r) => r.phase === phase);
  if (!rung) throw new ValidationError(`unknown phase ${phase}`, { code: 'GOVERNANCE.UNKNOWN_PHASE' });
  return rung;
}

/**
 * Days an engine stays at `phase` before the cycle may propose leaving it: the phase's validation
 * period (what the proposal that brought it there showed), and at L3, which has none, the ladder's
 * initial stabilization period. (Reading the validation period first also holds for ladders stored
 * before validateLadder required both to agree.) The readiness checklist asks 180 days at the current
 * phase on top of this (its required item `phase-tenure`).
 */
export function stabilizationPeriod(ladder: PhaseLadder, phase: AutonomyPhase): number {
  const rung = rungOf(ladder, phase);
  return rung.validationDays ?? rung.stabilizationDays;
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
