import { parseArgs } from 'node:util';
import { type ChainEntry } from '@bifrost/audit';

/** The options of the projector's commands; each takes a value. */
export type OptionName =
  | 'database-url'
  | 'schema'
  | 'expect'
  | 'reason'
  | 'operator'
  | 'nats-url'
  | 'namespace';

/** A command line as the projector's commands read it. */
export interface CommandArgs {
  /** The words that are not options, in order. */
  words: string[];
  /** The options given on the command line. */
  given: ReadonlySet<OptionName>;
  /** `--database-url`, else DATABASE_URL. */
  databaseUrl?: string;
  schema?: string;
  expect?: string;
  /** Trimmed; left out when only blanks. */
  reason?: string;
  /** Trimmed; left out when only blanks. */
  operator?: string;
  /** `--nats-url`, else NATS_URL, else nats://127.0.0.1:4222. */
  natsUrl: string;
  /** `--namespace`, else BIFROST_NAMESPACE, else none. */
  namespace: string;
}

/**
 * The command line of one of the projector's commands (bifrost-audit, projector:rebuild), which
 * takes the options `known`. Throws, for the command to print its usage and exit 2, on an option it
 * does not take and on an empty value: an unset shell variable (`--database-url "$URL"`,
 * `--expect "$PIN"`) must not quietly fall back to the environment or the default.
 */
export function commandArgs(argv: readonly string[], known: readonly OptionName[]): CommandArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(known.map((name) => [name, { type: 'string' as const }])),
    allowPositionals: true,
  });
  const given = values as Partial<Record<OptionName, string>>;
  for (const [name, value] of Object.entries(given)) {
    if (value === '') throw new Error(`--${name} is empty`);
  }
  // Read here, at the command line's edge, like a service reads its config once at boot; an empty
  // variable counts as unset, as in a service's config.
  const env = (name: string) => process.env[name] || undefined;
  const databaseUrl = given['database-url'] ?? env('DATABASE_URL');
  const reason = given.reason?.trim();
  const operator = given.operator?.trim();
  return {
    words: positionals,
    given: new Set(Object.keys(given) as OptionName[]),
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(given.schema ? { schema: given.schema } : {}),
    ...(given.expect ? { expect: given.expect } : {}),
    ...(reason ? { reason } : {}),
    ...(operator ? { operator } : {}),
    natsUrl: given['nats-url'] ?? env('NATS_URL') ?? 'nats://127.0.0.1:4222',
    namespace: given.namespace ?? env('BIFROST_NAMESPACE') ?? '',
  };
}

const PINNED = /^([1-9][0-9]*):([0-9a-f]{64})$/i;

/**
 * The audit-log entry named on the command line by `--expect <seq>:<hash>`, the hash's 64 hex
 * digits in either case (tools print SHA-256 in upper or lower case; the log stores lowercase);
 * undefined when it is not that shape or the seq is past what a row can have.
 */
export function pinnedEntry(text: string): ChainEntry | undefined {
  const match = PINNED.exec(text.trim());
  if (!match) return undefined;
  const [, seq, hash] = match as unknown as [string, string, string];
  return Number.isSafeInteger(Number(seq)) ? { seq: Number(seq), hash: hash.toLowerCase() } : undefined;
}
