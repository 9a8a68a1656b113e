import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { MATURITY_LEVELS, type Money } from '@bifrost/contracts';
import { type EntityManager } from 'typeorm';
import { insertRows } from '../projector/bulk-writes';
import { type SqlValue, type Statements } from '../projector/statements';
import { dataOf, perBatch, strategyKeyOf, type ProjectedMessage, type Projection } from './projection';

/** One row per (engine, strategy): maturity, capital, the evidence behind health, drift baseline, pause. */
@Entity({ name: 'strategies' })
export class StrategyRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @PrimaryColumn({ name: 'strategy_id', type: 'text' }) strategyId!: string;
  @Column({ type: 'text' }) level!: string;
  @Column({ name: 'level_changed_at', type: 'timestamptz', nullable: true }) levelChangedAt!: Date | null;
  /** The level was lowered below the one the engine last knew, and the engine not yet told. */
  @Column({ name: 'demotion_pending', type: 'boolean' }) demotionPending!: boolean;
  /** While a demotion is pending, the level the engine last knew (the gate's pending `from`). */
  @Column({ name: 'demotion_pending_from', type: 'text', nullable: true }) demotionPendingFrom!:
    | string
    | null;
  @Column({ name: 'capital', type: 'jsonb', nullable: true }) capital!: Money | null;
  @Column({ name: 'registered_at', type: 'timestamptz', nullable: true }) registeredAt!: Date | null;
  @Column({ type: 'integer' }) outcomes!: number;
  @Column({ type: 'integer' }) wins!: number;
  @Column({ type: 'integer' }) losses!: number;
  @Column({ name: 'pnl_total', type: 'bigint' }) pnlTotal!: number;
  @Column({ name: 'last_outcome_id', type: 'text', nullable: true }) lastOutcomeId!: string | null;
  @Column({ name: 'last_outcome_pnl', type: 'jsonb', nullable: true }) lastOutcomePnl!: Money | null;
  @Column({ name: 'last_outcome_at', type: 'timestamptz', nullable: true }) lastOutcomeAt!: Date | null;
  @Column({ type: 'jsonb', nullable: true }) baseline!: Record<string, unknown> | null;
  @Column({ type: 'boolean' }) paused!: boolean;
  @Column({ name: 'pause_reason', type: 'text', nullable: true }) pauseReason!: string | null;
  @Column({ name: 'pause_drift', type: 'jsonb', nullable: true }) pauseDrift!: {
    value: number;
    threshold: number;
  } | null;
  @Column({ name: 'cooldown_until', type: 'timestamptz', nullable: true }) cooldownUntil!: Date | null;
  @Column({ name: 'paused_by', type: 'text', nullable: true }) pausedBy!: string | null;
  @Column({ name: 'paused_at', type: 'timestamptz', nullable: true }) pausedAt!: Date | null;
  @Column({ name: 'resumed_at', type: 'timestamptz', nullable: true }) resumedAt!: Date | null;
}

/** Every outcome an engine reported, as the gate counted it. */
@Entity({ name: 'strategy_outcomes' })
@Index(['engineId', 'strategyId', 'recordedAt'])
export class StrategyOutcomeRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'outcome_id', type: 'text' }) outcomeId!: string;
  @Column({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ name: 'strategy_id', type: 'text' }) strategyId!: string;
  @Column({ name: 'pnl_amount', type: 'bigint' }) pnlAmount!: number;
  @Column({ name: 'pnl_currency', type: 'text' }) pnlCurrency!: string;
  @Column({ type: 'text' }) level!: string;
  @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
}

/** The maturity history: promotions, demotions and overrides with their evidence. */
@Entity({ name: 'strategy_maturity_changes' })
@Index(['engineId', 'strategyId', 'changedAt'])
export class StrategyMaturityChangeRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ name: 'strategy_id', type: 'text' }) strategyId!: string;
  @Column({ type: 'text' }) kind!: 'promoted' | 'demoted' | 'overridden';
  @Column({ name: 'from_level', type: 'text' }) fromLevel!: string;
  @Column({ name: 'to_level', type: 'text' }) toLevel!: string;
  @Column({ type: 'jsonb' }) detail!: Record<string, unknown>;
  @Column({ name: 'changed_at', type: 'timestamptz' }) changedAt!: Date;
}

/**
 * A strategy the gate knows starts at L0 with no evidence (fail safe), even if its registration is
 * not projected yet: its row is created if missing, then updated. `$1`, `$2` are engine and
 * strategy; `values` follow from `$3`.
 */
function updateStrategy(
  sql: Statements,
  message: ProjectedMessage,
  assignments: string,
  values: readonly SqlValue[],
): void {
  const { engineId, strategyId } = strategyKeyOf(message);
  sql.add(
    `INSERT INTO strategies (engine_id, strategy_id, level, demotion_pending, outcomes, wins, losses, pnl_total, paused)
     VALUES ($1, $2, 'L0', false, 0, 0, 0, 0, false) ON CONFLICT DO NOTHING`,
    [engineId, strategyId],
  );
  sql.add(`UPDATE strategies AS s SET ${assignments} WHERE engine_id = $1 AND strategy_id = $2`, [
    engineId,
    strategyId,
    ...values,
  ]);
}

/**
 * The gate's pending demotion after a level change to `$3` (`pendingAfter` in the gate's strategy
 * evolve, over the row before the change): the level the engine last knew (the pending one's, else
 * the level left) while `$3` is below it and the change lowered the level (`$5`, any but a
 * promotion) or one was already pending; else null. `$6` is the ladder, lowest first.
 */
const KNOWN_LEVEL = 'COALESCE(s.demotion_pending_from, s.level)';
const PENDING_FROM = `(CASE WHEN ($5::boolean OR s.demotion_pending_from IS NOT NULL)
  AND array_position($6::text[], $3::text) < array_position($6::text[], ${KNOWN_LEVEL}) THEN ${KNOWN_LEVEL} END)`;

function recordMaturityChange(
  sql: Statements,
  message: ProjectedMessage,
  kind: StrategyMaturityChangeRow['kind'],
  at: string,
): void {
  const d = dataOf<{ from: string; to: string } & Record<string, unknown>>(message);
  const { engineId, strategyId } = strategyKeyOf(message);
  sql.add(
    `INSERT INTO strategy_maturity_changes (event_id, engine_id, strategy_id, kind, from_level, to_level, detail, changed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [message.envelope.id, engineId, strategyId, kind, d.from, d.to, JSON.stringify(d), at],
  );
  updateStrategy(
    sql,
    message,
    `level = $3, level_changed_at = $4, demotion_pending_from = ${PENDING_FROM},
     demotion_pending = ${PENDING_FROM} IS NOT NULL`,
    [d.to, at, kind !== 'promoted', MATURITY_LEVELS],
  );
}

interface OutcomeRecorded {
  outcomeId: string;
  pnl: Money;
  level: string;
  recordedAt: string;
}

/**
 * The hot path of the strategies: every outcome row in one statement, then one counter update per
 * strategy for the whole batch (outcome columns are written by outcomes only, so this commutes with
 * the other strategy events). A strategy not projected yet starts at L0 with no evidence, as in
 * {@link updateStrategy}.
 */
async function recordOutcomes(manager: EntityManager, messages: readonly ProjectedMessage[]): Promise<void> {
  const outcomes = messages.map((message) => ({
    ...strategyKeyOf(message),
    eventId: message.envelope.id,
    d: dataOf<OutcomeRecorded>(message),
  }));
  await insertRows(
    manager,
    'strategy_outcomes',
    outcomes.map((o) => ({
      event_id: o.eventId,
      outcome_id: o.d.outcomeId,
      engine_id: o.engineId,
      strategy_id: o.strategyId,
      pnl_amount: o.d.pnl.amount,
      pnl_currency: o.d.pnl.currency,
      level: o.d.level,
      recorded_at: o.d.recordedAt,
    })),
  );
  const totals = new Map<
    string,
    {
      engineId: string;
      strategyId: string;
      n: number;
      wins: number;
      losses: number;
      /** Exact: amounts are safe integers, their sum need not be (a double would round it). */
      pnl: bigint;
      last: (typeof outcomes)[number];
    }
  >();
  for (const o of outcomes) {
    const key = `${o.engineId}:${o.strategyId}`;
    const total = totals.get(key) ?? {
      engineId: o.engineId,
      strategyId: o.strategyId,
      n: 0,
      wins: 0,
      losses: 0,
      pnl: 0n,
      last: o,
    };
    total.n += 1;
    total.wins += o.d.pnl.amount > 0 ? 1 : 0;
    total.losses += o.d.pnl.amount < 0 ? 1 : 0;
    total.pnl += BigInt(o.d.pnl.amount);
    total.last = o;
    totals.set(key, total);
  }
  const rows = [...totals.values()];
  await insertRows(
    manager,
    'strategies',
    rows.map((r) => ({
      engine_id: r.engineId,
      strategy_id: r.strategyId,
      level: 'L0',
      demotion_pending: false,
      outcomes: 0,
      wins: 0,
      losses: 0,
      pnl_total: 0,
      paused: false,
    })),
    'ON CONFLICT DO NOTHING',
  );
  await manager.query(
    `UPDATE strategies AS s SET outcomes = s.outcomes + t.n, wins = s.wins + t.wins, losses = s.losses + t.losses,
       pnl_total = s.pnl_total + t.pnl, last_outcome_id = t.outcome_id, last_outcome_pnl = t.pnl_json::jsonb,
       last_outcome_at = t.recorded_at
     FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::integer[], $6::bigint[], $7::text[],
       $8::text[], $9::timestamptz[]) AS t(engine_id, strategy_id, n, wins, losses, pnl, outcome_id, pnl_json, recorded_at)
     WHERE s.engine_id = t.engine_id AND s.strategy_id = t.strategy_id`,
    [
      rows.map((r) => r.engineId),
      rows.map((r) => r.strategyId),
      rows.map((r) => r.n),
      rows.map((r) => r.wins),
      rows.map((r) => r.losses),
      rows.map((r) => r.pnl.toString()),
      rows.map((r) => r.last.d.outcomeId),
      rows.map((r) => JSON.stringify(r.last.d.pnl)),
      rows.map((r) => r.last.d.recordedAt),
    ],
  );
}

/** Gate strategies: maturity ladder, outcomes, drift baseline, pauses. */
export const strategiesProjection: Projection = {
  name: 'strategies',
  tables: ['strategy_maturity_changes', 'strategy_outcomes', 'strategies'],
  entities: [StrategyRow, StrategyOutcomeRow, StrategyMaturityChangeRow],
  ...perBatch(
    { 'gate.OutcomeRecorded': recordOutcomes },
    {
      'gate.StrategyRegistered': (sql, message) => {
        const d = dataOf<{ capital: Money | null; registeredAt: string }>(message);
        updateStrategy(sql, message, 'capital = COALESCE(s.capital, $3::jsonb), registered_at = $4', [
          d.capital === null ? null : JSON.stringify(d.capital),
          d.registeredAt,
        ]);
      },
      'gate.StrategyCapitalSet': (sql, message) => {
        const d = dataOf<{ capital: Money }>(message);
        updateStrategy(sql, message, 'capital = $3::jsonb', [JSON.stringify(d.capital)]);
      },
      'gate.MaturityPromoted': (sql, message) =>
        recordMaturityChange(sql, message, 'promoted', dataOf<{ promotedAt: string }>(message).promotedAt),
      'gate.MaturityDemoted': (sql, message) =>
        recordMaturityChange(sql, message, 'demoted', dataOf<{ demotedAt: string }>(message).demotedAt),
      'gate.MaturityOverridden': (sql, message) =>
        recordMaturityChange(
          sql,
          message,
          'overridden',
          dataOf<{ overriddenAt: string }>(message).overriddenAt,
        ),
      'gate.DemotionAcknowledged': (sql, message) =>
        updateStrategy(sql, message, 'demotion_pending = false, demotion_pending_from = NULL', []),
      'gate.BaselineRegistered': (sql, message) => {
        updateStrategy(sql, message, 'baseline = $3', [JSON.stringify(message.envelope.data)]);
      },
      'gate.StrategyPaused': (sql, message) => {
        const d = dataOf<{
          reason: string;
          drift: { value: number; threshold: number } | null;
          cooldownUntil: string | null;
          pausedBy: string;
          pausedAt: string;
        }>(message);
        updateStrategy(
          sql,
          message,
          'paused = true, pause_reason = $3, pause_drift = $4, cooldown_until = $5, paused_by = $6, paused_at = $7',
          [
            d.reason,
            d.drift === null ? null : JSON.stringify(d.drift),
            d.cooldownUntil,
            d.pausedBy,
            d.pausedAt,
          ],
        );
      },
      'gate.StrategyResumed': (sql, message) => {
        const d = dataOf<{ resumedAt: string }>(message);
        updateStrategy(sql, message, 'paused = false, cooldown_until = NULL, resumed_at = $3', [d.resumedAt]);
      },
    },
  ),
};
