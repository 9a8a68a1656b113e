import type { LedgerEntry } from '@bifrost/contracts';
import type { Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, waitFor, type TestNamespace, withinOneUtcDay } from '@bifrost/testing';
import { RiskBookStore } from './ledger/risk-book.store';
import { connectClient, ledger, reserve, startRiskGuard, upsertPolicy, usd } from './risk-guard.fixtures';

describe('risk-guard and its ledger snapshot', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let service: RunningService | undefined;

  beforeAll(async () => {
    ns = await createTestNamespace('risksnap');
    client = await connectClient(ns);
  });
  afterAll(async () => {
    await service?.close();
    await client.drain();
    await ns.cleanup();
  });

  const leading = async () =>
    waitFor(async () => (await ledger(client).catch(() => undefined)) !== undefined, { what: 'a leader' });

  describe('Given a snapshot of an events stream that was since deleted and created again', () => {
    it('should rebuild the ledger from the new stream, not from the snapshot', async () => {
      service = await startRiskGuard(ns, { RISK_SEED_POLICIES: 'false' });
      await leading();
      await upsertPolicy(client, 'GLOBAL', 100_000, 100_000, 100);
      await upsertPolicy(client, 'eng', 100_000, 100_000, 100);
      for (const key of ['a', 'b', 'c']) await reserve(client, 'eng', key, 1_000);
      await service.close(); // saves the ledger snapshot
      service = undefined;

      const events = ns.naming.streams.events.name;
      const { config } = await client.jsm.streams.info(events);
      await client.jsm.streams.delete(events);
      await client.jsm.streams.add(config);
      // Today's ledger in the new stream: one reservation of 7 (its sequence is far below the snapshot's).
      const today = new Date().toISOString().slice(0, 10);
      const now = new Date().toISOString();
      const entries: LedgerEntry[] = [
        {
          type: 'LedgerOpened',
          data: { day: today, timeZone: 'UTC', openedAt: now, previousDay: null, carriedOver: [] },
        },
        {
          type: 'ReservationGranted',
          data: {
            reservationId: '00000000-0000-7000-8000-000000000007',
            engineId: 'eng',
            idempotencyKey: 'after-reset',
            maxLoss: usd(7),
            exposure: usd(0),
            grantedAt: now,
            expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
            actor: { kind: 'engine', id: 'eng' },
          },
        },
      ];
      await new RiskBookStore(client, 'test').appendLedger(today, entries, 0);

      service = await startRiskGuard(ns, { RISK_SEED_POLICIES: 'false' });
      await leading();

      expect((await ledger(client)).usage['eng']).toMatchObject({ reservedLoss: 7, actions: 1 });
    });
  });
});
