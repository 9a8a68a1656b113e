import type { LedgerEntry, ReserveReply } from '@bifrost/contracts';
import { fold } from '@bifrost/event-sourcing';
import { riskLedgerDecider } from '@bifrost/domain-risk';
import type { Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, waitFor, type TestNamespace, withinOneUtcDay } from '@bifrost/testing';
import {
  connectClient,
  decisionRecords,
  ledger,
  ledgerEntries,
  reserve,
  startRiskGuard,
  untilAnswered,
  upsertPolicy,
  usd,
} from './risk-guard.fixtures';

jest.setTimeout(60_000);

describe('risk-guard under concurrency', () => {
  withinOneUtcDay(300_000);
  let ns: TestNamespace;
  let clients: Messaging[];
  const services: RunningService[] = [];

  beforeEach(async () => {
    ns = await createTestNamespace('riskc');
    clients = await Promise.all([1, 2, 3, 4].map(() => connectClient(ns)));
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.close()));
    await Promise.all(clients.map((c) => c.drain()));
    await ns.cleanup();
  });

  async function started(): Promise<RunningService> {
    const service = await startRiskGuard(ns, { RISK_SEED_POLICIES: 'false' });
    services.push(service);
    return service;
  }

  describe('Given GLOBAL (loss 12 000) and engine hot (300 actions) under 64 concurrent clients', () => {
    it('should never let realized + reserved exceed any cap, in the ledger or in any decision record', async () => {
      await started();
      const admin = clients[0] as Messaging;
      await waitFor(() => ledger(admin).catch(() => undefined), { what: 'a leader' });
      await upsertPolicy(admin, 'GLOBAL', 12_000, 200_000, 10_000);
      await upsertPolicy(admin, 'hot', 30_000, 25_000, 300);

      const replies = (
        await Promise.all(
          range(64).map(async (c) => {
            const client = clients[c % clients.length] as Messaging;
            const mine: ReserveReply[] = [];
            for (let i = 0; i < 15; i += 1) {
              const loss = 100 + ((c * 31 + i * 17) % 1400);
              const reply = await reserve(
                client,
                'hot',
                `k-${c}-${i}`,
                loss,
                500 + ((c * 13 + i * 7) % 4500),
              );
              mine.push(reply);
              if (reply.outcome !== 'GRANTED') continue;
              // Small realized losses and prompt releases keep grants flowing until the action cap bites.
              if (c % 2 === 0) await settle(client, reply, 1);
              else await release(client, reply);
            }
            return mine;
          }),
        )
      ).flat();

      const denials = replies.filter((r) => r.outcome === 'DENIED');
      expect(denials.length).toBeGreaterThan(0);
      // Both caps must have bitten for the test to mean anything.
      const violated = new Set(
        denials.flatMap((d) => (d.violations ?? []).map((v) => `${v.policyId}.${v.limit}`)),
      );
      expect([...violated]).toEqual(expect.arrayContaining(['GLOBAL.maxDailyLoss', 'hot.maxDailyActions']));

      const view = await ledger(admin);
      const within = (
        u:
          | { realizedLoss: number; reservedLoss: number; reservedExposure: number; actions: number }
          | undefined,
        loss: number,
        exposure: number,
        actions: number,
      ) => {
        expect(u).toBeDefined();
        expect((u?.realizedLoss ?? 0) + (u?.reservedLoss ?? 0)).toBeLessThanOrEqual(loss);
        expect(u?.reservedExposure).toBeLessThanOrEqual(exposure);
        expect(u?.actions).toBeLessThanOrEqual(actions);
      };
      within(view.usage['GLOBAL'], 12_000, 200_000, 10_000);
      within(view.usage['hot'], 30_000, 25_000, 300);

      const records = await decisionRecords(admin, ns, 'hot');
      expect(records).toHaveLength(replies.length);
      for (const record of records) {
        for (const [policyId, limits] of Object.entries(record.limits)) {
          within(
            record.usage[policyId],
            limits.maxDailyLoss.amount,
            limits.maxDailyExposure.amount,
            limits.maxDailyActions,
          );
        }
      }
      expect(view.usage['hot']?.actions).toBe(records.filter((r) => r.reply.outcome === 'GRANTED').length);
    });
  });

  describe('Given 64 concurrent reserves with one idempotency key', () => {
    it('should make one reservation and give every caller the original result', async () => {
      await started();
      const admin = clients[0] as Messaging;
      await waitFor(() => ledger(admin).catch(() => undefined), { what: 'a leader' });
      await upsertPolicy(admin, 'GLOBAL', 100_000, 100_000, 1_000);
      await upsertPolicy(admin, 'dup', 100_000, 100_000, 1_000);

      const replies = await Promise.all(
        range(64).map((c) => reserve(clients[c % clients.length] as Messaging, 'dup', 'same-key', 500)),
      );

      expect(new Set(replies.map((r) => r.reservationId)).size).toBe(1);
      expect(replies.filter((r) => !r.replayed)).toHaveLength(1);
      const entries = await ledgerEntries(admin, ns, replies[0]?.day as string);
      expect(entries.filter((e) => e.type === 'ReservationGranted')).toHaveLength(1);
      expect((await ledger(admin)).usage['dup']).toMatchObject({ reservedLoss: 500, actions: 1 });
    });
  });

  describe('When the leader restarts mid-load', () => {
    it('should lose no reservation and count none twice', async () => {
      const first = await started();
      const admin = clients[0] as Messaging;
      await waitFor(() => ledger(admin).catch(() => undefined), { what: 'a leader' });
      const second = await started();
      await upsertPolicy(admin, 'GLOBAL', 1_000_000, 1_000_000, 100_000);
      await upsertPolicy(admin, 'busy', 1_000_000, 1_000_000, 100_000);

      let completed = 0;
      let completedAtRestart = 0;
      const restarted = waitFor(() => completed >= 300, { what: 'load before the restart' }).then(() => {
        completedAtRestart = completed;
        return first.close();
      });
      const granted = (
        await Promise.all(
          range(64).map(async (c) => {
            const client = clients[c % clients.length] as Messaging;
            const mine: ReserveReply[] = [];
            for (let i = 0; i < 12; i += 1) {
              const reply = await untilAnswered(() => reserve(client, 'busy', `r-${c}-${i}`, 10, 10));
              completed += 1;
              mine.push(reply);
              if (i % 3 === 0) await untilAnswered(() => settle(client, reply, 5));
            }
            return mine;
          }),
        )
      ).flat();
      await restarted;
      services.splice(services.indexOf(first), 1);

      expect(completedAtRestart).toBeLessThan(64 * 12);
      expect(await (await fetch(`${second.url}/health/ready`)).json()).toMatchObject({
        checks: { 'risk-desk': { detail: 'leader' } },
      });
      expect(granted.every((r) => r.outcome === 'GRANTED')).toBe(true);
      const entries = await ledgerEntries(admin, ns, granted[0]?.day as string);
      const grants = entries.filter(
        (e): e is Extract<LedgerEntry, { type: 'ReservationGranted' }> => e.type === 'ReservationGranted',
      );
      expect(grants).toHaveLength(64 * 12);
      expect(new Set(grants.map((g) => g.data.idempotencyKey)).size).toBe(64 * 12);
      expect(new Set(grants.map((g) => g.data.reservationId))).toEqual(
        new Set(granted.map((r) => r.reservationId)),
      );

      const view = await ledger(admin);
      const replayed = fold(riskLedgerDecider, entries);
      expect(replayed.status === 'open' && replayed.usage).toEqual(view.usage);
      expect(view.usage['busy']).toEqual({
        realizedLoss: 5 * 64 * 4,
        reservedLoss: 10 * 64 * 8,
        reservedExposure: 10 * 64 * 8,
        actions: 64 * 12,
      });
    });
  });
});

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function settle(client: Messaging, reply: ReserveReply, loss: number): Promise<unknown> {
  return client.rpc.call('bifrost.rpc.risk.settle', {
    engineId: reply.engineId,
    reservationId: reply.reservationId,
    realizedLoss: usd(loss),
  });
}

function release(client: Messaging, reply: ReserveReply): Promise<unknown> {
  return client.rpc.call('bifrost.rpc.risk.release', {
    engineId: reply.engineId,
    reservationId: reply.reservationId,
  });
}
