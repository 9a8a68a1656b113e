import { createTestDatabase, type TestDatabase } from '@bifrost/testing';
import { type DataSource } from 'typeorm';
import { RiskReservationDecisionsKey1732300001300 } from './1732300001300-risk-reservation-decisions-key';
import { migratedLast, primaryKey as keyOf } from './migration.fixtures';

/** A `risk_reservation_decisions` row with just the ids that matter here. */
function insertDecision(dataSource: DataSource, eventId: string, reservationId: string) {
  return dataSource.query(
    `INSERT INTO risk_reservation_decisions (event_id, reservation_id, engine_id, outcome, day, decided_at, request, reply)
     VALUES ($1, $2, 'eng-1', 'GRANTED', '2026-11-21', now(), '{}', '{}')`,
    [eventId, reservationId],
  );
}

const primaryKey = (dataSource: DataSource) => keyOf(dataSource, 'risk_reservation_decisions');

async function eventIdNullable(dataSource: DataSource): Promise<string | undefined> {
  const [row] = await dataSource.query<{ is_nullable: string }[]>(
    `SELECT is_nullable FROM information_schema.columns
     WHERE table_name = 'risk_reservation_decisions' AND column_name = 'event_id'`,
  );
  return row?.is_nullable;
}

describe('migration RiskReservationDecisionsKey1732300001300', () => {
  let db: TestDatabase;
  let current: DataSource | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('migration1300');
    // Decisions as the projector stored them before: one record each, its id the reservation id.
    current = await migratedLast(db, RiskReservationDecisionsKey1732300001300, async (old) => {
      await insertDecision(old, 'r-1', 'r-1');
      await insertDecision(old, 'r-2', 'r-2');
    });
  });
  afterAll(async () => {
    await current?.destroy();
    await db?.drop();
  });

  describe('Given decisions stored before it, keyed by their event id', () => {
    it('should key them by reservation id, so the decisions of one record share its event id', async () => {
      const ds = current!;
      expect(await primaryKey(ds)).toEqual(['reservation_id']);
      expect(await eventIdNullable(ds)).toBe('NO');
      await insertDecision(ds, 'batch-1', 'r-3');
      await insertDecision(ds, 'batch-1', 'r-4');
      await expect(insertDecision(ds, 'batch-2', 'r-3')).rejects.toMatchObject({
        driverError: expect.objectContaining({ code: '23505' }),
      });

      expect(
        await ds.query(`SELECT reservation_id, event_id FROM risk_reservation_decisions ORDER BY 1`),
      ).toEqual([
        { reservation_id: 'r-1', event_id: 'r-1' },
        { reservation_id: 'r-2', event_id: 'r-2' },
        { reservation_id: 'r-3', event_id: 'batch-1' },
        { reservation_id: 'r-4', event_id: 'batch-1' },
      ]);
    });
  });

  describe('Given it is undone with the rows of a batch record stored', () => {
    it('should drop those rows, which the event id key cannot hold, and key the rest by event id again', async () => {
      const ds = current!;
      await insertDecision(ds, 'batch-3', 'r-5');
      await insertDecision(ds, 'batch-3', 'r-6');
      await ds.undoLastMigration({ transaction: 'each' });

      expect(await primaryKey(ds)).toEqual(['event_id']);
      expect(
        await ds.query(`SELECT reservation_id, event_id FROM risk_reservation_decisions ORDER BY 1`),
      ).toEqual([
        { reservation_id: 'r-1', event_id: 'r-1' },
        { reservation_id: 'r-2', event_id: 'r-2' },
      ]);
    });
  });
});
