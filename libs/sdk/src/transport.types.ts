import { nothingDecided } from '@bifrost/contracts';
import type { ConnectionState } from './sdk.types';
import type { Fact } from './fact.envelope';

/** Request-reply operations engines call; `service` names the rpc subject, the name the HTTP path. */
export const OPERATIONS = {
  check: { service: 'gate' },
  approval: { service: 'gate' },
  reserve: { service: 'risk' },
  settle: { service: 'risk' },
  release: { service: 'risk' },
  reconcile: { service: 'risk' },
  evaluate: { service: 'heimdall' },
} as const;
export type Operation = keyof typeof OPERATIONS;

/**
 * Whether an error reply says nobody decided the request, so asking again cannot decide it twice:
 * `nothingDecided` in `@bifrost/contracts`, and for a gate check also `CONCURRENCY.CONFLICT` (its
 * strategy was contended: the gate decided and recorded nothing, docs/gate.md "State, restarts and
 * concurrency"). Elsewhere a conflict is an answer about the current state, not a reason to ask again.
 */
export function undecided(operation: Operation, code: string): boolean {
  return nothingDecided(code) || (operation === 'check' && code === 'CONCURRENCY.CONFLICT');
}

/** A reply as the client sees it, whatever the transport: Bifrost's data or why there is none. */
export type TransportReply = { ok: true; data: unknown } | { ok: false; code: string; message: string };

/** Outcome of one delivery attempt of a buffered fact. */
export type DeliveryResult =
  | { ok: true; sequence?: number }
  | { ok: false; retry: true; code: string; message: string; retryAfterMs?: number }
  | { ok: false; retry: false; code: string; message: string };

/** What the client needs from NATS or HTTP; both reconnect by themselves with backoff. */
export interface Transport {
  readonly kind: 'nats' | 'http';
  readonly state: ConnectionState;
  /** Starts connecting; `onState` hears every change of `state`. */
  start(onState: (state: ConnectionState) => void): void;
  /** Sends `json` (the request, checked and encoded). Never throws: transport failures come back as `{ ok: false }` replies. */
  request(operation: Operation, json: string, deadlineAt: number): Promise<TransportReply>;
  /** Never throws. */
  deliver(fact: Fact, timeoutMs: number): Promise<DeliveryResult>;
  close(): Promise<void>;
}
