import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type EntityManager } from 'typeorm';
import { insertRows } from '../projector/bulk-writes';
import { type Statements } from '../projector/statements';
import { dataOf, perBatch, type ProjectedMessage, type Projection } from './projection';

/** Risk policies (GLOBAL and per engine) as the risk guard last defined them. */
@Entity({ name: 'risk_policies' })
export class RiskPolicyRow {
  @PrimaryColumn({ name: 'policy_id', type: 'text' }) policyId!: string;
  @Column({ type: 'jsonb' }) limits!: Record<string, unknown>;
  @Column({ type: 'boolean' }) enabled!: boolean;
  @Column({ type: 'boolean' }) throttled!: boolean;
  @Column({ name: 'throttled_since', type: 'timestamptz', nullable: true }) throttledSince!: Date | null;
  @Column({ name: 'last_cause', type: 'jsonb' }) lastCause!: Record<string, unknown>;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** Every daily-ledger entry, in journal order (events stream). */
@Entity({ name: 'risk_ledger_entries' })
@Index(['day', 'eventId', 'position'])
export class RiskLedgerEntryRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @PrimaryColumn({ type: 'integer' }) position!: number;
  @Column({ type: 'text' }) day!: string;
  @Column({ name: 'entry_type', type: 'text' }) entryType!: string;
  @Column({ name: 'reservation_id', type: 'text', nullable: true }) reservationId!: string | null;
  @Column({ name: 'engine_id', type: 'text', nullable: true }) engineId!: string | null;
  @Column({ type: 'jsonb' }) data!: Record<string, unknown>;
}

/** Reservations with the status the ledger gives them (last entry about each wins). */
@Entity({ name: 'risk_reservations' })
@Index(['engineId', 'day'])
@Index(['day', 'reservationId'])
export class RiskReservationRow {
  @PrimaryColumn({ name: 'reservation_id', type: 'text' }) reservationId!: string;
  @Column({ name: 'engine_id', type: 'text', nullable: true }) engineId!: string | null;
  @Column({ type: 'text' }) day!: string;
  @Column({ type: 'text' }) status!: string;
  @Column({ type: 'jsonb' }) latest!: Record<string, unknown>;
}

/** Every reserve decision (decisions stream), for the decision queries of the risk API. */
@Entity({ name: 'risk_reservation_decisions' })
@Index(['engineId', 'decidedAt'])
@Index(['decidedAt'])
export class RiskReservationDecisionRow {
  @PrimaryColumn({ name: 'reservation_id', type: 'text' }) reservationId!: string;
  /** The decision record holding it: one `risk.ReservationsDecided` holds several decisions. */
  @Column({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ type: 'text' }) outcome!: string;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ type: 'text' }) day!: string;
  @Column({ name: 'decided_at', type: 'timestamptz' }) decidedAt!: Date;
  @Column({ type: 'json' }) request!: Record<string, unknown>;
  @Column({ type: 'json' }) reply!: Record<string, unknown>;
}

/**
 * Usage and limits per (day, policy): after the day's latest reserve decision (decisions stream,
 * by decision time: a record stored late does not roll it back) until the day closes, then its
 * final usage from the next day's `LedgerOpened` (events stream, `closed_at` set). A closed row's
 * usage is never overwritten by a decision, so replay order does not matter.
 */
@Entity({ name: 'risk_usage' })
export class RiskUsageRow {
  @PrimaryColumn({ type: 'text' }) day!: string;
  @PrimaryColumn({ name: 'policy_id', type: 'text' }) policyId!: string;
  @Column({ type: 'jsonb' }) usage!: Record<string, unknown>;
  @Column({ type: 'jsonb', nullable: true }) limits!: Record<string, unknown> | null;
  /** The day's latest reservation decision; the closing time for a day the projector saw none of. */
  @Column({ name: 'decided_at', type: 'timestamptz' }) decidedAt!: Date;
  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true }) closedAt!: Date | null;
}

/** Tripwire firings (THROTTLE / KILL_SWITCH) until the tripwire service adds its own read models. */
@Entity({ name: 'tripwire_triggers' })
@Index(['engineId', 'triggeredAt'])
export class TripwireTriggerRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ type: 'text' }) action!: string;
  @Column({ name: 'policy_id', type: 'text' }) policyId!: string;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ type: 'jsonb' }) data!: Record<string, unknown>;
  @Column({ name: 'triggered_at', type: 'timestamptz' }) triggeredAt!: Date;
}

interface PolicyEvent {
  policyId: string;
  cause: Record<string, unknown>;
  at: string;
}

function policyUpdate(assignments: string) {
  return (sql: Statements, message: ProjectedMessage) => {
    const d = dataOf<PolicyEvent>(message);
    sql.add(
      `UPDATE risk_policies SET ${assignments}, last_cause = $2, updated_at = $3 WHERE policy_id = $1`,
      [d.policyId, JSON.stringify(d.cause), d.at],
    );
  };
}

/** Ledger entry types mapped to the status they leave a reservation in. */
const RESERVATION_STATUS: Readonly<Record<string, string>> = {
  ReservationGranted: 'GRANTED',
  ReservationDenied: 'DENIED',
  ReservationSettled: 'SETTLED',
  ReservationReleased: 'RELEASED',
  ReservationExpired: 'EXPIRED',
  ReservationUnresolved: 'UNRESOLVED',
  ReservationReconciled: 'RECONCILED',
};

interface LedgerEntriesRecorded {
  day: string;
  entries: { type: string; data: Record<string, unknown> }[];
}

interface ReservationDecision {
  request: Record<string, unknown>;
  reply: {
    reservationId: string;
    engineId: string;
    outcome: string;
    reason?: string;
    day: string;
    decidedAt: string;
  };
  usage: Record<string, unknown>;
}

/** `risk.ReservationsDecided`: one engine's decisions of a desk batch, all against the same limits. */
interface ReservationsDecided {
  limits: Record<string, unknown>;
  decisions: ReservationDecision[];
}

/** `risk.ReservationDecided` (no longer published, still replayed): one decision with its limits. */
type ReservationDecided = ReservationDecision & { limits: Record<string, unknown> };

/** Either decision record as a batch of decisions: a `risk.ReservationDecided` is a batch of one. */
function decisionsOf(message: ProjectedMessage): ReservationsDecided {
  if (message.envelope.type === 'risk.ReservationsDecided') return dataOf<ReservationsDecided>(message);
  const { limits, ...decision } = dataOf<ReservationDecided>(message);
  return { limits, decisions: [decision] };
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * Every ledger entry of the batch in one statement, then one upsert per reservation: the row takes
 * the day of its first entry, the status and data of its last, and the last engine id known — what
 * applying the entries one by one would leave.
 */
async function recordLedgerEntries(
  manager: EntityManager,
  messages: readonly ProjectedMessage[],
): Promise<void> {
  const entries = messages.flatMap((message) => {
    const d = dataOf<LedgerEntriesRecorded>(message);
    return d.entries.map((entry, position) => ({
      event_id: message.envelope.id,
      position,
      day: d.day,
      entry_type: entry.type,
      reservation_id: stringOrNull(entry.data['reservationId']),
      engine_id: stringOrNull(entry.data['engineId']),
      data: entry.data,
    }));
  });
  await insertRows(manager, 'risk_ledger_entries', entries);
  const reservations = new Map<
    string,
    {
      reservation_id: string;
      engine_id: string | null;
      day: string;
      status: string;
      latest: Record<string, unknown>;
    }
  >();
  for (const entry of entries) {
    const status = RESERVATION_STATUS[entry.entry_type];
    if (!entry.reservation_id || !status) continue;
    const known = reservations.get(entry.reservation_id);
    reservations.set(entry.reservation_id, {
      reservation_id: entry.reservation_id,
      engine_id: entry.engine_id ?? known?.engine_id ?? null,
      day: known?.day ?? entry.day,
      status,
      latest: entry.data,
    });
  }
  await insertRows(
    manager,
    'risk_reservations',
    [...reservations.values()],
    `ON CONFLICT (reservation_id) DO UPDATE SET status = EXCLUDED.status, latest = EXCLUDED.latest,
       engine_id = COALESCE(EXCLUDED.engine_id, risk_reservations.engine_id)`,
  );
  await insertRows(
    manager,
    'risk_usage',
    // One row per (day, policy), the last opening's: one statement cannot update a row twice.
    [
      ...new Map(
        entries
          .flatMap((entry) => (entry.entry_type === 'LedgerOpened' ? closingUsage(entry.data) : []))
          .map((row) => [JSON.stringify([row.day, row.policy_id]), row] as const),
      ).values(),
    ],
    `ON CONFLICT (day, policy_id) DO UPDATE SET usage = EXCLUDED.usage, closed_at = EXCLUDED.closed_at`,
  );
}

/** A `LedgerOpened` entry's final usage of the day it closed, as `risk_usage` rows. */
function closingUsage(data: Record<string, unknown>) {
  const { previousDay, closing, openedAt } = data as {
    previousDay?: unknown;
    closing?: Record<string, unknown>;
    openedAt?: unknown;
  };
  if (typeof previousDay !== 'string' || typeof openedAt !== 'string' || !closing) return [];
  return Object.entries(closing).map(([policyId, usage]) => ({
    day: previousDay,
    policy_id: policyId,
    usage,
    limits: null,
    decided_at: openedAt,
    closed_at: openedAt,
  }));
}

/**
 * Every decision of the batch in one statement, from both decision records; usage per (day, policy)
 * from the last decision about it.
 */
async function recordReservationDecisions(
  manager: EntityManager,
  messages: readonly ProjectedMessage[],
): Promise<void> {
  const decisions = messages.flatMap((message) => {
    const { limits, decisions: decided } = decisionsOf(message);
    return decided.map((decision) => ({ eventId: message.envelope.id, limits, ...decision }));
  });
  await insertRows(
    manager,
    'risk_reservation_decisions',
    decisions.map(({ eventId, request, reply }) => ({
      event_id: eventId,
      reservation_id: reply.reservationId,
      engine_id: reply.engineId,
      outcome: reply.outcome,
      reason: reply.reason ?? null,
      day: reply.day,
      decided_at: reply.decidedAt,
      request,
      reply,
    })),
    // A safety net: risk-guard re-sends a record under its own id (dropped with its audit row), so a
    // decision is in one record only; were it in two, its first row would stay.
    'ON CONFLICT (reservation_id) DO NOTHING',
  );
  const usage = new Map<
    string,
    { day: string; policy_id: string; usage: unknown; limits: unknown; decided_at: string }
  >();
  for (const { reply, usage: after, limits } of decisions) {
    for (const [policyId, value] of Object.entries(after)) {
      const key = JSON.stringify([reply.day, policyId]);
      // The latest decision's, whatever order the records came in (a record stored on a retry comes late).
      if ((usage.get(key)?.decided_at ?? '') > reply.decidedAt) continue;
      usage.set(key, {
        day: reply.day,
        policy_id: policyId,
        usage: value,
        limits: limits[policyId] ?? null,
        decided_at: reply.decidedAt,
      });
    }
  }
  await insertRows(
    manager,
    'risk_usage',
    [...usage.values()],
    // Only a decision at least as late as the row's moves it: risk-guard stores a record that failed
    // to publish when the engine retries, after newer ones. A closed day keeps its final usage (the
    // decisions stream may be replayed after the events); its row from the closing, with no limits
    // yet, takes them (and the time) from the decisions, again the latest's.
    `ON CONFLICT (day, policy_id) DO UPDATE SET
       usage = CASE WHEN risk_usage.closed_at IS NULL THEN EXCLUDED.usage ELSE risk_usage.usage END,
       limits = EXCLUDED.limits, decided_at = EXCLUDED.decided_at
     WHERE EXCLUDED.decided_at >= risk_usage.decided_at
       OR (risk_usage.closed_at IS NOT NULL AND risk_usage.limits IS NULL)`,
  );
}

/** The risk guard: policies, the daily ledger and its reservations, reserve decisions, tripwire firings. */
export const riskProjection: Projection = {
  name: 'risk',
  tables: [
    'risk_policies',
    'risk_ledger_entries',
    'risk_reservations',
    'risk_reservation_decisions',
    'risk_usage',
    'tripwire_triggers',
  ],
  entities: [
    RiskPolicyRow,
    RiskLedgerEntryRow,
    RiskReservationRow,
    RiskReservationDecisionRow,
    RiskUsageRow,
    TripwireTriggerRow,
  ],
  ...perBatch(
    {
      'risk.LedgerEntriesRecorded': recordLedgerEntries,
      // One handler for both records: it gets the batch's messages of both types in stream order.
      'risk.ReservationDecided': recordReservationDecisions,
      'risk.ReservationsDecided': recordReservationDecisions,
    },
    {
      'risk.PolicyDefined': (sql, message) => {
        const d = dataOf<PolicyEvent & { limits: Record<string, unknown>; enabled: boolean }>(message);
        sql.add(
          `INSERT INTO risk_policies (policy_id, limits, enabled, throttled, last_cause, updated_at)
         VALUES ($1, $2, $3, false, $4, $5)
         ON CONFLICT (policy_id) DO UPDATE SET limits = EXCLUDED.limits, enabled = EXCLUDED.enabled,
           last_cause = EXCLUDED.last_cause, updated_at = EXCLUDED.updated_at`,
          [d.policyId, JSON.stringify(d.limits), d.enabled, JSON.stringify(d.cause), d.at],
        );
      },
      'risk.PolicyEnabled': policyUpdate('enabled = true'),
      'risk.PolicyDisabled': policyUpdate('enabled = false'),
      'risk.PolicyThrottled': policyUpdate('throttled = true, throttled_since = $3'),
      'risk.PolicyThrottleLifted': policyUpdate('throttled = false, throttled_since = NULL'),
      'tripwire.TripwireTriggered': (sql, message) => {
        const d = dataOf<{ engineId: string; action: string; policyId: string; reason?: string }>(message);
        sql.add(
          `INSERT INTO tripwire_triggers (event_id, engine_id, action, policy_id, reason, data, triggered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            message.envelope.id,
            d.engineId,
            d.action,
            d.policyId,
            d.reason ?? null,
            JSON.stringify(d),
            message.envelope.occurredAt,
          ],
        );
      },
    },
  ),
};
