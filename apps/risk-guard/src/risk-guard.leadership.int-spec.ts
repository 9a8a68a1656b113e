import type { ReserveReply, RiskPolicy } from '@bifrost/contracts';
import { ConcurrencyError } from '@bifrost/event-sourcing';
import { policyDecider, type PolicyEvent } from '@bifrost/domain-risk';
import { createEnvelope, toDomainEvent, type Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, waitFor, type TestNamespace, withinOneUtcDay } from '@bifrost/testing';
import { RiskBookStore } from './ledger/risk-book.store';
import type { Subscription } from '@nats-io/nats-core';
import { RiskDesk, type RiskRequest } from './ledger/risk-desk';
import {
  connectClient,
  ledgerEntries,
  occupyLease,
  OPERATOR,
  stall,
  startLeader,
  startRiskGuard,
  startSuccessor,
  upsertPolicy,
  usd,
} from './risk-guard.fixtures';

jest.setTimeout(60_000);

/**
 * The leader stalls (its timers stop, as in a long GC pause or a frozen VM) while still believing
 * it leads; its lease runs out and the standby takes over.
 */
describe('risk-guard when a stalled leader wakes up after a takeover', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let stalled: RunningService;
  let successor: RunningService;

  beforeAll(async () => {
    ns = await createTestNamespace('risklead');
    client = await connectClient(ns);
    stalled = await startLeader(ns);
    await upsertPolicy(client, 'eng', 100_000, 100_000, 100);
    await stalled.app.get(RiskDesk).execute({ op: 'reserve', request: reserveOf('before') });
    stall(stalled);
    successor = await startSuccessor(ns);
  });
  afterAll(async () => {
    await successor.close();
    await stalled.close();
    await client.drain();
    await ns.cleanup();
  });

  it('should fence the ledger at the takeover: appends decided before it are refused', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const entries = await ledgerEntries(client, ns, day);
    expect(entries.at(-1)).toMatchObject({
      type: 'LeaderChanged',
      data: { leader: successor.info.instanceId },
    });
    const { lastSequence } = await client.eventStore.read(ns.naming.eventSubject('risk', 'ledger', day));
    const store = new RiskBookStore(client, 'earlier-leader');
    const late = {
      type: 'LeaderChanged' as const,
      data: { leader: 'earlier-leader', at: new Date().toISOString() },
    };

    await expect(store.appendLedger(day, [late], lastSequence - 1)).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('should not grant once its lease has run out, though the successor throttled the engine', async () => {
    await successor.app.get(RiskDesk).execute(operatorPolicyOf('ThrottlePolicy', 'eng', 'incident'));
    expect(stalled.app.get(RiskDesk).isLeader).toBe(true);

    const answer = await answerOf(stalled, { op: 'reserve', request: reserveOf('stale') }).then(
      (reply) => reply as ReserveReply,
      (error: { code?: string }) => error,
    );

    expect(answer).toMatchObject({ code: 'RISK.NOT_LEADER' });
    expect(stalled.app.get(RiskDesk).isLeader).toBe(false);
    const day = new Date().toISOString().slice(0, 10);
    const keys = (await ledgerEntries(client, ns, day)).flatMap((e) =>
      e.type === 'ReservationGranted' ? [e.data.idempotencyKey] : [],
    );
    expect(keys).toEqual(['before']);
  });

  it('should read a policy change it did not append (a late one of the earlier leader) before deciding on', async () => {
    const desk = successor.app.get(RiskDesk);
    await desk.execute(definePolicyOf('eng2'));
    const subject = ns.naming.eventSubject('risk', 'policy', 'eng2');
    const { events, lastSequence } = await client.eventStore.read(subject);
    const state = events.reduce(
      (s, e) => policyDecider.evolve(s, toDomainEvent(e.envelope) as PolicyEvent),
      policyDecider.initialState(),
    );
    const [throttled] = policyDecider.decide(
      {
        type: 'ThrottlePolicy',
        data: {
          policyId: 'eng2',
          now: new Date().toISOString(),
          cause: { kind: 'operator', id: 'bob', reason: 'late' },
        },
      },
      state,
      { currency: 'USD' },
    );

    await new RiskBookStore(client, 'earlier-leader').appendPolicyEvent(
      throttled as PolicyEvent,
      lastSequence,
      OPERATOR,
    );

    let attempt = 0;
    await waitFor(
      async () => {
        attempt += 1;
        const reply = (await desk.execute({
          op: 'reserve',
          request: { ...reserveOf(`late-${attempt}`), engineId: 'eng2' },
        })) as ReserveReply;
        return reply.outcome === 'DENIED' && reply.reason === 'THROTTLED';
      },
      { timeoutMs: 5_000, what: 'the late throttle in force' },
    );
  });
});

/**
 * A stalled leader that wakes after a takeover still believes it leads until its timers run: what
 * it answers without appending (a reservation it does not know, a no-op, the ledger view) comes
 * from what it knew before the takeover, so it answers nothing once its lease has run out; and a
 * lease it takes back (the successor gone) is a new term, led from a reload, not from that memory.
 */
describe('risk-guard when a stalled leader is asked about what its successor decided', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let stalled: RunningService;
  let successor: RunningService;

  beforeEach(async () => {
    ns = await createTestNamespace('riskstale');
    client = await connectClient(ns);
    stalled = await startLeader(ns);
    await upsertPolicy(client, 'eng', 100_000, 100_000, 100);
    stall(stalled);
    successor = await startSuccessor(ns);
  });
  /** Closed by the test itself. */
  const left = new Set<RunningService>();
  afterEach(async () => {
    for (const service of [successor, stalled]) if (!left.has(service)) await service.close();
    await client.drain();
    await ns.cleanup();
  });

  it("should not call the successor's reservation unknown: its realized loss would never be booked", async () => {
    const granted = (await successor.app
      .get(RiskDesk)
      .execute({ op: 'reserve', request: reserveOf('after') })) as ReserveReply;
    expect(stalled.app.get(RiskDesk).isLeader).toBe(true);

    const answer = await answerOf(stalled, settleOf(granted.reservationId));

    expect(answer).toMatchObject({ code: 'RISK.NOT_LEADER' });
  });

  it('should lead again from the stream when it takes the lease back after its successor left', async () => {
    const granted = (await successor.app
      .get(RiskDesk)
      .execute({ op: 'reserve', request: reserveOf('after') })) as ReserveReply;
    await successor.close();
    left.add(successor);
    const desk = stalled.app.get(RiskDesk);
    expect(desk.isLeader).toBe(true);

    // It wakes: its next lease round finds the lease released and takes it.
    await (desk as unknown as { leadership(): Promise<void> }).leadership();
    await waitFor(() => desk.isLeader, { what: 'the woken instance leads' });
    const answer = await answerOf(stalled, settleOf(granted.reservationId));

    expect(answer).toMatchObject({ reservationId: granted.reservationId, status: 'SETTLED' });
  });

  it("should not call a policy only its successor defined unknown: a tripwire's throttle of it would be dropped", async () => {
    stopPolicyWatch(stalled);
    await successor.app.get(RiskDesk).execute(definePolicyOf('eng2'));
    expect(stalled.app.get(RiskDesk).isLeader).toBe(true);

    const answer = await answerOf(stalled, throttleOf('eng2'));

    expect(answer).toMatchObject({ code: 'RISK.NOT_LEADER' });
  });

  it('should not take a throttle as done when its successor has lifted the one it knew', async () => {
    await successor.app.get(RiskDesk).execute(throttleOf('eng'));
    const stalledPolicies = () =>
      (stalled.app.get(RiskDesk) as unknown as { policies: Record<string, RiskPolicy> }).policies;
    await waitFor(() => stalledPolicies()['eng']?.throttled, {
      what: 'the stalled leader knows the throttle',
    });
    stopPolicyWatch(stalled);
    await successor.app.get(RiskDesk).execute(operatorPolicyOf('LiftThrottle', 'eng', 'recovered'));
    expect(stalled.app.get(RiskDesk).isLeader).toBe(true);

    const answer = await answerOf(stalled, throttleOf('eng'));

    expect(answer).toMatchObject({ code: 'RISK.NOT_LEADER' });
  });

  it("should not show a ledger without the successor's grants", async () => {
    await successor.app.get(RiskDesk).execute({ op: 'reserve', request: reserveOf('after') });
    expect(stalled.app.get(RiskDesk).isLeader).toBe(true);

    const answer = await answerOf(stalled, { op: 'ledger' });

    expect(answer).toMatchObject({ code: 'RISK.NOT_LEADER' });
  });
});

/** A crashed leader's lease still runs: no instance may lead, and a standby forwards to no one. */
describe('risk-guard while no instance leads', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let standby: RunningService | undefined;

  beforeAll(async () => {
    ns = await createTestNamespace('risknolead');
    client = await connectClient(ns);
    const first = await startLeader(ns);
    await upsertPolicy(client, 'gap-engine', 100_000, 100_000, 100);
    await first.close();
  });
  afterAll(async () => {
    await standby?.close();
    await client.drain();
    await ns.cleanup();
  });

  it('should retry a tripwire THROTTLE until a leader takes it, not park it', async () => {
    // Longer than the 5 deliveries (~3 s of backoff) after which any other failure is parked.
    await occupyLease(client, 6_000);
    standby = await startRiskGuard(ns, { RISK_SEED_POLICIES: 'false' });
    const trigger = createEnvelope({
      type: 'tripwire.TripwireTriggered',
      subject: ns.naming.eventSubject('tripwire', 'policy', 'contract_rate'),
      source: 'tripwire',
      actor: { kind: 'system', id: 'tripwire' },
      data: { engineId: 'gap-engine', action: 'THROTTLE', policyId: 'contract_rate', reason: 'regressed' },
    });
    await client.publisher.publish(trigger);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(standby.app.get(RiskDesk).isLeader).toBe(false);

    const policy = await waitFor(
      async () => {
        const { policies } = await client.rpc.call<{ policies: RiskPolicy[] }>(
          'bifrost.rpc.risk.policies',
          {},
        );
        return policies.find((p) => p.policyId === 'gap-engine' && p.throttled);
      },
      { what: 'the throttle, once the standby leads', timeoutMs: 15_000 },
    );
    expect(policy.throttled?.cause).toMatchObject({ kind: 'tripwire', id: trigger.id });
    const dlq = await client.jsm.streams.info(ns.naming.streams.dlq.name);
    expect(dlq.state.messages).toBe(0);
  });
});

/**
 * The stalled leader wakes to a request before the policy events its successor appended meanwhile:
 * its policy watch, which would read them first in most runs, no longer runs.
 */
function stopPolicyWatch(service: RunningService): void {
  (service.app.get(RiskDesk) as unknown as { policyWatch?: Subscription }).policyWatch?.unsubscribe();
}

/** What the desk of `service` answers to `request`, its error included. */
function answerOf(service: RunningService, request: RiskRequest): Promise<unknown> {
  return service.app
    .get(RiskDesk)
    .execute(request)
    .catch((error: { code?: string }) => error);
}

/** An operator's policy command without data of its own. */
function operatorPolicyOf(
  type: 'ThrottlePolicy' | 'LiftThrottle',
  policyId: string,
  reason: string,
): RiskRequest {
  return {
    op: 'policy',
    actor: OPERATOR,
    command: {
      type,
      data: { policyId, now: new Date().toISOString(), cause: { kind: 'operator', id: 'alice', reason } },
    },
  };
}

/** An operator's definition of `policyId` with wide limits. */
function definePolicyOf(policyId: string): RiskRequest {
  return {
    op: 'policy',
    actor: OPERATOR,
    command: {
      type: 'DefinePolicy',
      data: {
        policyId,
        now: new Date().toISOString(),
        cause: { kind: 'operator', id: 'alice', reason: 'limits' },
        limits: { maxDailyLoss: usd(100_000), maxDailyExposure: usd(100_000), maxDailyActions: 100 },
      },
    },
  };
}

/** A settle of `reservationId` of engine `eng` with a realized loss of 100. */
function settleOf(reservationId: string): RiskRequest {
  return { op: 'settle', request: { engineId: 'eng', reservationId, realizedLoss: usd(100) } };
}

/** A tripwire's throttle, as its consumer asks the desk. */
function throttleOf(policyId: string): RiskRequest {
  return {
    op: 'policy',
    actor: { kind: 'system', id: 'tripwire' },
    command: {
      type: 'ThrottlePolicy',
      data: {
        policyId,
        now: new Date().toISOString(),
        cause: { kind: 'tripwire', id: 'trip-1', reason: 'regressed' },
      },
    },
  };
}

function reserveOf(idempotencyKey: string) {
  return { engineId: 'eng', idempotencyKey, maxLoss: usd(100), exposure: usd(0) };
}
