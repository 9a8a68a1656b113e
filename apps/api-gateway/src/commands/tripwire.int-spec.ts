import { waitFor } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { TripwireConfig, tripwireService } from '@bifrost/tripwire';
import { peer, projectorPeer, startGatewayStack, type GatewayStack } from '../testing/gateway.fixtures';

describe('tripwire routes', () => {
  let h: GatewayStack<'tripwire' | 'projector'>;

  beforeAll(async () => {
    h = await startGatewayStack('gwtrip', {
      engineId: 'gw-bot',
      peers: { tripwire: peer(TripwireConfig, tripwireService), projector: projectorPeer },
    });
  });
  afterAll(() => h?.close());

  const kpis = async (count: number, success: boolean) => {
    for (let i = 0; i < count; i += 1) {
      const sent = await h.http('POST', '/api/v1/engine/kpi', {
        key: h.keys.engine,
        body: { engineId: 'gw-bot', domain: 'GW', metric: 'deal_rate', success },
      });
      expect(sent.status).toBe(202);
    }
  };
  const engineView = () =>
    h.http('GET', '/api/v1/tripwire/policies/GW-deal_rate/engines/gw-bot', { key: h.keys.viewer });

  it('should list the seeded policies live to a viewer, every one disabled', async () => {
    const listed = await h.http('GET', '/api/v1/tripwire/policies', { key: h.keys.viewer });

    expect(listed.status).toBe(200);
    expect(
      listed.body.policies.map((p: { policyId: string; enabled: boolean }) => [p.policyId, p.enabled]),
    ).toEqual([
      ['BUYER_MATCH-match_success', false],
      ['CAPITAL-roi_event', false],
      ['WHOLESALE-contract_rate', false],
      ['WHOLESALE-offer_accept_rate', false],
    ]);
    const one = await h.http('GET', '/api/v1/tripwire/policies/CAPITAL-roi_event', { key: h.keys.viewer });
    expect(one.body).toMatchObject({ policyId: 'CAPITAL-roi_event', enabled: false, action: 'KILL_SWITCH' });
    expect(await h.http('GET', '/api/v1/tripwire/policies/NOPE-x', { key: h.keys.viewer })).toMatchObject({
      status: 404,
      body: { code: 'TRIPWIRE.POLICY_UNKNOWN' },
    });
  });

  it('should let an admin (not a viewer or operator) define a policy, disabled until enabled, and validate it', async () => {
    const policy = {
      reason: 'new KPI',
      domain: 'GW',
      metric: 'deal_rate',
      recentWindow: 10,
      baselineWindow: 40,
      maxDropPct: 30,
      minEvents: 10,
      action: 'THROTTLE',
    };
    expect(
      (await h.http('POST', '/api/v1/tripwire/policies', { key: h.keys.viewer, body: policy })).status,
    ).toBe(403);
    expect(
      (await h.http('POST', '/api/v1/tripwire/policies', { key: h.keys.operator, body: policy })).status,
    ).toBe(403);
    for (const maxDropPct of [0, 100]) {
      const invalid = await h.http('POST', '/api/v1/tripwire/policies', {
        key: h.keys.admin,
        body: { ...policy, maxDropPct },
      });
      expect(invalid.status).toBe(400);
    }
    // Windows that never hold minEvents events: a policy that could never trip.
    expect(
      await h.http('POST', '/api/v1/tripwire/policies', {
        key: h.keys.admin,
        body: { ...policy, minEvents: 11 },
      }),
    ).toMatchObject({ status: 422, body: { code: 'TRIPWIRE.POLICY_INVALID' } });

    const defined = await h.http('POST', '/api/v1/tripwire/policies', { key: h.keys.admin, body: policy });
    expect(defined).toMatchObject({
      status: 200,
      body: { policyId: 'GW-deal_rate', enabled: false, confidence: 0.95, engines: [] },
    });
    const enabled = await h.http('POST', '/api/v1/tripwire/policies/GW-deal_rate/enable', {
      key: h.keys.admin,
      body: { reason: 'deal flow is live' },
    });
    expect(enabled).toMatchObject({ status: 200, body: { policyId: 'GW-deal_rate', enabled: true } });
  });

  it('should refuse with 400 a KPI value that JSON parses to Infinity', async () => {
    const response = await fetch(`${h.gateway.url}/api/v1/engine/kpi`, {
      method: 'POST',
      headers: { 'x-api-key': h.keys.engine, 'content-type': 'application/json' },
      body: '{"engineId":"gw-bot","domain":"GW","metric":"other_rate","success":true,"value":1e400}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: 'REQUEST.INVALID',
      issues: [expect.objectContaining({ path: '/value' })],
    });
  });

  it('should trip on KPIs ingested over HTTP and show the evidence, live and in the trip history', async () => {
    await kpis(40, true);
    await kpis(10, false);

    const tripped = await waitFor(
      async () => {
        const view = await engineView();
        // All 50 applied: the trip comes at the 44th, and the view shows the evidence as of the last.
        return view.status === 200 && view.body.observed === 50 && view.body.triggered !== null && view.body;
      },
      { what: 'the trip of gw-bot, all 50 KPIs observed' },
    );
    expect(tripped).toMatchObject({
      engineId: 'gw-bot',
      observed: 50,
      triggered: { action: 'THROTTLE' },
      evaluation: {
        result: 'TRIPPED',
        evidence: {
          baseline: { from: 1, to: 40, count: 40, successes: 40, rate: 1 },
          recent: { from: 41, to: 50, count: 10, successes: 0, rate: 0 },
          dropPct: 100,
        },
      },
    });

    const history = await waitFor(
      async () => {
        const page = await h.http('GET', '/api/v1/tripwire/triggers?engineId=gw-bot', { key: h.keys.viewer });
        return page.status === 200 && page.body.items.length > 0 && page.body.items;
      },
      { what: 'the trip in the read model' },
    );
    expect(history).toEqual([
      expect.objectContaining({ engineId: 'gw-bot', policyId: 'GW-deal_rate', action: 'THROTTLE' }),
    ]);
    // It tripped on the 4th failure (6/10 against 34/34: a 40 % drop, p ≈ 5e-5); the live view above
    // shows the windows as they are now.
    expect(history[0].data.evidence).toMatchObject({
      baseline: { from: 1, to: 34, count: 34, rate: 1 },
      recent: { from: 35, to: 44, count: 10, successes: 6 },
      dropPct: 40,
    });
  });

  it('should reset (operator) and evaluate now', async () => {
    const reset = await h.http('POST', '/api/v1/tripwire/policies/GW-deal_rate/engines/gw-bot/reset', {
      key: h.keys.operator,
      body: { reason: 'deal flow fixed' },
    });
    expect(reset.status).toBe(200);
    expect(reset.body.engines).toEqual([
      expect.objectContaining({ engineId: 'gw-bot', observed: 0, triggered: null }),
    ]);

    const evaluated = await h.http('POST', '/api/v1/tripwire/evaluate', {
      key: h.keys.operator,
      body: { policyId: 'GW-deal_rate' },
    });
    expect(evaluated).toMatchObject({
      status: 200,
      body: { evaluations: [{ policyId: 'GW-deal_rate', engineId: 'gw-bot', result: 'INSUFFICIENT_DATA' }] },
    });
  });

  it('should answer 404 TRIPWIRE.ENGINE_UNKNOWN for an engine the policy never saw, on read and on reset', async () => {
    const read = await h.http('GET', '/api/v1/tripwire/policies/GW-deal_rate/engines/nobody', {
      key: h.keys.viewer,
    });
    expect(read).toMatchObject({ status: 404, body: { code: 'TRIPWIRE.ENGINE_UNKNOWN' } });

    const reset = await h.http('POST', '/api/v1/tripwire/policies/GW-deal_rate/engines/nobody/reset', {
      key: h.keys.operator,
      body: { reason: 'typo' },
    });
    expect(reset).toMatchObject({ status: 404, body: { code: 'TRIPWIRE.ENGINE_UNKNOWN' } });
    const policy = await h.http('GET', '/api/v1/tripwire/policies/GW-deal_rate', { key: h.keys.viewer });
    expect(policy.body.engines.map((e: { engineId: string }) => e.engineId)).toEqual(['gw-bot']);
  });

  it('should let an admin disable a policy (it then trips nothing) and an operator enable it again', async () => {
    expect(
      (
        await h.http('POST', '/api/v1/tripwire/policies/GW-deal_rate/disable', {
          key: h.keys.operator,
          body: { reason: 'migration' },
        })
      ).status,
    ).toBe(403);
    const disabled = await h.http('POST', '/api/v1/tripwire/policies/GW-deal_rate/disable', {
      key: h.keys.admin,
      body: { reason: 'migration' },
    });
    expect(disabled).toMatchObject({ status: 200, body: { enabled: false } });
    const enabled = await h.http('POST', '/api/v1/tripwire/policies/GW-deal_rate/enable', {
      key: h.keys.operator,
      body: { reason: 'done' },
    });
    expect(enabled).toMatchObject({ status: 200, body: { enabled: true } });
  });

  it("should attribute a trip an operator's evaluate causes to that operator", async () => {
    await h.http('POST', '/api/v1/tripwire/policies/GW-deal_rate/disable', {
      key: h.keys.admin,
      body: { reason: 'backfill' },
    });
    await kpis(40, true);
    await kpis(10, false);
    await waitFor(async () => (await engineView()).body.observed === 50, { what: '50 KPIs of gw-bot' });
    await h.http('POST', '/api/v1/tripwire/policies/GW-deal_rate/enable', {
      key: h.keys.admin,
      body: { reason: 'backfill done' },
    });

    const evaluated = await h.http('POST', '/api/v1/tripwire/evaluate', {
      key: h.keys.operator,
      body: { policyId: 'GW-deal_rate' },
    });

    expect(evaluated).toMatchObject({ status: 200, body: { evaluations: [{ result: 'TRIPPED' }] } });
    const { events } = await h.probe.eventStore.read(
      h.ns.naming.eventSubject('tripwire', 'policy', 'GW-deal_rate'),
    );
    // The first trip came from a KPI (the tripwire's own), this one from the operator's call.
    expect(
      events.filter((e) => e.envelope.type === 'tripwire.TripwireTriggered').map((e) => e.envelope.actor),
    ).toEqual([
      { kind: 'system', id: 'tripwire' },
      { kind: 'operator', id: h.keyIds.operator },
    ]);
  });
});
