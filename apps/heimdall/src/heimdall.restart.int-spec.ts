import type { Messaging } from '@bifrost/messaging';
import { createTestNamespace, serviceInstances, waitFor, type TestNamespace } from '@bifrost/testing';
import {
  command,
  connectClient,
  domain,
  domains,
  evaluate,
  publishTrial,
  publishTrials,
  startHeimdall,
  waitForTrials,
} from './heimdall.fixtures';

const ENGINE = 'match-bot';
const MATCH = 'BUYER_MATCH';

describe('heimdall across restarts', () => {
  let ns: TestNamespace;
  let client: Messaging;
  const instances = serviceInstances((env: Record<string, string> = {}) => startHeimdall(ns, env));
  const { start, stop } = instances;

  beforeEach(async () => {
    ns = await createTestNamespace('heimre');
    client = await connectClient(ns);
  });
  afterEach(async () => {
    await instances.closeAll();
    await client.drain();
    await ns.cleanup();
  });

  it.each([
    ['from the snapshot taken on stop', {}, false],
    ['from the event stream alone (snapshot lost)', { HEIMDALL_SNAPSHOT_EVERY: '7' }, true],
  ])('should keep scorecards, trial ids and prod use %s', async (_, env, lose) => {
    const first = await start(env);
    await command(client, 'cmd.upsert-policy', {
      domain: MATCH,
      minConfidence: 0.9,
      minSandboxTrials: 20,
      minSandboxSuccessRate: 0.8,
    });
    await publishTrials(client, ns, { engineId: ENGINE, domain: MATCH, prefix: 'm' }, 20, 18);
    await waitForTrials(client, MATCH, 20);
    expect((await command(client, 'cmd.enable-prod-use', { domain: MATCH })).events[0]?.type).toBe(
      'ProdUseEnabled',
    );
    await stop(first);
    if (lose) await client.snapshots.remove('heimdall.state');

    await start(env);
    const after = await domain(client, MATCH);
    expect(after).toMatchObject({
      policy: { minSandboxTrials: 20, prodUseEnabled: true },
      scorecard: { trials: 20, successes: 18, successRate: 0.9 },
    });
    // A trial id seen before the restart is still recognised; a new one counts.
    await publishTrial(client, ns, { engineId: ENGINE, domain: MATCH, trialId: 'm-0', success: false });
    await publishTrial(client, ns, { engineId: ENGINE, domain: MATCH, trialId: 'm-20', success: true });
    const view = await waitForTrials(client, MATCH, 21);
    expect(view.scorecard).toMatchObject({ trials: 21, successes: 19 });
    expect((await evaluate(client, { engineId: ENGINE, domain: MATCH, confidence: 0.9 })).outcome).toBe(
      'ELIGIBLE',
    );
  });

  it('should seed each domain once when two instances start together, and never overwrite an operator change', async () => {
    await Promise.all([start(), start()]);
    const defined = async () =>
      Promise.all(
        ['WHOLESALE_OFFER', 'BUYER_MATCH', 'CAPITAL_ROUTE', 'FOLLOWUP'].map(
          async (id) =>
            (await client.eventStore.read(ns.naming.eventSubject('heimdall', 'domain', id))).events.filter(
              (e) => e.envelope.type === 'heimdall.PolicyDefined',
            ).length,
        ),
      );
    expect(await defined()).toEqual([1, 1, 1, 1]);

    await command(client, 'cmd.upsert-policy', {
      domain: 'FOLLOWUP',
      minConfidence: 0.8,
      minSandboxTrials: 5,
      minSandboxSuccessRate: 0.5,
    });
    await instances.closeAll();
    await start();
    expect(await defined()).toEqual([1, 1, 1, 2]);
    expect((await domain(client, 'FOLLOWUP'))?.policy).toMatchObject({
      minConfidence: 0.8,
      minSandboxTrials: 5,
    });
  });

  it('should seed again, in the background, the policies JetStream did not store at start', async () => {
    // A stream limit between the size of the service's start record and that of a policy event
    // (about 130 bytes more) refuses every seed and nothing else.
    const events = ns.naming.streams.events.name;
    await stop(await start({ HEIMDALL_SEED_POLICIES: 'false' }));
    const record = await client.jsm.streams.getMessage(events, {
      last_by_subj: ns.naming.eventSubject('system', 'service', 'heimdall'),
    });
    if (!record) throw new Error('no start record');
    const recordSize = record.data.length + String(record.header).length;
    const { config } = await client.jsm.streams.info(events);
    await client.jsm.streams.update(events, { ...config, max_msg_size: recordSize + 64 });
    try {
      await start();
      // Started with every seed refused: no domain has a policy (each evaluation is NOT_ELIGIBLE).
      expect(await domains(client)).toEqual([]);
    } finally {
      await client.jsm.streams.update(events, config);
    }
    const seeded = await waitFor(
      async () => {
        const views = await domains(client);
        return views.filter((d) => d.policy).length === 4 && views;
      },
      { what: 'the four seed policies', timeoutMs: 20_000 },
    );
    expect(seeded.map((d) => d.domain)).toEqual([
      'BUYER_MATCH',
      'CAPITAL_ROUTE',
      'FOLLOWUP',
      'WHOLESALE_OFFER',
    ]);
  });
});
