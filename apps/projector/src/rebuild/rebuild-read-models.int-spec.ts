import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { Messaging } from '@bifrost/messaging';
import {
  createTestDatabase,
  createTestNamespace,
  waitFor,
  type TestDatabase,
  type TestNamespace,
} from '@bifrost/testing';
import { type DataSource } from 'typeorm';
import { verifyAuditLog } from '@bifrost/persistence';
import { openProjectorDatabase } from '../persistence';
import {
  caughtUp,
  dumpReadModels,
  gateEvents,
  publishAll,
  startProjector,
} from '../testing/projector.fixtures';
import { rebuildReadModels } from './rebuild-read-models';

const ROOT = resolve(__dirname, '../../../..');

describe('read-model rebuild', () => {
  let ns: TestNamespace;
  let database: TestDatabase;
  let client: Messaging;
  let dataSource: DataSource;

  beforeAll(async () => {
    ns = await createTestNamespace('rebuild');
    database = await createTestDatabase('rebuild');
    client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'probe',
      instanceId: 'p1',
      namespace: ns.namespace,
    });
    dataSource = await openProjectorDatabase(database.url);
    const fx = gateEvents(ns.naming);
    const projector = startProjector(client, dataSource);
    const duplicate = fx.outcomeRecorded('eng-1', 's-1', 77);
    await publishAll(client, [
      fx.strategyRegistered('eng-1', 's-1'),
      ...Array.from({ length: 30 }, (_, i) => fx.outcomeRecorded('eng-1', 's-1', i * 10 - 100)),
      fx.promoted('eng-1', 's-1'),
      fx.killSwitchEngaged(),
      fx.killSwitchReleased(),
      fx.tokenIssued('eng-1', 's-1', 'tok-1'),
      fx.approvalRequested('eng-1', 's-1', 'ap-1'),
      duplicate,
      ...Array.from({ length: 30 }, (_, i) => fx.verdict('eng-1', 's-1', i % 4 === 0 ? 'BLOCK' : 'ALLOW')),
    ]);
    // Published again without its msg id: the log and the read models hold it once.
    await client.js.publish(duplicate.subject, new TextEncoder().encode(JSON.stringify(duplicate)));
    await waitFor(() => caughtUp(client, dataSource), { what: 'projector caught up' });
    await projector.stop();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await client?.drain();
    await database?.drop();
    await ns?.cleanup();
  });

  describe('Given read models built live', () => {
    it('should reach the same rows from the streams, and leave the audit log alone', async () => {
      const before = await dumpReadModels(dataSource);
      const auditBefore = await dataSource.query(`SELECT seq, hash FROM audit_log ORDER BY seq`);
      await dataSource.query(`DELETE FROM strategies`);

      const applied = await rebuildReadModels({ dataSource, ...parts(), lockWaitMs: 1000 });

      expect(applied).toEqual({
        [ns.naming.streams.events.name]: 37,
        [ns.naming.streams.decisions.name]: 30,
      });
      expect(await dumpReadModels(dataSource)).toEqual(before);
      expect(before['gate_decisions']).toHaveLength(30);
      expect(await dataSource.query(`SELECT seq, hash FROM audit_log ORDER BY seq`)).toEqual(auditBefore);
      await expect(verifyAuditLog(dataSource)).resolves.toMatchObject({ ok: true });
    });

    it('should do the same through the documented command', async () => {
      const before = await dumpReadModels(dataSource);
      const run = await new Promise<{ code: number; stdout: string }>((done) =>
        execFile(
          'node',
          [
            '-r',
            '@swc-node/register',
            'apps/projector/src/cli/projector-rebuild.ts',
            '--database-url',
            database.url,
          ],
          { cwd: ROOT, env: { ...process.env, NATS_URL: ns.natsUrl, BIFROST_NAMESPACE: ns.namespace } },
          (error, stdout) => done({ code: error ? Number(error.code) : 0, stdout }),
        ),
      );
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('read models rebuilt');
      expect(await dumpReadModels(dataSource)).toEqual(before);
    }, 60_000);
  });

  describe('Given a running projector', () => {
    it('should refuse to rebuild under it and change nothing', async () => {
      const before = await dumpReadModels(dataSource);
      const projector = startProjector(client, dataSource);
      try {
        await waitFor(() => projector.isWriter, { what: 'writer' });
        await expect(rebuildReadModels({ dataSource, ...parts(), lockWaitMs: 300 })).rejects.toThrow(
          /stop it/,
        );
      } finally {
        await projector.stop();
      }
      expect(await dumpReadModels(dataSource)).toEqual(before);
    });
  });

  function parts() {
    return { js: client.js, jsm: client.jsm, naming: client.naming, catalogue: client.catalogue };
  }
});
