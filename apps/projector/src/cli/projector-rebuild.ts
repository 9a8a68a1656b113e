import { type DataSource } from 'typeorm';
import { type Messaging } from '@bifrost/messaging';
import { openProjectorDatabase } from '../persistence';
import { auditedBeyondStreams, rebuildReadModels } from '../rebuild/rebuild-read-models';
import { commandArgs, type CommandArgs } from './cli-args';
import { connectCommand } from './command-messaging';

const USAGE =
  'usage: npm run projector:rebuild -- --database-url postgres://… [--nats-url nats://…] [--namespace ns]\n' +
  '(stop the projector first: the rebuild takes its writer lock)';

/**
 * Drops and rebuilds every read model from the streams; the audit log is never touched. Exit 0 when
 * rebuilt; 1 when it could not be (nothing reachable, stream settings that differ from the
 * installation's, a projector running), the read models left as they were; 2 on bad usage.
 */
async function main(): Promise<number> {
  let args: CommandArgs;
  try {
    args = commandArgs(process.argv.slice(2), ['database-url', 'nats-url', 'namespace']);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { words, databaseUrl, natsUrl, namespace } = args;
  if (words.length > 0) {
    process.stderr.write(`not for projector:rebuild: ${words.join(' ')}\n${USAGE}\n`);
    return 2;
  }
  if (!databaseUrl) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let dataSource: DataSource | undefined;
  let messaging: Messaging | undefined;
  try {
    // NATS first: a rebuild that cannot reach it leaves the database as it was, not migrated.
    messaging = await connectCommand(natsUrl, namespace, 'rebuild');
    dataSource = await openProjectorDatabase(databaseUrl);
    const applied = await rebuildReadModels({
      dataSource,
      js: messaging.js,
      jsm: messaging.jsm,
      naming: messaging.naming,
      catalogue: messaging.catalogue,
      onRefused: (message, error) =>
        process.stdout.write(
          `warning: Postgres refused the read-model rows of ${message.envelope.type} ${message.envelope.id} (${message.stream} stream, sequence ${message.streamSeq}): ${(error as Error).message}; left out of the read models, as the projector left it out (PROJECTION.REFUSED)\n`,
        ),
      onNotProjected: (raw, problem) =>
        process.stdout.write(
          `warning: ${raw.streamName} sequence ${raw.streamSeq} is in the audit log but this build does not project it (${problem.code}: ${problem.message}); left out of the read models, though a projector of an older build may have applied it\n`,
        ),
    });
    process.stdout.write(`read models rebuilt: ${JSON.stringify(applied)} messages re-applied\n`);
    const beyond = await auditedBeyondStreams({
      dataSource,
      jsm: messaging.jsm,
      naming: messaging.naming,
    });
    for (const [stream, count] of Object.entries(beyond)) {
      process.stdout.write(
        `warning: ${count} messages of ${stream} are in the audit log but no longer in the stream (retention or purge): the read models do not have them; the audit log keeps them\n`,
      );
    }
    return 0;
  } catch (error) {
    process.stderr.write(`rebuild failed, read models unchanged: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await messaging?.drain().catch(() => undefined);
    await dataSource?.destroy().catch(() => undefined);
  }
}

void main().then((code) => process.exit(code));
