import { auditHash, GENESIS_HASH, parseSeq, type AuditSeq } from './hash-chain';

/** A stored audit row as read back for verification (`seq` in any of its wire forms). */
export interface StoredAuditRow {
  seq: AuditSeq;
  prevHash: string;
  hash: string;
  envelope: unknown;
  /**
   * The row's copies of envelope fields, when the reader has them (`event_id`, `event_type`,
   * `occurred_at` of `audit_log`): outside the hash, but readers filter on them, so each must equal
   * the envelope's own `id`, `type` and `occurredAt`.
   */
  copies?: EnvelopeCopies;
  /**
   * Set by a reader that found the stored envelope is not exactly the value it read back and
   * hashed (e.g. jsonb keeps a number a double cannot carry, `5.0000000000000000001`, which reads
   * back as `5`): what differs. The row was not written as it is stored.
   */
  inexact?: string;
}

/** Envelope fields a stored row also keeps in columns of its own (docs/audit.md §1). */
export interface EnvelopeCopies {
  id: string;
  type: string;
  occurredAt: string;
}

/**
 * Why a chain is broken at `firstBadSeq`. The last two compare the chain with an entry it must
 * hold (`expect`): `TRUNCATED`, the log ends before it; `REWRITTEN`, the row at its seq is another.
 */
export type ChainBreak =
  | 'GAP'
  | 'PREV_HASH_MISMATCH'
  | 'HASH_MISMATCH'
  | 'BAD_GENESIS'
  | 'TRUNCATED'
  | 'REWRITTEN';

/**
 * The verdict on a chain. `count` is the number of rows verified intact; on failure every row
 * before `firstBadSeq` is intact and `firstBadSeq` is the position where the chain breaks.
 */
export type ChainVerification =
  | { ok: true; count: number; lastSeq: number; lastHash: string }
  | {
      ok: false;
      firstBadSeq: number;
      reason: ChainBreak;
      expected: string;
      actual: string;
      count: number;
    };

/** A position in the chain: a row's seq and hash. */
export interface ChainEntry {
  readonly seq: number;
  readonly hash: string;
}

export interface ChainVerifierOptions {
  /** Where verification starts: after an already verified row, or at genesis by default. */
  after?: ChainEntry;
  /**
   * An entry the chain must hold, one stored or verified earlier (after `after`). A table on its
   * own cannot show that its newest rows were deleted, or that it was rewritten consistently from
   * some row on: what is left is a valid chain. Against this entry, either is a break.
   */
  expect?: ChainEntry;
}

/**
 * Verifies an audit chain one row at a time: seq continuity, the prevHash link and the row hash
 * recomputed from the stored envelope. Keeps only the last verified position, never a row. Once
 * broken it stays broken: later rows are ignored and `result()` keeps reporting the first break.
 */
export class ChainVerifier {
  private lastSeq: number;
  private lastHash: string;
  private count = 0;
  private failure: Extract<ChainVerification, { ok: false }> | undefined;
  private readonly fromGenesis: boolean;
  private readonly expected: ChainEntry | undefined;

  constructor(options: ChainVerifierOptions = {}) {
    const after = options.after ?? { seq: 0, hash: GENESIS_HASH };
    if (!Number.isSafeInteger(after.seq) || after.seq < 0) {
      throw new RangeError(`ChainVerifier: after.seq ${after.seq} is not a non-negative safe integer`);
    }
    const expected = options.expect;
    if (expected && (!Number.isSafeInteger(expected.seq) || expected.seq <= after.seq)) {
      throw new RangeError(
        `ChainVerifier: expect.seq ${expected.seq} is not a safe integer after ${after.seq}`,
      );
    }
    this.lastSeq = after.seq;
    this.lastHash = after.hash;
    this.fromGenesis = after.seq === 0;
    this.expected = expected;
  }

  /** Checks the next row; returns whether the chain is still intact. */
  push(row: StoredAuditRow): boolean {
    if (this.failure) return false;
    const expectedSeq = this.lastSeq + 1;
    const seq = parseSeq(row.seq);
    if (seq !== expectedSeq) {
      return this.fail(expectedSeq, 'GAP', String(expectedSeq), String(row.seq));
    }
    if (row.prevHash !== this.lastHash) {
      const reason = this.fromGenesis && seq === 1 ? 'BAD_GENESIS' : 'PREV_HASH_MISMATCH';
      return this.fail(seq, reason, this.lastHash, row.prevHash);
    }
    const recomputed = rehash(seq, row);
    if (recomputed !== row.hash) return this.fail(seq, 'HASH_MISMATCH', recomputed, row.hash);
    if (row.inexact !== undefined) {
      return this.fail(seq, 'HASH_MISMATCH', 'envelope stored exactly as hashed', row.inexact);
    }
    const copy = row.copies && disagreeingCopy(row.copies, row.envelope);
    if (copy) {
      const expected = `${copy.column} ${copy.envelope} (the envelope's ${copy.field})`;
      return this.fail(seq, 'HASH_MISMATCH', expected, `${copy.column} ${copy.copy}`);
    }
    if (seq === this.expected?.seq && row.hash !== this.expected.hash) {
      return this.fail(seq, 'REWRITTEN', this.expected.hash, row.hash);
    }
    this.lastSeq = seq;
    this.lastHash = row.hash;
    this.count += 1;
    return true;
  }

  /** The verdict so far: a chain that has not reached the expected entry yet is `TRUNCATED`. */
  result(): ChainVerification {
    if (this.failure) return { ...this.failure };
    if (this.expected && this.lastSeq < this.expected.seq) {
      const { count, lastSeq } = this;
      return {
        ok: false,
        firstBadSeq: lastSeq + 1,
        reason: 'TRUNCATED',
        expected: String(this.expected.seq),
        actual: String(lastSeq),
        count,
      };
    }
    return { ok: true, count: this.count, lastSeq: this.lastSeq, lastHash: this.lastHash };
  }

  private fail(firstBadSeq: number, reason: ChainBreak, expected: string, actual: string): false {
    this.failure = { ok: false, firstBadSeq, reason, expected, actual, count: this.count };
    return false;
  }
}

/**
 * Verifies a whole chain from a stream of rows in `seq` order, holding one row at a time, and
 * stops reading at the first break (closing the source, e.g. a database cursor).
 */
export async function verifyChain(
  rows: AsyncIterable<StoredAuditRow> | Iterable<StoredAuditRow>,
  options: ChainVerifierOptions = {},
): Promise<ChainVerification> {
  const verifier = new ChainVerifier(options);
  for await (const row of rows) {
    if (!verifier.push(row)) break;
  }
  return verifier.result();
}

/**
 * The first copy that differs from the (hash-verified) envelope: a row whose `event_type` was
 * changed would drop out of a filter by type while its chain stays intact.
 */
function disagreeingCopy(
  copies: EnvelopeCopies,
  envelope: unknown,
): { field: keyof EnvelopeCopies; column: string; envelope: string; copy: string } | undefined {
  const fields =
    typeof envelope === 'object' && envelope !== null ? (envelope as Record<string, unknown>) : {};
  for (const [field, column] of COPY_COLUMNS) {
    if (fields[field] !== copies[field]) {
      const own = JSON.stringify(fields[field]) ?? 'undefined';
      return { field, column, envelope: own, copy: JSON.stringify(copies[field]) };
    }
  }
  return undefined;
}

const COPY_COLUMNS = [
  ['id', 'event_id'],
  ['type', 'event_type'],
  ['occurredAt', 'occurred_at'],
] as const;

// An envelope that cannot be canonicalised (e.g. a lone surrogate) can never match a stored
// hash; it is reported as a hash mismatch rather than crashing the verification.
function rehash(seq: number, row: StoredAuditRow): string {
  try {
    return auditHash({ seq, prevHash: row.prevHash, event: row.envelope });
  } catch (error) {
    return `unhashable envelope: ${error instanceof Error ? error.message : String(error)}`;
  }
}
