import {
  RISK_LEVELS,
  type EngineMode,
  type GateCheckRequest,
  type RiskLevel,
  type VerdictAction,
} from '@bifrost/contracts';

/** What happens to the action (seed 004 A3's `action`), derived from the composed verdict. */
export const RISK_DISPOSITIONS = ['execute', 'auto_respond', 'require_human', 'skip', 'log_only'] as const;
export type RiskDisposition = (typeof RISK_DISPOSITIONS)[number];

export const CONFIDENCE_BUCKETS = ['LOW', 'MEDIUM', 'HIGH'] as const;
export type ConfidenceBucket = (typeof CONFIDENCE_BUCKETS)[number];

/** Lower bounds (inclusive) of the MEDIUM and HIGH confidence buckets. */
export const CONFIDENCE_MEDIUM_FROM = 0.6;
export const CONFIDENCE_HIGH_FROM = 0.9;

export const CRITICAL_SESSION = 'critical_session';
export const SAFE_SESSION = 'safe_session';

export interface RiskInput {
  readonly disposition: RiskDisposition;
  readonly confidence: ConfidenceBucket;
  /** seed 004's `destructive_confirm` prompt type. */
  readonly destructive: boolean;
  readonly sessionTags: readonly string[];
}

/** Missing confidence counts as LOW: an engine that does not say how sure it is is not sure. */
export function confidenceBucket(confidence: number | undefined): ConfidenceBucket {
  if (confidence === undefined || Number.isNaN(confidence)) return 'LOW';
  if (confidence >= CONFIDENCE_HIGH_FROM) return 'HIGH';
  if (confidence >= CONFIDENCE_MEDIUM_FROM) return 'MEDIUM';
  return 'LOW';
}

/**
 * observe and off: Bifrost only records (log_only), except a KILL, which binds in every mode.
 * enforce: ALLOW / REDUCE_SIZE execute (auto_respond for command-type actions), REQUIRE_APPROVAL
 * waits for a human, anything stricter is skipped.
 */
export function riskDisposition(
  action: VerdictAction,
  mode: EngineMode,
  isCommand: boolean,
): RiskDisposition {
  // A KILL binds in every mode (ADR 0015): the engine skips the action, whatever its mode.
  if (mode !== 'enforce' && action !== 'KILL') return 'log_only';
  switch (action) {
    case 'ALLOW':
    case 'REDUCE_SIZE':
      return isCommand ? 'auto_respond' : 'execute';
    case 'REQUIRE_APPROVAL':
      return 'require_human';
    case 'BLOCK':
    case 'DEMOTE':
    case 'PAUSE':
    case 'KILL':
      return 'skip';
  }
}

/** The seed 004 A3 decision table, before session overrides. */
function tableLevel(input: RiskInput): RiskLevel {
  if (input.destructive) return 'CRITICAL';
  const high = input.confidence === 'HIGH';
  switch (input.disposition) {
    case 'execute':
      return high ? 'HIGH' : 'CRITICAL';
    case 'auto_respond':
      return high ? 'MEDIUM' : 'HIGH';
    case 'require_human':
      return input.confidence === 'LOW' ? 'MEDIUM' : 'LOW';
    case 'skip':
      return 'LOW';
    case 'log_only':
      return 'NONE';
  }
}

function rank(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

/**
 * Deterministic risk level (seed 004 A3): the decision table, then `critical_session` raises the
 * level to at least HIGH, `safe_session` caps it at MEDIUM; with both tags, critical wins.
 */
export function classifyRisk(input: RiskInput): RiskLevel {
  const level = tableLevel(input);
  if (input.sessionTags.includes(CRITICAL_SESSION)) return rank(level) < rank('HIGH') ? 'HIGH' : level;
  if (input.sessionTags.includes(SAFE_SESSION)) return rank(level) > rank('MEDIUM') ? 'MEDIUM' : level;
  return level;
}

/** The `riskLevel` of a verdict: the request's declarations plus the composed (enforce-mode) action. */
export function verdictRiskLevel(
  request: GateCheckRequest,
  action: VerdictAction,
  mode: EngineMode,
): RiskLevel {
  return classifyRisk({
    disposition: riskDisposition(action, mode, request.action.commandType !== undefined),
    confidence: confidenceBucket(request.confidence),
    destructive: request.impact?.destructive === true,
    sessionTags: request.sessionTags ?? [],
  });
}
