import { canonicalize, GENESIS_HASH, sha256Hex, type ChainEntry } from '@bifrost/audit';
import { type EntityManager } from 'typeorm';
import { copyRows } from '../projector/bulk-writes';

/** The last row of the log: where the next batch links on. */
export type ChainHead = ChainEntry;

export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** What the projector records for one message, canonicalised before the transaction starts. */
export interface AuditEntry {
  readonly eventId: string;
  readonly eventType: string;
  readonly stream: string;
  readonly streamSeq: number;
  readonly occurredAt: string;
  /** JCS text of the envelope: hashed, and stored as the jsonb `envelope`. */
  readonly canonical: string;
}

export interface LinkedAuditEntry extends AuditEntry {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

/** A U+0000 that JCS wrote as `\u0000` (not a literal backslash before "u0000"): jsonb cannot store it. */
const ESCAPED_NUL = /(^|[^\\])(\\\\)*\\u0000/;

/**
 * JCS text of an envelope, or the reason it cannot be an audit row: JCS refuses it (e.g. a lone
 * surrogate) or Postgres jsonb would (U+0000).
 */
export function canonicalEnvelope(
  envelope: unknown,
): { ok: true; canonical: string } | { ok: false; reason: string } {
  let canonical: string;
  try {
    canonical = canonicalize(envelope);
  } catch (error) {
    return { ok: false, reason: `envelope cannot be canonicalised: ${(error as Error).message}` };
  }
  if (ESCAPED_NUL.test(canonical))
    return { ok: false, reason: 'envelope contains U+0000, which jsonb cannot store' };
  return { ok: true, canonical };
}

/**
 * Links entries onto `head`. Equal to `auditHash({ seq, prevHash, event })` of @bifrost/audit
 * (pinned by a spec): JCS sorts the keys `event` < `prevHash` < `seq`, so the envelope's JCS text is
 * computed once per message and only the short frame is rebuilt when a batch must be re-linked.
 */
export function linkEntries(head: ChainHead, entries: readonly AuditEntry[]): LinkedAuditEntry[] {
  let seq = head.seq;
  let prevHash = head.hash;
  return entries.map((entry) => {
    seq += 1;
    const hash = sha256Hex(`{"event":${entry.canonical},"prevHash":"${prevHash}","seq":${seq}}`);
    const linked = { ...entry, seq, prevHash, hash };
    prevHash = hash;
    return linked;
  });
}

export async function readChainHead(manager: EntityManager): Promise<ChainHead> {
  const rows = await manager.query<{ seq: number; hash: string }[]>(
    'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  );
  return rows[0] ?? EMPTY_CHAIN;
}

/** Whether the log still holds `entry`: a row at its seq with its hash (every log holds the genesis). */
export async function holdsEntry(manager: EntityManager, entry: ChainHead): Promise<boolean> {
  if (entry.seq === 0) return entry.hash === GENESIS_HASH;
  const rows = await manager.query<unknown[]>('SELECT 1 FROM audit_log WHERE seq = $1 AND hash = $2', [
    entry.seq,
    entry.hash,
  ]);
  return rows.length > 0;
}

/** The event ids among `ids` that the log already holds (a re-published envelope is recorded once). */
export async function recordedEventIds(manager: EntityManager, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await manager.query<{ event_id: string }[]>(
    // A join probes the unique index once per id; `= ANY($1)` over a large array was planned as a scan.
    'SELECT a.event_id FROM unnest($1::text[]) AS i(event_id) JOIN audit_log a ON a.event_id = i.event_id',
    [ids],
  );
  return new Set(rows.map((row) => row.event_id));
}

/** Of `entries` whose ids the log already holds, the ids stored with a different envelope. */
export async function reusedEventIds(
  manager: EntityManager,
  entries: readonly { readonly eventId: string; readonly canonical: string }[],
): Promise<Set<string>> {
  if (entries.length === 0) return new Set();
  const rows = await manager.query<{ event_id: string }[]>(
    `SELECT a.event_id FROM unnest($1::text[], $2::text[]) AS i(event_id, envelope)
       JOIN audit_log a ON a.event_id = i.event_id WHERE a.envelope <> i.envelope::jsonb`,
    [entries.map((e) => e.eventId), entries.map((e) => e.canonical)],
  );
  return new Set(rows.map((row) => row.event_id));
}

/** The batch's rows, in one COPY (see {@link copyRows}). */
export async function insertAuditRows(
  manager: EntityManager,
  rows: readonly LinkedAuditEntry[],
): Promise<void> {
  await copyRows(
    manager,
    'audit_log',
    ['seq', 'event_id', 'event_type', 'stream', 'stream_seq', 'occurred_at', 'envelope', 'prev_hash', 'hash'],
    rows.map((r) => [
      r.seq,
      r.eventId,
      r.eventType,
      r.stream,
      r.streamSeq,
      r.occurredAt,
      r.canonical,
      r.prevHash,
      r.hash,
    ]),
  );
}
