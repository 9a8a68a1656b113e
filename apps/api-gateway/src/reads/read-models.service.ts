import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { isRealInstant } from '@bifrost/contracts';
import { holdsUnstorableText } from '@bifrost/messaging';
import { RawJson } from '@bifrost/service';
import { ProblemError } from '../http/problem';
import { GATEWAY_DB } from '../persistence/gateway-database';

export type Row = Record<string, unknown>;

/**
 * A list's `from` after its `to` is a request with the two swapped, refused rather than answered
 * with an empty page; `from` = `to` is an empty range, and an empty page. Both are times as
 * `toISOString` writes them (or days), so their text sorts as they do.
 */
export function assertRangeOrder(from: string | undefined, to: string | undefined): void {
  if (from !== undefined && to !== undefined && from > to) {
    throw new ProblemError('invalid', `from ${from} is after to ${to}`, 'REQUEST.INVALID');
  }
}

/**
 * Read-only SQL over the projector's read models. Rows come back camelCased with timestamps as
 * RFC 3339 strings; a missing table means the projector has not migrated this database yet (503).
 * Columns named in `rawJson` are selected as text (`verdict::text AS verdict`) and go into the
 * reply as they are, never parsed and serialized again (the decision records: ~2 kB each).
 */
@Injectable()
export class ReadModels {
  constructor(@Inject(GATEWAY_DB) readonly db: DataSource) {}

  rows(sql: string, params: unknown[] = [], rawJson: readonly string[] = []): Promise<Row[]> {
    return this.guard(async () => camelRows((await this.db.query(sql, params)) as Row[], rawJson));
  }

  /**
   * Several reads that make one answer, run in one read-only REPEATABLE READ transaction: all of
   * them see the read models as of one moment. Run apart, a projector commit landing between them
   * would show, say, a cumulative scorecard that counts a trial its per-day rows do not have yet.
   */
  snapshot<const Q extends readonly ReadQuery[]>(queries: Q): Promise<{ [K in keyof Q]: Row[] }> {
    return this.guard(() =>
      this.db.transaction('REPEATABLE READ', async (manager) => {
        await manager.query('SET TRANSACTION READ ONLY');
        const results: Row[][] = [];
        for (const { sql, params = [], rawJson = [] } of queries) {
          results.push(camelRows((await manager.query(sql, params)) as Row[], rawJson));
        }
        return results as { [K in keyof Q]: Row[] };
      }),
    );
  }

  /**
   * Runs a read, turning a missing read-model table into 503 and a value Postgres refuses (class 22,
   * data exception: a date that does not exist) into 400.
   */
  async guard<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === '42P01') {
        throw new ProblemError(
          'unavailable',
          'read models are not there yet: is the projector running on this database?',
          'READ_MODELS.MISSING',
        );
      }
      if (typeof code === 'string' && code.startsWith('22')) {
        throw new ProblemError(
          'malformed',
          `a value in the request is not valid: ${(error as Error).message}`,
          'REQUEST.INVALID_VALUE',
        );
      }
      throw error;
    }
  }

  /**
   * One page of a table in the order of its `key` (two columns that together are unique), with the
   * filters that are set and an opaque keyset cursor (`nextCursor` is null on the last page). Rows
   * added or removed between two pages never make a page repeat or skip a row. A cursor names the
   * table it pages, so one list's cursor is refused by another.
   */
  async page(q: PageQuery): Promise<{ items: Row[]; nextCursor: string | null }> {
    const [first, second] = q.key;
    const descending = q.order === 'desc';
    const params: unknown[] = [];
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, q);
    const filter = where(q.filters, params);
    let keyset = '';
    if (after) {
      params.push(after[0], after[1]);
      keyset = `${filter === '' ? 'WHERE' : ' AND'} (${q.table}.${first}, ${q.table}.${second}) ${descending ? '<' : '>'} ($${params.length - 1}::${q.keyType}, $${params.length})`;
    }
    params.push(q.limit + 1);
    const direction = descending ? 'DESC' : 'ASC';
    const rows = await this.rows(
      // Qualified: a column selected as \`isoTime(time)\` keeps its name, and ORDER BY would otherwise sort by that text.
      `SELECT ${q.columns} FROM ${q.table} ${filter}${keyset} ORDER BY ${q.table}.${first} ${direction}, ${q.table}.${second} ${direction} LIMIT $${params.length}`,
      params,
      q.rawJson,
    );
    const items = rows.slice(0, q.limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor:
        rows.length > q.limit && last
          ? encodeCursor([q.table, last[camelName(first)], last[camelName(second)]])
          : null,
    };
  }

  async one(sql: string, params: unknown[], what: string, rawJson?: readonly string[]): Promise<Row> {
    return theRow(await this.rows(sql, params, rawJson), what);
  }
}

/** The first row of a read that names one thing, or 404 when there is none. */
export function theRow(rows: readonly Row[], what: string): Row {
  const [row] = rows;
  if (!row) throw new ProblemError('notFound', `no ${what}`, 'NOT_FOUND.ENTITY');
  return row;
}

/** One read of a `ReadModels.snapshot`, as `rows` takes it. */
export interface ReadQuery {
  readonly sql: string;
  readonly params?: unknown[];
  readonly rawJson?: readonly string[];
}

export interface PageQuery {
  readonly table: string;
  readonly columns: string;
  /** `['engine_id = ?', value]`: a clause with one placeholder, left out when the value is undefined. */
  readonly filters: readonly (readonly [string, unknown])[];
  /** The sort key: a column and a text tie-breaker that makes the pair unique. */
  readonly key: readonly [string, string];
  /** The Postgres type of the key's first column (the cursor's first value is cast to it); the second is text. */
  readonly keyType: 'timestamptz' | 'text';
  /** `desc`: newest (or last) first. */
  readonly order: 'asc' | 'desc';
  readonly cursor?: string | undefined;
  readonly limit: number;
  /** Columns selected as JSON text, passed through as they are. */
  readonly rawJson?: readonly string[];
}

/**
 * A timestamptz column selected as its RFC 3339 text (UTC, milliseconds, as \`Date#toISOString\`), under
 * its own name: Postgres formats it, so no \`Date\` is parsed and formatted again per row.
 */
export function isoTime(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
}

/**
 * Builds `WHERE a = $1 AND b >= $2 …` from the filters that are set, pushing their values onto
 * `params`; a clause without `?` is taken as it is when its value is set (the value picked it).
 */
export function where(filters: readonly (readonly [string, unknown])[], params: unknown[]): string {
  const clauses = filters
    .filter(([, value]) => value !== undefined)
    .map(([clause, value]) => {
      if (!clause.includes('?')) return clause;
      params.push(value);
      return clause.replace('?', `$${params.length}`);
    });
  return clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
}

/** Column name → property name, computed once per column (the regex per cell was the hot spot of list reads). */
const camelNames = new Map<string, string>();

function camelName(column: string): string {
  let name = camelNames.get(column);
  if (name === undefined) {
    name = column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    camelNames.set(column, name);
  }
  return name;
}

/**
 * Rows with camelCase properties, timestamps as RFC 3339 strings and `rawJson` columns as
 * {@link RawJson}; what to do with each column is worked out once per result, not per cell (per
 * cell, this was a tenth of a decisions page's CPU).
 */
function camelRows(rows: Row[], rawJson: readonly string[]): Row[] {
  const first = rows[0];
  if (first === undefined) return rows;
  const columns = Object.keys(first).map((column) => ({
    column,
    name: camelName(column),
    raw: rawJson.includes(column),
  }));
  return rows.map((row) => {
    const out: Row = {};
    for (const { column, name, raw } of columns) {
      const value = row[column];
      out[name] =
        value instanceof Date
          ? value.toISOString()
          : raw && typeof value === 'string'
            ? new RawJson(value)
            : value;
    }
    return out;
  });
}

/** Opaque keyset cursor: base64url JSON of the table and the last row's sort key. */
function encodeCursor(key: readonly [string, unknown, unknown]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * The sort key of a cursor `page` returned for this table: a timestamptz key value must be the
 * RFC 3339 text rows carry (Postgres never sees a value it would refuse), a text one a string.
 */
function decodeCursor(cursor: string, q: PageQuery): [string, string] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 3) {
      const [table, first, second] = key as unknown[];
      if (
        table === q.table &&
        typeof first === 'string' &&
        typeof second === 'string' &&
        (q.keyType === 'text' || isRealInstant(first)) &&
        // Text Postgres refuses (U+0000, a lone surrogate) was never a row's key.
        !holdsUnstorableText(key)
      )
        return [first, second];
    }
  } catch {
    // falls through to the problem below
  }
  throw new ProblemError('invalid', 'cursor is not one this API returned', 'REQUEST.INVALID');
}
