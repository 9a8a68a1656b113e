import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';
import { type EntityManager } from 'typeorm';

/**
 * Rows in one `INSERT … SELECT … FROM json_populate_recordset(NULL::table, $1)`: the whole batch is
 * one bind parameter, a JSON array whose objects are keyed by column name (the keys of the first
 * row; columns left out take their defaults). Postgres parses it with its JSON parser and converts
 * each value to its column's type, so no statement grows with the batch (multi-row `VALUES` with a
 * parameter per cell measured ~1.4× slower for the gate decisions). A `json`/`jsonb` column takes
 * a nested value as it is: give it the object, not its JSON text.
 */
export async function insertRows(
  manager: EntityManager,
  table: string,
  rows: readonly Readonly<Record<string, unknown>>[],
  onConflict = '',
): Promise<void> {
  const first = rows[0];
  if (!first) return;
  const columns = Object.keys(first).join(', ');
  await manager.query(
    `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM json_populate_recordset(NULL::${table}, $1) ${onConflict}`,
    [JSON.stringify(rows)],
  );
}

/** A COPY text-format field: `\N` for null, backslash, newline, carriage return and tab escaped. */
function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = String(value);
  return /[\\\n\r\t]/.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c] as string) : text;
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `COPY table (columns) FROM STDIN` of all rows in one stream, on the manager's own connection (so
 * inside its transaction). For append-only tables with no conflict to resolve, such as the audit
 * log: measured ~1.5× faster than multi-row `VALUES` for the audit rows (COPY cannot skip
 * conflicts; use {@link insertRows} where a row may already exist). Values are written with `String()`: numbers, ISO times
 * and JSON text; the column types cast them.
 */
export async function copyRows(
  manager: EntityManager,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  if (rows.length === 0) return;
  const runner = manager.queryRunner;
  if (!runner) throw new Error('copyRows needs a manager bound to a query runner (a transaction)');
  const client = (await runner.connect()) as { query(stream: CopyStreamQuery): CopyStreamQuery };
  const text = rows.map((row) => row.map(copyField).join('\t')).join('\n') + '\n';
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from([Buffer.from(text)]), stream);
}
