import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ProblemError } from '../http/problem';
import { GATEWAY_DB } from '../persistence/gateway-database';

export type Row = Record<string, unknown>;

/**
 * Read-only SQL over the projector's read models. Rows come back camelCased with timestamps as
 * RFC 3339 strings; a missing table means the projector has not migrated this database yet (503).
 */
@Injectable()
export class ReadModels {
  constructor(@Inject(GATEWAY_DB) readonly db: DataSource) {}

  rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.guard(async () => ((await this.db.query(sql, params)) as Row[]).map(camelRow));
  }

  /** Runs a read, turning a missing read-model table into 503. */
  async guard<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if ((error as { code?: string }).code === '42P01') {
        throw new ProblemError(
          'unavailable',
          'read models are not there yet: is the projector running on this database?',
          'READ_MODELS.MISSING',
        );
      }
      throw error;
    }
  }

  async one(sql: string, params: unknown[], what: string): Promise<Row> {
    const [row] = await this.rows(sql, params);
    if (!row) throw new ProblemError('notFound', `no ${what}`, 'NOT_FOUND.ENTITY');
    return row;
  }
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

function camelRow(row: Row): Row {
  const out: Row = {};
  for (const column of Object.keys(row)) {
    const value = row[column];
    out[camelName(column)] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

/** Opaque keyset cursor: base64url JSON of the last row's sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): unknown[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity) return key;
  } catch {
    // falls through to the problem below
  }
  throw new ProblemError('invalid', 'cursor is not one this API returned', 'REQUEST.INVALID');
}
