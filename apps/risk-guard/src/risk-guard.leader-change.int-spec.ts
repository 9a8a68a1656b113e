import type { LedgerEntry, ReserveReply } from '@bifrost/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import type { Subscription } from '@nats-io/nats-core';
import type { LedgerCommand } from '@bifrost/domain-risk';
import { createEnvelope, Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, waitFor, type TestNamespace, withinOneUtcDay } from '@bifrost/testing';
import { LeaderLease } from './ledger/leader-lease';
import { RiskBookStore } from './ledger/risk-book.store';
import { RiskDesk } from './ledger/risk-desk';
import {
  connectClient,
  deferred,
  holdNextAppend,
  ledgerEntries,
  occupyLease,
  OPERATOR,
  stall,
  startRiskGuard,
  startLeader,
  startSuccessor,
  upsertPolicy,
  usd,
} from './risk-guard.fixtures';

jest.setTimeout(60_000);

/**
 * The fence (the `LeaderChanged` a new leader appends with the sequence it read) against an earlier
 * leader that still decides after a takeover: one whose lease check passed before it stalled, and
 * one whose clock says its lease still runs. Either way what it decided against its own view must
 * not land, and what it decides again must count what the new leader granted. Last, the handover
 * the other way: a leader that shuts down leaves the lease free for the next at once.
 */
describe('risk-guard when a leader stalls with a decision on its way to the ledger', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let stale: RunningService;
  let successor: RunningService | undefined;

  beforeAll(async () => {
    ns = await createTestNamespace('riskfence');
    client = await connectClient(ns);
    stale = await startLeader(ns);
    await upsertPolicy(client, 'eng', 100_000, 100_000, 100);
    await stale.app.get(RiskDesk).execute({ op: 'reserve', request: reserveOf('eng', 'before') });
  });
  afterAll(async () => {
    await successor?.close();
    await stale.close();
    await client.drain();
    await ns.cleanup();
  });

  it('should refuse the append it decided before the takeover, checked against a lease then still running', async () => {
    const desk = stale.app.get(RiskDesk);
    const held = holdNextAppend(stale);
    let answer: Promise<unknown>;
    try {
      answer = desk.execute({ op: 'reserve', request: reserveOf('eng', 'in-flight') }).then(
        (reply) => reply,
        (error: unknown) => error,
      );
      // Its lease check has passed: the append is on its way, and there the process stalls.
      await waitFor(() => held.appending(), { what: 'the decision being appended' });
      stall(stale);
      successor = await startSuccessor(ns);
      await throttle(successor, 'eng');
      expect(desk.isLeader).toBe(true);

      held.release();

      expect(await answer).toMatchObject({ code: 'RISK.NOT_LEADER' });
    } finally {
      held.restore();
    }
    expect(desk.isLeader).toBe(false);
    expect(await grantedKeys(client, ns)).toEqual(['before']);
  });
});

describe('risk-guard when a stalled leader wakes up after a takeover, its clock saying its lease still runs', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let stale: RunningService;
  let successor: RunningService;

  beforeAll(async () => {
    ns = await createTestNamespace('riskslow');
    client = await connectClient(ns);
    stale = await startLeader(ns);
    await upsertPolicy(client, 'eng', 100_000, 100_000, 100);
    await upsertPolicy(client, 'capped', 100_000, 100_000, 3);
    const desk = stale.app.get(RiskDesk);
    await desk.execute({ op: 'reserve', request: reserveOf('capped', 'a') });
    stall(stale);
    // Its clock stops with it: to the lease, no time passes, so it still believes it holds it.
    const stalled = desk as unknown as { lease: { clock: () => number }; policyWatch?: Subscription };
    const stalledAt = Date.now();
    stalled.lease.clock = () => stalledAt;
    // Nor does it read what arrives meanwhile: the new leader's policy events reach it only after
    // it has decided (its watch on the policy subjects would otherwise reload them first).
    stalled.policyWatch?.unsubscribe();
    successor = await startSuccessor(ns);
  });
  afterAll(async () => {
    await successor.close();
    await stale.close();
    await client.drain();
    await ns.cleanup();
  });

  it('should decide again against the policies the new leader changed, its stale decision fenced off', async () => {
    await throttle(successor, 'eng');
    const desk = stale.app.get(RiskDesk);
    expect(desk.isLeader).toBe(true);

    const reply = (await desk.execute({ op: 'reserve', request: reserveOf('eng', 'stale') })) as ReserveReply;

    expect(reply).toMatchObject({ outcome: 'DENIED', reason: 'THROTTLED' });
    expect(await grantedKeys(client, ns, 'eng')).toEqual([]);
  });

  it('should neither grant a reservation twice nor overshoot a cap the new leader filled', async () => {
    const next = successor.app.get(RiskDesk);
    const b = (await next.execute({ op: 'reserve', request: reserveOf('capped', 'b') })) as ReserveReply;
    const c = (await next.execute({ op: 'reserve', request: reserveOf('capped', 'c') })) as ReserveReply;
    expect([b.outcome, c.outcome]).toEqual(['GRANTED', 'GRANTED']);
    const desk = stale.app.get(RiskDesk);
    expect(desk.isLeader).toBe(true);

    // The engine retries b on the earlier leader, and asks for one more.
    const [retried, more] = (await Promise.all([
      desk.execute({ op: 'reserve', request: reserveOf('capped', 'b') }),
      desk.execute({ op: 'reserve', request: reserveOf('capped', 'd') }),
    ])) as ReserveReply[];

    expect(retried).toMatchObject({ outcome: 'GRANTED', reservationId: b.reservationId, replayed: true });
    expect(more).toMatchObject({ outcome: 'DENIED', reason: 'LIMIT_EXCEEDED' });
    expect(await grantedKeys(client, ns, 'capped')).toEqual(['a', 'b', 'c']);
  });
});

describe('risk-guard when a stalled leader wakes up after a takeover and opens the next day', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let stale: RunningService;
  let successor: RunningService | undefined;
  const today = () => new Date().toISOString().slice(0, 10);
  // No sweep: it would open today on its own. Here the first reserve opens it.
  const noSweep = { RISK_EXPIRY_SWEEP_MS: '3600000' };
  let yesterday: string;

  beforeEach(async () => {
    ns = await createTestNamespace('riskmidnight');
    client = await connectClient(ns);
    // The ledger's current day is yesterday: the next append of either leader opens today.
    yesterday = new Date(Date.parse(today()) - 86_400_000).toISOString().slice(0, 10);
    await new RiskBookStore(client, 'test').appendLedger(
      yesterday,
      [
        {
          type: 'LedgerOpened',
          data: {
            day: yesterday,
            timeZone: 'UTC',
            openedAt: `${yesterday}T08:00:00.000Z`,
            previousDay: null,
            carriedOver: [],
          },
        },
      ],
      0,
    );
    stale = await startLeader(ns, noSweep);
    await upsertPolicy(client, 'eng', 100_000, 100_000, 100);
  });
  afterEach(async () => {
    await successor?.close();
    successor = undefined;
    await stale.close();
    await client.drain();
    await ns.cleanup();
  });

  /** The stale leader stalls, its lease clock with it and blind to policy events; a successor takes over. */
  async function takeOverFromStale(): Promise<RunningService> {
    stall(stale);
    const stalled = stale.app.get(RiskDesk) as unknown as {
      lease: { clock: () => number };
      policyWatch?: Subscription;
    };
    const stalledAt = Date.now();
    stalled.lease.clock = () => stalledAt;
    stalled.policyWatch?.unsubscribe();
    successor = await startSuccessor(ns, noSweep);
    await throttle(successor, 'eng');
    return successor;
  }

  /** It has decided to grant, but the grant must not land: decided again, the new leader's throttle denies it. */
  async function expectFencedOff(answer: Promise<unknown>): Promise<void> {
    expect(await answer).toMatchObject({ outcome: 'DENIED', reason: 'THROTTLED', day: today() });
    expect(await grantedKeys(client, ns, 'eng')).toEqual([]);
    const openings = (await ledgerEntries(client, ns, today())).filter((e) => e.type === 'LedgerOpened');
    expect(openings).toHaveLength(1);
  }

  it('should refuse the opening it decided against its own view, and decide again against the new policies', async () => {
    const desk = stale.app.get(RiskDesk);
    // A grant decided a moment before midnight: yesterday's last entry is no fence of a leader.
    const deciding = desk as unknown as { toCommand(job: unknown): LedgerCommand };
    const toCommand = deciding.toCommand.bind(deciding);
    const clock = jest.spyOn(deciding, 'toCommand').mockImplementationOnce((job) => {
      const command = toCommand(job);
      return { ...command, data: { ...command.data, now: `${yesterday}T23:59:59.000Z` } } as LedgerCommand;
    });
    await desk.execute({ op: 'reserve', request: reserveOf('eng', 'last-night') });
    clock.mockRestore();
    expect((await ledgerEntries(client, ns, yesterday)).at(-1)).toMatchObject({ type: 'ReservationGranted' });
    await takeOverFromStale();
    expect(desk.isLeader).toBe(true);

    await expectFencedOff(desk.execute({ op: 'reserve', request: reserveOf('eng', 'stale') }));
  });

  it('should refuse its opening when it stalled after fencing the day it closed', async () => {
    const messaging = stale.app.get(Messaging);
    const append = messaging.eventStore.append.bind(messaging.eventStore);
    const held = deferred();
    let opening = false;
    const spy = jest.spyOn(messaging.eventStore, 'append').mockImplementation(async (...args) => {
      const entries = (args[1][0]?.data as { entries?: LedgerEntry[] } | undefined)?.entries;
      if (entries?.[0]?.type === 'LedgerOpened') {
        opening = true;
        await held.promise;
      }
      return append(...args);
    });
    try {
      const answer = stale.app
        .get(RiskDesk)
        .execute({ op: 'reserve', request: reserveOf('eng', 'stale') })
        .catch((error: unknown) => error);
      // Yesterday is fenced by the stale leader itself; its opening of today is on its way.
      await waitFor(() => opening, { what: 'the opening being appended' });
      await takeOverFromStale();

      held.resolve();

      await expectFencedOff(answer);
    } finally {
      held.resolve();
      spy.mockRestore();
    }
  });
});

describe('risk-guard when a policy event lands while a new leader takes over', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;

  beforeAll(async () => {
    ns = await createTestNamespace('risklate');
    client = await connectClient(ns);
  });
  afterAll(async () => {
    await client.drain();
    await ns.cleanup();
  });

  it('should read it before its first decision', async () => {
    const first = await startLeader(ns);
    await upsertPolicy(client, 'eng', 100_000, 100_000, 100);
    await first.close();
    // A crashed leader's lease: the next instance starts as a standby and takes over when it runs out.
    await occupyLease(client, 2_000);
    const next = await startRiskGuard(ns, { RISK_SEED_POLICIES: 'false' });
    try {
      const desk = next.app.get(RiskDesk);
      const store = (desk as unknown as { store: { loadLedger(): Promise<unknown> } }).store;
      const loadLedger = store.loadLedger.bind(store);
      // The earlier leader's throttle lands once the new leader has read the policies to take over.
      jest.spyOn(store, 'loadLedger').mockImplementationOnce(async () => {
        await client.publisher.publish(
          createEnvelope({
            type: 'risk.PolicyThrottled',
            subject: client.naming.eventSubject('risk', 'policy', 'eng'),
            source: 'risk-guard',
            actor: { kind: 'system', id: 'risk-guard' },
            data: { policyId: 'eng', cause: { kind: 'operator', id: 'alice' }, at: new Date().toISOString() },
          }),
        );
        return loadLedger();
      });
      await waitFor(() => desk.isLeader, { timeoutMs: 15_000, what: 'the next instance leads' });

      await expect(
        desk.execute({ op: 'reserve', request: reserveOf('eng', 'after') }),
      ).resolves.toMatchObject({
        outcome: 'DENIED',
        reason: 'THROTTLED',
      });
    } finally {
      await next.close();
    }
  });
});

describe('risk-guard when the leader shuts down while renewing its lease', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;

  beforeAll(async () => {
    ns = await createTestNamespace('riskhandover');
    client = await connectClient(ns);
  });
  afterAll(async () => {
    await client.drain();
    await ns.cleanup();
  });

  it('should release the lease it renewed, so the next instance takes it at once', async () => {
    // A lease far longer than the test: only the release lets another instance lead.
    const leader = await startLeader(ns, { RISK_LEASE_MS: '60000' });
    const desk = leader.app.get(RiskDesk) as unknown as {
      isLeader: boolean;
      lease: { kv: KV };
      leadership(): Promise<void>;
      stepDown(reason: string): Promise<void>;
    };
    // The renewal is stored, but its answer is still on the way when the shutdown starts.
    const answered = deferred();
    let stored = false;
    const update = desk.lease.kv.update.bind(desk.lease.kv);
    jest.spyOn(desk.lease.kv, 'update').mockImplementationOnce(async (...args) => {
      const revision = await update(...args);
      stored = true;
      await answered.promise;
      return revision;
    });
    const renewing = desk.leadership();
    await waitFor(() => stored, { what: 'the renewal stored' });
    let steppedDown = false;
    const stepDown = desk.stepDown.bind(desk);
    jest.spyOn(desk, 'stepDown').mockImplementation(async (reason) => {
      await stepDown(reason);
      steppedDown = true;
    });

    const closing = leader.close();
    // What the shutdown does once it has stepped down has begun: the release, or waiting for the renewal.
    await waitFor(() => steppedDown, { what: 'the leader stepped down' });
    answered.resolve();
    await closing;
    await renewing;

    const kv = await new Kvm(client.js).open(ns.naming.snapshotBucket);
    const next = new LeaderLease(kv, 'risk-guard.leader', 'next', 60_000);
    expect(await next.acquire()).toBe(true);
  });
});

function throttle(service: RunningService, policyId: string): Promise<unknown> {
  return service.app.get(RiskDesk).execute({
    op: 'policy',
    actor: OPERATOR,
    command: {
      type: 'ThrottlePolicy',
      data: {
        policyId,
        now: new Date().toISOString(),
        cause: { kind: 'operator', id: 'alice', reason: 'incident' },
      },
    },
  });
}

/** The idempotency keys of today's grants in the ledger stream, of one engine or all. */
async function grantedKeys(client: Messaging, ns: TestNamespace, engineId?: string): Promise<string[]> {
  const day = new Date().toISOString().slice(0, 10);
  return (await ledgerEntries(client, ns, day)).flatMap((e) =>
    e.type === 'ReservationGranted' && (engineId === undefined || e.data.engineId === engineId)
      ? [e.data.idempotencyKey]
      : [],
  );
}

function reserveOf(engineId: string, idempotencyKey: string) {
  return { engineId, idempotencyKey, maxLoss: usd(100), exposure: usd(0) };
}
