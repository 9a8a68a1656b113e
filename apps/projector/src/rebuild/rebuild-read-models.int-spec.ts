import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { createNaming } from '@bifrost/contracts';
import { Messaging } from '@bifrost/messaging';
import { createTestDatabase, TcpProxy, waitFor } from '@bifrost/testing';
import { verifyAuditLog } from '@bifrost/persistence';
import {
  dumpReadModels,
  gateEvents,
  publishAll,
  startProjectorHarness,
  type ProjectorHarness,
} from '../testing/projector.fixtures';
import { auditedBeyondStreams, rebuildReadModels } from './rebuild-read-models';

const ROOT = resolve(__dirname, '../../../..');

describe('read-model rebuild', () => {
  let h: ProjectorHarness;

  beforeAll(async () => {
    h = await startProjectorHarness('rebuild');
    const fx = gateEvents(h.ns.naming);
    const projector = h.startProjector();
    const duplicate = fx.outcomeRecorded('eng-1', 's-1', 77);
    await publishAll(h.client, [
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
    await h.client.js.publish(duplicate.subject, new TextEncoder().encode(JSON.stringify(duplicate)));
    await h.caughtUp();
    await projector.stop();
  });

  afterAll(() => h?.stop());

  describe('Given read models built live', () => {
    it('should reach the same rows from the streams, and leave the audit log alone', async () => {
      const before = await dumpReadModels(h.dataSource);
      const auditBefore = await h.dataSource.query(`SELECT seq, hash FROM audit_log ORDER BY seq`);
      await h.dataSource.query(`DELETE FROM strategies`);

      const applied = await rebuildReadModels({ dataSource: h.dataSource, ...parts(), lockWaitMs: 1000 });

      expect(applied).toEqual({
        [h.ns.naming.streams.events.name]: 37,
        [h.ns.naming.streams.decisions.name]: 30,
      });
      expect(await dumpReadModels(h.dataSource)).toEqual(before);
      expect(before['gate_decisions']).toHaveLength(30);
      expect(await h.dataSource.query(`SELECT seq, hash FROM audit_log ORDER BY seq`)).toEqual(auditBefore);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true });
    });

    it('should do the same through the documented command', async () => {
      const before = await dumpReadModels(h.dataSource);
      const run = await rebuildCommand(['--database-url', h.database.url], {
        NATS_URL: h.ns.natsUrl,
        BIFROST_NAMESPACE: h.ns.namespace,
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('read models rebuilt');
      expect(await dumpReadModels(h.dataSource)).toEqual(before);
    }, 60_000);

    it('should exit 2 on bad usage, and 1 with the reason when Postgres or NATS cannot be reached, changing nothing', async () => {
      const before = await dumpReadModels(h.dataSource);
      const env = { NATS_URL: h.ns.natsUrl, BIFROST_NAMESPACE: h.ns.namespace };
      const unknownFlag = await rebuildCommand(['--database-url', h.database.url, '--bogus'], env);
      expect(unknownFlag.code).toBe(2);
      expect(unknownFlag.stderr).toContain("Unknown option '--bogus'");

      const emptyUrl = await rebuildCommand(['--database-url', ''], { ...env, DATABASE_URL: h.database.url });
      expect(emptyUrl.code).toBe(2);
      expect(emptyUrl.stderr).toContain('usage: npm run projector:rebuild');

      const noPostgres = await rebuildCommand(
        ['--database-url', 'postgres://postgres@127.0.0.1:1/none'],
        env,
      );
      expect(noPostgres.code).toBe(1);
      expect(noPostgres.stderr).toMatch(/^rebuild failed, read models unchanged: .*ECONNREFUSED/);

      // On a database it has not migrated yet: it stays so (NATS is asked first).
      const empty = await createTestDatabase('rbnonats');
      try {
        const noNats = await rebuildCommand(
          ['--database-url', empty.url, '--nats-url', 'nats://127.0.0.1:1'],
          env,
        );
        expect(noNats.code).toBe(1);
        expect(noNats.stderr).toBe(
          'rebuild failed, read models unchanged: NATS at nats://127.0.0.1:1 did not answer within 15 s\n',
        );
        const db = new Client({ connectionString: empty.url });
        await db.connect();
        const { rows } = await db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
        await db.end();
        expect(rows).toEqual([]);
      } finally {
        await empty.drop();
      }
      expect(await dumpReadModels(h.dataSource)).toEqual(before);
    }, 60_000);
  });

  describe('Given a running projector', () => {
    it('should refuse to rebuild under it and change nothing', async () => {
      const before = await dumpReadModels(h.dataSource);
      const projector = h.startProjector();
      try {
        await waitFor(() => projector.isWriter, { what: 'writer' });
        await expect(
          rebuildReadModels({ dataSource: h.dataSource, ...parts(), lockWaitMs: 300 }),
        ).rejects.toThrow(/stop it/);
      } finally {
        await projector.stop();
      }
      expect(await dumpReadModels(h.dataSource)).toEqual(before);
    });
  });

  // Last: it removes messages from the stream.
  describe('Given decision records that aged out of their stream', () => {
    it('should rebuild what the stream still holds and count what only the audit log has', async () => {
      const decisions = h.ns.naming.streams.decisions.name;
      expect(await auditedBeyondStreams({ dataSource: h.dataSource, ...parts() })).toEqual({});
      const { state } = await h.client.jsm.streams.info(decisions);
      await h.client.jsm.streams.purge(decisions, { seq: state.first_seq + 10 });

      const applied = await rebuildReadModels({ dataSource: h.dataSource, ...parts(), lockWaitMs: 1000 });

      expect(applied[decisions]).toBe(20);
      expect(await h.count('gate_decisions')).toBe(20);
      expect(await auditedBeyondStreams({ dataSource: h.dataSource, ...parts() })).toEqual({
        [decisions]: 10,
      });
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true });
    });
  });

  describe('Given the newest decision records deleted from their stream, below the checkpoint', () => {
    it('should rebuild what the stream holds and finish, not wait for the checkpoint', async () => {
      const decisions = h.ns.naming.streams.decisions.name;
      const { state } = await h.client.jsm.streams.info(decisions);
      for (let seq = state.last_seq - 4; seq <= state.last_seq; seq += 1)
        await h.client.jsm.streams.deleteMessage(decisions, seq);

      const applied = await rebuildReadModels({ dataSource: h.dataSource, ...parts(), lockWaitMs: 1000 });

      expect(applied[decisions]).toBe(state.messages - 5);
      expect(await h.count('gate_decisions')).toBe(state.messages - 5);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true });
    }, 20_000);
  });

  describe('Given another namespace than the one the audit log was written for', () => {
    it('should refuse to rebuild and change nothing, rather than empty every read model', async () => {
      const before = await dumpReadModels(h.dataSource);

      await expect(
        rebuildReadModels({
          dataSource: h.dataSource,
          ...parts(),
          naming: createNaming(`${h.ns.namespace}-typo`),
          lockWaitMs: 1000,
        }),
      ).rejects.toThrow(/is the namespace right\?/);
      expect(await dumpReadModels(h.dataSource)).toEqual(before);
    });
  });

  describe('Given a message in the audit log that this build does not project', () => {
    it('should leave it out and say so', async () => {
      // A type of a newer build: recorded by the live projector, parked, and never in a read model here.
      const future = {
        ...gateEvents(h.ns.naming).killSwitchEngaged('eng-9'),
        type: 'gate.KillSwitchRenamed',
      };
      const { seq } = await h.client.js.publish(future.subject, JSON.stringify(future));
      const projector = h.startProjector();
      await h.caughtUp();
      await projector.stop();
      const told: { seq: number; code: string }[] = [];

      await rebuildReadModels({
        dataSource: h.dataSource,
        ...parts(),
        lockWaitMs: 1000,
        onNotProjected: (raw, problem) => told.push({ seq: raw.streamSeq, code: problem.code }),
      });

      expect(told).toEqual([{ seq, code: 'ENVELOPE.UNKNOWN_TYPE' }]);
    }, 20_000);
  });

  function parts() {
    return { js: h.client.js, jsm: h.client.jsm, naming: h.client.naming, catalogue: h.client.catalogue };
  }
});

describe('read-model rebuild over a connection that loses what is in flight', () => {
  let h: ProjectorHarness;
  let proxy: TcpProxy;
  let reader: Messaging;

  beforeAll(async () => {
    h = await startProjectorHarness('rebuildlossy');
    const fx = gateEvents(h.ns.naming);
    const projector = h.startProjector();
    await publishAll(h.client, [
      fx.strategyRegistered('eng-1', 's-1'),
      ...Array.from({ length: 40 }, (_, i) => fx.outcomeRecorded('eng-1', 's-1', 1000 + i)),
      fx.outcomeRecorded('eng-1', 's-1', 987654),
    ]);
    await h.caughtUp();
    await projector.stop();
    const url = new URL(h.ns.natsUrl.split(',')[0] as string);
    proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 4222) });
    reader = await Messaging.connect({
      url: proxy.url,
      service: 'rebuild',
      instanceId: 'r1',
      namespace: h.ns.namespace,
    });
  });

  afterAll(async () => {
    await reader?.drain().catch(() => undefined);
    await proxy?.stop();
    await h?.stop();
  });

  it('should apply every message up to the checkpoint when the last ones are lost with its connection', async () => {
    const before = await dumpReadModels(h.dataSource);
    // The connection dies with the stream's last message on its way: the read consumer acks nothing,
    // so the server never sends it again, and no message after it shows the gap.
    const cut = proxy.cutOnServerChunk((chunk) => chunk.includes('"amount":987654'));

    const applied = await rebuildReadModels({
      dataSource: h.dataSource,
      js: reader.js,
      jsm: reader.jsm,
      naming: reader.naming,
      catalogue: reader.catalogue,
      lockWaitMs: 1000,
    });
    await cut;

    expect(applied).toEqual({
      [h.ns.naming.streams.events.name]: 42,
      [h.ns.naming.streams.decisions.name]: 0,
    });
    expect(await dumpReadModels(h.dataSource)).toEqual(before);
  }, 60_000);
});

/** `npm run projector:rebuild -- …args` as an operator runs it. */
function rebuildCommand(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(
      'node',
      ['-r', '@swc-node/register', 'apps/projector/src/cli/projector-rebuild.ts', ...args],
      { cwd: ROOT, env: { ...process.env, ...env } },
      (error, stdout, stderr) => done({ code: error ? Number(error.code) : 0, stdout, stderr }),
    ),
  );
}
