import { auditHash } from '@bifrost/audit';
import { type Envelope } from '@bifrost/contracts';
import { createEnvelope, encodeJson } from '@bifrost/messaging';
import { waitFor } from '@bifrost/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { verifyAuditLog } from '@bifrost/persistence';
import { commitBatch, prepareMessage } from './projector/batch';
import { PROJECTOR_SERVICE, type Projector } from './projector/projector';
import { ProjectorMetrics } from './projector/projector.metrics';
import {
  gateEvents,
  publishAll,
  riskEvents,
  startProjectorHarness,
  storedCheckpoints,
  type ProjectorHarness,
} from './testing/projector.fixtures';

describe('projector against real NATS and Postgres', () => {
  let h: ProjectorHarness;
  let projector: Projector | undefined;
  let fx: ReturnType<typeof gateEvents>;

  beforeAll(async () => {
    h = await startProjectorHarness('projector');
    fx = gateEvents(h.ns.naming);
  });

  afterEach(async () => {
    await projector?.stop();
    projector = undefined;
  });

  afterAll(() => h?.stop());

  describe('Given gate events and decision records on both streams', () => {
    it('should write the read models and one audit row per message, in a chain that verifies', async () => {
      projector = h.startProjector();
      await publishAll(h.client, [
        fx.strategyRegistered('eng-1', 's-1'),
        fx.outcomeRecorded('eng-1', 's-1', 1500),
        fx.outcomeRecorded('eng-1', 's-1', -700),
        fx.promoted('eng-1', 's-1'),
        fx.killSwitchEngaged(),
        fx.checklistFact('canaryHealthy', true),
        fx.engineMode('eng-1', 'observe'),
        fx.tokenIssued('eng-1', 's-1', 'tok-1'),
        fx.tokenConsumed('eng-1', 's-1', 'tok-1'),
        fx.approvalRequested('eng-1', 's-1', 'ap-1'),
        fx.approvalGranted('eng-1', 's-1', 'ap-1'),
      ]);
      await publishAll(h.client, [fx.verdict('eng-1', 's-1', 'ALLOW'), fx.verdict('eng-1', 's-1', 'BLOCK')]);
      await h.caughtUp();

      const [strategy] = await h.dataSource.query(`SELECT * FROM strategies WHERE engine_id = 'eng-1'`);
      expect(strategy).toMatchObject({
        strategy_id: 's-1',
        level: 'L1',
        outcomes: 2,
        wins: 1,
        losses: 1,
        pnl_total: 800,
        capital: { amount: 1_000_000, currency: 'USD' },
      });
      expect(await h.dataSource.query(`SELECT scope, engaged, mode FROM control_kill_switches`)).toEqual([
        { scope: 'global', engaged: true, mode: 'soft' },
      ]);
      expect(await h.dataSource.query(`SELECT engine_id, mode, paused FROM control_engines`)).toEqual([
        { engine_id: 'eng-1', mode: 'observe', paused: false },
      ]);
      expect(await h.dataSource.query(`SELECT status, uses FROM execution_tokens`)).toEqual([
        { status: 'consumed', uses: 1 },
      ]);
      expect(await h.dataSource.query(`SELECT status, decided_by, token_id FROM approvals`)).toEqual([
        { status: 'granted', decided_by: 'op-9', token_id: 'tok-ap-1' },
      ]);
      expect(
        await h.dataSource.query(
          `SELECT engine_id, strategy_id, action, risk_level, reasons, verdict->>'action' AS verdict_action
           FROM gate_decisions ORDER BY stream_seq`,
        ),
      ).toEqual([
        {
          engine_id: 'eng-1',
          strategy_id: 's-1',
          action: 'ALLOW',
          risk_level: 'LOW',
          reasons: [],
          verdict_action: 'ALLOW',
        },
        {
          ...{
            engine_id: 'eng-1',
            strategy_id: 's-1',
            action: 'BLOCK',
            risk_level: 'LOW',
            verdict_action: 'BLOCK',
          },
          reasons: [{ name: 'maturity', outcome: 'BLOCK', value: 'L3', threshold: 'L2', distanceToTrip: 1 }],
        },
      ]);
      expect(await h.count('audit_log')).toBe(13);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true, count: 13, lastSeq: 13 });
      expect(projector.readiness()).toEqual({ ok: true });
    });
  });

  describe('Given risk policy events', () => {
    it('should keep the policy with its limits, enablement and throttle', async () => {
      projector = h.startProjector();
      const policy = (type: string, data: Record<string, unknown>) =>
        createEnvelope({
          type: `risk.${type}`,
          subject: h.ns.naming.eventSubject('risk', 'policy', 'GLOBAL'),
          source: 'risk-guard',
          actor: { kind: 'system', id: 'risk-guard' },
          data: { policyId: 'GLOBAL', cause: { kind: 'seed', id: 'seed' }, at: fx.at(), ...data },
        });
      const limits = {
        maxDailyLoss: { amount: 500_000, currency: 'USD' },
        maxDailyExposure: { amount: 5_000_000, currency: 'USD' },
        maxDailyActions: 100,
      };
      await publishAll(h.client, [
        policy('PolicyDefined', { limits, enabled: true, previous: null }),
        policy('PolicyThrottled', {}),
        policy('PolicyDisabled', {}),
      ]);
      await h.caughtUp();

      expect(
        await h.dataSource.query(`SELECT policy_id, limits, enabled, throttled FROM risk_policies`),
      ).toEqual([{ policy_id: 'GLOBAL', limits, enabled: false, throttled: true }]);
    });
  });

  describe('Given decision records of both types and ledger entries about the same engine in one batch', () => {
    it('should keep every row and leave usage and reservation status from the last message', async () => {
      const risk = riskEvents(h.ns.naming);
      const batch = risk.reservationsDecided('eng-r', 1, ['GRANTED', 'GRANTED']);
      // A record as risk-guard published them before batching (here after the batch, as after a rollback).
      const old = risk.reservationDecided('eng-r', 3);
      const ledger = risk.reservationGrantedAndSettled('eng-r');
      await publishAll(h.client, [ledger]);
      await publishAll(h.client, [batch]);
      await publishAll(h.client, [old]);
      projector = h.startProjector();
      await h.caughtUp();

      expect(
        await h.dataSource.query(
          `SELECT entry_type, position FROM risk_ledger_entries WHERE event_id = $1 ORDER BY position`,
          [ledger.id],
        ),
      ).toEqual([
        { entry_type: 'ReservationGranted', position: 0 },
        { entry_type: 'ReservationSettled', position: 1 },
      ]);
      expect(
        await h.dataSource.query(
          `SELECT engine_id, day, status FROM risk_reservations WHERE engine_id = 'eng-r'`,
        ),
      ).toEqual([{ engine_id: 'eng-r', day: '2026-11-21', status: 'SETTLED' }]);
      expect(
        await h.dataSource.query(
          `SELECT reservation_id, event_id FROM risk_reservation_decisions WHERE engine_id = 'eng-r'
           ORDER BY reservation_id`,
        ),
      ).toEqual(
        [
          ...batch.data.decisions.map((d) => ({ reservation_id: d.reply.reservationId, event_id: batch.id })),
          { reservation_id: old.data.reply.reservationId, event_id: old.id },
        ].sort((a, b) => a.reservation_id.localeCompare(b.reservation_id)),
      );
      expect(old.id).toBe(old.data.reply.reservationId);
      expect(
        await h.dataSource.query(
          `SELECT policy_id, usage->'actions' AS actions FROM risk_usage ORDER BY policy_id`,
        ),
      ).toEqual([
        { policy_id: 'GLOBAL', actions: 3 },
        { policy_id: 'eng-r', actions: 3 },
      ]);
    });
  });

  describe('Given a risk.ReservationsDecided of three decisions', () => {
    it('should write a row per decision and upsert usage and limits from the last decision', async () => {
      const risk = riskEvents(h.ns.naming);
      projector = h.startProjector();
      const record = risk.reservationsDecided('eng-b', 5, ['GRANTED', 'DENIED', 'GRANTED']);
      const auditBefore = await h.count('audit_log');
      await publishAll(h.client, [record]);
      await h.caughtUp();

      const rows = await h.dataSource.query(
        `SELECT reservation_id, event_id, engine_id, outcome, reason, day, request->>'idempotencyKey' AS key
         FROM risk_reservation_decisions WHERE engine_id = 'eng-b' ORDER BY reservation_id`,
      );
      expect(rows).toEqual(
        record.data.decisions
          .map(({ request, reply }) => ({
            reservation_id: reply.reservationId,
            event_id: record.id,
            engine_id: 'eng-b',
            outcome: reply.outcome,
            reason: reply.outcome === 'DENIED' ? 'THROTTLED' : null,
            day: '2026-11-21',
            key: request.idempotencyKey,
          }))
          .sort((a, b) => a.reservation_id.localeCompare(b.reservation_id)),
      );
      expect(rows.map((row: { outcome: string }) => row.outcome).sort()).toEqual([
        'DENIED',
        'GRANTED',
        'GRANTED',
      ]);
      expect(
        await h.dataSource.query(
          `SELECT policy_id, usage, limits FROM risk_usage
           WHERE day = '2026-11-21' AND policy_id IN ('GLOBAL', 'eng-b') ORDER BY policy_id`,
        ),
      ).toEqual([
        { policy_id: 'GLOBAL', usage: risk.usage(7), limits: risk.limits },
        { policy_id: 'eng-b', usage: risk.usage(7), limits: risk.limits },
      ]);
      expect(await h.count('audit_log')).toBe(auditBefore + 1);
    });

    it('should keep the usage of the latest decision when an older record is stored after a newer one', async () => {
      const risk = riskEvents(h.ns.naming);
      projector = h.startProjector();
      const usageOf = () =>
        h.dataSource.query(
          `SELECT policy_id, usage->'actions' AS actions FROM risk_usage
           WHERE day = '2026-11-21' AND policy_id IN ('GLOBAL', 'eng-late') ORDER BY policy_id`,
        );
      // Decided a minute apart; the older record reaches the stream last, in a batch of its own.
      await publishAll(h.client, [risk.reservationsDecided('eng-late', 50, ['GRANTED'], 60_000)]);
      await h.caughtUp();
      await publishAll(h.client, [risk.reservationsDecided('eng-late', 40, ['GRANTED'])]);
      await h.caughtUp();
      // And within one batch: the later decision first.
      await projector.stop();
      await publishAll(h.client, [
        risk.reservationsDecided('eng-late', 60, ['GRANTED'], 120_000),
        risk.reservationsDecided('eng-late', 45, ['GRANTED'], 30_000),
      ]);
      projector = h.startProjector();
      await h.caughtUp();

      expect(await usageOf()).toEqual([
        { policy_id: 'GLOBAL', actions: 60 },
        { policy_id: 'eng-late', actions: 60 },
      ]);
    });

    it('should add no row when the record is published again past the dedupe window', async () => {
      const risk = riskEvents(h.ns.naming);
      projector = h.startProjector();
      const record = risk.reservationsDecided('eng-d', 1);
      await publishAll(h.client, [record]);
      await h.caughtUp();
      const decisionsBefore = await h.count('risk_reservation_decisions');
      const auditBefore = await h.count('audit_log');

      // A raw publish without Nats-Msg-Id stands in for a re-publish after the 2-minute window.
      await h.client.js.publish(record.subject, encodeJson(record));
      await h.caughtUp();

      expect(await h.count('audit_log')).toBe(auditBefore);
      expect(await h.count('risk_reservation_decisions')).toBe(decisionsBefore);
    });

    it('should keep the first row of a decision recorded again in another message, and record both messages', async () => {
      const risk = riskEvents(h.ns.naming);
      projector = h.startProjector();
      const first = risk.reservationsDecided('eng-e', 1, ['GRANTED', 'GRANTED']);
      const [, repeated] = first.data.decisions;
      const [fresh] = risk.reservationsDecided('eng-e', 3, ['DENIED']).data.decisions;
      // The second decision recorded again under a new envelope id, with one decided after it.
      const again = createEnvelope({
        type: 'risk.ReservationsDecided',
        subject: first.subject,
        source: 'risk-guard',
        actor: first.actor,
        occurredAt: first.occurredAt,
        data: { limits: first.data.limits, decisions: [repeated!, fresh!] },
      });
      const auditBefore = await h.count('audit_log');
      await publishAll(h.client, [first]);
      await publishAll(h.client, [again]);
      await h.caughtUp();

      expect(
        await h.dataSource.query(
          `SELECT reservation_id, event_id, outcome FROM risk_reservation_decisions WHERE engine_id = 'eng-e'
           ORDER BY reservation_id`,
        ),
      ).toEqual(
        [
          ...first.data.decisions.map((d) => ({
            reservation_id: d.reply.reservationId,
            event_id: first.id,
            outcome: 'GRANTED',
          })),
          { reservation_id: fresh!.reply.reservationId, event_id: again.id, outcome: 'DENIED' },
        ].sort((a, b) => a.reservation_id.localeCompare(b.reservation_id)),
      );
      expect(await h.count('audit_log')).toBe(auditBefore + 2);
    });
  });

  describe('Given a ledger day that closed', () => {
    it("should keep the day's final usage from the next day's opening, whichever stream is applied first", async () => {
      const risk = riskEvents(h.ns.naming);
      // Final: a settle after the last decision booked 300 and released what was reserved.
      const final = { realizedLoss: 300, reservedLoss: 0, reservedExposure: 0, actions: 2 };
      // As on a rebuild that replays the events stream before the decisions: the closing lands first.
      await publishAll(h.client, [risk.nextDayOpened({ GLOBAL: final, 'eng-c': final })]);
      await publishAll(h.client, [risk.reservationsDecided('eng-c', 1, ['GRANTED', 'GRANTED'])]);
      projector = h.startProjector();
      await h.caughtUp();

      const rows = await h.dataSource.query(
        `SELECT policy_id, usage, limits IS NOT NULL AS has_limits, closed_at IS NOT NULL AS closed
           FROM risk_usage WHERE day = '2026-11-21' AND policy_id IN ('GLOBAL', 'eng-c') ORDER BY policy_id`,
      );
      expect(rows).toEqual([
        { policy_id: 'GLOBAL', usage: final, has_limits: true, closed: true },
        { policy_id: 'eng-c', usage: final, has_limits: true, closed: true },
      ]);
    });
  });

  describe('Given two openings that close the same day in one batch', () => {
    it("should keep the later one's final usage and go on", async () => {
      const risk = riskEvents(h.ns.naming);
      const earlier = { realizedLoss: 100, reservedLoss: 0, reservedExposure: 0, actions: 1 };
      const later = { realizedLoss: 350, reservedLoss: 0, reservedExposure: 0, actions: 3 };
      const entries = await h.count('risk_ledger_entries');
      await publishAll(h.client, [
        risk.nextDayOpened({ GLOBAL: earlier }),
        risk.nextDayOpened({ GLOBAL: later }),
      ]);
      projector = h.startProjector();
      await h.caughtUp();

      expect(
        await h.dataSource.query(
          `SELECT usage FROM risk_usage WHERE day = '2026-11-21' AND policy_id = 'GLOBAL'`,
        ),
      ).toEqual([{ usage: later }]);
      expect(await h.count('risk_ledger_entries')).toBe(entries + 2);
    });
  });

  describe('Given messages that were already applied', () => {
    it('should change nothing when the same stream messages are delivered again', async () => {
      projector = h.startProjector();
      await publishAll(h.client, [fx.outcomeRecorded('eng-2', 's-2', 100), fx.verdict('eng-2', 's-2')]);
      await h.caughtUp();
      await projector.stop();
      projector = undefined;
      const before = await snapshot();

      const redelivered = await readStreamsFrom1();
      const checkpoints = await storedCheckpoints(h.dataSource, h.ns.naming);
      const result = await h.dataSource.transaction((manager) =>
        commitBatch(
          manager,
          (name) =>
            `${PROJECTOR_SERVICE}__${name === h.ns.naming.streams.events.name ? 'events' : 'decisions'}`,
          redelivered,
          {
            checkpoints: new Map([
              [h.ns.naming.streams.events.name, checkpoints.events],
              [h.ns.naming.streams.decisions.name, checkpoints.decisions],
            ]),
          },
        ),
      );

      expect(result).toMatchObject({ recorded: 0, projected: 0, skipped: redelivered.length });
      expect(await snapshot()).toEqual(before);
    });

    it('should record an envelope id once even when it is published again past the dedupe window', async () => {
      projector = h.startProjector();
      const envelope = fx.outcomeRecorded('eng-3', 's-3', 10);
      await publishAll(h.client, [envelope]);
      await h.caughtUp();
      const outcomesBefore = await h.count('strategy_outcomes');
      const auditBefore = await h.count('audit_log');

      // A raw publish without Nats-Msg-Id stands in for a re-publish after the 2-minute window.
      await h.client.js.publish(envelope.subject, encodeJson(envelope));
      await h.caughtUp();

      expect(await h.count('audit_log')).toBe(auditBefore);
      expect(await h.count('strategy_outcomes')).toBe(outcomesBefore);
    });
  });

  describe('Given records removed from the stream before the projector applied them', () => {
    it('should not go on past the hole, say why, and go on once an operator accepted the loss', async () => {
      const decisions = h.ns.naming.streams.decisions.name;
      projector = h.startProjector();
      await publishAll(h.client, [fx.verdict('eng-9', 's-9')]);
      await h.caughtUp();
      await projector.stop();
      const applied = (await storedCheckpoints(h.dataSource, h.ns.naming)).decisions;
      await publishAll(
        h.client,
        [1, 2, 3].map(() => fx.verdict('eng-9', 's-9')),
      );
      // Retention stands in: the first two records the projector has not applied are gone.
      await h.client.jsm.streams.purge(decisions, { seq: applied + 3 });
      const audited = await h.count('audit_log');

      // Two replicas, each with its metrics: both find the gap in turn while the other waits.
      const metrics = [new ProjectorMetrics(), new ProjectorMetrics()];
      const restarted = h.startProjector({ metrics: metrics[0] });
      const standby = h.startProjector({ metrics: metrics[1] });
      projector = restarted;
      try {
        const refusal = `messages ${applied + 1}–${applied + 2} were removed before the projector applied them`;
        await waitFor(async () => restarted.readiness().detail?.includes(refusal) ?? false, {
          what: 'the projector to refuse the gap',
        });
        expect(restarted.readiness().ok).toBe(false);
        expect(await h.count('audit_log')).toBe(audited);

        // The operator accepts the loss by moving the checkpoint past it (docs/projector.md).
        await h.dataSource.query(
          `UPDATE consumer_checkpoints SET last_sequence = $1 WHERE stream = $2 AND consumer LIKE 'projector%'`,
          [applied + 2, decisions],
        );
        await h.caughtUp();
        const writer = await waitFor(() => [restarted, standby].find((p) => p.readiness().ok), {
          what: 'a replica to go on',
        });
        expect(await h.count('audit_log')).toBe(audited + 1);
        // The alert takes the maximum over replicas: the one standing by reports no gap any more.
        const blocked = async (m: ProjectorMetrics) => (await m.blocked.get()).values.map((v) => v.value);
        await waitFor(async () => (await Promise.all(metrics.map(blocked))).flat().every((v) => v === 0), {
          what: 'no replica reporting the stream blocked',
        });
        expect((writer === restarted ? standby : restarted).readiness().detail).toBe(
          'standby: waiting for the writer lock',
        );
      } finally {
        await standby.stop();
      }
    }, 20_000);
  });

  describe('Given a stream recreated and refilled past the checkpoint while the projector was down', () => {
    it('should not skip the new messages up to the checkpoint, say why, and go on once the numbering continues', async () => {
      const decisions = h.ns.naming.streams.decisions.name;
      projector = h.startProjector();
      await publishAll(h.client, [fx.verdict('eng-r', 's-r')]);
      await h.caughtUp();
      await projector.stop();
      const applied = (await storedCheckpoints(h.dataSource, h.ns.naming)).decisions;
      const { config } = await h.client.jsm.streams.info(decisions);
      await h.client.jsm.streams.delete(decisions);
      await h.client.jsm.streams.add(config);
      // More records than the old stream had: no gap by the sequences alone.
      await publishAll(
        h.client,
        Array.from({ length: applied + 1 }, () => fx.verdict('eng-r', 's-r')),
      );
      const audited = await h.count('audit_log');

      const restarted = h.startProjector();
      projector = restarted;
      await waitFor(
        async () => restarted.readiness().detail?.includes('it was recreated and refilled') ?? false,
        {
          what: 'the projector to refuse the recreated stream',
        },
      );
      expect(restarted.readiness().detail).toContain(`stream ${decisions} holds envelope`);
      expect(await h.count('audit_log')).toBe(audited);
      await restarted.stop();

      // The documented way: recreate it and continue its numbering before anything is published.
      await h.client.jsm.streams.delete(decisions);
      await h.client.jsm.streams.add(config);
      await h.client.jsm.streams.purge(decisions, { seq: applied + 1 });
      await publishAll(h.client, [fx.verdict('eng-r', 's-r')]);
      projector = h.startProjector();
      await h.caughtUp();
      expect(await h.count('audit_log')).toBe(audited + 1);
      expect((await storedCheckpoints(h.dataSource, h.ns.naming)).decisions).toBe(applied + 1);
    });
  });

  describe('Given invalid messages on the streams', () => {
    it('should park each on the DLQ with its reason, record the envelopes among them, and keep projecting', async () => {
      projector = h.startProjector();
      const subject = h.ns.naming.eventSubject('gate', 'control', 'global');
      const auditBefore = await h.count('audit_log');
      const unknownType = { ...fx.killSwitchEngaged(), type: 'gate.SomethingNew' };
      const badData = { ...fx.killSwitchEngaged(), data: { mode: 'sideways' } };
      await h.client.js.publish(subject, new TextEncoder().encode('{not json'));
      await h.client.js.publish(subject, encodeJson({ hello: 'world' }));
      await h.client.js.publish(subject, encodeJson(unknownType));
      await h.client.js.publish(subject, encodeJson(badData));
      await publishAll(h.client, [fx.killSwitchEngaged('eng-9')]);
      await h.caughtUp();

      const letters = await readDeadLetters(4);
      expect(letters.map((l) => l.error.code)).toEqual([
        'PAYLOAD.MALFORMED',
        'ENVELOPE.INVALID',
        'ENVELOPE.UNKNOWN_TYPE',
        'ENVELOPE.INVALID_DATA',
      ]);
      expect(letters.every((l) => l.consumer === 'projector__events' && l.error.message.length > 0)).toBe(
        true,
      );
      const recorded = await h.dataSource.query<{ event_id: string }[]>(
        `SELECT event_id FROM audit_log WHERE seq > $1 ORDER BY seq`,
        [auditBefore],
      );
      expect(recorded.map((r) => r.event_id)).toEqual([unknownType.id, badData.id, expect.any(String)]);
      expect(
        await h.dataSource.query(`SELECT engaged FROM control_kill_switches WHERE scope = 'eng-9'`),
      ).toEqual([{ engaged: true }]);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true });
    });
  });

  describe('Given numbers and strings whose jsonb form differs from the published text', () => {
    it('should re-hash the stored jsonb envelope to the stored hash', async () => {
      projector = h.startProjector();
      const params = {
        huge: 1e21,
        tenth: 0.1,
        third: 1 / 3,
        tiny: 1e-7,
        beyondSafe: JSON.parse('12345678901234567890') as number,
        negativeZero: -0,
        unicode: 'é 😂 \u2028 \u001f "quoted" \\ A\u030a',
        keys: { b: 1, a: 2, é: 3, '\u{1F602}': 4, '\uFB33': 5 },
      };
      const envelope = fx.verdict('eng-4', 's-4', 'ALLOW', params);
      await publishAll(h.client, [envelope]);
      await h.caughtUp();

      const [row] = await h.dataSource.query<
        { seq: string; prev_hash: string; hash: string; envelope: Envelope; text: string }[]
      >(`SELECT seq, prev_hash, hash, envelope, envelope::text AS text FROM audit_log WHERE event_id = $1`, [
        envelope.id,
      ]);
      expect(row?.text).toContain('1000000000000000000000');
      expect(auditHash({ seq: row!.seq, prevHash: row!.prev_hash, event: row!.envelope })).toBe(row?.hash);
      expect(auditHash({ seq: row!.seq, prevHash: row!.prev_hash, event: envelope })).toBe(row?.hash);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({ ok: true });
    });
  });

  async function snapshot() {
    const tables = [
      'audit_log',
      'strategies',
      'strategy_outcomes',
      'gate_decisions',
      'risk_reservation_decisions',
      'risk_usage',
      'consumer_checkpoints',
    ];
    const out: Record<string, unknown> = {};
    for (const table of tables) out[table] = await h.dataSource.query(`SELECT * FROM ${table} ORDER BY 1, 2`);
    return out;
  }

  async function readStreamsFrom1() {
    const out = [];
    for (const key of ['events', 'decisions'] as const) {
      const name = h.ns.naming.streams[key].name;
      const { last_seq } = (await h.client.jsm.streams.info(name)).state;
      for (let seq = 1; seq <= last_seq; seq += 1) {
        const msg = await h.client.jsm.streams.getMessage(name, { seq });
        if (!msg) continue;
        out.push(
          prepareMessage(
            {
              stream: key,
              streamName: name,
              streamSeq: seq,
              subject: h.ns.naming.canonical(msg.subject),
              data: msg.data,
            },
            h.client.catalogue,
          ),
        );
      }
    }
    return out;
  }

  async function readDeadLetters(n: number) {
    const jsm = await jetstreamManager(h.client.nc);
    const name = h.ns.naming.streams.dlq.name;
    await waitFor(async () => (await jsm.streams.info(name)).state.messages >= n, {
      what: `${n} dead letters`,
    });
    const letters = [];
    for (let seq = 1; seq <= n; seq += 1) {
      const msg = await jsm.streams.getMessage(name, { seq });
      letters.push(msg!.json<{ consumer: string; error: { code: string; message: string } }>());
    }
    return letters;
  }
});
