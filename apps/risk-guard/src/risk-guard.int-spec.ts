import type { ReservationReply, RiskPolicy } from '@bifrost/contracts';
import { createEnvelope, type Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, waitFor, type TestNamespace, withinOneUtcDay } from '@bifrost/testing';
import {
  connectClient,
  decisionRecords,
  holdNextAppend,
  ledger,
  ledgerEntries,
  OPERATOR,
  reserve,
  startRiskGuard,
  upsertPolicy,
  usd,
} from './risk-guard.fixtures';

/** `n` limit checks that pass: a denial for a policy's state is not one of its limits. */
const allow = (n: number) => Array.from({ length: n }, () => expect.objectContaining({ outcome: 'ALLOW' }));

describe('risk-guard', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let service: RunningService;

  beforeAll(async () => {
    ns = await createTestNamespace('risk');
    client = await connectClient(ns);
    service = await startRiskGuard(ns, { RISK_EXPIRY_SWEEP_MS: '50' });
    await waitFor(async () => (await ledger(client).catch(() => undefined)) !== undefined, {
      what: 'a leader',
    });
  });
  afterAll(async () => {
    await service.close();
    await client.drain();
    await ns.cleanup();
  });

  describe('Given its first start', () => {
    it('should seed GLOBAL 250, WHOLESALE 200, CAPITAL 150 USD and a disabled NOTIFY', async () => {
      const { policies } = await client.rpc.call<{ policies: RiskPolicy[] }>('bifrost.rpc.risk.policies', {});
      const byId = Object.fromEntries(policies.map((p) => [p.policyId, p]));
      expect(byId['GLOBAL']).toMatchObject({ maxDailyLoss: usd(25_000), enabled: true, throttled: null });
      expect(byId['WHOLESALE']).toMatchObject({ maxDailyLoss: usd(20_000), enabled: true });
      expect(byId['CAPITAL']).toMatchObject({ maxDailyLoss: usd(15_000), enabled: true });
      expect(byId['NOTIFY']).toMatchObject({ enabled: false });
    });

    it('should serve health and its metrics', async () => {
      const ready = await fetch(`${service.url}/health/ready`);
      expect(await ready.json()).toMatchObject({
        status: 'ok',
        checks: { 'risk-desk': { ok: true, detail: 'leader' } },
      });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain('bifrost_risk_leader{service="risk-guard"} 1');
      // The leader's own route is counted like the public ones.
      expect(metrics).toContain(
        'bifrost_rpc_requests_total{subject="bifrost.rpc.risk.leader.execute",outcome="ok",service="risk-guard"}',
      );
      expect(metrics).toContain(
        'bifrost_risk_policy_state{policy="NOTIFY",flag="enabled",service="risk-guard"} 0',
      );
    });
  });

  describe('Given reserves of two engines arriving together', () => {
    it("should record each engine's decisions of a batch in one record of its own, each decision once", async () => {
      await upsertPolicy(client, 'batch-a', 1_000_000, 1_000_000, 1_000);
      await upsertPolicy(client, 'batch-b', 1_000_000, 1_000_000, 1_000);
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) => reserve(client, i % 2 ? 'batch-b' : 'batch-a', `b-${i}`, 1, 1)),
      );
      for (const engineId of ['batch-a', 'batch-b']) {
        const records = await decisionRecords(client, ns, engineId);
        const ids = replies.filter((r) => r.engineId === engineId).map((r) => r.reservationId);
        expect(records.map((r) => r.reply.reservationId).sort()).toEqual(ids.sort());
        expect(records.every((r) => r.request.engineId === engineId)).toBe(true);
        // Requests sent at once are decided in batches: fewer records than decisions.
        expect(new Set(records.map((r) => r.recordId)).size).toBeLessThan(records.length);
      }
    });
  });

  describe('Given one batch of reserves of two engines, interleaved', () => {
    it("should publish the record holding the batch's last decision last, so its GLOBAL usage is the ledger's", async () => {
      await upsertPolicy(client, 'order-a', 1_000_000, 1_000_000, 1_000);
      await upsertPolicy(client, 'order-b', 1_000_000, 1_000_000, 1_000);
      const hold = holdNextAppend(service);
      try {
        const blocker = reserve(client, 'order-b', 'o-0', 1, 1);
        await waitFor(hold.appending, { what: 'the first batch appending' });
        const sent: Promise<unknown>[] = [];
        for (const [engineId, key] of [
          ['order-a', 'o-1'],
          ['order-b', 'o-2'],
          ['order-a', 'o-3'],
        ] as const) {
          sent.push(reserve(client, engineId, key, 1, 1));
          await waitFor(() => hold.queued() === sent.length, { what: `${key} queued` });
        }
        hold.release();
        await Promise.all([blocker, ...sent]);
      } finally {
        hold.restore();
      }

      const records = await decisionRecords(client, ns, 'order-a', 'order-b');
      expect(records.map((r) => r.request.idempotencyKey)).toEqual(['o-0', 'o-2', 'o-1', 'o-3']);
      expect(records.at(-1)?.usage['GLOBAL']).toEqual((await ledger(client)).usage['GLOBAL']);
    });
  });

  describe('Given one batch of more than 64 reserves of one engine', () => {
    it('should record them in records of at most 64 decisions, each decision once', async () => {
      await upsertPolicy(client, 'chunky', 1_000_000, 1_000_000, 1_000);
      const hold = holdNextAppend(service);
      try {
        const blocker = reserve(client, 'chunky', 'c-blocker', 1, 1);
        await waitFor(hold.appending, { what: 'the first batch appending' });
        const sent = Array.from({ length: 70 }, (_, i) => reserve(client, 'chunky', `c-${i}`, 1, 1));
        await waitFor(() => hold.queued() === 70, { what: 'all 70 queued' });
        hold.release();
        await Promise.all([blocker, ...sent]);
      } finally {
        hold.restore();
      }

      const records = await decisionRecords(client, ns, 'chunky');
      const sizes = new Map<string, number>();
      for (const r of records) sizes.set(r.recordId, (sizes.get(r.recordId) ?? 0) + 1);
      // The held append may be the expiry sweep's, with the blocker then in the batch of the 70.
      expect([
        [1, 64, 6],
        [64, 7],
      ]).toContainEqual([...sizes.values()]);
      expect(new Set(records.map((r) => r.reply.reservationId)).size).toBe(71);
    });
  });

  describe('Given the seeded WHOLESALE policy', () => {
    it('should grant, record the decision before replying, and book the settle', async () => {
      const granted = await reserve(client, 'WHOLESALE', 'w-1', 5_000, 100_000);
      expect(granted).toMatchObject({
        outcome: 'GRANTED',
        status: 'GRANTED',
        replayed: false,
        maxLoss: usd(5_000),
      });
      expect(granted.checks).toContainEqual({
        name: 'risk.WHOLESALE.maxDailyLoss',
        outcome: 'ALLOW',
        value: 5_000,
        threshold: 20_000,
        distanceToTrip: 15_000,
      });
      const records = await decisionRecords(client, ns, 'WHOLESALE');
      expect(records.find((r) => r.reply.reservationId === granted.reservationId)).toMatchObject({
        request: { engineId: 'WHOLESALE', idempotencyKey: 'w-1' },
        reply: granted,
        usage: { WHOLESALE: { reservedLoss: 5_000 } },
        limits: { WHOLESALE: { maxDailyLoss: usd(20_000) }, GLOBAL: { maxDailyLoss: usd(25_000) } },
      });

      const settled = await client.rpc.call<ReservationReply>('bifrost.rpc.risk.settle', {
        engineId: 'WHOLESALE',
        reservationId: granted.reservationId,
        realizedLoss: usd(7_000),
      });
      expect(settled).toMatchObject({
        status: 'SETTLED',
        realizedLoss: usd(7_000),
        excess: usd(2_000),
        exceededReservation: true,
      });
      const view = await ledger(client);
      expect(view.usage['WHOLESALE']).toMatchObject({
        realizedLoss: 7_000,
        reservedLoss: 0,
        reservedExposure: 0,
      });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain(
        'bifrost_risk_usage_minor_units{policy="WHOLESALE",measure="realized_loss",currency="USD",service="risk-guard"} 7000',
      );
      expect(metrics).toContain('bifrost_risk_usage_actions{policy="WHOLESALE",service="risk-guard"} 1');
    });

    it('should deny over the cap with the failing policy, limit, usage and headroom', async () => {
      const denied = await reserve(client, 'CAPITAL', 'c-big', 15_001);
      expect(denied).toMatchObject({
        outcome: 'DENIED',
        reason: 'LIMIT_EXCEEDED',
        failingPolicy: 'CAPITAL',
        violations: [
          {
            policyId: 'CAPITAL',
            limit: 'maxDailyLoss',
            limitValue: 15_000,
            current: 0,
            requested: 15_001,
            headroom: 15_000,
          },
        ],
      });
      const entries = await ledgerEntries(client, ns, denied.day);
      expect(entries).toContainEqual(
        expect.objectContaining({
          type: 'ReservationDenied',
          data: expect.objectContaining({ reservationId: denied.reservationId }),
        }),
      );
    });

    it('should deny an engine without a policy and the disabled NOTIFY', async () => {
      await expect(reserve(client, 'stranger', 's-1', 1)).resolves.toMatchObject({
        outcome: 'DENIED',
        reason: 'NO_POLICY',
        failingPolicy: 'stranger',
        checks: [{ name: 'risk.stranger.policy', outcome: 'BLOCK', value: 'missing' }, ...allow(3)],
      });
      await expect(reserve(client, 'NOTIFY', 'n-1', 1)).resolves.toMatchObject({
        outcome: 'DENIED',
        reason: 'POLICY_DISABLED',
        checks: [{ name: 'risk.NOTIFY.policy', outcome: 'BLOCK', value: 'disabled' }, ...allow(6)],
      });
    });

    it('should return the original result for a repeated idempotency key', async () => {
      const first = await reserve(client, 'CAPITAL', 'c-dup', 100);
      const again = await reserve(client, 'CAPITAL', 'c-dup', 100);
      expect(again).toMatchObject({ reservationId: first.reservationId, outcome: 'GRANTED', replayed: true });
    });

    it("should count the day's decisions in the ledger, denials by reason, replays not at all", async () => {
      const before = (await ledger(client)).decisions;
      await reserve(client, 'CAPITAL', 'c-count-1', 10);
      await reserve(client, 'CAPITAL', 'c-count-1', 10);
      await reserve(client, 'CAPITAL', 'c-count-2', 99_999);
      await reserve(client, 'stranger', 's-count', 1);
      await reserve(client, 'stranger', 's-count-2', 1);

      const after = (await ledger(client)).decisions;
      const reasons = ['NO_POLICY', 'LIMIT_EXCEEDED', 'POLICY_DISABLED', 'THROTTLED'] as const;
      const delta = Object.fromEntries(
        reasons.map((r) => [r, after.deniedByReason[r] - before.deniedByReason[r]]),
      );
      expect({
        granted: after.granted - before.granted,
        denied: after.denied - before.denied,
        ...delta,
      }).toEqual({
        granted: 1,
        denied: 3,
        NO_POLICY: 2,
        LIMIT_EXCEEDED: 1,
        POLICY_DISABLED: 0,
        THROTTLED: 0,
      });
    });
  });

  describe('When the input is bad', () => {
    it('should answer a negative amount, wrong currency, unknown reservation and malformed JSON with errors', async () => {
      await expect(
        client.rpc.request('bifrost.rpc.risk.reserve', {
          engineId: 'CAPITAL',
          idempotencyKey: 'x',
          maxLoss: usd(-1),
          exposure: usd(0),
        }),
      ).resolves.toMatchObject({ ok: false, error: { code: 'RPC.VALIDATION_FAILED' } });
      // A name every JavaScript object has is no engine id (it found Object.prototype's as a policy).
      await expect(
        client.rpc.request('bifrost.rpc.risk.reserve', {
          engineId: 'constructor',
          idempotencyKey: 'z',
          maxLoss: usd(0),
          exposure: usd(0),
        }),
      ).resolves.toMatchObject({ ok: false, error: { code: 'RPC.VALIDATION_FAILED' } });
      await expect(
        client.rpc.request('bifrost.rpc.risk.reserve', {
          engineId: 'CAPITAL',
          idempotencyKey: 'y',
          maxLoss: { amount: 1, currency: 'EUR' },
          exposure: { amount: 0, currency: 'EUR' },
        }),
      ).resolves.toMatchObject({ ok: false, error: { code: 'RISK.CURRENCY_MISMATCH' } });
      await expect(
        client.rpc.request('bifrost.rpc.risk.settle', {
          engineId: 'CAPITAL',
          reservationId: '00000000-0000-7000-8000-000000000000',
          realizedLoss: usd(1),
        }),
      ).resolves.toMatchObject({ ok: false, error: { code: 'RISK.RESERVATION_UNKNOWN' } });
      const raw = await client.nc.request(
        ns.naming.qualify('bifrost.rpc.risk.reserve'),
        new TextEncoder().encode('{"engineId":'),
      );
      expect(JSON.parse(new TextDecoder().decode(raw.data))).toMatchObject({
        ok: false,
        error: { code: 'PAYLOAD.MALFORMED' },
      });
    });

    it("should refuse an operation it does not know on the leader's route, and not name it in a metric", async () => {
      for (const op of ['junk-1', 'junk-2', undefined]) {
        await expect(client.rpc.request('bifrost.rpc.risk.leader.execute', { op })).resolves.toMatchObject({
          ok: false,
          error: { code: 'RPC.VALIDATION_FAILED' },
        });
      }
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).not.toContain('junk');
    });

    it('should refuse policy commands from a non-operator', async () => {
      await expect(
        client.rpc.request('bifrost.rpc.risk.cmd.disable-policy', {
          actor: { kind: 'engine', id: 'CAPITAL' },
          reason: 'x',
          policyId: 'CAPITAL',
        }),
      ).resolves.toMatchObject({ ok: false, error: { code: 'RISK.OPERATOR_ONLY' } });
    });
  });

  describe('Given a reservation with a short TTL', () => {
    it('should expire it by itself and stop counting it', async () => {
      await upsertPolicy(client, 'ttl-engine', 1_000, 1_000, 100);
      // Long enough that the next reserve still finds it open on a loaded machine.
      const granted = await reserve(client, 'ttl-engine', 't-1', 1_000, 0, { ttlMs: 2_000 });
      expect(granted.outcome).toBe('GRANTED');
      await expect(reserve(client, 'ttl-engine', 't-2', 1)).resolves.toMatchObject({ outcome: 'DENIED' });
      await waitFor(async () => (await ledger(client)).usage['ttl-engine']?.reservedLoss === 0, {
        what: 'the expiry',
      });
      const entries = await ledgerEntries(client, ns, granted.day);
      expect(entries).toContainEqual({
        type: 'ReservationExpired',
        data: expect.objectContaining({ reservationId: granted.reservationId }),
      });
      await expect(reserve(client, 'ttl-engine', 't-3', 1_000)).resolves.toMatchObject({
        outcome: 'GRANTED',
      });
    });
  });

  describe('Given the default TTL (60 s) and maximum TTL (24 h)', () => {
    const lifetime = (r: { decidedAt: string; expiresAt?: string }) =>
      Date.parse(r.expiresAt ?? '') - Date.parse(r.decidedAt);
    const tooLong = (key: string) =>
      client.rpc.request('bifrost.rpc.risk.reserve', {
        engineId: 'ttl-bounds',
        idempotencyKey: key,
        maxLoss: usd(1),
        exposure: usd(0),
        ttlMs: 86_400_001,
      });

    it('should expire a reserve without ttlMs 60 000 ms after it was decided', async () => {
      await upsertPolicy(client, 'ttl-bounds', 1_000, 1_000, 100);
      const granted = await reserve(client, 'ttl-bounds', 'tb-default', 1);
      expect(granted.outcome).toBe('GRANTED');
      expect(lifetime(granted)).toBe(60_000);
    });

    it('should grant a ttlMs of exactly the maximum and refuse one more with RISK.TTL_TOO_LONG', async () => {
      await upsertPolicy(client, 'ttl-bounds', 1_000, 1_000, 100);
      const longest = await reserve(client, 'ttl-bounds', 'tb-max', 1, 0, { ttlMs: 86_400_000 });
      expect(longest.outcome).toBe('GRANTED');
      expect(lifetime(longest)).toBe(86_400_000);
      await expect(tooLong('tb-over')).resolves.toMatchObject({
        ok: false,
        error: { code: 'RISK.TTL_TOO_LONG' },
      });
      // A retry is checked as a request first: the used key with a TTL above the maximum gets that error.
      await expect(tooLong('tb-max')).resolves.toMatchObject({
        ok: false,
        error: { code: 'RISK.TTL_TOO_LONG' },
      });
      await client.rpc.call('bifrost.rpc.risk.release', {
        engineId: 'ttl-bounds',
        reservationId: longest.reservationId,
      });
    });
  });

  describe('When tripwire fires THROTTLE for an engine', () => {
    it('should throttle its policy with the event as cause until an operator lifts it', async () => {
      await upsertPolicy(client, 'throttled-engine', 1_000, 1_000, 100);
      const trigger = createEnvelope({
        type: 'tripwire.TripwireTriggered',
        subject: ns.naming.eventSubject('tripwire', 'policy', 'contract_rate'),
        source: 'tripwire',
        actor: { kind: 'system', id: 'tripwire' },
        data: {
          engineId: 'throttled-engine',
          action: 'THROTTLE',
          policyId: 'contract_rate',
          reason: 'regressed 30 %',
        },
      });
      await client.publisher.publish(trigger);
      const policy = await waitFor(
        async () => {
          const { policies } = await client.rpc.call<{ policies: RiskPolicy[] }>(
            'bifrost.rpc.risk.policies',
            {},
          );
          return policies.find((p) => p.policyId === 'throttled-engine' && p.throttled);
        },
        { what: 'the throttle' },
      );
      expect(policy.throttled?.cause).toEqual({ kind: 'tripwire', id: trigger.id, reason: 'regressed 30 %' });
      await expect(reserve(client, 'throttled-engine', 'th-1', 1)).resolves.toMatchObject({
        outcome: 'DENIED',
        reason: 'THROTTLED',
      });

      await client.rpc.call('bifrost.rpc.risk.cmd.lift-throttle', {
        actor: OPERATOR,
        reason: 'investigated',
        policyId: 'throttled-engine',
      });
      await expect(reserve(client, 'throttled-engine', 'th-2', 1)).resolves.toMatchObject({
        outcome: 'GRANTED',
      });
      const { events } = await client.eventStore.read(
        ns.naming.eventSubject('risk', 'policy', 'throttled-engine'),
      );
      expect(events.map((e) => e.envelope.type)).toEqual([
        'risk.PolicyDefined',
        'risk.PolicyThrottled',
        'risk.PolicyThrottleLifted',
      ]);
    });
  });
});
