import { hash } from 'node:crypto';
import { canonicalize } from './canonical-json';

/** The `prevHash` of the first audit row (seq 1): 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** A position in the audit log; Postgres `bigint` arrives from `pg` as a string. */
export type AuditSeq = number | string | bigint;

/** One row of the audit log as the hash chain sees it (DESIGN §6). */
export interface AuditRow<E = unknown> {
  seq: number;
  prevHash: string;
  hash: string;
  envelope: E;
}

/** Lowercase hex SHA-256 of the UTF-8 bytes of `text` (one-shot `crypto.hash`: half the cost of a Hash object). */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/**
 * The hash of an audit row: `sha256Hex(canonicalize({ seq, prevHash, event }))` with `seq` as a
 * JSON number (DESIGN §6). Throws a `RangeError` when `seq` is not a positive safe integer and a
 * `TypeError` when the envelope cannot be canonicalised.
 */
export function auditHash(link: { seq: AuditSeq; prevHash: string; event: unknown }): string {
  const seq = parseSeq(link.seq);
  if (seq === undefined)
    throw new RangeError(`auditHash: seq ${String(link.seq)} is not a positive safe integer`);
  return sha256Hex(canonicalize({ seq, prevHash: link.prevHash, event: link.event }));
}

/** The hash an approval is bound to: `sha256Hex(canonicalize(action))` (DESIGN §3). */
export function actionHash(action: unknown): string {
  return sha256Hex(canonicalize(action));
}

/**
 * Lazily links envelopes into audit rows, starting at `startSeq` after `prevHash`; holds one row
 * at a time, so it can feed arbitrarily long streams.
 */
export function* chainRows<E>(
  envelopes: Iterable<E>,
  startSeq = 1,
  prevHash: string = GENESIS_HASH,
): Generator<AuditRow<E>, void, undefined> {
  let seq = startSeq;
  let previous = prevHash;
  for (const envelope of envelopes) {
    const hash = auditHash({ seq, prevHash: previous, event: envelope });
    yield { seq, prevHash: previous, hash, envelope };
    previous = hash;
    seq += 1;
  }
}

/** The audit rows for `envelopes`, starting at `startSeq` after `prevHash` (tests, fixtures). */
export function chain<E>(
  envelopes: Iterable<E>,
  startSeq = 1,
  prevHash: string = GENESIS_HASH,
): AuditRow<E>[] {
  return [...chainRows(envelopes, startSeq, prevHash)];
}

/** `seq` as a number when it is a positive safe integer (in any of its wire forms), else undefined. */
export function parseSeq(seq: AuditSeq): number | undefined {
  const value = typeof seq === 'string' ? (/^[1-9][0-9]*$/.test(seq) ? Number(seq) : NaN) : Number(seq);
  return Number.isSafeInteger(value) && value >= 1 ? value : undefined;
}
