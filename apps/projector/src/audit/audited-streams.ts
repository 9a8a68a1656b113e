import { type Naming } from '@bifrost/contracts';
import { PROJECTED_STREAMS } from '../projector/projector';

/** Rows of a query, through whichever Postgres client the caller holds. */
export type Rows = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

/**
 * Why the audit log is not the one `naming`'s streams were recorded into: it holds rows, none of
 * them from those streams (a wrong or missing namespace); undefined when it is, or is empty. The
 * commands that act on the log for a namespace (rebuild, accept) refuse rather than act elsewhere.
 */
export async function namespaceMismatch(rows: Rows, naming: Naming): Promise<string | undefined> {
  const names = PROJECTED_STREAMS.map((key) => naming.streams[key].name);
  const [ours] = await rows('SELECT 1 FROM audit_log WHERE stream = ANY($1::text[]) LIMIT 1', [names]);
  if (ours) return undefined;
  const [other] = await rows('SELECT stream FROM audit_log LIMIT 1', []);
  return other
    ? `the audit log holds messages of ${String(other['stream'])}, none of ${names.join(' or ')}: is the namespace right?`
    : undefined;
}
