import { verifyChain, type ChainEntry, type ChainVerification, type StoredAuditRow } from '@bifrost/audit';
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
        'DECLARE audit_rows NO SCROLL CURSOR FOR SELECT seq, prev_hash, hash, envelope FROM audit_log ORDER BY seq',
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
  query(sql: string): Promise<Record<string, unknown>[]>;
  release(): Promise<void>;
}

async function* rowsOf(connection: Connection, fetchSize: number): AsyncGenerator<StoredAuditRow> {
  for (;;) {
    const rows = await connection.query(`FETCH FORWARD ${fetchSize} FROM audit_rows`);
    for (const row of rows) {
      yield {
        seq: row['seq'] as number,
        prevHash: row['prev_hash'] as string,
        hash: row['hash'] as string,
        envelope: row['envelope'],
      };
    }
    if (rows.length < fetchSize) return;
  }
}

async function borrow(source: AuditLogSource): Promise<Connection> {
  if ('createQueryRunner' in source) {
    const runner = source.createQueryRunner();
    await runner.connect();
    return {
      query: (sql) => runner.query(sql) as Promise<Record<string, unknown>[]>,
      release: () => runner.release(),
    };
  }
  const client: PoolClient = await source.connect();
  return {
    query: async (sql) => (await client.query(sql)).rows as Record<string, unknown>[],
    release: async () => client.release(),
  };
}
