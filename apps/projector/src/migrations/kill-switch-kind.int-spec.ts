import { createTestDatabase, type TestDatabase } from '@bifrost/testing';
import { type DataSource } from 'typeorm';
import { KillSwitchKind1732300001900 } from './1732300001900-kill-switch-kind';
import { migratedLast, primaryKey as keyOf } from './migration.fixtures';

/** An engaged kill switch, keyed by the columns given (`scope` alone before the migration). */
function insertSwitch(dataSource: DataSource, key: Record<string, string>) {
  const columns = Object.keys(key);
  return dataSource.query(
    `INSERT INTO control_kill_switches (${columns.join(', ')}, engaged, mode, reason, engaged_by, engaged_at)
     VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}, true, 'hard', 'drill', 'op-7', now())`,
    Object.values(key),
  );
}

const primaryKey = (dataSource: DataSource) => keyOf(dataSource, 'control_kill_switches');

describe('migration KillSwitchKind1732300001900', () => {
  let db: TestDatabase;
  let current: DataSource | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('migration1900');
    current = await migratedLast(db, KillSwitchKind1732300001900, async (old) => {
      await insertSwitch(old, { scope: 'global' });
      await insertSwitch(old, { scope: 'eng-1' });
    });
  });
  afterAll(async () => {
    await current?.destroy();
    await db?.drop();
  });

  describe('Given kill switches stored before it, keyed by scope', () => {
    it('should give each its kind and key them by kind and scope, so an engine named global has its own', async () => {
      const ds = current!;
      expect(await primaryKey(ds)).toEqual(['kind', 'scope']);
      await insertSwitch(ds, { kind: 'engine', scope: 'global' });
      await expect(insertSwitch(ds, { kind: 'global', scope: 'global' })).rejects.toMatchObject({
        driverError: expect.objectContaining({ code: '23505' }),
      });
      await expect(insertSwitch(ds, { kind: 'other', scope: 'x' })).rejects.toMatchObject({
        driverError: expect.objectContaining({ code: '23514' }),
      });

      expect(await ds.query(`SELECT kind, scope FROM control_kill_switches ORDER BY 1, 2`)).toEqual([
        { kind: 'engine', scope: 'eng-1' },
        { kind: 'engine', scope: 'global' },
        { kind: 'global', scope: 'global' },
      ]);
    });
  });

  describe('Given it is undone with the switch of an engine named global stored', () => {
    it('should drop that switch, which the scope key cannot hold apart, and key the rest by scope again', async () => {
      const ds = current!;
      await ds.undoLastMigration({ transaction: 'each' });

      expect(await primaryKey(ds)).toEqual(['scope']);
      expect(await ds.query(`SELECT scope FROM control_kill_switches ORDER BY 1`)).toEqual([
        { scope: 'eng-1' },
        { scope: 'global' },
      ]);
    });
  });
});
