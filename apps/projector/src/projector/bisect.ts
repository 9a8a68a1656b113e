/**
 * Whether the batch failed for one message's data: an {@link EventIdReusedError}, or Postgres
 * refused a statement for the data it was given, SQLSTATE class 21 (cardinality violation: one
 * statement updating a row twice), 22 (data exception: a value out of range, an impossible date),
 * 23 (integrity constraint violation) or 54 (program limit exceeded: a value too big for an index).
 * Another batch holding the same message would fail the same way; a lost connection, a
 * serialization failure or a timeout would not, so those are not the message's fault. (A class 54
 * error of a whole batch, such as a statement too complex, is split like any other until the
 * message that causes it, if one does, stands alone.)
 */
export function isDataError(error: unknown): boolean {
  if (error instanceof EventIdReusedError) return true;
  const state = sqlState(error);
  return state !== undefined && DATA_ERROR_CLASSES.has(state.slice(0, 2));
}

const DATA_ERROR_CLASSES = new Set(['21', '22', '23', '54']);

/**
 * A message whose envelope id the log already holds (or the batch holds earlier) with different
 * content: not a redelivery, so not a duplicate to skip silently, and the log cannot hold both.
 */
export class EventIdReusedError extends Error {
  constructor(readonly eventId: string) {
    super(`envelope id ${eventId} is already in the audit log with different content`);
    this.name = 'EventIdReusedError';
  }
}

/**
 * The SQLSTATE of an error Postgres reported (node-postgres gives it a `severity`; a socket error's
 * `code` such as EPIPE is no SQLSTATE), also when TypeORM wrapped it (`QueryFailedError.driverError`).
 */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, severity, driverError } = error as {
    code?: unknown;
    severity?: unknown;
    driverError?: unknown;
  };
  if (typeof code === 'string' && typeof severity === 'string') return code;
  return sqlState(driverError);
}

/**
 * Commits `items` at once; when that fails with an error `isolatable` accepts, commits each half
 * the same way, first half first, until the failure comes down to one item, which `faulty` gets.
 * So everything else commits, in order, in about 2·log2(n) attempts per faulty item. Any other
 * failure propagates.
 */
export async function commitBisecting<T, R>(
  items: readonly T[],
  commit: (items: readonly T[]) => Promise<R>,
  isolatable: (error: unknown) => boolean,
  faulty: (item: T, error: unknown) => Promise<R>,
): Promise<R[]> {
  try {
    return [await commit(items)];
  } catch (error) {
    if (!isolatable(error) || items.length === 0) throw error;
    if (items.length === 1) return [await faulty(items[0] as T, error)];
    const half = Math.ceil(items.length / 2);
    return [
      ...(await commitBisecting(items.slice(0, half), commit, isolatable, faulty)),
      ...(await commitBisecting(items.slice(half), commit, isolatable, faulty)),
    ];
  }
}
