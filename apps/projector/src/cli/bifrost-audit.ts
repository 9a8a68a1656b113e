import { type ChainVerification } from '@bifrost/audit';
import { createNaming, type AuditLogAccepted, type DataOf } from '@bifrost/contracts';
import { createEnvelope, type Messaging } from '@bifrost/messaging';
import { Pool } from 'pg';
import { verifyAuditLog } from '@bifrost/persistence';
import { AuditPins, isWrongRevision } from '../audit/audit-pins';
import { namespaceMismatch } from '../audit/audited-streams';
import { commandArgs, type CommandArgs, type OptionName, pinnedEntry } from './cli-args';
import { connectCommand } from './command-messaging';

const USAGE =
  'usage: bifrost-audit verify [--database-url postgres://user@host:5432/db] [--schema name] [--expect <seq>:<hash>]\n' +
  '       bifrost-audit accept --reason <text> --operator <id> [--database-url …] [--schema name]\n' +
  '                            [--nats-url nats://…] [--namespace ns]\n' +
  '  --database-url  defaults to DATABASE_URL\n' +
  '  --expect        an entry recorded earlier (e.g. from a previous run): the log must still hold it;\n' +
  '                  <seq>:<hash>, the hash as 64 hex digits in either case\n' +
  '  accept          after a restore or a move to a new database: the log as it stands (verified as a\n' +
  '                  chain first) becomes what the projector verifies against; recorded in the log\n' +
  '  --nats-url      defaults to NATS_URL, then nats://127.0.0.1:4222; --namespace to BIFROST_NAMESPACE';

/** The options of each command; both take `--database-url` and `--schema`. */
const VERIFY_ONLY: readonly OptionName[] = ['expect'];
const ACCEPT_ONLY: readonly OptionName[] = ['reason', 'operator', 'nats-url', 'namespace'];

/** The longest `--reason` (system.AuditLogAccepted). */
const MAX_REASON = 1000;

/**
 * `bifrost-audit verify`: re-hashes the whole audit log offline. Exit 0 and the count and last
 * hash when intact; exit 1 and the first bad seq with the reason otherwise, or when the log no
 * longer holds the `--expect`ed entry (newest rows deleted, or the log rewritten consistently
 * before it); exit 2 on bad usage or when the database cannot be read.
 */
async function main(): Promise<number> {
  let args: CommandArgs;
  try {
    args = commandArgs(process.argv.slice(2), ['database-url', 'schema', ...VERIFY_ONLY, ...ACCEPT_ONLY]);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const pinned = args.expect === undefined ? undefined : pinnedEntry(args.expect);
  if (args.expect !== undefined && pinned === undefined) {
    process.stderr.write(`--expect ${args.expect} is not <seq>:<64 hex digits>\n${USAGE}\n`);
    return 2;
  }
  const [command, ...stray] = args.words;
  const accepting = command === 'accept';
  if ((command !== 'verify' && !accepting) || !args.databaseUrl) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  // What the other command takes is a mistake here, not something to ignore silently.
  const misplaced = [
    ...stray,
    ...(accepting ? VERIFY_ONLY : ACCEPT_ONLY)
      .filter((name) => args.given.has(name))
      .map((name) => `--${name}`),
  ];
  if (misplaced.length > 0) {
    process.stderr.write(`not for bifrost-audit ${command}: ${misplaced.join(' ')}\n${USAGE}\n`);
    return 2;
  }
  if (accepting && (!args.reason || !args.operator || args.reason.length > MAX_REASON)) {
    process.stderr.write(`accept needs --reason (1–${MAX_REASON} characters) and --operator\n${USAGE}\n`);
    return 2;
  }
  const pool = new Pool({
    connectionString: args.databaseUrl,
    max: 1,
    // A database that takes the connection and never answers is one that cannot be read (exit 2).
    connectionTimeoutMillis: 15_000,
    ...(args.schema ? { options: `-c search_path=${args.schema}` } : {}),
  });
  if (accepting) {
    try {
      return await accept(pool, args as typeof args & { reason: string; operator: string });
    } finally {
      await pool.end();
    }
  }
  try {
    const result = await verifyAuditLog(pool, pinned ? { expect: pinned } : {});
    if (result.ok) {
      process.stdout.write(
        `audit log intact: ${result.count} rows, last seq ${result.lastSeq}, last hash ${result.lastHash}\n`,
      );
      return 0;
    }
    process.stdout.write(`${brokenLine(result)}\n`);
    return 1;
  } catch (error) {
    process.stderr.write(`could not verify the audit log: ${(error as Error).message}\n`);
    return 2;
  } finally {
    await pool.end();
  }
}

/**
 * `bifrost-audit accept`: the log as it stands becomes the entry the projector verifies against
 * (ADR 0019). The log must verify as a chain in itself; the acceptance is recorded
 * (`system.AuditLogAccepted`) before the pin is replaced, and the replacement names the revision
 * read before verifying, so a pin that moved meanwhile is not overwritten unseen. Exit 0 when
 * accepted, 1 when the log is broken in itself (nothing accepted), 2 when something could not be
 * reached or the pin moved (run it again).
 */
async function accept(
  pool: Pool,
  args: { reason: string; operator: string; natsUrl: string; namespace: string },
): Promise<number> {
  let messaging: Messaging | undefined;
  try {
    // Before connecting, which creates the namespace's streams: a wrong namespace would record the
    // acceptance and replace a pin no projector reads, and say it accepted.
    const problem = await namespaceMismatch(
      async (sql, params) => (await pool.query(sql, params)).rows as Record<string, unknown>[],
      createNaming(args.namespace),
    );
    if (problem) {
      process.stderr.write(`not accepted: ${problem}\n`);
      return 2;
    }
    messaging = await connectCommand(args.natsUrl, args.namespace, 'audit-accept');
    const pins = new AuditPins(messaging);
    const stored = await pins.load();
    const result = await verifyAuditLog(pool);
    if (!result.ok) {
      process.stdout.write(`${brokenLine(result)}\nnot accepted: the log does not verify as a chain\n`);
      return 1;
    }
    const accepted = { seq: result.lastSeq, hash: result.lastHash };
    const data: DataOf<typeof AuditLogAccepted> = {
      accepted,
      rowsVerified: result.count,
      ...(stored.entry ? { previous: stored.entry } : {}),
      reason: args.reason,
    };
    const envelope = createEnvelope({
      type: 'system.AuditLogAccepted',
      subject: messaging.naming.eventSubject('system', 'audit', new Date().toISOString().slice(0, 10)),
      source: 'projector',
      actor: { kind: 'operator', id: args.operator },
      data,
    });
    await messaging.publisher.publish(envelope);
    try {
      await pins.save(accepted, stored.revision, envelope.occurredAt);
    } catch (error) {
      if (!isWrongRevision(error)) throw error;
      process.stderr.write(
        `the pinned entry moved while accepting (a projector advanced it): recorded as ${envelope.id}, but not accepted; run it again\n`,
      );
      return 2;
    }
    const previous = stored.entry ? ` (was seq ${stored.entry.seq}, hash ${stored.entry.hash})` : '';
    process.stdout.write(
      `audit log accepted: ${result.count} rows verified, seq ${accepted.seq}, hash ${accepted.hash}${previous}; recorded as ${envelope.id}\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`could not accept the audit log: ${(error as Error).message}\n`);
    return 2;
  } finally {
    await messaging?.drain().catch(() => undefined);
  }
}

function brokenLine(result: Extract<ChainVerification, { ok: false }>): string {
  const { firstBadSeq, reason, expected, actual, count } = result;
  if (reason === 'TRUNCATED')
    return `audit log BROKEN: the expected entry ${expected} is missing (the log ends at seq ${actual}); the ${count} rows there verify as a chain`;
  if (reason === 'REWRITTEN')
    return `audit log BROKEN: the expected entry ${firstBadSeq} is hashed ${actual}, not ${expected}; the ${count} rows before it verify as a chain`;
  return `audit log BROKEN at seq ${firstBadSeq}: ${reason} (expected ${expected}, found ${actual}); ${count} rows before it verified`;
}

void main().then((code) => process.exit(code));
