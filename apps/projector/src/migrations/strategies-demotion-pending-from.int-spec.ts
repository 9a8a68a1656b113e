import { createTestDatabase, type TestDatabase } from '@bifrost/testing';
import { type DataSource } from 'typeorm';
import { StrategiesDemotionPendingFrom1732300002000 } from './1732300002000-strategies-demotion-pending-from';
import { migratedLast } from './migration.fixtures';

function insertStrategy(dataSource: DataSource, strategyId: string, level: string, demotionPending: boolean) {
  return dataSource.query(
    `INSERT INTO strategies (engine_id, strategy_id, level, demotion_pending, outcomes, wins, losses, pnl_total, paused)
     VALUES ('eng-1', $1, $2, $3, 0, 0, 0, 0, false)`,
    [strategyId, level, demotionPending],
  );
}

function insertChange(
  dataSource: DataSource,
  strategyId: string,
  kind: string,
  from: string,
  to: string,
  at: string,
) {
  return dataSource.query(
    `INSERT INTO strategy_maturity_changes (event_id, engine_id, strategy_id, kind, from_level, to_level, detail, changed_at)
     VALUES ($1, 'eng-1', $2, $3, $4, $5, '{}', $6)`,
    [`${strategyId}-${at}`, strategyId, kind, from, to, at],
  );
}

const columns = (dataSource: DataSource) =>
  dataSource
    .query<{ column_name: string }[]>(
      `SELECT column_name FROM information_schema.columns
       WHERE table_name = 'strategies' AND column_name LIKE 'demotion%' ORDER BY 1`,
    )
    .then((rows) => rows.map((row) => row.column_name));

describe('migration StrategiesDemotionPendingFrom1732300002000', () => {
  let db: TestDatabase;
  let current: DataSource | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('migration2000');
    // As the projector stored them before: pending after a demotion until acknowledged.
    current = await migratedLast(db, StrategiesDemotionPendingFrom1732300002000, async (old) => {
      await insertStrategy(old, 'pending', 'L1', true);
      await insertChange(old, 'pending', 'promoted', 'L3', 'L4', '2026-11-20T09:00:00Z');
      await insertChange(old, 'pending', 'demoted', 'L4', 'L2', '2026-11-21T09:00:00Z');
      await insertChange(old, 'pending', 'demoted', 'L2', 'L1', '2026-11-22T09:00:00Z');
      await insertStrategy(old, 'told', 'L2', false);
      await insertChange(old, 'told', 'demoted', 'L4', 'L2', '2026-11-21T09:00:00Z');
    });
  });
  afterAll(async () => {
    await current?.destroy();
    await db?.drop();
  });

  describe('Given strategies stored before it, one with a demotion pending', () => {
    it('should give the pending one the level its latest demotion left, and the other none', async () => {
      expect(
        await current!.query(
          `SELECT strategy_id, demotion_pending, demotion_pending_from FROM strategies ORDER BY 1`,
        ),
      ).toEqual([
        { strategy_id: 'pending', demotion_pending: true, demotion_pending_from: 'L2' },
        { strategy_id: 'told', demotion_pending: false, demotion_pending_from: null },
      ]);
    });
  });

  describe('Given it is undone', () => {
    it('should drop the column and keep demotion_pending', async () => {
      const ds = current!;
      await ds.undoLastMigration({ transaction: 'each' });

      expect(await columns(ds)).toEqual(['demotion_pending']);
      expect(await ds.query(`SELECT strategy_id, demotion_pending FROM strategies ORDER BY 1`)).toEqual([
        { strategy_id: 'pending', demotion_pending: true },
        { strategy_id: 'told', demotion_pending: false },
      ]);
    });
  });
});
