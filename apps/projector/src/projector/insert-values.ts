import { type EntityManager } from 'typeorm';

/** Bind parameters one statement may carry (the protocol counts them in 16 bits). */
const MAX_PARAMETERS = 65_535;

/**
 * Multi-row `INSERT … VALUES` with one bind parameter per cell. Large text (envelopes, jsonb) then
 * reaches Postgres as it is, where `unnest($n::text[])` would quote and escape every value into one
 * array literal for Postgres to parse back: measured ~2× slower for the audit rows. Chunked under
 * the parameter limit. `columns` are names, optionally with a cast: `['seq::bigint', 'envelope::jsonb']`.
 */
export async function insertValues(
  manager: EntityManager,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  onConflict = '',
): Promise<void> {
  const names = columns.map((column) => column.split('::')[0]);
  const casts = columns.map((column) => (column.includes('::') ? `::${column.split('::')[1]}` : ''));
  const perStatement = Math.floor(MAX_PARAMETERS / columns.length);
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const tuples = chunk.map(
      (_, r) => `(${casts.map((cast, c) => `$${r * columns.length + c + 1}${cast}`).join(', ')})`,
    );
    await manager.query(
      `INSERT INTO ${table} (${names.join(', ')}) VALUES ${tuples.join(', ')} ${onConflict}`,
      chunk.flat(),
    );
  }
}
