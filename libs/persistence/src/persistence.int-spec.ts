import { createServer, type AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from '@bifrost/testing';
import { type DataSource } from 'typeorm';
import {
  ConsumerCheckpoint,
  loadCheckpoint,
  MIGRATIONS_TABLE,
  openDataSource,
  persistenceEntities,
  persistenceMigrations,
  saveCheckpoint,
} from './index';

describe('persistence against a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const options = () => ({
    url: database.url,
    entities: persistenceEntities,
    migrations: persistenceMigrations,
  });

  beforeAll(async () => {
    database = await createTestDatabase('persistence');
    dataSource = await openDataSource({ ...options(), applicationName: 'persistence-spec' });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  describe('Given a fresh database', () => {
    it('should create consumer_checkpoints through the migration, never by synchronizing', async () => {
      const columns = await dataSource.query<
        { column_name: string; data_type: string; is_nullable: string }[]
      >(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = 'consumer_checkpoints' ORDER BY ordinal_position`,
      );
      const primaryKey = await dataSource.query<{ column_name: string }[]>(
        `SELECT a.attname AS column_name FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = 'public.consumer_checkpoints'::regclass AND i.indisprimary ORDER BY a.attname`,
      );

      expect(dataSource.options.synchronize).toBe(false);
      expect(columns).toEqual([
        { column_name: 'consumer', data_type: 'text', is_nullable: 'NO' },
        { column_name: 'stream', data_type: 'text', is_nullable: 'NO' },
        { column_name: 'last_sequence', data_type: 'bigint', is_nullable: 'NO' },
        { column_name: 'updated_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
      ]);
      expect(primaryKey.map((row) => row.column_name)).toEqual(['consumer', 'stream']);
    });

    it('should read bigint values as numbers, and fail a read of one beyond 2^53 − 1 instead of rounding it', async () => {
      await expect(
        dataSource.query(
          `SELECT 9007199254740991::bigint AS largest, count(*) AS n FROM generate_series(1, 3)`,
        ),
      ).resolves.toEqual([{ largest: 9007199254740991, n: 3 }]);
      await expect(dataSource.query(`SELECT 9007199254740993::bigint AS too_large`)).rejects.toThrow(
        'bigint 9007199254740993 exceeds Number.MAX_SAFE_INTEGER',
      );
      // The failed read left the pool usable.
      await expect(dataSource.query(`SELECT 1::bigint AS one`)).resolves.toEqual([{ one: 1 }]);
    });

    it('should be idempotent when opened again', async () => {
      const again = await openDataSource(options());
      await again.destroy();

      const applied = await dataSource.query<{ name: string }[]>(`SELECT name FROM ${MIGRATIONS_TABLE}`);
      expect(applied).toEqual([{ name: 'ConsumerCheckpoints1732200000000' }]);
    });

    it('should migrate once when several instances start together', async () => {
      const schema = 'concurrent_start';

      const started = await Promise.all(
        [1, 2, 3].map(() => openDataSource({ ...options(), schema, poolSize: 1 })),
      );
      await Promise.all(started.map((instance) => instance.destroy()));

      const applied = await dataSource.query<{ count: string }[]>(
        `SELECT count(*) FROM "${schema}".${MIGRATIONS_TABLE}`,
      );
      expect(applied).toEqual([{ count: 1 }]);
    });
  });

  describe('Given a server that takes the connection and never answers', () => {
    it('should fail to open within the connect timeout, not wait for ever', async () => {
      const silent = createServer(() => undefined);
      await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', listening));
      const { port } = silent.address() as AddressInfo;
      try {
        const started = Date.now();
        await expect(
          openDataSource({
            ...options(),
            url: `postgres://postgres@127.0.0.1:${port}/x`,
            connectTimeoutMs: 500,
          }),
        ).rejects.toThrow(/timeout/i);
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        silent.close();
      }
    }, 20_000);
  });

  describe('Given no checkpoint yet', () => {
    it('should load 0, then what was saved', async () => {
      const consumer = uniqueConsumer();

      await expect(loadCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS')).resolves.toBe(0);
      await saveCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS', 42);

      await expect(loadCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS')).resolves.toBe(42);
      await expect(loadCheckpoint(dataSource.manager, consumer, 'BIFROST_DECISIONS')).resolves.toBe(0);
    });
  });

  describe('Given a checkpoint at 10', () => {
    it('should not move back for an older sequence, and move forward for a newer one', async () => {
      const consumer = uniqueConsumer();
      await saveCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS', 10);

      await saveCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS', 7);
      await expect(loadCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS')).resolves.toBe(10);

      await saveCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS', 11);
      await expect(loadCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS')).resolves.toBe(11);
    });

    it('should stay at 10 when the transaction that saved 99 rolls back', async () => {
      const consumer = uniqueConsumer();
      await saveCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS', 10);

      await expect(
        dataSource.transaction(async (manager) => {
          await saveCheckpoint(manager, consumer, 'BIFROST_EVENTS', 99);
          await expect(loadCheckpoint(manager, consumer, 'BIFROST_EVENTS')).resolves.toBe(99);
          throw new Error('read model write failed');
        }),
      ).rejects.toThrow('read model write failed');

      await expect(loadCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS')).resolves.toBe(10);
    });

    it('should refresh updated_at on every save', async () => {
      const consumer = uniqueConsumer();
      await saveCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS', 10);
      const first = await dataSource.manager.findOneByOrFail(ConsumerCheckpoint, {
        consumer,
        stream: 'BIFROST_EVENTS',
      });

      await saveCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS', 12);
      const second = await dataSource.manager.findOneByOrFail(ConsumerCheckpoint, {
        consumer,
        stream: 'BIFROST_EVENTS',
      });

      expect(second.updatedAt.getTime()).toBeGreaterThanOrEqual(first.updatedAt.getTime());
      expect(second.lastSequence).toBe(12);
    });
  });

  describe('Given sequences outside the safe integer range', () => {
    it('should refuse to save them', async () => {
      await expect(saveCheckpoint(dataSource.manager, uniqueConsumer(), 'S', 2 ** 53)).rejects.toThrow(
        RangeError,
      );
      await expect(saveCheckpoint(dataSource.manager, uniqueConsumer(), 'S', -1)).rejects.toThrow(RangeError);
      await expect(saveCheckpoint(dataSource.manager, uniqueConsumer(), 'S', 1.5)).rejects.toThrow(
        RangeError,
      );
    });

    it('should refuse to read one back rather than round it', async () => {
      const consumer = uniqueConsumer();
      await dataSource.query(
        `INSERT INTO consumer_checkpoints (consumer, stream, last_sequence) VALUES ($1, 'S', $2)`,
        [consumer, '9007199254740993'],
      );

      await expect(loadCheckpoint(dataSource.manager, consumer, 'S')).rejects.toThrow(
        'bigint 9007199254740993 exceeds Number.MAX_SAFE_INTEGER',
      );
      // The failed read left the pool usable.
      await expect(loadCheckpoint(dataSource.manager, uniqueConsumer(), 'S')).resolves.toBe(0);
    });
  });

  describe('Given a schema of its own', () => {
    it('should migrate into that schema and keep checkpoints there', async () => {
      const inSchema = await openDataSource({ ...options(), schema: 'projector' });
      try {
        const consumer = uniqueConsumer();
        await saveCheckpoint(inSchema.manager, consumer, 'BIFROST_EVENTS', 5);
        await saveCheckpoint(inSchema.manager, consumer, 'BIFROST_EVENTS', 3);

        await expect(loadCheckpoint(inSchema.manager, consumer, 'BIFROST_EVENTS')).resolves.toBe(5);
        const rows = await dataSource.query<{ last_sequence: string }[]>(
          `SELECT last_sequence FROM projector.consumer_checkpoints WHERE consumer = $1`,
          [consumer],
        );
        expect(rows).toEqual([{ last_sequence: 5 }]);
        await expect(loadCheckpoint(dataSource.manager, consumer, 'BIFROST_EVENTS')).resolves.toBe(0);
      } finally {
        await inSchema.destroy();
      }
    });
  });
});

let consumers = 0;
function uniqueConsumer(): string {
  consumers += 1;
  return `spec__consumer_${consumers}`;
}
