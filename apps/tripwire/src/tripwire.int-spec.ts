import type {
  DataOf,
  Envelope,
  GateCheckReply,
  ReserveReply,
  RiskPolicy,
  TripwireEvaluation,
  TripwirePolicyView,
  TripwireTriggered,
} from '@bifrost/contracts';
import { createEnvelope, decodeJson, type DeadLetter, type Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, startTestService, waitFor, type TestNamespace } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the reactions are tested against the real gate
import { GateConfig, gateService } from '../../gate/src/gate.service';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the reactions are tested against the real risk-guard
import { ledger, reserve, startRiskGuard, upsertPolicy } from '../../risk-guard/src/risk-guard.fixtures';
import {
  CONTRACT_RATE,
  OPERATOR,
  connectClient,
  enablePolicy,
  policies,
  policy,
  policyEvents,
  publishKpis,
  startTripwire,
  waitForObserved,
} from './tripwire.fixtures';

const WHOLESALE = { engineId: 'WHOLESALE', domain: 'WHOLESALE', metric: 'contract_rate' };

describe('tripwire service', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let gate: RunningService;
  let riskGuard: RunningService;
  let tripwire: RunningService;

  beforeAll(async () => {
    ns = await createTestNamespace('trip');
    client = await connectClient(ns);
    // The reactions follow new tripwire events: the services reacting start first.
    gate = await startTestService(GateConfig, gateService, ns, { LOG_LEVEL: 'error' });
    riskGuard = await startRiskGuard(ns);
    await waitFor(async () => (await ledger(client).catch(() => undefined)) !== undefined, {
      what: 'a risk-guard leader',
    });
    tripwire = await startTripwire(ns);
  });
  afterAll(async () => {
    await tripwire.close();
    await riskGuard.close();
    await gate.close();
    await client.drain();
    await ns.cleanup();
  });

  describe('Given its first start', () => {
    it('should seed the four policies of seed 000, every one disabled until an operator enables it', async () => {
      const seeded = await policies(client);
      expect(seeded.map((p) => [p.policyId, p.enabled, p.action])).toEqual([
        ['BUYER_MATCH-match_success', false, 'THROTTLE'],
        ['CAPITAL-roi_event', false, 'KILL_SWITCH'],
        ['WHOLESALE-contract_rate', false, 'THROTTLE'],
        ['WHOLESALE-offer_accept_rate', false, 'THROTTLE'],
      ]);
      expect(seeded.find((p) => p.policyId === CONTRACT_RATE)).toMatchObject({
        recentWindow: 100,
        baselineWindow: 500,
        maxDropPct: 30,
        minEvents: 50,
        confidence: 0.95,
        engines: [],
      });
    });

    it('should be ready and serve its metrics', async () => {
      const ready = await fetch(`${tripwire.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok', checks: { 'tripwire-state': { ok: true } } });
      const metrics = await (await fetch(`${tripwire.url}/metrics`)).text();
      expect(metrics).toContain(
        'bifrost_tripwire_policy_enabled{policy="CAPITAL-roi_event",action="KILL_SWITCH",service="tripwire"} 0',
      );
      expect(metrics).toContain(
        'bifrost_tripwire_policy_enabled{policy="WHOLESALE-contract_rate",action="THROTTLE",service="tripwire"} 0',
      );
    });
  });

  describe('Given the seeded WHOLESALE offer_accept_rate policy, not enabled, and a regressed engine', () => {
    const OFFERS = { engineId: 'offer-bot', domain: 'WHOLESALE', metric: 'offer_accept_rate' };
    const OFFER_RATE = 'WHOLESALE-offer_accept_rate';

    it('should trip nothing until an operator enables it, then trip on the next KPI', async () => {
      // N 200, M 1000, 25 %: 250 accepted then 60 refused is a 30 % drop (140/200 against 110/110).
      await publishKpis(client, ns, OFFERS, 250, true);
      await publishKpis(client, ns, OFFERS, 60, false);
      const disabled = await waitForObserved(client, OFFER_RATE, 'offer-bot', 310);
      expect(disabled.enabled).toBe(false);
      expect(disabled.engines[0]?.evaluation.result).toBe('TRIPPED');
      expect(disabled.engines[0]?.triggered).toBeNull();
      expect(await policyEvents(client, ns, OFFER_RATE, 'TripwireTriggered')).toHaveLength(0);

      const enabled = await enablePolicy(client, OFFER_RATE, 'offers are live');
      expect(enabled.enabled).toBe(true);
      await publishKpis(client, ns, OFFERS, 1, false);
      await waitForObserved(client, OFFER_RATE, 'offer-bot', 311);
      const triggers = await policyEvents(client, ns, OFFER_RATE, 'TripwireTriggered');
      expect(triggers.map((t) => t.envelope.data)).toEqual([
        expect.objectContaining({
          engineId: 'offer-bot',
          action: 'THROTTLE',
          evidence: expect.objectContaining({
            baseline: { from: 1, to: 111, count: 111, successes: 111, rate: 1 },
            recent: { from: 112, to: 311, count: 200, successes: 139, rate: 0.695 },
          }),
        }),
      ]);
    });
  });

  describe('Given 500 successes then a run of failures of WHOLESALE contract_rate', () => {
    let trigger: TripwireTriggeredEnvelope;

    beforeAll(async () => {
      expect((await enablePolicy(client, CONTRACT_RATE, 'contracts are live')).enabled).toBe(true);
      await publishKpis(client, ns, WHOLESALE, 500, true);
      await publishKpis(client, ns, WHOLESALE, 35, false);
      await waitForObserved(client, CONTRACT_RATE, 'WHOLESALE', 535);
      const triggers = await policyEvents(client, ns, CONTRACT_RATE, 'TripwireTriggered');
      expect(triggers).toHaveLength(1);
      trigger = triggers[0]?.envelope as unknown as TripwireTriggeredEnvelope;
    });

    it('should trip THROTTLE once, on the 31st failure, with the evidence', () => {
      expect(trigger.actor).toEqual({ kind: 'system', id: 'tripwire' });
      expect(trigger.data).toMatchObject({
        policyId: CONTRACT_RATE,
        engineId: 'WHOLESALE',
        action: 'THROTTLE',
        domain: 'WHOLESALE',
        metric: 'contract_rate',
        evidence: {
          baseline: { from: 1, to: 431, count: 431, successes: 431, rate: 1 },
          recent: { from: 432, to: 531, count: 100, successes: 69, rate: 0.69 },
          dropPct: 31,
          maxDropPct: 30,
          confidence: 0.95,
          minEvents: 50,
        },
      });
      expect(trigger.data.evidence?.pValue).toBeLessThan(0.05);
      expect(trigger.causationId).toBeDefined();
    });

    it('should make risk-guard deny the next WHOLESALE reservation with THROTTLED, the trigger as cause', async () => {
      const throttled = await waitFor(
        async () => {
          const { policies: risk } = await client.rpc.call<{ policies: RiskPolicy[] }>(
            'bifrost.rpc.risk.policies',
            {},
          );
          return risk.find((p) => p.policyId === 'WHOLESALE' && p.throttled);
        },
        { what: 'the WHOLESALE throttle' },
      );
      expect(throttled.throttled?.cause).toMatchObject({ kind: 'tripwire', id: trigger.id });
      await expect(reserve(client, 'WHOLESALE', 'after-trip', 100)).resolves.toMatchObject<
        Partial<ReserveReply>
      >({ outcome: 'DENIED', reason: 'THROTTLED' });
    });

    it('should show the engine tripped in its view and metrics', async () => {
      const view = await policy(client, CONTRACT_RATE);
      expect(view.engines).toEqual([
        expect.objectContaining({
          engineId: 'WHOLESALE',
          observed: 535,
          triggered: { at: trigger.data.triggeredAt, action: 'THROTTLE' },
        }),
      ]);
      const metrics = await (await fetch(`${tripwire.url}/metrics`)).text();
      expect(metrics).toContain(
        'bifrost_tripwire_triggered{policy="WHOLESALE-contract_rate",engine="WHOLESALE",action="THROTTLE",service="tripwire"} 1',
      );
      expect(metrics).toContain(
        'bifrost_tripwire_evaluation{policy="WHOLESALE-contract_rate",engine="WHOLESALE",result="TRIPPED",service="tripwire"} 1',
      );
      expect(metrics).toContain(
        'bifrost_tripwire_drop_pct{policy="WHOLESALE-contract_rate",engine="WHOLESALE",service="tripwire"} 35',
      );
      // Every KPI handled: the KPI consumer has nothing left waiting.
      expect(metrics).toMatch(
        /^bifrost_consumer_pending_messages\{consumer="[^"]*tripwire__kpis",service="tripwire"\} 0$/m,
      );
    });

    it('should re-baseline on reset: windows start empty and the regressed period does not trip again', async () => {
      const view = await client.rpc.call<TripwirePolicyView>('bifrost.rpc.tripwire.cmd.reset', {
        actor: OPERATOR,
        reason: 'fixed the contract flow',
        policyId: CONTRACT_RATE,
        engineId: 'WHOLESALE',
      });
      expect(view.engines).toEqual([
        expect.objectContaining({ engineId: 'WHOLESALE', observed: 0, triggered: null }),
      ]);
      const [reset] = await policyEvents(client, ns, CONTRACT_RATE, 'TripwireReset');
      expect(reset?.envelope).toMatchObject({
        actor: OPERATOR,
        data: { engineId: 'WHOLESALE', wasTriggered: true, reason: 'fixed the contract flow' },
      });

      // 160 more failures: the recent window (100) fills first, the baseline holds only the 0 % period.
      await publishKpis(client, ns, WHOLESALE, 160, false);
      const after = await waitForObserved(client, CONTRACT_RATE, 'WHOLESALE', 160);
      expect(after.engines[0]?.evaluation).toMatchObject<Partial<TripwireEvaluation>>({ result: 'NO_DROP' });
      expect(after.engines[0]?.evaluation.evidence.baseline).toMatchObject({ from: 1, to: 60, rate: 0 });
      expect(await policyEvents(client, ns, CONTRACT_RATE, 'TripwireTriggered')).toHaveLength(1);
    });

    it('should refuse to reset an engine the policy never saw, recording nothing', async () => {
      await expect(
        client.rpc.call('bifrost.rpc.tripwire.cmd.reset', {
          actor: OPERATOR,
          reason: 'typo',
          policyId: CONTRACT_RATE,
          engineId: 'WHOLESAL',
        }),
      ).rejects.toMatchObject({
        code: 'TRIPWIRE.ENGINE_UNKNOWN',
        details: { policyId: CONTRACT_RATE, engineId: 'WHOLESAL' },
      });
      expect(await policyEvents(client, ns, CONTRACT_RATE, 'TripwireReset')).toHaveLength(1);
    });

    it.each([
      ['reset', { reason: 'let me go', policyId: CONTRACT_RATE, engineId: 'WHOLESALE' }],
      ['disable-policy', { reason: 'let me go', policyId: CONTRACT_RATE }],
      ['enable-policy', { reason: 'let me go', policyId: CONTRACT_RATE }],
      ['evaluate', { policyId: CONTRACT_RATE }],
      [
        'upsert-policy',
        {
          reason: 'let me go',
          domain: 'WHOLESALE',
          metric: 'contract_rate',
          recentWindow: 1,
          baselineWindow: 1,
          maxDropPct: 99,
          minEvents: 1,
          action: 'THROTTLE',
        },
      ],
    ])(
      'should refuse cmd.%s from an engine, even one naming itself, recording nothing',
      async (command, body) => {
        const before = (await policyEvents(client, ns, CONTRACT_RATE)).length;

        await expect(
          client.rpc.call(`bifrost.rpc.tripwire.cmd.${command}`, {
            actor: { kind: 'engine', id: 'WHOLESALE' },
            ...body,
          }),
        ).rejects.toMatchObject({ code: 'TRIPWIRE.OPERATOR_ONLY' });
        expect(await policyEvents(client, ns, CONTRACT_RATE)).toHaveLength(before);
      },
    );
  });

  describe('Given a disabled KILL_SWITCH policy and a regressed engine', () => {
    const CAPITAL = { engineId: 'cap-1', domain: 'CAPITAL', metric: 'roi_event' };
    const check = (engineId: string) =>
      client.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', {
        engineId,
        strategyId: 's1',
        action: { kind: 'order.place', intent: 'open' },
      });

    it('should trip nothing while disabled, then KILL every engine at the gate on enable + evaluate now (the seed kills globally)', async () => {
      await publishKpis(client, ns, CAPITAL, 250, true);
      await publishKpis(client, ns, CAPITAL, 50, false);
      const disabled = await waitForObserved(client, 'CAPITAL-roi_event', 'cap-1', 300);
      expect(disabled.enabled).toBe(false);
      expect(disabled.engines[0]?.evaluation.result).toBe('TRIPPED');
      expect(disabled.engines[0]?.triggered).toBeNull();
      expect(await policyEvents(client, ns, 'CAPITAL-roi_event', 'TripwireTriggered')).toHaveLength(0);
      expect((await check('cap-1')).action).not.toBe('KILL');

      await client.rpc.call('bifrost.rpc.tripwire.cmd.enable-policy', {
        actor: OPERATOR,
        reason: 'capital is live',
        policyId: 'CAPITAL-roi_event',
      });
      const { evaluations } = await client.rpc.call<{ evaluations: TripwireEvaluation[] }>(
        'bifrost.rpc.tripwire.cmd.evaluate',
        { actor: OPERATOR, policyId: 'CAPITAL-roi_event' },
      );
      expect(evaluations).toEqual([
        expect.objectContaining({ policyId: 'CAPITAL-roi_event', engineId: 'cap-1', result: 'TRIPPED' }),
      ]);
      const [trigger] = await policyEvents(client, ns, 'CAPITAL-roi_event', 'TripwireTriggered');
      expect(trigger?.envelope.data).toMatchObject({
        engineId: 'cap-1',
        action: 'KILL_SWITCH',
        killScope: 'global',
      });
      // The operator's call tripped it: the operator is its actor (DESIGN §7), there is no causing message.
      expect(trigger?.envelope.actor).toEqual(OPERATOR);
      expect(trigger?.envelope.causationId).toBeUndefined();

      await waitFor(async () => (await check('cap-1')).action === 'KILL', { what: 'KILL for cap-1' });
      const { events } = await client.eventStore.read(ns.naming.eventSubject('gate', 'control', 'global'));
      // Seed 000: "auto-KILL_SWITCH (engage global kill)": the global switch, not the engine's.
      const engaged = events.find(
        (e) => e.envelope.type === 'gate.KillSwitchEngaged' && e.envelope.data['engineId'] === undefined,
      );
      expect(engaged?.envelope.causationId).toBe(trigger?.envelope.id);
      expect(engaged?.envelope.actor).toEqual(OPERATOR);
      expect(engaged?.envelope.data).toMatchObject({
        mode: 'hard',
        actor: OPERATOR,
        cause: trigger?.envelope.id,
      });
      expect((await check('cap-2')).action).toBe('KILL');
      await client.rpc.call('bifrost.rpc.gate.cmd.kill-switch.release', {
        actor: OPERATOR,
        reason: 'capital reviewed',
      });
    });
  });

  describe('Given a disabled THROTTLE policy, a regressed engine with a risk policy, and an operator', () => {
    const OPS = { engineId: 'ops-bot', domain: 'OPS', metric: 'fill_rate' };

    it('should attribute the trip of an evaluate to the operator, risk-guard throttling with the trigger as cause', async () => {
      await client.rpc.call('bifrost.rpc.tripwire.cmd.upsert-policy', {
        actor: OPERATOR,
        reason: 'fills',
        domain: 'OPS',
        metric: 'fill_rate',
        recentWindow: 20,
        baselineWindow: 80,
        maxDropPct: 30,
        minEvents: 20,
        action: 'THROTTLE',
      });
      await upsertPolicy(client, 'ops-bot', 10_000, 100_000, 100);
      await publishKpis(client, ns, OPS, 80, true);
      await publishKpis(client, ns, OPS, 20, false);
      await waitForObserved(client, 'OPS-fill_rate', 'ops-bot', 100);
      await enablePolicy(client, 'OPS-fill_rate', 'fills are live');

      const { evaluations } = await client.rpc.call<{ evaluations: TripwireEvaluation[] }>(
        'bifrost.rpc.tripwire.cmd.evaluate',
        { actor: OPERATOR, policyId: 'OPS-fill_rate' },
      );

      expect(evaluations).toEqual([expect.objectContaining({ engineId: 'ops-bot', result: 'TRIPPED' })]);
      const [trigger] = await policyEvents(client, ns, 'OPS-fill_rate', 'TripwireTriggered');
      expect(trigger?.envelope).toMatchObject({
        actor: OPERATOR,
        data: { engineId: 'ops-bot', action: 'THROTTLE' },
      });
      const throttled = await waitFor(
        async () => {
          const { policies: risk } = await client.rpc.call<{ policies: RiskPolicy[] }>(
            'bifrost.rpc.risk.policies',
            {},
          );
          return risk.find((p) => p.policyId === 'ops-bot' && p.throttled);
        },
        { what: 'the ops-bot throttle' },
      );
      expect(throttled.throttled?.cause).toMatchObject({ kind: 'tripwire', id: trigger?.envelope.id });
      // The throttle is the operator's too: the trigger's actor carries over, as the gate's kill switch does.
      const { events } = await client.eventStore.read(ns.naming.eventSubject('risk', 'policy', 'ops-bot'));
      const policyThrottled = events.find((e) => e.envelope.type === 'risk.PolicyThrottled');
      expect(policyThrottled?.envelope.actor).toEqual(OPERATOR);
    });
  });

  describe('Given an operator changing a policy', () => {
    it('should upsert it, keep its enabled flag, and refuse an unknown policy with a stable code', async () => {
      await enablePolicy(client, 'BUYER_MATCH-match_success');
      const view = await client.rpc.call<TripwirePolicyView>('bifrost.rpc.tripwire.cmd.upsert-policy', {
        actor: OPERATOR,
        reason: 'tighter',
        domain: 'BUYER_MATCH',
        metric: 'match_success',
        recentWindow: 150,
        baselineWindow: 900,
        maxDropPct: 15,
        minEvents: 80,
        action: 'THROTTLE',
      });
      expect(view).toMatchObject({ policyId: 'BUYER_MATCH-match_success', recentWindow: 150, enabled: true });
      const [, changed] = await policyEvents(client, ns, 'BUYER_MATCH-match_success', 'PolicyDefined');
      expect(changed?.envelope.data).toMatchObject({ previous: { recentWindow: 200 }, actor: OPERATOR });

      await expect(
        client.rpc.call('bifrost.rpc.tripwire.cmd.disable-policy', {
          actor: OPERATOR,
          reason: 'x',
          policyId: 'NOPE-metric',
        }),
      ).rejects.toMatchObject({ code: 'TRIPWIRE.POLICY_UNKNOWN' });
      await expect(
        client.rpc.call('bifrost.rpc.tripwire.cmd.upsert-policy', { actor: OPERATOR, domain: 'X' }),
      ).rejects.toMatchObject({ code: expect.stringMatching(/VALIDATION/) });
    });

    it('should define a new policy disabled unless it says enabled: true', async () => {
      const settings = {
        actor: OPERATOR,
        reason: 'new KPI',
        recentWindow: 20,
        baselineWindow: 80,
        maxDropPct: 30,
        minEvents: 20,
        action: 'THROTTLE',
      };
      const quiet = await client.rpc.call<TripwirePolicyView>('bifrost.rpc.tripwire.cmd.upsert-policy', {
        ...settings,
        domain: 'SUPPORT',
        metric: 'resolve_rate',
      });
      expect(quiet).toMatchObject({ policyId: 'SUPPORT-resolve_rate', enabled: false });
      const [defined] = await policyEvents(client, ns, 'SUPPORT-resolve_rate', 'PolicyDefined');
      expect(defined?.envelope.data).toMatchObject({ policy: { enabled: false }, previous: null });

      const watched = await client.rpc.call<TripwirePolicyView>('bifrost.rpc.tripwire.cmd.upsert-policy', {
        ...settings,
        domain: 'SUPPORT',
        metric: 'reply_rate',
        enabled: true,
      });
      expect(watched).toMatchObject({ policyId: 'SUPPORT-reply_rate', enabled: true });
    });
  });

  describe('Given bad KPI input', () => {
    async function deadLetters(): Promise<DeadLetter[]> {
      const letters: DeadLetter[] = [];
      const stream = ns.naming.streams.dlq.name;
      const info = await client.jsm.streams.info(stream);
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
        const msg = await client.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
        if (msg) letters.push(decodeJson(msg.data) as DeadLetter);
      }
      return letters.filter((l) => l.consumer === 'tripwire__kpis');
    }

    it('should park invalid and foreign-engine KPIs on the DLQ and keep consuming', async () => {
      const subject = ns.naming.ingestSubject('kpi', 'bad-1');
      await client.js.publish(subject, new TextEncoder().encode('{"not":"an envelope"'));
      await client.js.publish(
        subject,
        new TextEncoder().encode(
          JSON.stringify({
            id: '0190a0a0-0000-7000-8000-000000000001',
            type: 'ingest.KpiReported',
            version: 1,
            occurredAt: new Date().toISOString(),
            source: 'engine',
            subject,
            actor: { kind: 'engine', id: 'bad-1' },
            data: { engineId: 'bad-1', domain: 'WHOLESALE', metric: 'contract_rate', success: 'yes' },
          }),
        ),
      );
      await publishKpis(
        client,
        ns,
        { engineId: 'bad-1', domain: 'WHOLESALE', metric: 'contract_rate' },
        1,
        true,
      );
      // An engine may only report its own KPIs.
      await client.publisher.publish(
        createEnvelope({
          type: 'ingest.KpiReported',
          subject: ns.naming.ingestSubject('kpi', 'bad-1'),
          source: 'engine',
          actor: { kind: 'engine', id: 'someone-else' },
          data: { engineId: 'bad-1', domain: 'WHOLESALE', metric: 'contract_rate', success: false },
        }),
      );
      // A KPI of one engine on another's subject: the subject and the data must name the same one.
      await client.publisher.publish(
        createEnvelope({
          type: 'ingest.KpiReported',
          subject: ns.naming.ingestSubject('kpi', 'bad-2'),
          source: 'importer',
          actor: { kind: 'system', id: 'importer' },
          data: { engineId: 'bad-1', domain: 'WHOLESALE', metric: 'contract_rate', success: false },
        }),
      );

      const letters = await waitFor(
        async () => {
          const all = await deadLetters();
          return all.length >= 4 && all;
        },
        { what: 'four dead letters' },
      );
      expect(letters.map((l) => l.error.code)).toEqual([
        'PAYLOAD.MALFORMED',
        'ENVELOPE.INVALID_DATA',
        'INGEST.FOREIGN_ENGINE',
        'INGEST.SUBJECT_MISMATCH',
      ]);
      expect(letters.map((l) => l.deliveryCount)).toEqual([1, 1, 1, 1]);
      // The valid KPI in between was recorded; the foreign one was not.
      const view = await waitForObserved(client, CONTRACT_RATE, 'bad-1', 1);
      expect(view.engines.find((e) => e.engineId === 'bad-1')?.evaluation.evidence.recent).toMatchObject({
        count: 1,
        successes: 1,
      });
      // Counted, and the lag reported after the last of them is 0.
      const metrics = await (await fetch(`${tripwire.url}/metrics`)).text();
      expect(metrics).toMatch(
        /^bifrost_consumer_parked_messages_total\{consumer="[^"]*tripwire__kpis",service="tripwire"\} 4$/m,
      );
      expect(metrics).toMatch(
        /^bifrost_consumer_pending_messages\{consumer="[^"]*tripwire__kpis",service="tripwire"\} 0$/m,
      );
    });

    it('should acknowledge a KPI no policy watches and count it', async () => {
      await publishKpis(client, ns, { engineId: 'e9', domain: 'NOTIFY', metric: 'open_rate' }, 1, true);
      await waitFor(
        async () =>
          (await (await fetch(`${tripwire.url}/metrics`)).text()).includes(
            'bifrost_tripwire_kpis_total{outcome="no_policy",service="tripwire"} 1',
          ),
        { what: 'the no_policy count' },
      );
      expect((await policies(client)).map((p) => p.policyId)).not.toContain('NOTIFY-open_rate');
    });
  });
});

type TripwireTriggeredEnvelope = Envelope<DataOf<typeof TripwireTriggered>>;
