import type { DataSource } from 'typeorm';
import { verifyChain, type ChainVerification, type StoredAuditRow } from '@bifrost/audit';

/**
 * Re-hashes the audit log in seq order through a server-side cursor (memory bounded by
 * `fetchSize`) inside one REPEATABLE READ snapshot. The projector exports the same verifier, but
 * an app may not import another app; see the report on moving it into libs/audit.
 */
export async function verifyAuditLog(db: DataSource, fetchSize = 1000): Promise<ChainVerification> {
  const runner = db.createQueryRunner();
  try {
    await runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      await runner.query(
        'DECLARE audit_verify NO SCROLL CURSOR FOR SELECT seq, prev_hash, hash, envelope FROM audit_log ORDER BY seq',
      );
      async function* rows(): AsyncGenerator<StoredAuditRow> {
        for (;;) {
          const batch = (await runner.query(`FETCH ${fetchSize} FROM audit_verify`)) as {
            seq: string;
            prev_hash: string;
            hash: string;
            envelope: unknown;
          }[];
          if (batch.length === 0) return;
          for (const row of batch)
            yield { seq: row.seq, prevHash: row.prev_hash, hash: row.hash, envelope: row.envelope };
        }
      }
      return await verifyChain(rows());
    } finally {
      await runner.query('ROLLBACK').catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}
