import { createEnvelope } from '@bifrost/messaging';
import { waitFor, withinOneUtcDay } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { HeimdallConfig, heimdallService } from '@bifrost/heimdall';
import { peer, projectorPeer, startGatewayStack, type GatewayStack } from '../testing/gateway.fixtures';

const DOMAIN = 'GW_OFFER';

describe('heimdall routes', () => {
  withinOneUtcDay();
  let h: GatewayStack<'heimdall' | 'projector'>;

  beforeAll(async () => {
    h = await startGatewayStack('gwheim', {
      engineId: 'gw-bot',
      peers: { heimdall: peer(HeimdallConfig, heimdallService), projector: projectorPeer },
    });
  });
  afterAll(() => h?.close());

  const evaluate = (body: Record<string, unknown>) =>
    h.http('POST', '/api/v1/engine/evaluate', {
      key: h.keys.engine,
      body: { engineId: 'gw-bot', domain: DOMAIN, confidence: 0.95, ...body },
    });
  const live = async () =>
    (await h.http('GET', '/api/v1/heimdall/policies', { key: h.keys.viewer })).body.domains.find(
      (d: { domain: string }) => d.domain === DOMAIN,
    );

  it('should list the seeded domains live to a viewer', async () => {
    const listed = await h.http('GET', '/api/v1/heimdall/policies', { key: h.keys.viewer });
    expect(listed.status).toBe(200);
    expect(listed.body.domains.map((d: { domain: string }) => d.domain)).toEqual([
      'BUYER_MATCH',
      'CAPITAL_ROUTE',
      'FOLLOWUP',
      'WHOLESALE_OFFER',
    ]);
  });

  it('should let an admin (not a viewer or operator) define a policy, and validate it', async () => {
    const policy = {
      reason: 'new domain',
      minConfidence: 0.9,
      minSandboxTrials: 3,
      minSandboxSuccessRate: 0.6,
    };
    const put = (key: string, body: unknown) =>
      h.http('PUT', `/api/v1/heimdall/policies/${DOMAIN}`, { key, body });
    expect((await put(h.keys.viewer, policy)).status).toBe(403);
    expect((await put(h.keys.operator, policy)).status).toBe(403);
    expect((await put(h.keys.admin, { ...policy, minConfidence: 1.2 })).status).toBe(400);
    const defined = await put(h.keys.admin, policy);
    expect(defined).toMatchObject({
      status: 200,
      body: {
        events: [{ type: 'PolicyDefined' }],
        domain: { domain: DOMAIN, policy: { minConfidence: 0.9, prodUseEnabled: false } },
      },
    });
  });

  it('should evaluate for the engine itself only, and refuse a promotion without sandbox evidence', async () => {
    const early = await evaluate({ recommendationId: 'r-1' });
    expect(early).toMatchObject({
      status: 200,
      body: { outcome: 'INCONCLUSIVE', action: 'REQUIRE_APPROVAL' },
    });
    expect((await evaluate({ engineId: 'other-bot' })).status).toBe(403);
    expect((await evaluate({ confidence: 'high' })).status).toBe(400);

    const refused = await h.http('POST', `/api/v1/heimdall/policies/${DOMAIN}/prod-use/enable`, {
      key: h.keys.admin,
      body: { reason: 'too early' },
    });
    expect(refused).toMatchObject({ status: 200, body: { events: [{ type: 'ProdUseRefused' }] } });
    expect(
      (
        await h.http('POST', '/api/v1/heimdall/policies/NOPE/prod-use/enable', {
          key: h.keys.admin,
          body: { reason: 'x' },
        })
      ).status,
    ).toBe(404);
  });

  it('should take sandbox trials over HTTP and make the domain eligible once promoted', async () => {
    for (const [i, success] of [true, true, false].entries()) {
      const sent = await h.http('POST', '/api/v1/engine/sandbox', {
        key: h.keys.engine,
        body: { engineId: 'gw-bot', domain: DOMAIN, trialId: `gw-${i}`, success },
      });
      expect(sent.status).toBe(202);
    }
    await waitFor(async () => (await live())?.scorecard.trials === 3, { what: 'three trials' });

    const promoted = await h.http('POST', `/api/v1/heimdall/policies/${DOMAIN}/prod-use/enable`, {
      key: h.keys.admin,
      body: { reason: 'two of three' },
    });
    expect(promoted.body.events).toEqual([expect.objectContaining({ type: 'ProdUseEnabled' })]);
    const eligible = await evaluate({ recommendationId: 'r-2', requestId: 'req-2' });
    expect(eligible.body).toMatchObject({ outcome: 'ELIGIBLE', eligible: true, action: 'ALLOW' });
  });

  it('should read scorecards and evaluations from the read models', async () => {
    const evaluations = await waitFor(
      async () => {
        const page = await h.http('GET', `/api/v1/heimdall/evaluations?engineId=gw-bot&limit=1`, {
          key: h.keys.viewer,
        });
        return page.status === 200 && page.body.nextCursor !== null && page.body;
      },
      { what: 'two projected evaluations' },
    );
    expect(evaluations.items).toEqual([
      expect.objectContaining({ outcome: 'ELIGIBLE', recommendationId: 'r-2' }),
    ]);
    const next = await h.http(
      'GET',
      `/api/v1/heimdall/evaluations?engineId=gw-bot&limit=1&cursor=${evaluations.nextCursor}`,
      {
        key: h.keys.viewer,
      },
    );
    expect(next.body).toMatchObject({
      items: [{ outcome: 'INCONCLUSIVE', recommendationId: 'r-1' }],
      nextCursor: null,
    });
    const one = await h.http('GET', `/api/v1/heimdall/evaluations/${evaluations.items[0].evaluationId}`, {
      key: h.keys.viewer,
    });
    expect(one.body).toMatchObject({ requestId: 'req-2', request: { engineId: 'gw-bot' } });
    expect(one.body.gates).toHaveLength(5);

    const scorecards = await waitFor(
      async () => {
        const read = await h.http('GET', `/api/v1/heimdall/scorecards?domain=${DOMAIN}`, {
          key: h.keys.viewer,
        });
        return read.body.cumulative?.[0]?.trials === 3 && read.body;
      },
      { what: 'the projected scorecard' },
    );
    expect(scorecards.cumulative).toEqual([
      expect.objectContaining({ domain: DOMAIN, trials: 3, successes: 2, successRate: 2 / 3 }),
    ]);
    expect(scorecards.days).toEqual([
      expect.objectContaining({ domain: DOMAIN, day: new Date().toISOString().slice(0, 10), trials: 3 }),
    ]);
    expect(scorecards.truncated).toBe(false);
    for (const day of ['2026-02-30', '2026-99-99', '2026-2-3']) {
      expect(
        await h.http('GET', `/api/v1/heimdall/scorecards?from=${day}`, { key: h.keys.viewer }),
      ).toMatchObject({ status: 400, body: { code: 'REQUEST.INVALID' } });
    }
    const history = await h.http('GET', '/api/v1/heimdall/policy-history', { key: h.keys.viewer });
    expect(history.body.items).toContainEqual(
      expect.objectContaining({ domain: DOMAIN, prodUseEnabled: true, lastRefused: expect.any(Object) }),
    );
  });

  it('should say when the per-day rows stop at 1000, and give the rest to a narrower range', async () => {
    const domain = 'GW_DAYS';
    const first = Date.parse('2023-01-01T12:00:00.000Z');
    const dayOf = (i: number) => new Date(first + i * 86_400_000).toISOString().slice(0, 10);
    // 1001 trials on 1001 days, reported late (as a buffered SDK would): one scorecard row each.
    for (let batch = 0; batch < 1001; batch += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, 1001 - batch) }, (_, j) =>
          h.probe.publisher.publish(
            createEnvelope({
              type: 'ingest.SandboxTrialReported',
              subject: h.ns.naming.ingestSubject('sandbox', 'gw-bot'),
              source: 'sdk',
              actor: { kind: 'engine', id: 'gw-bot' },
              occurredAt: `${dayOf(batch + j)}T12:00:00.000Z`,
              data: { engineId: 'gw-bot', domain, trialId: `t-${batch + j}`, success: true },
            }),
          ),
        ),
      );
    }
    const all = await waitFor(
      async () => {
        const read = await h.http('GET', `/api/v1/heimdall/scorecards?domain=${domain}`, {
          key: h.keys.viewer,
        });
        return read.body.cumulative?.[0]?.trials === 1001 && read.body;
      },
      { what: '1001 projected trials', timeoutMs: 30_000 },
    );

    expect(all.days).toHaveLength(1000);
    expect(all.truncated).toBe(true);
    expect(all.days[0]).toMatchObject({ day: dayOf(1000) });
    // `to` is exclusive, as every range's: the day before the first row given.
    const rest = await h.http('GET', `/api/v1/heimdall/scorecards?domain=${domain}&to=${dayOf(1)}`, {
      key: h.keys.viewer,
    });
    expect(rest.body).toMatchObject({ days: [{ day: dayOf(0), trials: 1 }], truncated: false });
    const none = await h.http(
      'GET',
      `/api/v1/heimdall/scorecards?domain=${domain}&from=${dayOf(5)}&to=${dayOf(5)}`,
      { key: h.keys.viewer },
    );
    expect(none.body).toMatchObject({ days: [], truncated: false });
  }, 60_000);

  it('should answer 503 when Heimdall is down, on which the SDK fails closed', async () => {
    await h.stopPeer('heimdall');
    const down = await evaluate({});
    expect(down.status).toBe(503);
  });
});
