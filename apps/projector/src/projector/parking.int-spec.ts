import { randomBytes } from 'node:crypto';
import { createEnvelope, encodeJson, MAX_ENVELOPE_DEPTH } from '@bifrost/messaging';
import { verifyAuditLog } from '@bifrost/persistence';
import { waitFor } from '@bifrost/testing';
import { type Envelope } from '@bifrost/contracts';
import { rebuildReadModels } from '../rebuild/rebuild-read-models';
import {
  dumpReadModels,
  gateEvents,
  startProjectorHarness,
  type ProjectorHarness,
} from '../testing/projector.fixtures';
import { Projector } from './projector';
import { ProjectorMetrics } from './projector.metrics';

describe('projector with messages Postgres cannot store', () => {
  let h: ProjectorHarness;
  let projector: Projector;
  let fx: ReturnType<typeof gateEvents>;

  beforeEach(async () => {
    h = await startProjectorHarness('parking');
    fx = gateEvents(h.ns.naming);
  });

  afterEach(() => h?.stop());

  describe('Given a message whose occurredAt is a day that does not exist, between two valid ones', () => {
    it('should park it with the reason, project and audit the valid ones, and keep running', async () => {
      const impossible = { ...fx.killSwitchEngaged('eng-2'), occurredAt: '2026-02-31T10:00:00.000Z' };
      await publish([fx.killSwitchEngaged('eng-1'), impossible, fx.killSwitchEngaged('eng-3')]);
      projector = h.startProjector();
      await h.caughtUp();

      const [letter] = await deadLetters(1);
      expect(letter).toMatchObject({
        consumer: 'projector__events',
        streamSequence: 2,
        error: { code: 'ENVELOPE.INVALID' },
      });
      expect(letter?.error.message).toContain('occurredAt');
      expect(await engagedScopes()).toEqual(['eng-1', 'eng-3']);
      expect(await auditedStreamSeqs()).toEqual([1, 3]);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true, count: 2 });

      await publish([fx.killSwitchEngaged('eng-4')]);
      await h.caughtUp();
      expect(await engagedScopes()).toEqual(['eng-1', 'eng-3', 'eng-4']);
      expect(projector.readiness()).toEqual({ ok: true });
    });
  });

  describe('Given outcomes whose pnl would take the strategy total past 2^53 − 1 minor units', () => {
    it('should keep the total JSON carries exactly, and park the outcomes beyond it as refused', async () => {
      const most = Number.MAX_SAFE_INTEGER;
      await publish([
        fx.strategyRegistered('eng-big', 's-big'),
        fx.outcomeRecorded('eng-big', 's-big', most - 10),
        fx.outcomeRecorded('eng-big', 's-big', 11),
        fx.outcomeRecorded('eng-big', 's-big', 10),
      ]);
      projector = h.startProjector();
      await h.caughtUp();

      const [letter] = await deadLetters(1);
      expect(letter).toMatchObject({ streamSequence: 3, error: { code: 'PROJECTION.REFUSED' } });
      expect(letter?.error.message).toContain('SQLSTATE 23514');
      expect(await auditedStreamSeqs()).toEqual([1, 2, 3, 4]);
      expect(await h.rows(`SELECT outcomes, pnl_total FROM strategies`)).toEqual([
        { outcomes: 2, pnl_total: most },
      ]);
    });
  });

  describe('Given a message that passes every check but a read-model column refuses (an integer overflow)', () => {
    /** A start count past `service_starts.previous_starts integer` (2^31 − 1), third in a batch of four. */
    async function publishOverflowInBatch(): Promise<Envelope> {
      const overflow = createEnvelope({
        type: 'system.ServiceStarted',
        subject: h.ns.naming.eventSubject('system', 'service', 'gate'),
        source: 'gate',
        actor: { kind: 'system', id: 'gate' },
        // The schema bounds it only at 0.
        data: { service: 'gate', instanceId: 'i-1', version: '1', previousStarts: 2 ** 31 },
      });
      await publish([
        fx.strategyRegistered('eng-1', 's-1'),
        fx.outcomeRecorded('eng-1', 's-1', 100),
        overflow,
        fx.outcomeRecorded('eng-1', 's-1', -40),
      ]);
      return overflow;
    }

    it('should record it in the audit log without its read-model rows, park it, and commit the rest of its batch', async () => {
      const overflow = await publishOverflowInBatch();
      const metrics = new ProjectorMetrics();
      projector = h.startProjector({ metrics });
      await h.caughtUp();

      const [letter] = await deadLetters(1);
      expect(letter).toMatchObject({ streamSequence: 3, error: { code: 'PROJECTION.REFUSED' } });
      expect(letter?.error.message).toContain('SQLSTATE 22003');
      expect(letter?.error.message).toContain('recorded in the audit log only');
      expect(await auditedStreamSeqs()).toEqual([1, 2, 3, 4]);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true, count: 4 });
      expect(await h.rows(`SELECT event_id FROM service_starts WHERE event_id = $1`, [overflow.id])).toEqual(
        [],
      );
      expect(await h.rows(`SELECT outcomes, pnl_total FROM strategies`)).toEqual([
        { outcomes: 2, pnl_total: 60 },
      ]);
      expect(await outcomes(metrics)).toMatchObject({ recorded: 4, parked: 1 });
      expect(projector.readiness()).toEqual({ ok: true });
    });

    it('should be left out of the read models by a rebuild as well, which says so', async () => {
      const overflow = await publishOverflowInBatch();
      projector = h.startProjector();
      await h.caughtUp();
      await projector.stop();
      const live = await dumpReadModels(h.dataSource);

      const refused: string[] = [];
      const applied = await rebuildReadModels({
        dataSource: h.dataSource,
        js: h.client.js,
        jsm: h.client.jsm,
        naming: h.client.naming,
        catalogue: h.client.catalogue,
        lockWaitMs: 1000,
        onRefused: (message) => refused.push(message.envelope.id),
      });

      expect(refused).toEqual([overflow.id]);
      expect(applied[h.ns.naming.streams.events.name]).toBe(3);
      expect(await dumpReadModels(h.dataSource)).toEqual(live);
    });
  });

  describe('Given a message whose value is too big for a read-model index (a 5 kB service name)', () => {
    it('should record it in the audit log, park it as refused, and project the rest', async () => {
      const huge = createEnvelope({
        type: 'system.ServiceStarted',
        subject: h.ns.naming.eventSubject('system', 'service', 'gate'),
        source: 'gate',
        actor: { kind: 'system', id: 'gate' },
        // The schema bounds the name only below; an index entry holds ~2.7 kB (random: not compressed).
        data: {
          service: randomBytes(3_750).toString('base64'),
          instanceId: 'i-1',
          version: '1',
          previousStarts: 0,
        },
      });
      await publish([fx.killSwitchEngaged('eng-1'), huge, fx.killSwitchEngaged('eng-3')]);
      projector = h.startProjector();
      await h.caughtUp();

      const [letter] = await deadLetters(1);
      expect(letter).toMatchObject({ streamSequence: 2, error: { code: 'PROJECTION.REFUSED' } });
      expect(letter?.error.message).toContain('SQLSTATE 54000');
      expect(await engagedScopes()).toEqual(['eng-1', 'eng-3']);
      expect(await auditedStreamSeqs()).toEqual([1, 2, 3]);
      expect(projector.readiness()).toEqual({ ok: true });
    });
  });

  describe('Given a message Postgres refuses even as an audit row alone', () => {
    it('should park it only, with that refusal, and commit the rest of its batch', async () => {
      const refused = fx.outcomeRecorded('eng-1', 's-1', 500);
      // No message that passes prepareMessage is known to fail its audit row's INSERT: a constraint
      // stands in for such a cause (the first attempt fails on the audit row, so does the retry).
      await h.dataSource.query(
        `ALTER TABLE audit_log ADD CONSTRAINT refuses_one CHECK (event_id <> '${refused.id}')`,
      );
      await publish([
        fx.strategyRegistered('eng-1', 's-1'),
        fx.outcomeRecorded('eng-1', 's-1', 100),
        refused,
        fx.outcomeRecorded('eng-1', 's-1', -40),
      ]);
      const metrics = new ProjectorMetrics();
      projector = h.startProjector({ metrics });
      await h.caughtUp();

      const [letter] = await deadLetters(1);
      expect(letter).toMatchObject({ streamSequence: 3, error: { code: 'AUDIT.UNRECORDABLE' } });
      expect(letter?.error.message).toContain('SQLSTATE 23514');
      expect((await h.client.jsm.streams.info(h.ns.naming.streams.dlq.name)).state.messages).toBe(1);
      expect(await auditedStreamSeqs()).toEqual([1, 2, 4]);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true, count: 3 });
      expect(await h.rows(`SELECT outcomes, pnl_total FROM strategies`)).toEqual([
        { outcomes: 2, pnl_total: 60 },
      ]);
      expect(await outcomes(metrics)).toMatchObject({ recorded: 3, parked: 1 });
      expect(projector.readiness()).toEqual({ ok: true });
    });
  });

  describe('Given an envelope id used again for different content', () => {
    it.each([
      ['in the same batch as the first', true],
      ['after the first was recorded', false],
    ])('should park the second (%s) and skip an exact redelivery silently', async (_case, oneBatch) => {
      const first = fx.killSwitchEngaged('eng-1');
      const reused = { ...fx.killSwitchEngaged('eng-2'), id: first.id };
      if (!oneBatch) {
        await publish([first]);
        projector = h.startProjector();
        await h.caughtUp();
      }
      await publish([...(oneBatch ? [first] : []), first, reused, fx.killSwitchEngaged('eng-3')]);
      if (oneBatch) projector = h.startProjector();
      await h.caughtUp();

      const [letter] = await deadLetters(1);
      expect(letter).toMatchObject({ streamSequence: 3, error: { code: 'AUDIT.ID_REUSED' } });
      expect(letter?.error.message).toContain(first.id);
      expect((await h.client.jsm.streams.info(h.ns.naming.streams.dlq.name)).state.messages).toBe(1);
      expect(await auditedStreamSeqs()).toEqual([1, 4]);
      expect(await engagedScopes()).toEqual(['eng-1', 'eng-3']);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true, count: 2 });
    });
  });

  describe('Given a batch with a message to park whose commit fails once, for no fault of its messages', () => {
    it('should count the message parked once, though its batch parks it again', async () => {
      const commit = jest
        .spyOn(Projector.prototype as unknown as { commit(): Promise<unknown> }, 'commit')
        .mockImplementationOnce(() => Promise.reject(new Error('Connection terminated unexpectedly')));
      try {
        await publish([fx.killSwitchEngaged('eng-1')]);
        await h.client.js.publish(
          fx.killSwitchEngaged('eng-2').subject,
          new TextEncoder().encode('not json'),
        );
        await publish([fx.killSwitchEngaged('eng-3')]);
        const metrics = new ProjectorMetrics();
        projector = h.startProjector({ metrics });
        await h.caughtUp();

        expect(commit).toHaveBeenCalledTimes(2);
        expect(await deadLetters(1)).toMatchObject([
          { streamSequence: 2, error: { code: 'PAYLOAD.MALFORMED' } },
        ]);
        expect(await outcomes(metrics)).toMatchObject({ recorded: 2, parked: 1 });
      } finally {
        commit.mockRestore();
      }
    });
  });

  describe('Given an envelope id used again by a message of a type this build does not know', () => {
    it('should park it once, as a reused id, not as recorded with an unknown type', async () => {
      const first = fx.killSwitchEngaged('eng-1');
      const reused = { ...fx.killSwitchEngaged('eng-2'), id: first.id, type: 'gate.NoSuchThing' };
      await publish([first, reused, fx.killSwitchEngaged('eng-3')]);
      const metrics = new ProjectorMetrics();
      projector = h.startProjector({ metrics });
      await h.caughtUp();

      const [letter] = await deadLetters(1);
      expect(letter).toMatchObject({ streamSequence: 2, error: { code: 'AUDIT.ID_REUSED' } });
      expect((await h.client.jsm.streams.info(h.ns.naming.streams.dlq.name)).state.messages).toBe(1);
      expect(await auditedStreamSeqs()).toEqual([1, 3]);
      expect(await outcomes(metrics)).toMatchObject({ recorded: 2, parked: 1 });
    });
  });

  describe('Given an invalid envelope whose list of problems is longer than a NATS message can carry', () => {
    it('should park it with the list cut short, and go on', async () => {
      // Each extra top-level property is one problem ("/ must NOT have the property …"), whose line
      // is several times longer than the property itself: a ~0.5 MB message, a ~2 MB list.
      const extra = Object.fromEntries(
        Array.from({ length: 50_000 }, (_, i) => [`k${String(i).padStart(5, '0')}`, 0]),
      );
      await publish([
        fx.killSwitchEngaged('eng-1'),
        { ...fx.killSwitchEngaged('eng-2'), ...extra },
        fx.killSwitchEngaged('eng-3'),
      ]);
      projector = h.startProjector();
      await h.caughtUp();

      const [letter] = await deadLetters(1);
      expect(letter).toMatchObject({ streamSequence: 2, error: { code: 'ENVELOPE.INVALID' } });
      expect(letter?.error.message).toContain('must NOT have the property "k00000"');
      expect(letter?.error.message).toMatch(/… \(\d+ more characters\)$/);
      expect(await engagedScopes()).toEqual(['eng-1', 'eng-3']);
      expect(await auditedStreamSeqs()).toEqual([1, 3]);
      expect(projector.readiness()).toEqual({ ok: true });
    });
  });

  describe('Given an envelope nested deeper than the services accept', () => {
    it('should park it as malformed rather than record a row too deep to verify', async () => {
      const deep = (levels: number): unknown => {
        let value: unknown = 'bottom';
        for (let i = 0; i < levels; i += 1) value = [value];
        return value;
      };
      // The envelope itself is level 1 and data level 2: its `nested` array starts at level 3.
      const deepest = { ...fx.killSwitchEngaged('eng-2'), data: { nested: deep(MAX_ENVELOPE_DEPTH - 2) } };
      const deeper = { ...fx.killSwitchEngaged('eng-3'), data: { nested: deep(MAX_ENVELOPE_DEPTH - 1) } };
      await publish([fx.killSwitchEngaged('eng-1'), deepest, deeper, fx.killSwitchEngaged('eng-4')]);
      projector = h.startProjector();
      await h.caughtUp();

      const [letter] = await deadLetters(1);
      expect(letter).toMatchObject({ streamSequence: 3, error: { code: 'PAYLOAD.MALFORMED' } });
      expect(letter?.error.message).toContain(`nested deeper than ${MAX_ENVELOPE_DEPTH} levels`);
      expect(await auditedStreamSeqs()).toEqual([1, 2, 4]);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true, count: 3 });
      expect(projector.readiness()).toEqual({ ok: true });
    });
  });

  describe('Given numbers spelled otherwise than JCS writes them, or past what a double carries', () => {
    it('should record the envelope as parsed, and verify it', async () => {
      const envelope = fx.killSwitchEngaged('eng-1');
      // Not encodeJson: these spellings are what another publisher could send.
      const text = new TextDecoder()
        .decode(encodeJson(envelope))
        .replace(
          '"data":{',
          '"data":{"ratio":1.10,"hundred":1e2,"big":12345678901234567890,"huge":1e21,"tiny":1e-7,"zero":-0.0,',
        );
      await h.client.js.publish(envelope.subject, new TextEncoder().encode(text));
      projector = h.startProjector();
      await h.caughtUp();

      // Recorded (its data fails its schema, so it is parked too), as JSON.parse read it.
      expect(await deadLetters(1)).toMatchObject([{ error: { code: 'ENVELOPE.INVALID_DATA' } }]);
      const [row] = await h.rows(`SELECT envelope->'data' AS data FROM audit_log`);
      expect(row?.['data']).toMatchObject({
        ratio: 1.1,
        hundred: 100,
        big: 12345678901234567000,
        huge: 1e21,
      });
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true, count: 1 });
    });
  });

  /** Raw publishes: the impossible values pass the envelope schema, but this leaves the publisher out of it. */
  async function publish(envelopes: readonly Envelope[]): Promise<void> {
    for (const envelope of envelopes) await h.client.js.publish(envelope.subject, encodeJson(envelope));
  }

  async function engagedScopes(): Promise<string[]> {
    const rows = await h.rows(`SELECT scope FROM control_kill_switches WHERE engaged ORDER BY scope`);
    return rows.map((row) => row['scope'] as string);
  }

  /** `bifrost_projector_messages_total` by outcome. */
  async function outcomes(metrics: ProjectorMetrics): Promise<Record<string, number>> {
    const { values } = await metrics.messages.get();
    return Object.fromEntries(values.map((v) => [v.labels.outcome, v.value]));
  }

  async function auditedStreamSeqs(): Promise<number[]> {
    const rows = await h.rows(`SELECT stream_seq FROM audit_log ORDER BY seq`);
    return rows.map((row) => row['stream_seq'] as number);
  }

  async function deadLetters(n: number) {
    const name = h.ns.naming.streams.dlq.name;
    await waitFor(async () => (await h.client.jsm.streams.info(name)).state.messages >= n, {
      what: `${n} dead letters`,
    });
    const letters = [];
    for (let seq = 1; seq <= n; seq += 1) {
      const msg = await h.client.jsm.streams.getMessage(name, { seq });
      letters.push(
        msg?.json<{ consumer: string; streamSequence: number; error: { code: string; message: string } }>(),
      );
    }
    return letters;
  }
});
