import { type ChainVerification } from '@bifrost/audit';
import { Pool } from 'pg';
import { verifyAuditLog } from '@bifrost/persistence';
import { databaseArgs, pinnedEntry } from './cli-args';

const USAGE =
  'usage: bifrost-audit verify [--database-url postgres://user@host:5432/db] [--schema name] [--expect <seq>:<hash>]\n' +
  '  --database-url  defaults to DATABASE_URL\n' +
  '  --expect        an entry recorded earlier (e.g. from a previous run): the log must still hold it;\n' +
  '                  <seq>:<hash>, the hash as 64 hex digits in either case';

/**
 * `bifrost-audit verify`: re-hashes the whole audit log offline. Exit 0 and the count and last
 * hash when intact; exit 1 and the first bad seq with the reason otherwise, or when the log no
 * longer holds the `--expect`ed entry (newest rows deleted, or the log rewritten consistently
 * before it); exit 2 on bad usage or when the database cannot be read.
 */
async function main(): Promise<number> {
  let args: ReturnType<typeof databaseArgs>;
  try {
    args = databaseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const pinned = args.expect === undefined ? undefined : pinnedEntry(args.expect);
  if (args.expect !== undefined && pinned === undefined) {
    process.stderr.write(`--expect ${args.expect} is not <seq>:<64 hex digits>\n${USAGE}\n`);
    return 2;
  }
  if (args.command !== 'verify' || !args.databaseUrl) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const pool = new Pool({
    connectionString: args.databaseUrl,
    max: 1,
    ...(args.schema ? { options: `-c search_path=${args.schema}` } : {}),
  });
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

function brokenLine(result: Extract<ChainVerification, { ok: false }>): string {
  const { firstBadSeq, reason, expected, actual, count } = result;
  if (reason === 'TRUNCATED')
    return `audit log BROKEN: the expected entry ${expected} is missing (the log ends at seq ${actual}); the ${count} rows there verify as a chain`;
  if (reason === 'REWRITTEN')
    return `audit log BROKEN: the expected entry ${firstBadSeq} is hashed ${actual}, not ${expected}; the ${count} rows before it verify as a chain`;
  return `audit log BROKEN at seq ${firstBadSeq}: ${reason} (expected ${expected}, found ${actual}); ${count} rows before it verified`;
}

void main().then((code) => process.exit(code));
