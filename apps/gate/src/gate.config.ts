import { Type, type Static } from '@sinclair/typebox';
import { CommonConfigProperties } from '@bifrost/config';
import { DEFAULT_IMPACT_CONFIG, type ImpactConfig, type TierThresholds } from '@bifrost/domain-gate';

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
   * The impact classifier's notional thresholds per currency, in minor units: where MEDIUM, HIGH
   * and CRITICAL begin. Every currency an engine trades needs an entry: a notional in a currency not
   * listed counts as CRITICAL (docs/gate-control.md, "Impact classifier").
   */
  GATE_IMPACT_NOTIONAL: Type.String({
    pattern: `^${NOTIONAL_ENTRY}(,${NOTIONAL_ENTRY})*$`,
    default: formatNotionalThresholds(DEFAULT_IMPACT_CONFIG.notional),
  }),
});
export type GateConfig = Static<typeof GateConfig>;

export const GATE_CONFIG = 'gate:CONFIG';

/** The impact classifier's configuration: the defaults with GATE_IMPACT_NOTIONAL's table. */
export function impactConfigOf(config: Pick<GateConfig, 'GATE_IMPACT_NOTIONAL'>): ImpactConfig {
  const notional: Record<string, TierThresholds> = {};
  for (const entry of config.GATE_IMPACT_NOTIONAL.split(',')) {
    const [currency = '', bands = ''] = entry.split('=');
    const [medium = 0, high = 0, critical = 0] = bands.split('/').map(Number);
    if (Object.hasOwn(notional, currency))
      throw new Error(`GATE_IMPACT_NOTIONAL: ${currency} is listed twice`);
    if (!(medium > 0 && medium < high && high < critical))
      throw new Error(`GATE_IMPACT_NOTIONAL: "${entry}" needs 0 < medium < high < critical`);
    notional[currency] = { medium, high, critical };
  }
  return { ...DEFAULT_IMPACT_CONFIG, notional };
}
