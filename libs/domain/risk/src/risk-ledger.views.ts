import {
  DENIAL_REASONS,
  GLOBAL_POLICY_ID,
  LEDGER_OPEN_LIMIT,
  type Check,
  type DenialReason,
  type LedgerView,
  type ReservationReply,
  type ReserveReply,
  type RiskPolicy,
  type RiskUsage,
} from '@bifrost/contracts';
import { bucketGet, bucketValues } from './bucket-map';
import { dayKey } from './day-key';
import { findReservation, limitChecks } from './risk-ledger.decider';
import {
  ZERO_USAGE,
  idempotencyIndexKey,
  type LedgerState,
  type OpenLedger,
  type ReservationRecord,
} from './risk-ledger.state';

/**
 * The reservations decided on the ledger's day: its open and closed ones, less those carried over
 * from an earlier day (still open at midnight; they were decided, and counted, then). An expired
 * reservation settled as unknown is open again and still in `closed` as it expired: counted once.
 */
function decidedOn(state: OpenLedger): ReservationRecord[] {
  // One date formatting per minute of decisions, not per reservation (offsets are whole minutes).
  const days = new Map<string, string>();
  const dayOf = (at: string) => {
    const minute = at.slice(0, 16);
    let day = days.get(minute);
    if (day === undefined) days.set(minute, (day = dayKey(at, state.timeZone)));
    return day;
  };
  const open = bucketValues(state.open);
  const reopened = new Set(open.map((r) => r.reservationId));
  return [...open, ...bucketValues(state.closed).filter((r) => !reopened.has(r.reservationId))].filter(
    (r) => dayOf(r.decidedAt) === state.day,
  );
}

/** How many reserve decisions granted and denied, the denials by reason (seed 000's Monday review). */
export function decisionCounts(records: readonly ReservationRecord[]): LedgerView['decisions'] {
  const deniedByReason = Object.fromEntries(DENIAL_REASONS.map((reason) => [reason, 0])) as Record<
    DenialReason,
    number
  >;
  let denied = 0;
  for (const record of records) {
    if (record.status !== 'DENIED') continue;
    denied += 1;
    deniedByReason[record.reason ?? 'LIMIT_EXCEEDED'] += 1;
  }
  return { granted: records.length - denied, denied, deniedByReason };
}

/** The reserve result stored under an engine's idempotency key, or undefined when unseen today. */
export function reserveResult(
  state: LedgerState,
  engineId: string,
  idempotencyKey: string,
  replayed: boolean,
): ReserveReply | undefined {
  if (state.status !== 'open') return undefined;
  const reservationId = bucketGet(state.keys, idempotencyIndexKey(engineId, idempotencyKey));
  const record = reservationId === undefined ? undefined : findReservation(state, reservationId);
  if (!record) return undefined;
  const money = (amount: number) => ({ amount, currency: record.currency });
  const denied = record.status === 'DENIED';
  return {
    reservationId: record.reservationId,
    engineId,
    outcome: denied ? 'DENIED' : 'GRANTED',
    status: record.status,
    maxLoss: money(record.maxLoss),
    exposure: money(record.exposure),
    // A carried reservation's day is the one it was decided on, not the ledger's.
    day: dayKey(record.decidedAt, state.timeZone),
    decidedAt: record.decidedAt,
    ...(denied
      ? {
          reason: record.reason,
          failingPolicy: record.failingPolicy,
          violations: [...(record.violations ?? [])],
        }
      : { expiresAt: record.expiresAt }),
    replayed,
  };
}

/** What a denial for the state of a policy shows as its check's `value`. */
const POLICY_STATES: Partial<Record<DenialReason, string>> = {
  NO_POLICY: 'missing',
  POLICY_DISABLED: 'disabled',
  THROTTLED: 'throttled',
};

/**
 * One check per policy and limit, in the verdict vocabulary: `value` is the usage with this
 * reservation counted, `distanceToTrip` the headroom left after it (negative: over the limit).
 * `usage` is the ledger's usage after the decision: a grant is already in it, a denial is not.
 * A denial for the state of a policy (none, disabled, throttled) comes first as a BLOCK check
 * `risk.<policyId>.policy`, so the checks show why whatever the limits say.
 */
export function reservationChecks(
  policies: Readonly<Record<string, RiskPolicy | undefined>>,
  usage: Readonly<Record<string, RiskUsage>>,
  reply: Pick<ReserveReply, 'engineId' | 'outcome' | 'maxLoss' | 'exposure' | 'reason' | 'failingPolicy'>,
): Check[] {
  const granted = reply.outcome === 'GRANTED';
  const checks: Check[] = [GLOBAL_POLICY_ID, reply.engineId].flatMap((policyId) => {
    const policy = policies[policyId];
    if (!policy) return [];
    const u = usage[policyId] ?? ZERO_USAGE;
    const before = granted
      ? {
          ...u,
          reservedLoss: u.reservedLoss - reply.maxLoss.amount,
          reservedExposure: u.reservedExposure - reply.exposure.amount,
          actions: u.actions - 1,
        }
      : u;
    return limitChecks(policy, before, reply.maxLoss.amount, reply.exposure.amount).map((c) => {
      const value = c.current + c.requested;
      return {
        name: `risk.${policyId}.${c.limit}`,
        outcome: value <= c.limitValue ? 'ALLOW' : 'BLOCK',
        value,
        threshold: c.limitValue,
        distanceToTrip: c.limitValue - value,
      } satisfies Check;
    });
  });
  const state = reply.reason === undefined ? undefined : POLICY_STATES[reply.reason];
  if (state !== undefined) {
    checks.unshift({
      name: `risk.${reply.failingPolicy}.policy`,
      outcome: 'BLOCK',
      value: state,
      threshold: 'enabled',
      distanceToTrip: null,
      reason: `policy ${reply.failingPolicy} is ${state}`,
    });
  }
  return checks;
}

export function reservationResult(record: ReservationRecord): ReservationReply {
  const money = (amount: number) => ({ amount, currency: record.currency });
  return {
    reservationId: record.reservationId,
    engineId: record.engineId,
    status: record.status,
    ...(record.realizedLoss !== undefined
      ? {
          realizedLoss: money(record.realizedLoss),
          excess: money(record.excess ?? 0),
          exceededReservation: (record.excess ?? 0) > 0,
        }
      : {}),
    ...(record.afterExpiry !== undefined ? { afterExpiry: record.afterExpiry } : {}),
  };
}

/**
 * The day's usage per policy, its reserve decisions (denials by reason) and its open reservations:
 * the {@link LEDGER_OPEN_LIMIT} that expire first (then by id), and how many there are.
 */
export function ledgerView(state: LedgerState, timeZone: string, currency: string | null): LedgerView {
  if (state.status !== 'open') {
    return {
      day: null,
      timeZone,
      currency,
      usage: {},
      decisions: decisionCounts([]),
      open: [],
      openCount: 0,
    };
  }
  const open = bucketValues(state.open).sort(
    (a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.reservationId.localeCompare(b.reservationId),
  );
  return {
    day: state.day,
    timeZone: state.timeZone,
    currency,
    usage: { ...state.usage },
    decisions: decisionCounts(decidedOn(state)),
    open: open.slice(0, LEDGER_OPEN_LIMIT).map((r) => ({
      reservationId: r.reservationId,
      engineId: r.engineId,
      status: r.status,
      maxLoss: r.maxLoss,
      exposure: r.exposure,
      expiresAt: r.expiresAt,
    })),
    openCount: open.length,
  };
}
