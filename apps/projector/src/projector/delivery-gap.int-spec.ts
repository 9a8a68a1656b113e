import { encodeJson } from '@bifrost/messaging';
import { verifyAuditLog } from '@bifrost/persistence';
import { waitFor } from '@bifrost/testing';
import {
  gateEvents,
  publishAll,
  silentLogger,
  startProjectorHarness,
  type ProjectorHarness,
} from '../testing/projector.fixtures';
import { commitBatch, prepareMessage } from './batch';
import { type Projector } from './projector';
import { ProjectorMetrics } from './projector.metrics';
import { type SkippedRange } from './stream-gap';

describe('projector batches that do not continue a stream from its checkpoint', () => {
  let h: ProjectorHarness;
  let projector: Projector;
  let fx: ReturnType<typeof gateEvents>;

  beforeEach(async () => {
    h = await startProjectorHarness('delivery-gap');
    fx = gateEvents(h.ns.naming);
  });

  afterEach(() => h?.stop());

  describe('Given another client pulling from the writer’s consumer, as a writer that lost its lock may', () => {
    it('should not commit past the message it took, and project it from the checkpoint again', async () => {
      // One message per pull request: the server then serves the waiting requests strictly in turn.
      projector = h.startProjector({ batchSize: 1 });
      await waitFor(() => projector.readiness().ok, { what: 'projector ready' });
      const stream = h.ns.naming.streams.events.name;
      const waiting = async () =>
        (await h.client.jsm.consumers.info(stream, 'projector__events')).num_waiting;
      const thief = await h.client.js.consumers.get(stream, 'projector__events');
      const taken: number[] = [];
      const stealing = (async () => {
        for await (const msg of await thief.fetch({ max_messages: 1, expires: 20_000 })) taken.push(msg.seq);
      })();
      await waitFor(async () => (await waiting()) === 2, { what: 'the thief’s pull request to wait too' });

      for (const scope of ['eng-1', 'eng-2', 'eng-3'])
        await publishAll(h.client, [fx.killSwitchEngaged(scope)]);
      await stealing;
      expect(taken).toEqual([2]);
      await h.caughtUp();

      const audited = await h.rows(`SELECT stream_seq FROM audit_log ORDER BY seq`);
      expect(audited.map((row) => row['stream_seq'])).toEqual([1, 2, 3]);
      expect(await h.count('control_kill_switches')).toBe(3);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true, count: 3 });
    });
  });

  describe('Given a batch that does not start at checkpoint + 1', () => {
    it('should refuse to commit it and write nothing, unless the stream deleted what it skips', async () => {
      const stream = h.ns.naming.streams.events.name;
      const [, second] = [fx.killSwitchEngaged('eng-1'), fx.killSwitchEngaged('eng-2')].map((envelope, i) =>
        prepareMessage(
          {
            stream: 'events',
            streamName: stream,
            streamSeq: i + 1,
            subject: h.ns.naming.canonical(envelope.subject),
            data: encodeJson(envelope),
          },
          h.client.catalogue,
        ),
      );
      const commit = (deleted?: SkippedRange[]) =>
        h.dataSource.transaction((manager) =>
          commitBatch(manager, () => 'projector__events', [second!], {
            checkpoints: new Map([[stream, 0]]),
            deleted,
          }),
        );

      await expect(commit()).rejects.toThrow('the batch skips messages 1–1');
      expect(await h.count('audit_log')).toBe(0);
      expect(await h.count('consumer_checkpoints')).toBe(0);

      await expect(commit([{ streamName: stream, from: 1, to: 1 }])).resolves.toMatchObject({ recorded: 1 });
    });
  });

  describe('Given a message deleted from the stream before the projector applied it', () => {
    it('should jump over it, as the consumer does, and say so', async () => {
      const warnings: string[] = [];
      const logger = { ...silentLogger, warn: (_: object, msg: string) => warnings.push(msg) };
      const stream = h.ns.naming.streams.events.name;
      await publishAll(h.client, [fx.killSwitchEngaged('eng-1'), fx.killSwitchEngaged('eng-2')], 1);
      await publishAll(h.client, [fx.killSwitchEngaged('eng-3')]);
      await h.client.jsm.streams.deleteMessage(stream, 2);

      const metrics = new ProjectorMetrics();
      projector = h.startProjector({ logger, metrics });
      await h.caughtUp();

      const audited = await h.rows(`SELECT stream_seq FROM audit_log ORDER BY seq`);
      expect(audited.map((row) => row['stream_seq'])).toEqual([1, 3]);
      // Counted, for the alert: a message that never gets an audit row.
      const { values } = await metrics.messages.get();
      expect(values.find((v) => v.labels.outcome === 'deleted')?.value).toBe(1);
      expect(warnings).toContainEqual(
        expect.stringContaining('delivery skipped messages 2–2, which were deleted'),
      );
      expect(projector.readiness()).toEqual({ ok: true });
    });
  });

  describe('Given the writer’s consumer deleted under it, as a writer that takes over does', () => {
    it('should stop pulling from it, start over from the checkpoint and go on projecting', async () => {
      const warnings: string[] = [];
      const logger = {
        ...silentLogger,
        warn: (obj: object) => warnings.push(String((obj as { err?: unknown }).err)),
      };
      projector = h.startProjector({ logger });
      await publishAll(h.client, [fx.killSwitchEngaged('eng-1')]);
      await h.caughtUp();

      await h.client.jsm.consumers.delete(h.ns.naming.streams.events.name, 'projector__events');
      await waitFor(() => warnings.some((w) => w.includes('projector__events')), {
        what: 'the writer to notice',
      });
      await publishAll(h.client, [fx.killSwitchEngaged('eng-2')]);
      await h.caughtUp();

      expect(await h.count('control_kill_switches')).toBe(2);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true, count: 2 });
    });
  });
});
