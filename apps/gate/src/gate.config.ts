import { Type, type Static } from '@sinclair/typebox';
import { CommonConfigProperties, ConfigError, type ConfigProblem } from '@bifrost/config';
import {
  DEFAULT_IMPACT_CONFIG,
  strategyPolicy,
  type ImpactConfig,
  type StrategyPolicy,
  type StrategyPolicyOverrides,
  type TierThresholds,
} from '@bifrost/domain-gate';

const NOTIONAL_ENTRY = '[A-Z]{3}=\\d+/\\d+/\\d+';

/** `CUR=medium/high/critical,…`: the notional table as GATE_IMPACT_NOTIONAL writes it. */
export function formatNotionalThresholds(table: Readonly<Record<string, TierThresholds>>): string {
  return Object.entries(table)
    .map(([currency, t]) => `${currency}=${t.medium}/${t.high}/${t.critical}`)
    .join(',');
}

export const GateConfig = Type.Object({
  ...CommonConfigProperties,
  /**
   * Longest a replica answers checks from state it has not proven current: past it, checks get
   * `INFRA.STATE_STALE` until the replica's event tail catches up (docs/gate.md). It is verified a
   * quarter of this apart.
   */
  GATE_MAX_STATE_LAG_MS: Type.Integer({ minimum: 200, default: 2_000 }),
  /**
   * Longest a check waits, in all from its arrival: for its turn on its strategy when it leaves
   * events behind (else `CONCURRENCY.CONFLICT`, undecided) and for JetStream to acknowledge what it
   * stores (its events, a new policy revision, its decision record; else `GATE.RECORD_FAILED`).
   * Below the SDK's default deadline (2 s), so that under a stalled JetStream an engine reads the
   * gate's explicit error rather than its own timeout.
   */
  GATE_RECORD_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 1_000 }),
  /**
   * The impact classifier's notional thresholds per currency, in minor units: where MEDIUM, HIGH
   * and CRITICAL begin. Every currency an engine trades needs an entry: a notional in a currency not
   * listed counts as CRITICAL (docs/gate-control.md, "Impact classifier").
   */
  GATE_IMPACT_NOTIONAL: Type.String({
    pattern: `^${NOTIONAL_ENTRY}(,${NOTIONAL_ENTRY})*$`,
    default: formatNotionalThresholds(DEFAULT_IMPACT_CONFIG.notional),
  }),
  /**
   * Overrides of the strategy policy's defaults, as a JSON object of the policy's shape, e.g.
   * `{"health":{"floor":0.3},"promotion":{"minOutcomes":100}}` (docs/gate-strategy.md).
   */
  GATE_STRATEGY_POLICY: Type.String({ default: '{}' }),
});
export type GateConfig = Static<typeof GateConfig>;

export const GATE_CONFIG = 'gate:CONFIG';

/** The policies the gate judges by that come from its configuration; the same on every replica. */
export interface GatePolicies {
  readonly strategy: StrategyPolicy;
  readonly impact: ImpactConfig;
}

export const GATE_POLICIES = 'gate:POLICIES';

/**
 * Reads the policies out of the configuration. Bad values throw one ConfigError naming every
 * variable and what is wrong with it, as loading the configuration does (the gate does not start).
 */
export function gatePoliciesOf(config: GateConfig): GatePolicies {
  const problems: ConfigProblem[] = [];
  const read = <T>(variable: keyof GateConfig, parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      problems.push({ variable, message: (error as Error).message });
      return undefined;
    }
  };
  const strategy = read('GATE_STRATEGY_POLICY', () => strategyPolicyOf(config));
  const impact = read('GATE_IMPACT_NOTIONAL', () => impactConfigOf(config));
  if (!strategy || !impact) throw new ConfigError(problems);
  return { strategy, impact };
}

function strategyPolicyOf(config: Pick<GateConfig, 'GATE_STRATEGY_POLICY'>): StrategyPolicy {
  let overrides: unknown;
  try {
    overrides = JSON.parse(config.GATE_STRATEGY_POLICY);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  return strategyPolicy(overrides as StrategyPolicyOverrides);
}

/** The impact classifier's configuration: the defaults with GATE_IMPACT_NOTIONAL's table. */
export function impactConfigOf(config: Pick<GateConfig, 'GATE_IMPACT_NOTIONAL'>): ImpactConfig {
  const notional: Record<string, TierThresholds> = {};
  for (const entry of config.GATE_IMPACT_NOTIONAL.split(',')) {
    const [currency = '', bands = ''] = entry.split('=');
    const [medium = 0, high = 0, critical = 0] = bands.split('/').map(Number);
    if (Object.hasOwn(notional, currency)) throw new Error(`${currency} is listed twice`);
    if (!(medium > 0 && medium < high && high < critical && Number.isSafeInteger(critical)))
      throw new Error(`"${entry}" needs 0 < medium < high < critical ≤ ${Number.MAX_SAFE_INTEGER}`);
    notional[currency] = { medium, high, critical };
  }
  return { ...DEFAULT_IMPACT_CONFIG, notional };
}
