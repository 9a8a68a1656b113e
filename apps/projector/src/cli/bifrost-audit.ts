import { Pool } from 'pg';
import { verifyAuditLog } from '@bifrost/persistence';
import { databaseArgs } from './cli-args';

const USAGE = 'usage: bifrost-audit verify --database-url postgres://user@host:5432/db [--schema name]';

/**
 * `bifrost-audit verify`: re-hashes the whole audit log offline. Exit 0 and the count and last
 * hash when intact; exit 1 and the first bad seq with the reason otherwise; exit 2 on bad usage or
 * when the database cannot be read.
 */
async function main(): Promise<number> {
  let args: ReturnType<typeof databaseArgs>;
  try {
    args = databaseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
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
    const result = await verifyAuditLog(pool);
    if (result.ok) {
      process.stdout.write(
        `audit log intact: ${result.count} rows, last seq ${result.lastSeq}, last hash ${result.lastHash}\n`,
      );
      return 0;
    }
    process.stdout.write(
      `audit log BROKEN at seq ${result.firstBadSeq}: ${result.reason} (expected ${result.expected}, found ${result.actual}); ` +
        `${result.count} rows before it verified\n`,
    );
    return 1;
  } catch (error) {
    process.stderr.write(`could not verify the audit log: ${(error as Error).message}\n`);
    return 2;
  } finally {
    await pool.end();
  }
}

void main().then((code) => process.exit(code));
