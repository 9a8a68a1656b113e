import { openDataSource } from '@bifrost/persistence';
import { type TestDatabase } from '@bifrost/testing';
import { type DataSource, type MigrationInterface } from 'typeorm';
import { projectorEntities, projectorMigrations } from '../persistence';

/**
 * The projector's schema on `db` with `migration` run last, after every other: undoing the last
 * migration then undoes that one, whatever migrations come after it. `before` stores rows as they
 * were before it (on a DataSource without entities).
 */
export async function migratedLast(
  db: TestDatabase,
  migration: new () => MigrationInterface,
  before: (dataSource: DataSource) => Promise<unknown> = () => Promise.resolve(),
): Promise<DataSource> {
  const others = projectorMigrations.filter((m) => m !== migration);
  const old = await openDataSource({ url: db.url, entities: [], migrations: others });
  try {
    await before(old);
  } finally {
    await old.destroy();
  }
  return openDataSource({ url: db.url, entities: projectorEntities, migrations: projectorMigrations });
}

/** The columns of `table`'s primary key, in key order. */
export async function primaryKey(dataSource: DataSource, table: string): Promise<string[]> {
  const rows = await dataSource.query<{ attname: string }[]>(
    `SELECT a.attname FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
     WHERE i.indrelid = $1::regclass AND i.indisprimary
     ORDER BY array_position(i.indkey, a.attnum)`,
    [table],
  );
  return rows.map((row) => row.attname);
}
