import { VERDICT_ACTIONS, type Check, type EngineMode, type VerdictAction } from '@bifrost/contracts';

/** The composed part of a verdict (the service adds ids, revision, risk level and the checks). */
export interface ComposedVerdict {
  readonly action: VerdictAction;
  readonly sizeMultiplier: number;
  /** In observe mode: what enforce mode would have answered. */
  readonly wouldBe?: { readonly action: VerdictAction; readonly sizeMultiplier: number };
}

// Lookups instead of `actionRank` (an indexOf) keep the hot loop free of scans and allocations.
// No prototype: an outcome such as `toString` finds nothing here, so it fails safe like any other.
const RANK: Readonly<Record<VerdictAction, number>> = Object.assign(
  Object.create(null) as Record<VerdictAction, number>,
  Object.fromEntries(VERDICT_ACTIONS.map((action, rank) => [action, rank])),
);
const REDUCE_SIZE_RANK = RANK.REDUCE_SIZE;
const BLOCK_RANK = RANK.BLOCK;
const KILL_RANK = RANK.KILL;
const UNGOVERNED: ComposedVerdict = Object.freeze({ action: 'ALLOW', sizeMultiplier: 1 });

/**
 * Most restrictive outcome wins (`ALLOW < … < KILL`); `sizeMultiplier` is the smallest multiplier
 * any check carries (1 when none), 0 from BLOCK up. An ALLOW with a multiplier below 1 becomes
 * REDUCE_SIZE; a multiplier of 0 or less (or not a number), an unknown outcome, or no checks at
 * all, means BLOCK.
 * `observe` answers ALLOW ×1 with the enforce verdict as `wouldBe`; `off` answers ALLOW ×1. The
 * kill switch (the only check that answers KILL) is an emergency stop, not a policy to rehearse: it
 * binds in every mode.
 */
export function composeVerdict(checks: readonly Check[], mode: EngineMode): ComposedVerdict {
  let rank = checks.length === 0 ? BLOCK_RANK : 0;
  let multiplier = 1;
  for (let i = 0; i < checks.length; i += 1) {
    const check = checks[i] as Check;
    // An outcome outside the vocabulary is a bug upstream: fail safe.
    const checkRank = RANK[check.outcome] ?? BLOCK_RANK;
    if (checkRank > rank) rank = checkRank;
    const m = check.sizeMultiplier;
    if (m !== undefined && !(m >= multiplier)) multiplier = m > 0 ? m : 0;
  }
  if (rank >= BLOCK_RANK || multiplier === 0) {
    multiplier = 0;
    if (rank < BLOCK_RANK) rank = BLOCK_RANK;
  } else if (multiplier < 1 && rank < REDUCE_SIZE_RANK) {
    rank = REDUCE_SIZE_RANK;
  }
  const action = VERDICT_ACTIONS[rank] as VerdictAction;
  if (mode === 'enforce' || rank === KILL_RANK) return { action, sizeMultiplier: multiplier };
  return mode === 'observe'
    ? { action: 'ALLOW', sizeMultiplier: 1, wouldBe: { action, sizeMultiplier: multiplier } }
    : UNGOVERNED;
}
