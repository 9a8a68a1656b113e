import type { EvaluateRecommendationReply } from '@bifrost/contracts';
import { createEnvelope, type Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, waitFor, type TestNamespace, withinOneUtcDay } from '@bifrost/testing';
import {
  command,
  connectClient,
  deadLetters,
  domain,
  domains,
  evaluate,
  evaluationRecords,
  OPERATOR,
  publishTrial,
  publishTrials,
  startHeimdall,
  waitForTrials,
} from './heimdall.fixtures';

const ENGINE = 'offer-bot';
const OFFER = 'WHOLESALE_OFFER';

describe('heimdall', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let heimdall: RunningService;
  const replies: EvaluateRecommendationReply[] = [];
  const ask = async (confidence: number, extra: Record<string, unknown> = {}) => {
    const reply = await evaluate(client, { engineId: ENGINE, domain: OFFER, confidence, ...extra });
    replies.push(reply);
    return reply;
  };
  const outcomes = (reply: EvaluateRecommendationReply) => reply.gates.map((g) => `${g.name}:${g.result}`);

  beforeAll(async () => {
    ns = await createTestNamespace('heimdall');
    client = await connectClient(ns);
    heimdall = await startHeimdall(ns);
  });
  afterAll(async () => {
    await heimdall.close();
    await client.drain();
    await ns.cleanup();
  });

  describe('Given its first start', () => {
    it('should seed the four domains of seed 000 with prod use disabled', async () => {
      const seeded = Object.fromEntries((await domains(client)).map((d) => [d.domain, d.policy]));
      expect(seeded).toEqual({
        BUYER_MATCH: expect.objectContaining({ minConfidence: 0.9, prodUseEnabled: false }),
        CAPITAL_ROUTE: expect.objectContaining({ minConfidence: 0.95, prodUseEnabled: false }),
        FOLLOWUP: expect.objectContaining({ minConfidence: 0.9, prodUseEnabled: false }),
        WHOLESALE_OFFER: expect.objectContaining({
          minConfidence: 0.92,
          minSandboxTrials: 50,
          minSandboxSuccessRate: 0.8,
          prodUseEnabled: false,
        }),
      });
    });

    it('should be ready and serve its metrics', async () => {
      const ready = await fetch(`${heimdall.url}/health/ready`);
      expect(await ready.json()).toMatchObject({ status: 'ok', checks: { 'heimdall-state': { ok: true } } });
      const metrics = await (await fetch(`${heimdall.url}/metrics`)).text();
      expect(metrics).toContain(
        'bifrost_heimdall_prod_use_enabled{domain="WHOLESALE_OFFER",service="heimdall"} 0',
      );
    });
  });

  describe('Given sandbox trials flowing in for WHOLESALE_OFFER', () => {
    it('should go from INCONCLUSIVE to ELIGIBLE only with 50 trials and an operator promotion', async () => {
      // No evidence yet: above the confidence bar a human decides, below it the answer is no.
      const early = await ask(0.95);
      expect(early).toMatchObject({ outcome: 'INCONCLUSIVE', eligible: false, action: 'REQUIRE_APPROVAL' });
      expect(outcomes(early)).toEqual([
        'heimdall.policy:PASS',
        'heimdall.confidence:PASS',
        'heimdall.sandboxTrials:PENDING',
        'heimdall.sandboxSuccessRate:PENDING',
        'heimdall.prodUse:PENDING',
      ]);
      expect((await ask(0.91)).outcome).toBe('NOT_ELIGIBLE');

      const refused = await command(client, 'cmd.enable-prod-use', { domain: OFFER });
      expect(refused.events.map((e) => e.type)).toEqual(['ProdUseRefused']);
      expect(refused.domain.policy?.prodUseEnabled).toBe(false);

      await publishTrials(client, ns, { engineId: ENGINE, domain: OFFER, prefix: 'a' }, 49, 40);
      const at49 = await waitForTrials(client, OFFER, 49);
      expect(at49.scorecard).toEqual({ trials: 49, successes: 40, successRate: 40 / 49 });
      expect(at49.days).toEqual([
        { day: new Date().toISOString().slice(0, 10), trials: 49, successes: 40, successRate: 40 / 49 },
      ]);
      expect((await ask(0.95)).outcome).toBe('INCONCLUSIVE');
      expect((await command(client, 'cmd.enable-prod-use', { domain: OFFER })).events[0]?.type).toBe(
        'ProdUseRefused',
      );

      // The 50th trial, a failure: 40/50 = exactly the 80 % bar.
      await publishTrial(client, ns, { engineId: ENGINE, domain: OFFER, trialId: 'a-49', success: false });
      await waitForTrials(client, OFFER, 50);
      const unpromoted = await ask(0.95);
      expect(unpromoted.outcome).toBe('NOT_ELIGIBLE');
      expect(unpromoted.gates.find((g) => g.name === 'heimdall.prodUse')).toMatchObject({ result: 'FAIL' });

      const promoted = await command(client, 'cmd.enable-prod-use', { domain: OFFER });
      expect(promoted.events).toEqual([
        {
          type: 'ProdUseEnabled',
          data: expect.objectContaining({
            domain: OFFER,
            scorecard: { trials: 50, successes: 40, successRate: 0.8 },
            actor: OPERATOR,
          }),
        },
      ]);

      const eligible = await ask(0.92, { recommendationId: 'offer-77', requestId: 'req-77' });
      expect(eligible).toMatchObject({
        outcome: 'ELIGIBLE',
        eligible: true,
        action: 'ALLOW',
        riskLevel: 'MEDIUM',
        recommendationId: 'offer-77',
        scorecard: { trials: 50, successes: 40, successRate: 0.8 },
      });
      expect(eligible.gates).toContainEqual(
        expect.objectContaining({
          name: 'heimdall.confidence',
          value: 0.92,
          threshold: 0.92,
          distanceToTrip: 0,
        }),
      );
      expect(eligible.policyRevision).toMatch(/^[0-9a-f]{64}$/);
      expect(eligible.policyRevision).not.toBe(unpromoted.policyRevision);
    });

    it('should count a trial id once however often it is reported', async () => {
      const before = (await domain(client, 'FOLLOWUP'))?.scorecard.trials ?? 0;
      await publishTrial(client, ns, { engineId: ENGINE, domain: 'FOLLOWUP', trialId: 'dup', success: true });
      await publishTrial(client, ns, {
        engineId: ENGINE,
        domain: 'FOLLOWUP',
        trialId: 'dup',
        success: false,
      });
      await publishTrial(client, ns, {
        engineId: ENGINE,
        domain: 'FOLLOWUP',
        trialId: 'next',
        success: false,
      });
      const view = await waitForTrials(client, 'FOLLOWUP', before + 2);
      expect(view.scorecard).toMatchObject({ trials: before + 2, successes: 1 });
    });

    it('should keep the confidence and detail the engine reported in the trial event', async () => {
      await publishTrial(client, ns, {
        engineId: ENGINE,
        domain: 'FOLLOWUP',
        trialId: 'noted',
        success: false,
        confidence: 0.42,
        detail: 'the buyer declined: price above band',
      });
      const subject = ns.naming.eventSubject('heimdall', 'domain', 'FOLLOWUP');
      const recorded = async () =>
        (await client.eventStore.read(subject)).events
          .map((e) => e.envelope)
          .find((e) => e.type === 'heimdall.SandboxTrialRecorded' && e.data['trialId'] === 'noted');
      await waitFor(async () => (await recorded()) !== undefined, { what: 'the trial recorded' });
      expect((await recorded())?.data).toMatchObject({
        trialId: 'noted',
        success: false,
        confidence: 0.42,
        detail: 'the buyer declined: price above band',
      });
    });

    it('should put a trial on its own UTC day', async () => {
      await publishTrial(client, ns, {
        engineId: ENGINE,
        domain: 'BUYER_MATCH',
        trialId: 'old',
        success: true,
        occurredAt: '2026-01-02T23:59:59.999Z',
      });
      const view = await waitForTrials(client, 'BUYER_MATCH', 1);
      expect(view.days).toEqual([{ day: '2026-01-02', trials: 1, successes: 1, successRate: 1 }]);
    });

    it('should put a trial from the future on today', async () => {
      await publishTrial(client, ns, {
        engineId: ENGINE,
        domain: 'CAPITAL_ROUTE',
        trialId: 'ahead',
        success: true,
        occurredAt: '9999-12-31T23:59:59.999Z',
      });
      const view = await waitForTrials(client, 'CAPITAL_ROUTE', 1);
      expect(view.days).toEqual([
        { day: new Date().toISOString().slice(0, 10), trials: 1, successes: 1, successRate: 1 },
      ]);
    });

    it('should change thresholds without touching prod use (disabling a disabled domain is a no-op)', async () => {
      const disabled = await command(client, 'cmd.disable-prod-use', { domain: 'CAPITAL_ROUTE' });
      expect(disabled.events).toEqual([]);
      const raised = await command(client, 'cmd.upsert-policy', {
        domain: 'CAPITAL_ROUTE',
        minConfidence: 0.97,
        minSandboxTrials: 10,
        minSandboxSuccessRate: 0.9,
      });
      expect(raised.events.map((e) => e.type)).toEqual(['PolicyDefined']);
      expect(raised.domain.policy).toMatchObject({
        minConfidence: 0.97,
        minSandboxTrials: 10,
        prodUseEnabled: false,
      });
    });
  });

  describe('Given a promoted domain', () => {
    const LISTING = 'LISTING_PRICE';
    const judge = (confidence: number) =>
      evaluate(client, { engineId: 'listing-bot', domain: LISTING, confidence });
    const gateOf = (reply: EvaluateRecommendationReply, name: string) =>
      reply.gates.find((g) => g.name === name);

    it('should answer NOT_ELIGIBLE at once after an operator raises the bar or disables prod use', async () => {
      await command(client, 'cmd.upsert-policy', {
        domain: LISTING,
        minConfidence: 0.8,
        minSandboxTrials: 2,
        minSandboxSuccessRate: 0.5,
      });
      await publishTrials(client, ns, { engineId: 'listing-bot', domain: LISTING, prefix: 'l' }, 2);
      await waitForTrials(client, LISTING, 2);
      expect((await command(client, 'cmd.enable-prod-use', { domain: LISTING })).events[0]?.type).toBe(
        'ProdUseEnabled',
      );
      expect((await judge(0.85)).outcome).toBe('ELIGIBLE');

      await command(client, 'cmd.upsert-policy', {
        domain: LISTING,
        minConfidence: 0.9,
        minSandboxTrials: 2,
        minSandboxSuccessRate: 0.5,
      });
      const raised = await judge(0.85);
      expect(raised).toMatchObject({ outcome: 'NOT_ELIGIBLE', action: 'BLOCK' });
      expect(gateOf(raised, 'heimdall.confidence')).toMatchObject({ result: 'FAIL', threshold: 0.9 });
      expect(gateOf(raised, 'heimdall.prodUse')).toMatchObject({ result: 'PASS' });

      const disabled = await command(client, 'cmd.disable-prod-use', { domain: LISTING });
      expect(disabled.events.map((e) => e.type)).toEqual(['ProdUseDisabled']);
      const demoted = await judge(0.95);
      expect(demoted).toMatchObject({ outcome: 'NOT_ELIGIBLE', action: 'BLOCK' });
      expect(gateOf(demoted, 'heimdall.confidence')).toMatchObject({ result: 'PASS' });
      expect(gateOf(demoted, 'heimdall.prodUse')).toMatchObject({ result: 'FAIL', value: false });
    });
  });

  describe('Given bad input', () => {
    it('should answer schema violations with error replies', async () => {
      await expect(evaluate(client, { engineId: ENGINE, domain: OFFER })).rejects.toMatchObject({
        code: 'RPC.VALIDATION_FAILED',
      });
      await expect(
        evaluate(client, { engineId: ENGINE, domain: OFFER, confidence: 1.5 }),
      ).rejects.toMatchObject({
        code: 'RPC.VALIDATION_FAILED',
      });
      await expect(
        evaluate(client, { engineId: ENGINE, domain: 'bad.domain', confidence: 0.9 }),
      ).rejects.toMatchObject({ code: 'RPC.VALIDATION_FAILED' });
      await expect(
        command(client, 'cmd.upsert-policy', { domain: OFFER, minConfidence: 2 }),
      ).rejects.toMatchObject({
        code: 'RPC.VALIDATION_FAILED',
      });
    });

    it('should refuse operator commands from anyone but an operator, and unknown domains', async () => {
      await expect(
        command(client, 'cmd.enable-prod-use', { domain: OFFER, actor: { kind: 'engine', id: ENGINE } }),
      ).rejects.toMatchObject({ code: 'HEIMDALL.OPERATOR_ONLY' });
      await expect(command(client, 'cmd.enable-prod-use', { domain: 'NOPE' })).rejects.toMatchObject({
        code: 'HEIMDALL.POLICY_UNKNOWN',
      });
    });

    it('should answer a domain without a policy with NOT_ELIGIBLE (recorded like any evaluation)', async () => {
      const reply = await ask(0.99, { domain: 'UNCHARTED' });
      expect(reply).toMatchObject({ outcome: 'NOT_ELIGIBLE', action: 'BLOCK', policyRevision: null });
      expect(reply.gates[0]).toMatchObject({ name: 'heimdall.policy', result: 'FAIL' });
    });

    it('should park malformed, invalid and foreign-engine trials on the DLQ and keep consuming', async () => {
      const subject = ns.naming.ingestSubject('sandbox', 'bad-1');
      await client.js.publish(subject, new TextEncoder().encode('{"not":"an envelope"'));
      await client.js.publish(
        subject,
        new TextEncoder().encode(
          JSON.stringify({
            id: '0190a0a0-0000-7000-8000-0000000000a1',
            type: 'ingest.SandboxTrialReported',
            version: 1,
            occurredAt: new Date().toISOString(),
            source: 'engine',
            subject,
            actor: { kind: 'engine', id: 'bad-1' },
            data: { engineId: 'bad-1', domain: 'FOLLOWUP', trialId: 't', success: 'yes' },
          }),
        ),
      );
      await client.publisher.publish(
        createEnvelope({
          type: 'ingest.SandboxTrialReported',
          subject,
          source: 'engine',
          actor: { kind: 'engine', id: 'someone-else' },
          data: { engineId: 'bad-1', domain: 'FOLLOWUP', trialId: 'foreign', success: true },
        }),
      );
      const before = (await domain(client, 'FOLLOWUP'))?.scorecard.trials ?? 0;
      await publishTrial(client, ns, {
        engineId: 'bad-1',
        domain: 'FOLLOWUP',
        trialId: 'good',
        success: true,
      });

      const letters = await waitFor(
        async () => {
          const all = await deadLetters(client, ns);
          return all.length >= 3 && all;
        },
        { what: 'three dead letters' },
      );
      expect(letters.map((l) => l.error.code)).toEqual([
        'PAYLOAD.MALFORMED',
        'ENVELOPE.INVALID_DATA',
        'INGEST.FOREIGN_ENGINE',
      ]);
      await waitForTrials(client, 'FOLLOWUP', before + 1);
    });

    it('should retry a trial while JetStream refuses its event, never park it, and count it after', async () => {
      const events = ns.naming.streams.events.name;
      const consumer = () =>
        client.jsm.consumers.info(
          ns.naming.streams.ingest.name,
          ns.naming.consumerName('heimdall', 'sandbox-trials'),
        );
      const parkedBefore = (await deadLetters(client, ns)).length;
      const before = (await domain(client, 'FOLLOWUP'))?.scorecard.trials ?? 0;
      const { config } = await client.jsm.streams.info(events);
      await client.jsm.streams.update(events, { ...config, max_msg_size: 64 });
      try {
        const deliveries = (await consumer()).delivered.consumer_seq;
        await publishTrial(client, ns, {
          engineId: ENGINE,
          domain: 'FOLLOWUP',
          trialId: 'refused',
          success: false,
        });
        // Five deliveries used to be the limit: the failure was parked and the success rate read too high.
        await waitFor(async () => (await consumer()).delivered.consumer_seq >= deliveries + 6, {
          what: 'a sixth attempt',
          timeoutMs: 20_000,
        });
      } finally {
        await client.jsm.streams.update(events, config);
      }

      const view = await waitForTrials(client, 'FOLLOWUP', before + 1);
      expect(view.scorecard.trials).toBe(before + 1);
      expect(await deadLetters(client, ns)).toHaveLength(parkedBefore);
    }, 30_000);
  });

  describe('Given every evaluation it answered', () => {
    it('should have recorded each one on bifrost.dec.heimdall.<engineId> before replying', async () => {
      // Read at once, no waiting: a reply is sent only after JetStream acknowledged its record.
      const records = await evaluationRecords(client, ns, ENGINE);
      expect(replies).toHaveLength(6);
      expect(records.map((r) => r.id).sort()).toEqual(replies.map((r) => r.evaluationId).sort());
      expect(
        records.map((r) => r.reply).sort((a, b) => a.evaluationId.localeCompare(b.evaluationId)),
      ).toEqual([...replies].sort((a, b) => a.evaluationId.localeCompare(b.evaluationId)));
    });

    it('should count evaluations by outcome and show the success rate per domain', async () => {
      // Domains without a policy are engines' names: their trials are summed under one label.
      await publishTrials(client, ns, { engineId: ENGINE, domain: 'NO_POLICY_7c1', prefix: 'np' }, 3, 2);
      await waitForTrials(client, 'NO_POLICY_7c1', 3);
      const metrics = await (await fetch(`${heimdall.url}/metrics`)).text();
      expect(metrics).toContain(
        'bifrost_heimdall_sandbox_trials{domain="_unknown",result="success",service="heimdall"} 2',
      );
      expect(metrics).not.toContain('NO_POLICY_7c1');
      expect(metrics).toContain(
        'bifrost_heimdall_evaluations_total{outcome="ELIGIBLE",domain="WHOLESALE_OFFER",service="heimdall"} 1',
      );
      expect(metrics).toContain(
        'bifrost_heimdall_evaluations_total{outcome="NOT_ELIGIBLE",domain="_unknown",service="heimdall"} 1',
      );
      expect(metrics).toContain(
        'bifrost_heimdall_sandbox_success_rate{domain="WHOLESALE_OFFER",service="heimdall"} 0.8',
      );
      expect(metrics).toContain(
        'bifrost_heimdall_prod_use_enabled{domain="WHOLESALE_OFFER",service="heimdall"} 1',
      );
    });

    it('should answer no evaluation at all when its record cannot be stored (fail closed)', async () => {
      await client.jsm.streams.delete(ns.naming.streams.decisions.name);
      await expect(
        evaluate(client, { engineId: ENGINE, domain: OFFER, confidence: 0.99 }),
      ).rejects.toMatchObject({
        code: 'HEIMDALL.RECORD_FAILED',
      });
      const metrics = await (await fetch(`${heimdall.url}/metrics`)).text();
      expect(metrics).toContain('bifrost_heimdall_record_failures_total{service="heimdall"} 1');
    });
  });
});
