import type { LedgerEntry, ReservationReply, ReserveReply } from '@bifrost/contracts';
import type { LedgerCommand } from '@bifrost/domain-risk';
import { Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, waitFor, type TestNamespace, withinOneUtcDay } from '@bifrost/testing';
import { RiskBookStore } from './ledger/risk-book.store';
import { RiskDesk } from './ledger/risk-desk';
import {
  connectClient,
  decisionRecords,
  ledger,
  ledgerEntries,
  startRiskGuard,
  usd,
} from './risk-guard.fixtures';

const SYSTEM = { kind: 'system' as const, id: 'test' };

describe('risk-guard across the day boundary', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let service: RunningService | undefined;

  beforeEach(async () => {
    ns = await createTestNamespace('riskday');
    client = await connectClient(ns);
  });
  async function startLeader(env: Record<string, string> = {}): Promise<void> {
    service = await startRiskGuard(ns, { RISK_SEED_POLICIES: 'false', ...env });
    await waitFor(async () => (await ledger(client).catch(() => undefined)) !== undefined, {
      what: 'a leader',
    });
  }
  afterEach(async () => {
    await service?.close();
    await client.drain();
    await ns.cleanup();
  });

  describe('Given a reservation that expired yesterday and a ledger already opened today, with no snapshot', () => {
    it('should book its late settle on today after a restart', async () => {
      const today = new Date().toISOString().slice(0, 10);
      const yesterday = new Date(Date.parse(today) - 86_400_000).toISOString().slice(0, 10);
      const reservationId = '00000000-0000-7000-8000-000000000001';
      const yesterdays: LedgerEntry[] = [
        opened(yesterday, `${yesterday}T08:00:00.000Z`, null),
        ...expiredAtMidnight(yesterday, reservationId),
      ];
      const store = new RiskBookStore(client, SYSTEM.id);
      await store.appendLedger(yesterday, yesterdays, 0);
      await store.appendLedger(today, [opened(today, `${today}T00:00:05.000Z`, yesterday)], 0);

      await startLeader();
      const settled = await client.rpc.call<ReservationReply>('bifrost.rpc.risk.settle', {
        reservationId,
        engineId: 'eng',
        realizedLoss: usd(900),
      });

      expect(settled).toMatchObject({ status: 'SETTLED', realizedLoss: usd(900) });
      const view = await ledger(client);
      expect(view.day).toBe(today);
      expect(view.usage['eng']).toMatchObject({ realizedLoss: 900, reservedLoss: 0 });
      expect(view.usage['GLOBAL']).toMatchObject({ realizedLoss: 900 });
    });
  });

  describe('Given a reservation of two days ago settled late yesterday, with no snapshot', () => {
    it('should answer a retried settle today as already done', async () => {
      const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
      const reservationId = '00000000-0000-7000-8000-000000000002';
      const store = new RiskBookStore(client, SYSTEM.id);
      await store.appendLedger(
        day(2),
        [opened(day(2), `${day(2)}T08:00:00.000Z`, null), ...expiredAtMidnight(day(2), reservationId)],
        0,
      );
      await store.appendLedger(
        day(1),
        [
          opened(day(1), `${day(1)}T00:00:10.000Z`, day(2)),
          {
            type: 'ReservationSettled',
            data: {
              reservationId,
              engineId: 'eng',
              realizedLoss: usd(900),
              excess: usd(400),
              exceededReservation: true,
              afterExpiry: true,
              settledAt: `${day(1)}T00:00:10.000Z`,
              actor: { kind: 'engine', id: 'eng' },
            },
          },
        ],
        0,
      );
      await store.appendLedger(day(0), [opened(day(0), `${day(0)}T00:00:05.000Z`, day(1))], 0);

      await startLeader();
      const retried = await client.rpc.call<ReservationReply>('bifrost.rpc.risk.settle', {
        reservationId,
        engineId: 'eng',
        realizedLoss: usd(900),
      });

      expect(retried).toMatchObject({ status: 'SETTLED', realizedLoss: usd(900) });
      expect((await ledger(client)).usage['eng']?.realizedLoss ?? 0).toBe(0);
    });
  });

  describe('Given a denial at 23:59:59.900 whose append landed but whose ack was lost', () => {
    it('should decide its retry after midnight under a reservation id of its own', async () => {
      const today = new Date().toISOString().slice(0, 10);
      const yesterday = new Date(Date.parse(today) - 86_400_000).toISOString().slice(0, 10);
      // Yesterday booked 900 of eng's 1 000: a reserve of 500 is denied yesterday, granted today.
      await new RiskBookStore(client, SYSTEM.id).appendLedger(
        yesterday,
        [opened(yesterday, `${yesterday}T08:00:00.000Z`, null), ...settledYesterday(yesterday, 900)],
        0,
      );
      // No sweep: it would open today before the reserve is decided as of yesterday.
      await startLeader({ RISK_EXPIRY_SWEEP_MS: '3600000' });
      for (const policyId of ['GLOBAL', 'eng']) {
        await client.rpc.call('bifrost.rpc.risk.cmd.upsert-policy', {
          actor: { kind: 'operator', id: 'alice' },
          reason: 'test limits',
          policyId,
          maxDailyLoss: usd(1_000),
          maxDailyExposure: usd(1_000),
          maxDailyActions: 100,
        });
      }
      const running = service as RunningService;
      // The reserve is first decided at 23:59:59.900 yesterday, and decided again (after the lost
      // ack) by the clock: today.
      const desk = running.app.get(RiskDesk) as unknown as { toCommand(job: unknown): LedgerCommand };
      const toCommand = desk.toCommand.bind(desk);
      let lateLastNight = true;
      const clock = jest.spyOn(desk, 'toCommand').mockImplementation((job) => {
        const command = toCommand(job);
        if (command.type !== 'ReserveCapacity' || !lateLastNight) return command;
        lateLastNight = false;
        return { ...command, data: { ...command.data, now: `${yesterday}T23:59:59.900Z` } };
      });
      const messaging = running.app.get(Messaging);
      const append = messaging.eventStore.append.bind(messaging.eventStore);
      const ackLost = jest.spyOn(messaging.eventStore, 'append').mockImplementationOnce(async (...args) => {
        await append(...args);
        throw new Error('the ack was lost');
      });
      let reply: ReserveReply;
      try {
        reply = await client.rpc.call<ReserveReply>('bifrost.rpc.risk.reserve', {
          engineId: 'eng',
          idempotencyKey: 'at-midnight',
          maxLoss: usd(500),
          exposure: usd(0),
        });
      } finally {
        clock.mockRestore();
        ackLost.mockRestore();
      }

      expect(reply).toMatchObject({ outcome: 'GRANTED', day: today, replayed: false });
      const denials = (await ledgerEntries(client, ns, yesterday)).filter(
        (e) => e.type === 'ReservationDenied',
      );
      expect(denials).toMatchObject([{ data: { idempotencyKey: 'at-midnight' } }]);
      // One reservation id, one decision: the projector keeps one row per reservation id.
      expect(reply.reservationId).not.toBe(denials[0]?.data.reservationId);
      const records = await decisionRecords(client, ns, 'eng');
      expect(records.map((r) => r.reply.reservationId)).toEqual([reply.reservationId]);
    });
  });

  describe('Given more reservations open at midnight than one message holds', () => {
    const count = 4_000;
    const today = () => new Date().toISOString().slice(0, 10);

    /** Yesterday's ledger with `count` grants open past midnight, a leader, and policies with room. */
    async function manyOpenAtMidnight(): Promise<void> {
      const yesterday = new Date(Date.parse(today()) - 86_400_000).toISOString().slice(0, 10);
      const store = new RiskBookStore(client, SYSTEM.id);
      // Long-lived grants with long keys (~450 bytes each carried): ~1.8 MB, past 1 MiB in one message.
      const grants: LedgerEntry[] = Array.from({ length: count }, (_, i) => ({
        type: 'ReservationGranted',
        data: {
          reservationId: `00000000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
          engineId: 'eng',
          idempotencyKey: `${'k'.repeat(150)}-${i}`,
          maxLoss: usd(1),
          exposure: usd(1),
          grantedAt: `${yesterday}T12:00:00.000Z`,
          expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
          actor: { kind: 'engine', id: 'eng' },
        },
      }));
      let sequence = await store.appendLedger(
        yesterday,
        [opened(yesterday, `${yesterday}T08:00:00.000Z`, null)],
        0,
      );
      for (let start = 0; start < count; start += 500)
        sequence = await store.appendLedger(yesterday, grants.slice(start, start + 500), sequence);

      await startLeader();
      for (const policyId of ['GLOBAL', 'eng']) {
        await client.rpc.call('bifrost.rpc.risk.cmd.upsert-policy', {
          actor: { kind: 'operator', id: 'alice' },
          reason: 'test limits',
          policyId,
          maxDailyLoss: usd(1_000_000),
          maxDailyExposure: usd(1_000_000),
          maxDailyActions: 1_000,
        });
      }
    }
    const reserveAfterMidnight = () =>
      client.rpc.call<{ outcome: string; day: string }>('bifrost.rpc.risk.reserve', {
        engineId: 'eng',
        idempotencyKey: 'after-midnight',
        maxLoss: usd(1),
        exposure: usd(1),
      });
    /** Today holds every one of them, and the reservation made after midnight, once. */
    async function allCarried(): Promise<void> {
      const view = await ledger(client);
      expect(view.day).toBe(today());
      expect(view.openCount).toBe(count + 1);
      expect(view.usage['eng']).toMatchObject({ reservedLoss: count + 1, reservedExposure: count + 1 });
    }

    it('should open today carrying all of them, in messages below max_payload, and go on deciding', async () => {
      await manyOpenAtMidnight();

      expect(await reserveAfterMidnight()).toMatchObject({ outcome: 'GRANTED', day: today() });
      await allCarried();
      const subject = ns.naming.eventSubject('risk', 'ledger', today());
      const { state } = await client.jsm.streams.info(ns.naming.streams.events.name, {
        subjects_filter: subject,
      });
      // The opening and three more carried chunks, the grant with the last.
      expect(state.subjects?.[subject]).toBe(4);
    });

    it('should carry the rest before deciding when the opening was cut between its messages', async () => {
      await manyOpenAtMidnight();
      const messaging = (service as RunningService).app.get(Messaging);
      const publish = messaging.publisher.publish.bind(messaging.publisher);
      let cut = false;
      // The opening's second message is refused once (the first landed): an append cut in two.
      const spy = jest.spyOn(messaging.publisher, 'publish').mockImplementation(async (envelope, ...rest) => {
        const entries = (envelope.data as { entries?: LedgerEntry[] }).entries;
        if (!cut && entries?.[0]?.type === 'ReservationsCarried') {
          cut = true;
          throw new Error('JetStream unavailable');
        }
        return publish(envelope, ...rest);
      });
      try {
        expect(await reserveAfterMidnight()).toMatchObject({ outcome: 'GRANTED', day: today() });
      } finally {
        spy.mockRestore();
      }

      expect(cut).toBe(true);
      await allCarried();
    });
  });
});

/** A reservation of engine `eng` granted and settled with `loss` at noon of `day`. */
function settledYesterday(day: string, loss: number): LedgerEntry[] {
  const reservationId = '00000000-0000-7000-8000-000000000003';
  return [
    {
      type: 'ReservationGranted',
      data: {
        reservationId,
        engineId: 'eng',
        idempotencyKey: 'noon',
        maxLoss: usd(loss),
        exposure: usd(0),
        grantedAt: `${day}T12:00:00.000Z`,
        expiresAt: `${day}T12:01:00.000Z`,
        actor: { kind: 'engine', id: 'eng' },
      },
    },
    {
      type: 'ReservationSettled',
      data: {
        reservationId,
        engineId: 'eng',
        realizedLoss: usd(loss),
        excess: usd(0),
        exceededReservation: false,
        afterExpiry: false,
        settledAt: `${day}T12:00:30.000Z`,
        actor: { kind: 'engine', id: 'eng' },
      },
    },
  ];
}

function opened(day: string, openedAt: string, previousDay: string | null): LedgerEntry {
  return { type: 'LedgerOpened', data: { day, timeZone: 'UTC', openedAt, previousDay, carriedOver: [] } };
}

/** A reservation of engine `eng` granted at 23:58 of `day` with a one-minute TTL, expired at 23:59:30. */
function expiredAtMidnight(day: string, reservationId: string): LedgerEntry[] {
  return [
    {
      type: 'ReservationGranted',
      data: {
        reservationId,
        engineId: 'eng',
        idempotencyKey: `k-${reservationId}`,
        maxLoss: usd(500),
        exposure: usd(0),
        grantedAt: `${day}T23:58:00.000Z`,
        expiresAt: `${day}T23:59:00.000Z`,
        actor: { kind: 'engine', id: 'eng' },
      },
    },
    {
      type: 'ReservationExpired',
      data: { reservationId, engineId: 'eng', expiredAt: `${day}T23:59:30.000Z` },
    },
  ];
}
