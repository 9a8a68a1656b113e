import type { RiskPolicy } from '@bifrost/contracts';
import { Messaging } from '@bifrost/messaging';
import { RiskDesk } from './ledger/risk-desk';
import type { RunningService } from '@bifrost/service';
import {
  createTestNamespace,
  TcpProxy,
  waitFor,
  type TestNamespace,
  withinOneUtcDay,
} from '@bifrost/testing';
import {
  connectClient,
  decisionRecords,
  deferred,
  holdNextAppend,
  OPERATOR,
  reserve,
  startRiskGuard,
  untilAnswered,
  upsertPolicy,
} from './risk-guard.fixtures';

const request = (engineId: string, idempotencyKey: string) => ({
  engineId,
  idempotencyKey,
  maxLoss: { amount: 1, currency: 'USD' },
  exposure: { amount: 0, currency: 'USD' },
});

/** risk-guard talks to NATS through a proxy that can lose one reply; the test's client does not. */
describe('risk-guard when an append fails', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let proxy: TcpProxy;
  let service: RunningService;

  const policies = async () =>
    (await client.rpc.call<{ policies: RiskPolicy[] }>('bifrost.rpc.risk.policies', {})).policies;

  beforeAll(async () => {
    ns = await createTestNamespace('riskf');
    client = await connectClient(ns);
    const url = new URL(ns.natsUrl.split(',')[0] as string);
    proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 4222) });
    service = await startRiskGuard(ns, { NATS_URL: proxy.url });
    await waitFor(async () => (await policies().catch(() => [])).length > 0, { what: 'a leader' });
  });
  afterAll(async () => {
    await service.close();
    await proxy.stop();
    await client.drain();
    await ns.cleanup();
  });

  it('should decide by what the stream holds when the ack of a throttle is lost', async () => {
    await upsertPolicy(client, 'lossy', 100_000, 100_000, 100);
    expect(await reserve(client, 'lossy', 'before', 1)).toMatchObject({ outcome: 'GRANTED' });
    // The next JetStream ack for the events stream goes missing: the throttle lands unseen.
    const events = ns.naming.streams.events.name;
    const lost = proxy.cutOnServerChunk((chunk) => chunk.includes(`"stream":"${events}"`));

    const reply = await client.rpc.request(
      'bifrost.rpc.risk.cmd.throttle-policy',
      { actor: OPERATOR, reason: 'incident', policyId: 'lossy' },
      { timeoutMs: 20_000 },
    );
    await lost;

    expect(reply.ok).toBe(false);
    const { events: stored } = await client.eventStore.read(
      ns.naming.eventSubject('risk', 'policy', 'lossy'),
    );
    expect(stored.at(-1)?.envelope.type).toBe('risk.PolicyThrottled');
    expect((await policies()).find((p) => p.policyId === 'lossy')?.throttled).toMatchObject({
      cause: { kind: 'operator' },
    });
    expect(await untilAnswered(() => reserve(client, 'lossy', 'after', 1))).toMatchObject({
      outcome: 'DENIED',
      reason: 'THROTTLED',
    });
  }, 40_000);

  it('should store a decision record that could not be stored when the engine retries, before replaying the decision', async () => {
    await upsertPolicy(client, 'unrecorded', 100_000, 100_000, 100);
    const decisions = ns.naming.streams.decisions.name;
    const { config } = await client.jsm.streams.info(decisions);
    await client.jsm.streams.delete(decisions);
    let failed;
    try {
      // The same request twice at once: the second is a replay of the first, which has no record.
      failed = await Promise.all(
        [1, 2].map(() =>
          client.rpc.request('bifrost.rpc.risk.reserve', request('unrecorded', 'k1'), { timeoutMs: 10_000 }),
        ),
      );
    } finally {
      await client.jsm.streams.add(config);
    }
    for (const reply of failed)
      expect(reply).toMatchObject({ ok: false, error: { code: 'INFRA.UNAVAILABLE' } });

    const replayed = await reserve(client, 'unrecorded', 'k1', 1);

    expect(replayed).toMatchObject({ outcome: 'GRANTED', replayed: true });
    const records = await decisionRecords(client, ns, 'unrecorded');
    expect(records.map((r) => r.reply.reservationId)).toEqual([replayed.reservationId]);
    expect(records[0]?.reply).toMatchObject({ outcome: 'GRANTED', replayed: false }); // the original, unchanged
    // Stored once: a further retry replays without a second record.
    await reserve(client, 'unrecorded', 'k1', 1);
    expect(await decisionRecords(client, ns, 'unrecorded')).toHaveLength(1);
  }, 40_000);

  it('should store a failed record of several decisions whole when the engine retries any one of them', async () => {
    await upsertPolicy(client, 'unrecorded-batch', 100_000, 100_000, 100);
    const decisions = ns.naming.streams.decisions.name;
    const { config } = await client.jsm.streams.info(decisions);
    await client.jsm.streams.delete(decisions);
    const hold = holdNextAppend(service);
    let failed;
    try {
      const blocker = client.rpc.request('bifrost.rpc.risk.reserve', request('unrecorded-batch', 'k0'), {
        timeoutMs: 10_000,
      });
      await waitFor(hold.appending, { what: 'the first batch appending' });
      const both = ['k1', 'k2'].map((key) =>
        client.rpc.request('bifrost.rpc.risk.reserve', request('unrecorded-batch', key), {
          timeoutMs: 10_000,
        }),
      );
      await waitFor(() => hold.queued() === 2, { what: 'both reserves queued' });
      hold.release();
      await blocker;
      failed = await Promise.all(both);
    } finally {
      hold.restore();
      await client.jsm.streams.add(config);
    }
    for (const reply of failed)
      expect(reply).toMatchObject({ ok: false, error: { code: 'INFRA.UNAVAILABLE' } });

    const second = await reserve(client, 'unrecorded-batch', 'k2', 1);
    const records = await decisionRecords(client, ns, 'unrecorded-batch');
    // k0's record could not be stored either, and k0 is never retried.
    expect(records.map((r) => r.request.idempotencyKey)).toEqual(['k1', 'k2']);
    expect(new Set(records.map((r) => r.recordId)).size).toBe(1);
    expect(second).toMatchObject({ replayed: true, reservationId: records[1]?.reply.reservationId });
    // The other decision's record is stored with it: its retry replays without storing it again.
    const first = await reserve(client, 'unrecorded-batch', 'k1', 1);
    expect(first).toMatchObject({ replayed: true, reservationId: records[0]?.reply.reservationId });
    expect(await decisionRecords(client, ns, 'unrecorded-batch')).toHaveLength(2);
  }, 40_000);

  it('should store the record of a decision whose first store failed while its replay was being appended', async () => {
    await upsertPolicy(client, 'racy', 100_000, 100_000, 100);
    const messaging = service.app.get(Messaging);
    const decisions = ns.naming.streams.decisions.name;
    const { config } = await client.jsm.streams.info(decisions);
    const publish = messaging.publisher.publish.bind(messaging.publisher);
    const append = messaging.eventStore.append.bind(messaging.eventStore);
    const replayAppending = deferred();
    const streamBack = deferred();
    // The original's record is stored only once its replay's batch is being appended, and fails
    // (no stream); that append completes only after the stream is back.
    const publishSpy = jest
      .spyOn(messaging.publisher, 'publish')
      .mockImplementation(async (envelope, options) => {
        if (envelope.subject === ns.naming.decisionSubject('risk', 'racy')) await replayAppending.promise;
        return publish(envelope, options);
      });
    let slowAppends = false;
    const appendSpy = jest.spyOn(messaging.eventStore, 'append').mockImplementation(async (...args) => {
      if (slowAppends) {
        replayAppending.resolve();
        await streamBack.promise;
      }
      return append(...args);
    });
    await client.jsm.streams.delete(decisions);
    try {
      const original = client.rpc.request('bifrost.rpc.risk.reserve', request('racy', 'k1'), {
        timeoutMs: 10_000,
      });
      await waitFor(() => publishSpy.mock.calls.length > 0, { what: "the original's record being stored" });
      slowAppends = true;
      // The replay shares its batch with a new reservation, whose entry makes the batch append.
      const replay = client.rpc.request('bifrost.rpc.risk.reserve', request('racy', 'k1'), {
        timeoutMs: 10_000,
      });
      const other = client.rpc.request('bifrost.rpc.risk.reserve', request('racy', 'k2'), {
        timeoutMs: 10_000,
      });
      expect(await original).toMatchObject({ ok: false, error: { code: 'INFRA.UNAVAILABLE' } });
      await client.jsm.streams.add(config);
      streamBack.resolve();

      const replayed = await replay;
      expect(replayed).toMatchObject({ ok: true, data: { outcome: 'GRANTED', replayed: true } });
      expect(await other).toMatchObject({ ok: true, data: { outcome: 'GRANTED' } });
      const records = await decisionRecords(client, ns, 'racy');
      expect(records.map((r) => r.reply.reservationId)).toContain(
        replayed.ok && (replayed.data as { reservationId: string }).reservationId,
      );
    } finally {
      publishSpy.mockRestore();
      appendSpy.mockRestore();
      streamBack.resolve();
      await client.jsm.streams.info(decisions).catch(() => client.jsm.streams.add(config));
    }
  }, 40_000);

  it('should record a decision it gave up on when its append had landed, before replaying it', async () => {
    await upsertPolicy(client, 'unacked', 100_000, 100_000, 100);
    const messaging = service.app.get(Messaging);
    const append = messaging.eventStore.append.bind(messaging.eventStore);
    const firstStored = deferred();
    const ackLost = deferred();
    let calls = 0;
    // The first append lands but its ack is lost; the two retries fail outright (a third
    // reservation's entries make each retry append); the next append goes through.
    const appendSpy = jest.spyOn(messaging.eventStore, 'append').mockImplementation(async (...args) => {
      calls += 1;
      if (calls === 1) {
        await append(...args);
        firstStored.resolve();
        await ackLost.promise;
        throw new Error('the ack was lost');
      }
      if (calls <= 3) throw new Error('JetStream unavailable');
      return append(...args);
    });
    const desk = service.app.get(RiskDesk) as unknown as { queue: unknown[] };
    try {
      const first = client.rpc.request('bifrost.rpc.risk.reserve', request('unacked', 'k1'), {
        timeoutMs: 10_000,
      });
      await firstStored.promise;
      const third = client.rpc.request('bifrost.rpc.risk.reserve', request('unacked', 'k3'), {
        timeoutMs: 10_000,
      });
      await waitFor(() => desk.queue.length > 0, { what: 'the third reservation queued' });
      ackLost.resolve();

      expect(await first).toMatchObject({ ok: false, error: { code: 'INFRA.UNAVAILABLE' } });
      expect(await third).toMatchObject({ ok: true, data: { outcome: 'GRANTED' } });
      const replayed = await client.rpc.request('bifrost.rpc.risk.reserve', request('unacked', 'k1'));
      expect(replayed).toMatchObject({ ok: true, data: { outcome: 'GRANTED', replayed: true } });
      const records = await decisionRecords(client, ns, 'unacked');
      expect(records.map((r) => r.reply.reservationId)).toContain(
        replayed.ok && (replayed.data as { reservationId: string }).reservationId,
      );
    } finally {
      appendSpy.mockRestore();
      ackLost.resolve();
    }
  }, 40_000);

  it('should step down when it cannot read the stream after a failed append, and lead again once it can', async () => {
    const events = ns.naming.streams.events.name;
    const { config } = await client.jsm.streams.info(events);
    await client.jsm.streams.delete(events);
    try {
      const reply = await client.rpc.request('bifrost.rpc.risk.reserve', request('WHOLESALE', 'gone'), {
        timeoutMs: 10_000,
      });
      expect(reply).toMatchObject({ ok: false });
      expect(reply.ok || reply.error.code).not.toBe('RPC.TIMEOUT');
      // Not ready from the failed append on; between two takeover attempts it says why. (During an
      // attempt the detail is "taking over: reloading the ledger", so it is polled, never 200.)
      const statuses: number[] = [];
      const ready = await waitFor(
        async () => {
          const response = await fetch(`${service.url}/health/ready`);
          statuses.push(response.status);
          const body = (await response.json()) as { checks: Record<string, { detail?: string }> };
          return body.checks['risk-desk']?.detail?.startsWith('no leader') && body;
        },
        { what: 'readiness to say the instance could not take over' },
      );
      expect(new Set(statuses)).toEqual(new Set([503]));
      expect(ready).toMatchObject({
        checks: {
          'risk-desk': {
            detail: 'no leader: this instance holds the lease but could not take over (retrying)',
          },
        },
      });
    } finally {
      await client.jsm.streams.add(config);
    }

    // The stream came back empty: the leader seeds the default policies again and decides.
    expect(await untilAnswered(() => reserve(client, 'WHOLESALE', 'back', 1))).toMatchObject({
      outcome: 'GRANTED',
    });
  }, 40_000);
});
