import { evaluateWindow } from '@bifrost/domain-tripwire';
import { createEnvelope, type Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, type TestNamespace } from '@bifrost/testing';
import {
  CONTRACT_RATE,
  connectClient,
  enablePolicy,
  policy,
  policyEvents,
  startTripwire,
  waitForObserved,
} from './tripwire.fixtures';

const EVENTS = 20_000;
const WHOLESALE = { engineId: 'WHOLESALE', domain: 'WHOLESALE', metric: 'contract_rate' };

/**
 * The service end to end on a stationary stream: every KPI evaluated as it arrives, nothing fires.
 * (The statistics of stationary noise, 100 000 events per seeded policy and the false-positive rate
 * of a sensitive policy, are in the domain specs: the same evaluation, without the bus.)
 */
describe('tripwire service on a stationary KPI stream', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let tripwire: RunningService;

  beforeAll(async () => {
    ns = await createTestNamespace('tripst');
    client = await connectClient(ns);
    tripwire = await startTripwire(ns);
    // Seeded disabled: enabled, it evaluates every KPI and could trip (else this could not fail).
    await enablePolicy(client, CONTRACT_RATE);
  });
  afterAll(async () => {
    await tripwire.close();
    await client.drain();
    await ns.cleanup();
  });

  it(`should trip nothing on ${EVENTS} KPI events at a constant 70 % success rate`, async () => {
    // Random at a constant 70 % (a periodic pattern would make every window's rate exactly 70 %,
    // every drop 0, and a broken threshold could not trip).
    const random = mulberry32(42);
    const successes = Array.from({ length: EVENTS }, () => random() < 0.7);
    const subject = ns.naming.ingestSubject('kpi', WHOLESALE.engineId);
    const actor = { kind: 'engine' as const, id: WHOLESALE.engineId };
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < EVENTS; i += 1) {
      const data = { ...WHOLESALE, success: successes[i] };
      pending.push(
        client.publisher.publish(
          createEnvelope({ type: 'ingest.KpiReported', subject, source: 'engine', actor, data }),
        ),
      );
      if (pending.length === 256) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);

    // ~25 s on an idle machine (one aggregate, every KPI in order); a loaded one has taken over 60.
    const view = await waitForObserved(client, CONTRACT_RATE, WHOLESALE.engineId, EVENTS, 240_000);

    // The windows the service evaluated at each KPI, replayed here: the stream does drop.
    const capacity = view.recentWindow + view.baselineWindow;
    const outcomes = successes.map((success) => (success ? '1' : '0')).join('');
    let largestDrop = -Infinity;
    for (let i = 1; i <= EVENTS; i += 1) {
      const { evidence } = evaluateWindow(outcomes.slice(Math.max(0, i - capacity), i), i, view);
      largestDrop = Math.max(largestDrop, evidence.dropPct ?? -Infinity);
    }
    expect(largestDrop).toBeGreaterThan(0);

    expect(view.engines).toEqual([
      expect.objectContaining({
        engineId: 'WHOLESALE',
        triggered: null,
        // The service's windows hold the stream as sent.
        evaluation: expect.objectContaining(evaluateWindow(outcomes.slice(-capacity), EVENTS, view)),
      }),
    ]);
    expect(await policyEvents(client, ns, CONTRACT_RATE, 'TripwireTriggered')).toEqual([]);
    expect((await policy(client, CONTRACT_RATE)).enabled).toBe(true);
  }, 300_000);
});

/** The domain spec's deterministic PRNG. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
