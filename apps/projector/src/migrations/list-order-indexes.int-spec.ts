import { createTestDatabase, type TestDatabase } from '@bifrost/testing';
import { type DataSource } from 'typeorm';
import { ListOrderIndexes1732300001800 } from './1732300001800-list-order-indexes';
import { migratedLast } from './migration.fixtures';

/** Postgres's plan for `sql`, with sequential and bitmap scans priced out: what an index serves in its order. */
async function plan(dataSource: DataSource, sql: string, params: unknown[] = []): Promise<string> {
  return dataSource.transaction(async (manager) => {
    await manager.query(`SET LOCAL enable_seqscan = off`);
    await manager.query(`SET LOCAL enable_bitmapscan = off`);
    const rows = await manager.query<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${sql}`, params);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  });
}

describe('migration ListOrderIndexes1732300001800', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('migration1800');
    ds = await migratedLast(db, ListOrderIndexes1732300001800);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  // The statements of the gateway's lists (ReadModels.page in apps/api-gateway), newest first.
  it.each([
    [
      'reservations, no filter',
      `SELECT * FROM risk_reservations ORDER BY risk_reservations.day DESC, risk_reservations.reservation_id DESC LIMIT 51`,
      [],
    ],
    [
      'reservations of one day',
      `SELECT * FROM risk_reservations WHERE day = $1 ORDER BY risk_reservations.day DESC, risk_reservations.reservation_id DESC LIMIT 51`,
      ['2026-11-21'],
    ],
    [
      'approvals, no filter',
      `SELECT * FROM approvals ORDER BY approvals.requested_at DESC, approvals.approval_id DESC LIMIT 51`,
      [],
    ],
  ])('should page %s from an index, without sorting the table', async (_, sql, params) => {
    const text = await plan(ds, sql, params);
    expect(text).toContain('Index Scan Backward');
    expect(text).not.toContain('Sort');
  });

  it('should be reversible', async () => {
    const indexes = async () =>
      (
        await ds.query<{ indexname: string }[]>(
          `SELECT indexname FROM pg_indexes WHERE indexname IN ('risk_reservations_by_day', 'approvals_by_time') ORDER BY 1`,
        )
      ).map((row) => row.indexname);
    expect(await indexes()).toEqual(['approvals_by_time', 'risk_reservations_by_day']);
    await ds.undoLastMigration();
    expect(await indexes()).toEqual([]);
    await ds.runMigrations();
    expect(await indexes()).toEqual(['approvals_by_time', 'risk_reservations_by_day']);
  });
});
