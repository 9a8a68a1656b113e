import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type EntityManager } from 'typeorm';
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
export class RiskReservationRow {
  @PrimaryColumn({ name: 'reservation_id', type: 'text' }) reservationId!: string;
  @Column({ name: 'engine_id', type: 'text', nullable: true }) engineId!: string | null;
  @Column({ type: 'text' }) day!: string;
  @Column({ type: 'text' }) status!: string;
  @Column({ type: 'jsonb' }) latest!: Record<string, unknown>;
}

/** Every reserve decision record (decisions stream), for the decision queries of the risk API. */
@Entity({ name: 'risk_reservation_decisions' })
@Index(['engineId', 'decidedAt'])
@Index(['decidedAt'])
export class RiskReservationDecisionRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'reservation_id', type: 'text' }) reservationId!: string;
  @Column({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ type: 'text' }) outcome!: string;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ type: 'text' }) day!: string;
  @Column({ name: 'decided_at', type: 'timestamptz' }) decidedAt!: Date;
  @Column({ type: 'json' }) request!: Record<string, unknown>;
  @Column({ type: 'json' }) reply!: Record<string, unknown>;
}

/** Usage and limits per (day, policy) after the latest reserve decision: "ledger today". */
@Entity({ name: 'risk_usage' })
export class RiskUsageRow {
  @PrimaryColumn({ type: 'text' }) day!: string;
  @PrimaryColumn({ name: 'policy_id', type: 'text' }) policyId!: string;
  @Column({ type: 'jsonb' }) usage!: Record<string, unknown>;
  @Column({ type: 'jsonb', nullable: true }) limits!: Record<string, unknown> | null;
  @Column({ name: 'decided_at', type: 'timestamptz' }) decidedAt!: Date;
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
  return async (manager: EntityManager, message: ProjectedMessage) => {
    const d = dataOf<PolicyEvent>(message);
    await manager.query(
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

interface ReservationDecided {
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
  limits: Record<string, unknown>;
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
      eventId: message.envelope.id,
      position,
      day: d.day,
      type: entry.type,
      data: entry.data,
      reservationId: stringOrNull(entry.data['reservationId']),
      engineId: stringOrNull(entry.data['engineId']),
    }));
  });
  await manager.query(
    `INSERT INTO risk_ledger_entries (event_id, position, day, entry_type, reservation_id, engine_id, data)
     SELECT e, p, d, t, r, g, j::jsonb FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::text[],
       $6::text[], $7::text[]) AS x(e, p, d, t, r, g, j)`,
    [
      entries.map((e) => e.eventId),
      entries.map((e) => e.position),
      entries.map((e) => e.day),
      entries.map((e) => e.type),
      entries.map((e) => e.reservationId),
      entries.map((e) => e.engineId),
      entries.map((e) => JSON.stringify(e.data)),
    ],
  );
  const reservations = new Map<
    string,
    { reservationId: string; engineId: string | null; day: string; status: string; latest: string }
  >();
  for (const entry of entries) {
    const status = RESERVATION_STATUS[entry.type];
    if (!entry.reservationId || !status) continue;
    const known = reservations.get(entry.reservationId);
    reservations.set(entry.reservationId, {
      reservationId: entry.reservationId,
      engineId: entry.engineId ?? known?.engineId ?? null,
      day: known?.day ?? entry.day,
      status,
      latest: JSON.stringify(entry.data),
    });
  }
  if (reservations.size === 0) return;
  const rows = [...reservations.values()];
  await manager.query(
    `INSERT INTO risk_reservations AS r (reservation_id, engine_id, day, status, latest)
     SELECT i, g, d, s, l::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(i, g, d, s, l)
     ON CONFLICT (reservation_id) DO UPDATE SET status = EXCLUDED.status, latest = EXCLUDED.latest,
       engine_id = COALESCE(EXCLUDED.engine_id, r.engine_id)`,
    [
      rows.map((r) => r.reservationId),
      rows.map((r) => r.engineId),
      rows.map((r) => r.day),
      rows.map((r) => r.status),
      rows.map((r) => r.latest),
    ],
  );
}

/** Every decision of the batch in one statement; usage per (day, policy) from the last decision about it. */
async function recordReservationDecisions(
  manager: EntityManager,
  messages: readonly ProjectedMessage[],
): Promise<void> {
  const decisions = messages.map((message) => ({
    eventId: message.envelope.id,
    d: dataOf<ReservationDecided>(message),
  }));
  await manager.query(
    `INSERT INTO risk_reservation_decisions (event_id, reservation_id, engine_id, outcome, reason, day, decided_at, request, reply)
     SELECT e, i, g, o, r, d, t, q::json, p::json FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
       $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[]) AS x(e, i, g, o, r, d, t, q, p)`,
    [
      decisions.map(({ eventId }) => eventId),
      decisions.map(({ d }) => d.reply.reservationId),
      decisions.map(({ d }) => d.reply.engineId),
      decisions.map(({ d }) => d.reply.outcome),
      decisions.map(({ d }) => d.reply.reason ?? null),
      decisions.map(({ d }) => d.reply.day),
      decisions.map(({ d }) => d.reply.decidedAt),
      decisions.map(({ d }) => JSON.stringify(d.request)),
      decisions.map(({ d }) => JSON.stringify(d.reply)),
    ],
  );
  const usage = new Map<
    string,
    { day: string; policyId: string; usage: string; limits: string; decidedAt: string }
  >();
  for (const { d } of decisions) {
    for (const [policyId, value] of Object.entries(d.usage)) {
      usage.set(JSON.stringify([d.reply.day, policyId]), {
        day: d.reply.day,
        policyId,
        usage: JSON.stringify(value),
        limits: JSON.stringify(d.limits[policyId] ?? null),
        decidedAt: d.reply.decidedAt,
      });
    }
  }
  if (usage.size === 0) return;
  const rows = [...usage.values()];
  await manager.query(
    `INSERT INTO risk_usage (day, policy_id, usage, limits, decided_at)
     SELECT d, p, u::jsonb, l::jsonb, t FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
       AS x(d, p, u, l, t)
     ON CONFLICT (day, policy_id) DO UPDATE SET usage = EXCLUDED.usage, limits = EXCLUDED.limits,
       decided_at = EXCLUDED.decided_at`,
    [
      rows.map((r) => r.day),
      rows.map((r) => r.policyId),
      rows.map((r) => r.usage),
      rows.map((r) => r.limits),
      rows.map((r) => r.decidedAt),
    ],
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
      'risk.ReservationDecided': recordReservationDecisions,
    },
    {
      'risk.PolicyDefined': async (manager, message) => {
        const d = dataOf<PolicyEvent & { limits: Record<string, unknown>; enabled: boolean }>(message);
        await manager.query(
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
      'tripwire.TripwireTriggered': async (manager, message) => {
        const d = dataOf<{ engineId: string; action: string; policyId: string; reason?: string }>(message);
        await manager.query(
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
