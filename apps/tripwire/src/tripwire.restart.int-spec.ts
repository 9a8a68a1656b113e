import type { TripwirePolicyConfig, TripwirePolicyView } from '@bifrost/contracts';
import { SEED_TRIPWIRE_POLICIES } from '@bifrost/domain-tripwire';
import { createEnvelope, uuidv7, type Messaging } from '@bifrost/messaging';
import {
  createTestNamespace,
  readStreamJson,
  serviceInstances,
  waitFor,
  type TestNamespace,
} from '@bifrost/testing';
import {
  CONTRACT_RATE,
  OPERATOR,
  connectClient,
  enablePolicy,
  policy,
  policyEvents,
  publishKpis,
  startTripwire,
  waitForObserved,
} from './tripwire.fixtures';

const WHOLESALE = { engineId: 'WHOLESALE', domain: 'WHOLESALE', metric: 'contract_rate' };

describe('tripwire service across restarts', () => {
  let ns: TestNamespace;
  let client: Messaging;
  const instances = serviceInstances((env: Record<string, string> = {}) => startTripwire(ns, env));
  const { start, stop } = instances;

  beforeEach(async () => {
    ns = await createTestNamespace('tripre');
    client = await connectClient(ns);
  });
  afterEach(async () => {
    await instances.closeAll();
    await client.drain();
    await ns.cleanup();
  });

  it.each([
    ['from the snapshot taken on stop', {}, false],
    ['from the event stream alone (snapshot lost)', { TRIPWIRE_SNAPSHOT_EVERY: '97' }, true],
  ])('should keep the windows %s: 250 before a restart, 281 after, trips at 531', async (_, env, lose) => {
    const first = await start(env);
    await enablePolicy(client, CONTRACT_RATE);
    await publishKpis(client, ns, WHOLESALE, 250, true);
    await waitForObserved(client, CONTRACT_RATE, 'WHOLESALE', 250);
    await stop(first);
    if (lose) await client.snapshots.remove('tripwire.state');

    await start(env);
    // Only the KPIs of the restarted instance: had it lost the first 250 the baseline would hold
    // 181 events after 281, and the 31st failure would trip at a different point (or not at all).
    await publishKpis(client, ns, WHOLESALE, 250, true);
    await publishKpis(client, ns, WHOLESALE, 31, false);
    await waitForObserved(client, CONTRACT_RATE, 'WHOLESALE', 531);
    const triggers = await policyEvents(client, ns, CONTRACT_RATE, 'TripwireTriggered');
    expect(triggers.map((t) => t.envelope.data['evidence'])).toEqual([
      expect.objectContaining({
        baseline: { from: 1, to: 431, count: 431, successes: 431, rate: 1 },
        recent: { from: 432, to: 531, count: 100, successes: 69, rate: 0.69 },
      }),
    ]);
  });

  it('should trip on the redelivery of a KPI whose append stopped after its KpiRecorded', async () => {
    const first = await start();
    await enablePolicy(client, CONTRACT_RATE);
    await publishKpis(client, ns, WHOLESALE, 500, true);
    await publishKpis(client, ns, WHOLESALE, 30, false);
    await waitForObserved(client, CONTRACT_RATE, 'WHOLESALE', 530);
    await stop(first);
    // The 31st failure trips; its append stored the KpiRecorded, then the instance died before the
    // TripwireTriggered, and the KPI was never acknowledged.
    const kpiId = uuidv7();
    await client.publisher.publish(
      createEnvelope({
        type: 'tripwire.KpiRecorded',
        subject: ns.naming.eventSubject('tripwire', 'policy', CONTRACT_RATE),
        source: 'tripwire',
        actor: { kind: 'engine', id: 'WHOLESALE' },
        data: {
          policyId: CONTRACT_RATE,
          engineId: 'WHOLESALE',
          success: false,
          kpiId,
          at: new Date().toISOString(),
        },
      }),
    );

    const restarted = await start();
    // Its redelivery.
    await client.publisher.publish(
      createEnvelope({
        id: kpiId,
        type: 'ingest.KpiReported',
        subject: ns.naming.ingestSubject('kpi', 'WHOLESALE'),
        source: 'engine',
        actor: { kind: 'engine', id: 'WHOLESALE' },
        data: { ...WHOLESALE, success: false },
      }),
    );
    await waitFor(
      async () =>
        (await (await fetch(`${restarted.url}/metrics`)).text()).includes(
          'bifrost_tripwire_kpis_total{outcome="duplicate",service="tripwire"} 1',
        ),
      { what: 'the redelivered KPI handled' },
    );
    const triggers = await policyEvents(client, ns, CONTRACT_RATE, 'TripwireTriggered');
    expect(triggers.map((t) => t.envelope.data)).toEqual([
      expect.objectContaining({
        engineId: 'WHOLESALE',
        evidence: expect.objectContaining({ recent: expect.objectContaining({ to: 531, successes: 69 }) }),
      }),
    ]);
    expect((await policy(client, CONTRACT_RATE)).engines[0]?.observed).toBe(531);
  });

  it('should record each KPI once when its durable consumer is lost and the ingest stream replayed', async () => {
    const running = await start();
    await publishKpis(client, ns, WHOLESALE, 40, true);
    await waitForObserved(client, CONTRACT_RATE, 'WHOLESALE', 40);

    // An operator's `nats consumer rm`: the runner recreates it and the whole stream comes again,
    // 40 KPIs of which only the last 32 ids are remembered.
    const ingest = ns.naming.streams.ingest.name;
    await client.jsm.consumers.delete(ingest, ns.naming.consumerName('tripwire', 'kpis'));
    await publishKpis(client, ns, WHOLESALE, 1, false);

    await waitFor(async () => sum(await kpiCounts(running.url)) === 81, { what: '40 + 41 KPIs handled' });
    expect(await kpiCounts(running.url)).toEqual({ recorded: 41, duplicate: 40, no_policy: 0 });
    expect((await policy(client, CONTRACT_RATE)).engines[0]).toMatchObject({ observed: 41 });
  });

  it("should record a recreated ingest stream's KPIs, numbered from 1 again", async () => {
    const running = await start();
    await publishKpis(client, ns, WHOLESALE, 40, true);
    await waitForObserved(client, CONTRACT_RATE, 'WHOLESALE', 40);

    const ingest = ns.naming.streams.ingest.name;
    const { config } = await client.jsm.streams.info(ingest);
    await client.jsm.streams.delete(ingest);
    await client.jsm.streams.add(config);
    await publishKpis(client, ns, WHOLESALE, 3, false);

    await waitForObserved(client, CONTRACT_RATE, 'WHOLESALE', 43);
    const recorded = await policyEvents(client, ns, CONTRACT_RATE, 'KpiRecorded');
    expect(recorded.slice(-3).map((e) => e.envelope.data['ingestSequence'])).toEqual([1, 2, 3]);
    expect(await kpiCounts(running.url)).toEqual({ recorded: 43, duplicate: 0, no_policy: 0 });
  });

  it('should seed each policy once when two instances start together, and never overwrite an operator change', async () => {
    const [a] = await Promise.all([start(), start()]);
    const defined = async () =>
      (
        await Promise.all(
          [
            'WHOLESALE-contract_rate',
            'WHOLESALE-offer_accept_rate',
            'BUYER_MATCH-match_success',
            'CAPITAL-roi_event',
          ].map((id) => policyEvents(client, ns, id, 'PolicyDefined')),
        )
      ).map((events) => events.length);
    expect(await defined()).toEqual([1, 1, 1, 1]);

    // The seed defines it disabled; the operator's enable must survive the next start's seeding.
    await enablePolicy(client, CONTRACT_RATE);
    if (a) await stop(a);
    await start();
    expect(await defined()).toEqual([1, 1, 1, 1]);
    expect(await policyEvents(client, ns, CONTRACT_RATE, 'PolicyEnabled')).toHaveLength(1);
    expect((await policy(client, CONTRACT_RATE)).enabled).toBe(true);
  });

  it('should leave enabled a policy an installation stored enabled before seeding defaulted to disabled', async () => {
    // What the first start of a build before seed 000's "regression policies default: disabled"
    // stored: WHOLESALE contract_rate defined enabled by the seed itself.
    const before = { ...(SEED_TRIPWIRE_POLICIES[0] as TripwirePolicyConfig), enabled: true };
    await client.publisher.publish(
      createEnvelope({
        type: 'tripwire.PolicyDefined',
        subject: ns.naming.eventSubject('tripwire', 'policy', CONTRACT_RATE),
        source: 'tripwire',
        actor: { kind: 'system', id: 'tripwire/seed' },
        data: {
          policyId: CONTRACT_RATE,
          policy: before,
          previous: null,
          actor: { kind: 'system', id: 'tripwire/seed' },
          reason: 'first start',
          at: new Date().toISOString(),
        },
      }),
    );

    await start();
    expect(await policyEvents(client, ns, CONTRACT_RATE, 'PolicyDefined')).toHaveLength(1);
    expect((await policy(client, CONTRACT_RATE)).enabled).toBe(true);
    // The policies it did not have yet are seeded, disabled.
    expect((await policy(client, 'WHOLESALE-offer_accept_rate')).enabled).toBe(false);
    // And an operator's change without `enabled` keeps it enabled.
    const { domain, metric, recentWindow, baselineWindow, minEvents, action } = before;
    const changed = await client.rpc.call<TripwirePolicyView>('bifrost.rpc.tripwire.cmd.upsert-policy', {
      actor: OPERATOR,
      reason: 'looser',
      domain,
      metric,
      recentWindow,
      baselineWindow,
      maxDropPct: 35,
      minEvents,
      action,
    });
    expect(changed).toMatchObject({ enabled: true, maxDropPct: 35 });
  });

  it('should record KPIs in the order they were reported while two instances share the consumer', async () => {
    await Promise.all([start(), start()]);
    const count = 200;
    // Pipelined: the ingest stream's order is the order to keep.
    await Promise.all(
      Array.from({ length: count }, (_, n) =>
        client.publisher.publish(
          createEnvelope({
            type: 'ingest.KpiReported',
            subject: ns.naming.ingestSubject('kpi', 'WHOLESALE'),
            source: 'engine',
            actor: { kind: 'engine', id: 'WHOLESALE' },
            data: { ...WHOLESALE, success: n % 5 !== 4 },
          }),
        ),
      ),
    );
    // (the namespace's ingest stream holds nothing else)
    const reported = (
      await readStreamJson<{ id: string }>(client.js, ns.naming.streams.ingest.name, count)
    ).map((m) => m.id);
    expect(reported).toHaveLength(count);

    await waitForObserved(client, CONTRACT_RATE, 'WHOLESALE', count);
    const recorded = await policyEvents(client, ns, CONTRACT_RATE, 'KpiRecorded');
    expect(recorded.map((e) => e.envelope.data['kpiId'])).toEqual(reported);
  });
});

/** The KPIs an instance handled, by outcome (`bifrost_tripwire_kpis_total`). */
async function kpiCounts(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, outcome, n] of text.matchAll(
    /^bifrost_tripwire_kpis_total\{outcome="(\w+)"[^}]*\} (\d+)$/gm,
  )) {
    if (outcome && n) counts[outcome] = Number(n);
  }
  return counts;
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
