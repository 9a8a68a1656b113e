import type { DataSource } from 'typeorm';
import { openDataSource } from '@bifrost/persistence';
import { createTestDatabase, waitFor, type TestDatabase } from '@bifrost/testing';
import { ReadModels } from './read-models.service';

describe('ReadModels.snapshot', () => {
  let database: TestDatabase;
  let db: DataSource;
  let read: ReadModels;

  beforeAll(async () => {
    database = await createTestDatabase('gwsnap');
    db = await openDataSource({
      url: database.url,
      entities: [],
      migrations: [],
      applicationName: 'snapshot-spec',
    });
    await db.query('CREATE TABLE totals (n integer NOT NULL)');
    await db.query('CREATE TABLE days (day text PRIMARY KEY)');
    read = new ReadModels(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('should show every read as of one moment, though the projector commits between them', async () => {
    await db.query('INSERT INTO totals VALUES (1)');
    await db.query("INSERT INTO days VALUES ('2026-12-01')");
    // The projector's commit lands while the answer is between its first read and its last: once
    // Postgres runs the middle one (however long the first took to start on a loaded machine).
    const commit = (async () => {
      await waitFor(
        async () =>
          Number(
            (
              await db.query<{ n: string }[]>(
                `SELECT count(*) AS n FROM pg_stat_activity
                  WHERE state = 'active' AND query = 'SELECT pg_sleep(1.5)::text AS slept'`,
              )
            )[0]?.n,
          ) > 0,
        { intervalMs: 10, what: 'the answer between its reads' },
      );
      await db.transaction(async (tx) => {
        await tx.query('UPDATE totals SET n = n + 1');
        await tx.query("INSERT INTO days VALUES ('2026-12-02')");
      });
    })();

    const [totals, , days] = await read.snapshot([
      { sql: 'SELECT n FROM totals' },
      { sql: 'SELECT pg_sleep(1.5)::text AS slept' },
      { sql: 'SELECT day FROM days ORDER BY day' },
    ]);
    await commit;

    expect(totals).toEqual([{ n: 1 }]);
    expect(days).toEqual([{ day: '2026-12-01' }]);
    // The commit did land, and the next answer sees all of it.
    const [after, afterDays] = await read.snapshot([
      { sql: 'SELECT n FROM totals' },
      { sql: 'SELECT day FROM days ORDER BY day' },
    ]);
    expect(after).toEqual([{ n: 2 }]);
    expect(afterDays).toEqual([{ day: '2026-12-01' }, { day: '2026-12-02' }]);
  });

  it('should refuse to write, and turn a missing table into 503 as every read does', async () => {
    await expect(read.snapshot([{ sql: 'UPDATE totals SET n = 0' }])).rejects.toThrow(
      /read-only transaction/,
    );
    await expect(read.snapshot([{ sql: 'SELECT * FROM nowhere' }])).rejects.toMatchObject({
      code: 'READ_MODELS.MISSING',
    });
    expect(await read.rows('SELECT n FROM totals')).toEqual([{ n: 2 }]);
  });
});
