import { types as pgTypes } from 'pg';
import { DataSource, type DataSourceOptions, MigrationExecutor } from 'typeorm';

type PostgresOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

export interface PersistenceOptions {
  /** `postgres://user:password@host:port/database` (`DATABASE_URL`). */
  readonly url: string;
  readonly entities: NonNullable<PostgresOptions['entities']>;
  readonly migrations: NonNullable<PostgresOptions['migrations']>;
  /** Tables (and the migrations table) live in this schema, created when missing; `public` otherwise. */
  readonly schema?: string;
  /** Shows up in `pg_stat_activity`; use the service name. */
  readonly applicationName?: string;
  readonly poolSize?: number;
  /**
   * Longest wait for a new connection, default {@link CONNECT_TIMEOUT_MS}: a server that takes the
   * TCP connection and never answers fails the query (or the start) instead of holding it for ever.
   */
  readonly connectTimeoutMs?: number;
}

export const CONNECT_TIMEOUT_MS = 15_000;

export const MIGRATIONS_TABLE = 'bifrost_migrations';

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const INT8_OID = 20;

/**
 * `bigint` values (sequences, minor-unit sums, `count(*)`) are read as numbers, not as pg's strings;
 * one beyond 2^53 − 1 fails the query (pg rejects it with this error) instead of being rounded.
 */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} exceeds Number.MAX_SAFE_INTEGER`);
  return value;
}

const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : pgTypes.getTypeParser(oid, format ?? 'text')) as typeof pgTypes.getTypeParser,
};

/**
 * A Postgres DataSource that never synchronizes: the schema changes only through migrations.
 * `bigint` columns arrive as numbers ({@link parseInt8}).
 */
export function createDataSource(options: PersistenceOptions): DataSource {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new Error(`schema must match ${SCHEMA_NAME.source}, got "${options.schema}"`);
  }
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    synchronize: false,
    migrationsRun: false,
    connectTimeoutMS: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    ...(options.schema === undefined
      ? { extra: { types: typeParsers } }
      : {
          schema: options.schema,
          // Migrations are plain SQL with unqualified names; they land in the schema through search_path.
          extra: {
            types: typeParsers,
            options: `-c search_path=${quoteIdentifier(options.schema)},public`,
          },
        }),
    ...(options.applicationName === undefined ? {} : { applicationName: options.applicationName }),
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
  });
}

/**
 * Creates, connects and runs pending migrations, each in its own transaction (what
 * `runMigrations({ transaction: 'each' })` does). Instances starting at the same time take turns
 * through a session advisory lock held on the migrating connection itself, so no migration runs
 * twice and a pool of one connection still works. On failure the pool is closed and the error rethrown.
 */
export async function openDataSource(options: PersistenceOptions): Promise<DataSource> {
  const dataSource = createDataSource(options);
  await dataSource.initialize();
  try {
    const queryRunner = dataSource.createQueryRunner();
    try {
      await queryRunner.query(`SELECT pg_advisory_lock(hashtext('${MIGRATIONS_TABLE}'))`);
      if (options.schema !== undefined) {
        await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(options.schema)}`);
      }
      const executor = new MigrationExecutor(dataSource, queryRunner);
      executor.transaction = 'each';
      await executor.executePendingMigrations();
    } finally {
      // Releasing returns the connection to the pool, so the session lock must go first.
      await queryRunner
        .query(`SELECT pg_advisory_unlock(hashtext('${MIGRATIONS_TABLE}'))`)
        .catch(() => undefined);
      await queryRunner.release();
    }
    return dataSource;
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
