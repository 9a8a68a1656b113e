import { openDataSource } from '@bifrost/persistence';
import { createTestDatabase, type TestDatabase } from '@bifrost/testing';
import { type DataSource } from 'typeorm';
import { copyRows } from './bulk-writes';
import { inlineParameters, Statements, type SqlValue } from './statements';

/** Text Postgres must get back exactly: quotes, backslashes, placeholders, tabs, newlines, emoji. */
const AWKWARD = [
  `it's`,
  `'; DROP TABLE t; --`,
  'C:\\temp\\new',
  '\\',
  'costs $2, not $1',
  'tab\there',
  'line\nbreak\r\n',
  '"{a,b}"',
  'é😂',
  '',
];

describe('bulk writes of the projector (Statements, copyRows)', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('bulkwrites');
    ds = await openDataSource({ url: db.url, entities: [], migrations: [] });
    await ds.query(
      `CREATE TABLE t (id integer PRIMARY KEY, s text, n double precision, b boolean, a text[], j jsonb, at timestamptz)`,
    );
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  beforeEach(() => ds.query('TRUNCATE t'));

  const rows = () =>
    ds.query<{ id: number; s: string | null; n: number | null; b: boolean | null; a: string[] | null }[]>(
      'SELECT id, s, n, b, a, j::text AS j FROM t ORDER BY id',
    );

  describe('Given statements with awkward values', () => {
    it('should store every value exactly as bound parameters would', async () => {
      const sql = new Statements();
      AWKWARD.forEach((s, i) => sql.add('INSERT INTO t (id, s) VALUES ($1, $2)', [i, s]));
      sql.add('INSERT INTO t (id, n, b, a) VALUES ($1, $2, $3, $4::text[])', [100, -12.5, false, AWKWARD]);
      sql.add('INSERT INTO t (id, s, n, j) VALUES ($1, $2, $3, $4::jsonb)', [
        101,
        null,
        1e21,
        JSON.stringify({ q: `it's "x" \\ $1` }),
      ]);
      expect(sql.size).toBe(AWKWARD.length + 2);

      await ds.transaction((manager) => sql.flush(manager));

      const stored = await rows();
      expect(stored.slice(0, AWKWARD.length).map((r) => r.s)).toEqual(AWKWARD);
      expect(stored.find((r) => r.id === 100)).toMatchObject({ n: -12.5, b: false, a: AWKWARD });
      const json = stored.find((r) => r.id === 101) as unknown as { s: null; n: number; j: string };
      expect(json.s).toBeNull();
      expect(json.n).toBe(1e21);
      expect(JSON.parse(json.j)).toEqual({ q: `it's "x" \\ $1` });
      expect(sql.size).toBe(0);
    });
  });

  describe('Given statements that depend on each other', () => {
    it('should run them in the order added', async () => {
      const sql = new Statements();
      sql.add('INSERT INTO t (id, n) VALUES ($1, $2)', [1, 1]);
      sql.add('UPDATE t SET n = n * $2 WHERE id = $1', [1, 10]);
      sql.add('UPDATE t SET n = n + $2 WHERE id = $1', [1, 5]);
      await ds.transaction((manager) => sql.flush(manager));
      expect((await rows())[0]?.n).toBe(15);
    });
  });

  describe('Given a statement that fails among others', () => {
    it('should fail the flush and leave nothing of the transaction', async () => {
      const sql = new Statements();
      sql.add('INSERT INTO t (id) VALUES ($1)', [1]);
      sql.add('INSERT INTO t (id) VALUES ($1)', [1]);
      await expect(ds.transaction((manager) => sql.flush(manager))).rejects.toThrow(/duplicate key/);
      expect(await rows()).toEqual([]);
    });
  });

  describe('Given a placeholder without a value', () => {
    it('should refuse to inline it', () => {
      expect(() => inlineParameters('UPDATE t SET s = $2 WHERE id = $1', [1])).toThrow(/no value for \$2/);
    });
    it('should write undefined and null as NULL, as node-postgres binds them', () => {
      expect(inlineParameters('VALUES ($1, $2)', [undefined as unknown as SqlValue, null])).toBe(
        'VALUES (NULL, NULL)',
      );
    });
    it('should refuse numbers Postgres cannot hold', () => {
      expect(() => inlineParameters('VALUES ($1)', [Number.NaN])).toThrow(/finite/);
    });
  });

  describe('Given rows copied into a table', () => {
    it('should store tabs, newlines, backslashes and nulls exactly, inside the transaction', async () => {
      const copied = AWKWARD.map((s, i) => [
        i,
        s,
        i / 4,
        i % 2 === 0,
        i === 0 ? null : '2026-11-22T03:00:00.000Z',
      ]);
      await ds.transaction((manager) => copyRows(manager, 't', ['id', 's', 'n', 'b', 'at'], copied));
      const stored = await ds.query<{ id: number; s: string; n: number; b: boolean; at: Date | null }[]>(
        'SELECT id, s, n, b, at FROM t ORDER BY id',
      );
      expect(stored.map((r) => r.s)).toEqual(AWKWARD);
      expect(stored.map((r) => r.n)).toEqual(AWKWARD.map((_, i) => i / 4));
      expect(stored[0]?.at).toBeNull();
      expect(stored[1]?.at?.toISOString()).toBe('2026-11-22T03:00:00.000Z');
    });

    it('should fail on a rejected row and leave the connection usable', async () => {
      const runner = ds.createQueryRunner();
      try {
        await runner.startTransaction();
        await expect(
          copyRows(
            runner.manager,
            't',
            ['id', 's'],
            [
              [1, 'a'],
              [1, 'same key'],
            ],
          ),
        ).rejects.toThrow(/duplicate key/);
        await runner.rollbackTransaction();
        expect(await runner.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      } finally {
        await runner.release();
      }
      expect(await rows()).toEqual([]);
    });

    it('should roll back with the transaction it ran in', async () => {
      await expect(
        ds.transaction(async (manager) => {
          await copyRows(manager, 't', ['id', 's'], [[1, 'kept only if committed']]);
          throw new Error('batch failed after the copy');
        }),
      ).rejects.toThrow('batch failed');
      expect(await rows()).toEqual([]);
    });
  });
});
