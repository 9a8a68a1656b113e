import { parseArgs } from 'node:util';
import { type ChainEntry } from '@bifrost/audit';

/**
 * `--database-url` (or DATABASE_URL) and `--schema`, shared by the projector's commands, and the
 * other options given (`--expect` of bifrost-audit verify; `--reason`, `--operator`, `--nats-url`
 * or NATS_URL and `--namespace` or BIFROST_NAMESPACE of bifrost-audit accept).
 */
export function databaseArgs(argv: readonly string[]): {
  command?: string;
  /** Words after the command: none is expected. */
  stray: string[];
  databaseUrl?: string;
  schema?: string;
  expect?: string;
  reason?: string;
  operator?: string;
  natsUrl: string;
  namespace: string;
} {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      'database-url': { type: 'string' },
      schema: { type: 'string' },
      expect: { type: 'string' },
      reason: { type: 'string' },
      operator: { type: 'string' },
      'nats-url': { type: 'string' },
      namespace: { type: 'string' },
    },
    allowPositionals: true,
  });
  // Read here, at the command line's edge, like a service reads its config once at boot; an empty
  // variable counts as unset, as in a service's config.
  const env = (name: string) => process.env[name] || undefined;
  const databaseUrl = values['database-url'] ?? env('DATABASE_URL');
  const reason = values.reason?.trim();
  const operator = values.operator?.trim();
  return {
    ...(positionals[0] ? { command: positionals[0] } : {}),
    stray: positionals.slice(1),
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(values.schema ? { schema: values.schema } : {}),
    // Unlike the variables, an empty --expect is kept, and refused: an unset shell variable
    // (`--expect "$PIN"`) must not quietly verify without the entry.
    ...(values.expect !== undefined ? { expect: values.expect } : {}),
    ...(reason ? { reason } : {}),
    ...(operator ? { operator } : {}),
    natsUrl: values['nats-url'] ?? env('NATS_URL') ?? 'nats://127.0.0.1:4222',
    namespace: values.namespace ?? env('BIFROST_NAMESPACE') ?? '',
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
