import {
  canonicalize,
  verifyChain,
  type ChainEntry,
  type ChainVerification,
  type StoredAuditRow,
} from '@bifrost/audit';
import { type Pool, type PoolClient } from 'pg';
import { type DataSource } from 'typeorm';

/** Anything the verifier can borrow one connection from. */
export type AuditLogSource = DataSource | Pool;

export interface VerifyAuditLogOptions {
  /** Rows per FETCH from the server-side cursor; memory stays bounded by this. */
  readonly fetchSize?: number;
  /**
   * An entry the log must hold (`TRUNCATED` / `REWRITTEN` otherwise): one committed before this
   * call, so that the run's snapshot includes it.
   */
  readonly expect?: ChainEntry;
}

/**
 * Re-hashes the whole audit log in `seq` order through a server-side cursor (bounded memory) and
 * reports the first bad `seq` (docs/audit.md §4). Reads in one REPEATABLE READ transaction, so rows
 * the projector appends meanwhile are simply not part of this run. Shared by the projector's
 * `bifrost-audit verify` CLI, its periodic verification and the gateway's `GET /api/v1/audit/verify`.
 */
export async function verifyAuditLog(
  source: AuditLogSource,
  options: VerifyAuditLogOptions = {},
): Promise<ChainVerification> {
  const connection = await borrow(source);
  const fetchSize = options.fetchSize ?? 1000;
  try {
    await connection.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      await connection.query(
        // occurred_at as the envelope spells it (toISOString), but to the microsecond: a copy moved
        // by less than a millisecond must not look equal.
        `DECLARE audit_rows NO SCROLL CURSOR FOR
           SELECT seq, prev_hash, hash, envelope, event_id, event_type,
                  to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at
           FROM audit_log ORDER BY seq`,
      );
      return await verifyChain(rowsOf(connection, fetchSize), { expect: options.expect });
    } finally {
      await connection.query('ROLLBACK').catch(() => undefined);
    }
  } finally {
    await connection.release();
  }
}

interface Connection {
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  release(): Promise<void>;
}

async function* rowsOf(connection: Connection, fetchSize: number): AsyncGenerator<StoredAuditRow> {
  for (;;) {
    const rows = await connection.query(`FETCH FORWARD ${fetchSize} FROM audit_rows`);
    const inexact = await inexactRows(connection, rows);
    for (const row of rows) {
      yield {
        ...(inexact.has(String(row['seq']))
          ? { inexact: 'stored jsonb differs from the envelope read back and hashed' }
          : {}),
        seq: row['seq'] as number,
        prevHash: row['prev_hash'] as string,
        hash: row['hash'] as string,
        envelope: row['envelope'],
        copies: {
          id: row['event_id'] as string,
          type: row['event_type'] as string,
          // Whole milliseconds, as every envelope's occurredAt, drop the three zeros of the micros.
          occurredAt: (row['occurred_at'] as string).replace(/000Z$/, 'Z'),
        },
      };
    }
    if (rows.length < fetchSize) return;
  }
}

/**
 * The seqs (as text) of `rows` whose stored jsonb is not exactly the JCS text of the envelope as
 * read back, which is what the verifier hashes. pg reads jsonb with JSON.parse: a number a double
 * cannot carry (`5.0000000000000000001`) reads back rounded and hashes as the row was written,
 * though the table holds another. The projector stores the JCS text it hashed (docs/audit.md §1),
 * whose numbers are doubles' shortest spellings: an untouched row reads back to that text, and
 * jsonb compares numbers by value (`1e+21` = `1000000000000000000000`). An envelope JCS refuses is
 * left to the hash check, which reports it.
 */
async function inexactRows(
  connection: Connection,
  rows: readonly Record<string, unknown>[],
): Promise<Set<string>> {
  const seqs: string[] = [];
  const hashed: string[] = [];
  for (const row of rows) {
    try {
      hashed.push(canonicalize(row['envelope']));
      seqs.push(String(row['seq']));
    } catch {
      // Unhashable: reported as such by the chain verifier.
    }
  }
  if (seqs.length === 0) return new Set();
  const found = await connection.query(
    `SELECT a.seq::text AS seq FROM unnest($1::bigint[], $2::text[]) AS t(seq, hashed)
       JOIN audit_log a ON a.seq = t.seq WHERE a.envelope <> t.hashed::jsonb`,
    [seqs, hashed],
  );
  return new Set(found.map((row) => row['seq'] as string));
}

async function borrow(source: AuditLogSource): Promise<Connection> {
  if ('createQueryRunner' in source) {
    const runner = source.createQueryRunner();
    await runner.connect();
    return {
      query: (sql, params) => runner.query(sql, params) as Promise<Record<string, unknown>[]>,
      release: () => runner.release(),
    };
  }
  const client: PoolClient = await source.connect();
  return {
    query: async (sql, params) => (await client.query(sql, params)).rows as Record<string, unknown>[],
    release: async () => client.release(),
  };
}
