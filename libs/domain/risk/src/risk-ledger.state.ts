import type {
  Actor,
  DenialReason,
  LedgerEntry,
  LimitViolation,
  ReservationStatus,
  RiskUsage,
} from '@bifrost/contracts';
import type { BucketMap } from './bucket-map';

/** A reservation as the ledger keeps it; amounts in minor units of `currency`. */
export interface ReservationRecord {
  readonly reservationId: string;
  readonly engineId: string;
  readonly idempotencyKey: string;
  readonly status: ReservationStatus;
  readonly currency: string;
  readonly maxLoss: number;
  readonly exposure: number;
  readonly decidedAt: string;
  /** Equal to `decidedAt` for denials. */
  readonly expiresAt: string;
  readonly realizedLoss?: number;
  readonly excess?: number;
  readonly afterExpiry?: boolean;
  readonly reason?: DenialReason;
  readonly failingPolicy?: string;
  readonly violations?: readonly LimitViolation[];
}

/**
 * One day's ledger (`bifrost.evt.risk.ledger.<day>`). `open` holds GRANTED and UNRESOLVED
 * reservations (few: bounded by what engines have in flight); `closed` every finished or denied
 * one, and `keys` maps `<engineId>/<idempotencyKey>` to its reservation, for the rest of the day.
 * `previous` is the previous ledger day's `closed`: a settle or release that arrives after midnight
 * for a reservation closed before it (expired, or a retry of one that landed) still finds it.
 */
export type LedgerState =
  | { readonly status: 'unopened' }
  | {
      readonly status: 'open';
      readonly day: string;
      readonly timeZone: string;
      readonly usage: Readonly<Record<string, RiskUsage>>;
      readonly open: BucketMap<ReservationRecord>;
      readonly closed: BucketMap<ReservationRecord>;
      readonly keys: BucketMap<string>;
      readonly previous: BucketMap<ReservationRecord>;
      /**
       * The previous day's open reservations the opening has still to carry (its `carriedTotal`
       * not reached: an append cut between the opening's messages); absent once all are carried.
       */
      readonly uncarried?: readonly ReservationRecord[];
    };
export type OpenLedger = Extract<LedgerState, { status: 'open' }>;

export type LedgerEvent = LedgerEntry;

interface CommandBase {
  readonly now: string;
  readonly actor: Actor;
}

export type LedgerCommand =
  | {
      type: 'ReserveCapacity';
      data: CommandBase & {
        reservationId: string;
        engineId: string;
        idempotencyKey: string;
        maxLoss: { amount: number; currency: string };
        exposure: { amount: number; currency: string };
        ttlMs: number;
      };
    }
  | {
      type: 'SettleReservation';
      data: CommandBase & {
        reservationId: string;
        engineId: string;
        outcome: 'completed' | 'unknown';
        realizedLoss?: { amount: number; currency: string };
      };
    }
  | { type: 'ReleaseReservation'; data: CommandBase & { reservationId: string; engineId: string } }
  | {
      type: 'ReconcileReservation';
      data: CommandBase & {
        reservationId: string;
        engineId: string;
        realizedLoss: { amount: number; currency: string };
        note?: string;
      };
    }
  | { type: 'ExpireReservations'; data: { now: string } };

export const ZERO_USAGE: RiskUsage = { realizedLoss: 0, reservedLoss: 0, reservedExposure: 0, actions: 0 };

export function idempotencyIndexKey(engineId: string, idempotencyKey: string): string {
  return `${engineId}/${idempotencyKey}`;
}
