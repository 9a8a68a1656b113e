import type { Messaging } from '@bifrost/messaging';
import { createClient, type BifrostClient, type CheckVerdict, type EvaluationResult } from '@bifrost/sdk';
import { waitFor } from '@bifrost/testing';
import {
  auditRows as auditRowsOf,
  createKey as createGatewayKey,
  request,
  type Key,
  type Reply,
  type RequestOptions,
} from './gateway.http';
import { connectProbe, STACK_SERVICES, startStack, stopCleanly, type Stack } from './stack.harness';

/**
 * End to end: the services built after the core (tripwire, Heimdall, canary, governance
 * agent) acting on the core (gate, risk-guard) through the real processes, the SDK and the gateway.
 * One stack for every scenario (its start is most of the time); each scenario has engine ids of
 * its own and changes no global state, so the order does not matter.
 *
 * Heartbeats: every SDK client here is created with `heartbeatIntervalMs: 0` (no heartbeat at all,
 * not even on connect), except the dead-man scenario's leaving engine. An engine that never sent a heartbeat is
 * not watched by the canary, so the 30 s dead-man switch cannot pause it however long the suite
 * runs; the dead-man scenario checks that for its bystander.
 */
describe('Bifrost platform end to end', () => {
  let stack: Stack;
  let probe: Messaging;
  let admin: Key;
  let viewer: Key;
  const clients: BifrostClient[] = [];

  const api = (method: string, path: string, options: RequestOptions = {}) =>
    request(stack.gatewayUrl, method, path, options);
  const createKey = (by: Key | string, body: Record<string, unknown>) =>
    createGatewayKey(stack.gatewayUrl, by, body);
  /** An engine key and an SDK client over HTTP with it. */
  const engine = async (engineId: string, heartbeatIntervalMs = 0): Promise<BifrostClient> => {
    const key = await createKey(admin, { name: `${engineId} key`, role: 'engine', engineId });
    const client = createClient({
      gatewayUrl: stack.gatewayUrl,
      apiKey: key.apiKey,
      engineId,
      heartbeatIntervalMs,
    });
    clients.push(client);
    return client;
  };
  const delivered = (client: BifrostClient, what: string) =>
    waitFor(() => client.bufferDepth === 0, { timeoutMs: 30_000, what: `${what} accepted by the gateway` });
  const auditRows = (eventType: string) => auditRowsOf(stack.gatewayUrl, viewer, eventType);
  const ok = (reply: Reply): Reply['body'] => {
    if (reply.status !== 200) throw new Error(`HTTP ${reply.status}: ${JSON.stringify(reply.body)}`);
    return reply.body;
  };

  beforeAll(async () => {
    stack = await startStack('e2e-platform', {
      env: {
        GATEWAY_JWT_SECRET: JWT_SECRET,
        GATEWAY_BOOTSTRAP_OWNER_KEY: OWNER_KEY,
        // The scenarios poll read routes with the viewer key while others run.
        GATEWAY_RATE_LIMIT_VIEWER: '200',
      },
      readyTimeoutMs: 60_000,
    });
    probe = await connectProbe(stack);
    admin = await createKey(OWNER_KEY, { name: 'e2e admin', role: 'admin' });
    viewer = await createKey(admin, { name: 'e2e viewer', role: 'viewer' });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await probe?.drain();
    if (stack) await stopCleanly(stack);
  }, 45_000);

  describe('when an engine’s contract rate regresses (tripwire)', () => {
    it('should throttle its risk policy so that its next reservation is denied THROTTLED, with the trigger listed and audited', async () => {
      // The engine id is the risk policy id the tripwire's THROTTLE names (seeded WHOLESALE policy).
      const bot = await engine(KPI_ENGINE);
      const policy = ok(await api('GET', `/api/v1/tripwire/policies/${KPI_POLICY}`, { key: viewer.apiKey }));
      // Seeded disabled (seed 000: regression policies require an explicit enable): an operator or admin enables it.
      expect(policy).toMatchObject({ enabled: false, action: 'THROTTLE' });
      const enabled = ok(
        await api('POST', `/api/v1/tripwire/policies/${KPI_POLICY}/enable`, {
          key: admin.apiKey,
          body: { reason: 'watch the WHOLESALE contract rate' },
        }),
      );
      expect(enabled).toMatchObject({ policyId: KPI_POLICY, enabled: true });
      const before = await bot.reserve(reservation('before'));
      expect(before).toMatchObject({ failClosed: false, outcome: 'GRANTED' });

      for (let i = 0; i < 500; i++)
        bot.recordKpi({ domain: 'WHOLESALE', metric: 'contract_rate', success: true });
      for (let i = 0; i < 40; i++)
        bot.recordKpi({ domain: 'WHOLESALE', metric: 'contract_rate', success: false });
      await delivered(bot, '540 KPIs');
      expect(bot.droppedCount).toBe(0);

      // Risk-guard reacts to the trigger on its own consumer; its live view says when it has.
      await waitFor(
        async () => {
          const policies = ok(await api('GET', '/api/v1/risk/policies', { key: viewer.apiKey })).policies;
          return policies.find((p: { policyId: string }) => p.policyId === KPI_ENGINE)?.throttled;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'risk-guard throttling WHOLESALE' },
      );
      const after = await bot.reserve(reservation('after'));

      expect(after).toMatchObject({ failClosed: false, outcome: 'DENIED', reason: 'THROTTLED' });
      const trigger = await waitFor(
        async () =>
          ok(await api('GET', `/api/v1/tripwire/triggers?engineId=${KPI_ENGINE}`, { key: viewer.apiKey }))
            .items[0],
        { timeoutMs: 15_000, intervalMs: 250, what: 'the trigger in /tripwire/triggers' },
      );
      // 500 successes then failures: the 31st failure (event 531) is the first drop above 30 %.
      expect(trigger).toMatchObject({ policyId: KPI_POLICY, engineId: KPI_ENGINE, action: 'THROTTLE' });
      expect(JSON.stringify(trigger)).toContain('"to":531');
      const audited = await waitFor(async () => (await auditRows('tripwire.TripwireTriggered'))[0], {
        timeoutMs: 15_000,
        intervalMs: 250,
        what: 'TripwireTriggered in the audit log',
      });
      expect(audited.envelope).toMatchObject({
        type: 'tripwire.TripwireTriggered',
        actor: { kind: 'system', id: 'tripwire' },
        data: { engineId: KPI_ENGINE, policyId: KPI_POLICY, action: 'THROTTLE' },
      });
    }, 90_000);
  });

  describe('when an engine asks Heimdall about an AI recommendation', () => {
    it('should be INCONCLUSIVE without evidence and ELIGIBLE after 50 sandbox successes and an operator’s promotion', async () => {
      const bot = await engine(OFFER_ENGINE);
      const recommendation = { domain: OFFER_DOMAIN, confidence: 0.95 };

      const unproven = await bot.evaluateRecommendation({ ...recommendation, recommendationId: 'offer-1' });
      expect(unproven).toMatchObject({
        failClosed: false,
        outcome: 'INCONCLUSIVE',
        action: 'REQUIRE_APPROVAL',
      });

      for (let i = 1; i <= 50; i++)
        bot.recordSandboxTrial({ domain: OFFER_DOMAIN, trialId: `trial-${i}`, success: true });
      await delivered(bot, '50 sandbox trials');
      await waitFor(
        async () => {
          const domains = ok(await api('GET', '/api/v1/heimdall/policies', { key: viewer.apiKey })).domains;
          return domains.find((d: { domain: string }) => d.domain === OFFER_DOMAIN)?.scorecard?.trials === 50;
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'Heimdall counting 50 trials' },
      );
      const promoted = await api('POST', `/api/v1/heimdall/policies/${OFFER_DOMAIN}/prod-use/enable`, {
        key: admin.apiKey,
        body: { reason: 'e2e: 50 of 50 sandbox trials passed' },
      });
      expect(promoted).toMatchObject({ status: 200, body: { domain: { policy: { prodUseEnabled: true } } } });
      const proven = await bot.evaluateRecommendation({ ...recommendation, recommendationId: 'offer-2' });

      expect(proven).toMatchObject({
        failClosed: false,
        outcome: 'ELIGIBLE',
        eligible: true,
        action: 'ALLOW',
      });
      const listed = await waitFor(
        async () => {
          const items = ok(
            await api('GET', `/api/v1/heimdall/evaluations?engineId=${OFFER_ENGINE}&limit=10`, {
              key: viewer.apiKey,
            }),
          ).items;
          return items.length === 2 ? items : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 250, what: 'both evaluations in /heimdall/evaluations' },
      );
      expect(listed).toEqual([
        expect.objectContaining({ evaluationId: evaluationIdOf(proven), outcome: 'ELIGIBLE' }),
        expect.objectContaining({ evaluationId: evaluationIdOf(unproven), outcome: 'INCONCLUSIVE' }),
      ]);
      const one = await api('GET', `/api/v1/heimdall/evaluations/${evaluationIdOf(proven)}`, {
        key: viewer.apiKey,
      });
      expect(one).toMatchObject({ status: 200, body: { engineId: OFFER_ENGINE, outcome: 'ELIGIBLE' } });
    }, 60_000);
  });

  describe('when engines that sent heartbeats go quiet (canary dead-man switch)', () => {
    it('should have the gate answer PAUSE for the engine that went silent only, not for one that signed off', async () => {
      // The silent engine beats over plain HTTP and then just stops, as a crashed process would.
      const silentKey = await createKey(admin, {
        name: 'silent key',
        role: 'engine',
        engineId: SILENT_ENGINE,
      });
      const beat = () =>
        api('POST', '/api/v1/engine/heartbeat', { key: silentKey.apiKey, body: { engineId: SILENT_ENGINE } });
      expect(await beat()).toMatchObject({ status: 202 });
      const beating = setInterval(() => void beat().catch(() => undefined), 500);
      // The leaving engine stops cleanly: the SDK's close() signs it off.
      const leaving = await engine(LEAVING_ENGINE, 500);
      const bystander = await engine(BYSTANDER_ENGINE);
      const engineView = async (engineId: string) =>
        ok(await api('GET', '/api/v1/canary/status', { key: viewer.apiKey })).engines.find(
          (e: { engineId: string }) => e.engineId === engineId,
        );
      try {
        for (const engineId of [SILENT_ENGINE, LEAVING_ENGINE]) {
          await waitFor(() => engineView(engineId), {
            timeoutMs: 15_000,
            intervalMs: 250,
            what: `the canary watching ${engineId}`,
          });
          expect(
            await api('PUT', `/api/v1/canary/engines/${engineId}/heartbeat-policy`, {
              key: admin.apiKey,
              body: { reason: 'e2e: fast engine, short gap', allowedGapMs: GAP_MS },
            }),
          ).toMatchObject({ status: 200, body: { engineId, allowedGapMs: GAP_MS, status: 'ALIVE' } });
        }
        const policySetAt = Date.now();
        // While they keep heartbeating, more than the gap passes without either going stale or paused.
        const alive = await waitFor(
          async () => {
            const view = await engineView(SILENT_ENGINE);
            return Date.parse(view.lastHeartbeatAt) > policySetAt + GAP_MS ? view : undefined;
          },
          { timeoutMs: GAP_MS + 10_000, intervalMs: 250, what: 'a heartbeat more than the gap later' },
        );
        expect(alive).toMatchObject({ status: 'ALIVE', staleSince: null });
        expect(await engineView(LEAVING_ENGINE)).toMatchObject({ status: 'ALIVE' });
        expect(pauseOf(await leaving.check(GATE_CHECK))).toBe('ALLOW');
      } finally {
        clearInterval(beating);
      }

      await leaving.close();
      await waitFor(async () => (await engineView(LEAVING_ENGINE)).status === 'OFFLINE', {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: 'the leaving engine signed off',
      });
      const checker = await engine(SILENT_ENGINE);
      const paused = await waitFor(
        async () => {
          const verdict = await checker.check(GATE_CHECK);
          return verdict.action === 'PAUSE' ? verdict : undefined;
        },
        { timeoutMs: GAP_MS + 15_000, intervalMs: 250, what: 'the gate pausing the silent engine' },
      );

      expect(paused).toMatchObject({ failClosed: false, action: 'PAUSE' });
      expect(pauseOf(paused)).toBe('PAUSE');
      // Silent for longer than its gap too, but signed off: OFFLINE, not paused.
      const left = await engine(LEAVING_ENGINE);
      expect(pauseOf(await left.check(GATE_CHECK))).toBe('ALLOW');
      const other = await bystander.check(GATE_CHECK);
      expect(other).toMatchObject({ failClosed: false });
      expect(other.action).not.toBe('PAUSE');
      expect(pauseOf(other)).toBe('ALLOW');
      const status = ok(await api('GET', '/api/v1/canary/status', { key: viewer.apiKey }));
      expect(status.engines).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ engineId: SILENT_ENGINE, status: 'STALE' }),
          expect.objectContaining({ engineId: LEAVING_ENGINE, status: 'OFFLINE', staleSince: null }),
        ]),
      );
      // heartbeatIntervalMs 0 sends none: the bystander is not watched, so it can never go stale.
      expect(status.engines.map((e: { engineId: string }) => e.engineId)).not.toContain(BYSTANDER_ENGINE);
      // A read model: the projector writes the request a moment after the gate acted on it.
      const requests = await waitFor(
        async () => {
          const { items } = ok(
            await api('GET', `/api/v1/canary/requests?engineId=${SILENT_ENGINE}`, { key: viewer.apiKey }),
          );
          return items.length > 0 ? items : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 250, what: 'the pause request in /canary/requests' },
      );
      expect(requests).toEqual([expect.objectContaining({ engineId: SILENT_ENGINE })]);
      expect(
        ok(await api('GET', `/api/v1/canary/requests?engineId=${LEAVING_ENGINE}`, { key: viewer.apiKey }))
          .items,
      ).toEqual([]);
    }, 60_000);
  });

  describe('when an enrolled engine’s commands start failing (governance circuit breaker)', () => {
    it('should revert it to L3 so that the gate asks for approval of a formerly whitelisted command', async () => {
      const bot = await engine(ROASTER_ENGINE);
      ok(
        await api('POST', '/api/v1/control/execution-classes', {
          key: admin.apiKey,
          body: {
            actionKind: COMMAND_ACTION.kind,
            executionClass: 'SANDBOX_EXEC',
            reason: 'e2e: roaster commands',
          },
        }),
      );
      ok(
        await api('POST', '/api/v1/strategies', {
          key: admin.apiKey,
          body: {
            engineId: ROASTER_ENGINE,
            strategyId: STRATEGY,
            capital: { amount: 1_000_000, currency: 'USD' },
          },
        }),
      );
      ok(
        await api('POST', `/api/v1/strategies/${ROASTER_ENGINE}/${STRATEGY}/maturity`, {
          key: admin.apiKey,
          body: { level: 'L3', reason: 'e2e: proven strategy' },
        }),
      );
      ok(
        await api('POST', `/api/v1/governance/engines/${ROASTER_ENGINE}/enroll`, {
          // Starting above L3 skips the ladder: the owner's call.
          key: OWNER_KEY,
          body: { reason: 'e2e: governed elsewhere before', phase: 'L3+' },
        }),
      );
      const whitelisted = await waitFor(
        async () => {
          const verdict = await bot.check({ strategyId: STRATEGY, action: COMMAND_ACTION });
          return autonomyOf(verdict)?.outcome === 'ALLOW' ? verdict : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 250, what: 'the gate applying phase L3+' },
      );
      expect(whitelisted).toMatchObject({ failClosed: false, action: 'REDUCE_SIZE' });
      expect(autonomyOf(whitelisted)).toMatchObject({ value: true, threshold: 'L3+' });

      // 20 successes then errors: 1/21 is below the 5 % error rate, 2/22 is above it.
      for (let i = 1; i <= 20; i++) bot.recordCommand(command(`ok-${i}`, 'success'));
      for (let i = 1; i <= 2; i++) bot.recordCommand(command(`err-${i}`, 'error'));
      await delivered(bot, '22 command records');
      const state = await waitFor(
        async () => {
          const current = ok(
            await api('GET', `/api/v1/governance/engines/${ROASTER_ENGINE}/state`, { key: viewer.apiKey }),
          );
          return current.phase === 'L3' ? current : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'the breaker reverting the engine to L3' },
      );
      const asked = await waitFor(
        async () => {
          const verdict = await bot.check({ strategyId: STRATEGY, action: COMMAND_ACTION });
          return verdict.action === 'REQUIRE_APPROVAL' ? verdict : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 250, what: 'the gate applying phase L3' },
      );

      expect(state).toMatchObject({ phase: 'L3', whitelist: [] });
      expect(asked).toMatchObject({ failClosed: false, action: 'REQUIRE_APPROVAL' });
      expect(autonomyOf(asked)).toMatchObject({ outcome: 'REQUIRE_APPROVAL', value: false, threshold: 'L3' });
      const events = await waitFor(
        async () => {
          const items = ok(
            await api('GET', `/api/v1/governance/engines/${ROASTER_ENGINE}/circuit-breaker/events`, {
              key: viewer.apiKey,
            }),
          ).items;
          return items.length > 0 ? items : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 250, what: 'the breaker event in the governance read model' },
      );
      expect(events).toEqual([
        expect.objectContaining({ ruleId: 'high-error-rate', action: 'revert_to_l3' }),
      ]);
    }, 60_000);
  });

  describe('the canary’s default probes', () => {
    it('should watch this stack’s services and find every one ready', async () => {
      const watched = STACK_SERVICES.filter((name) => name !== 'canary');
      const probes = await waitFor(
        async () => {
          const all = ok(await api('GET', '/api/v1/canary/status', { key: viewer.apiKey }))
            .probes as ProbeRow[];
          const ready = all.filter((p) => p.probe.name.endsWith('-ready'));
          return ready.length === watched.length && ready.every((p) => p.status === 'UP') ? ready : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: 'every readiness probe UP' },
      );

      expect(Object.fromEntries(probes.map((p) => [p.probe.name, p.probe]))).toEqual(
        Object.fromEntries(
          watched.map((name) => [
            `${name}-ready`,
            expect.objectContaining({
              kind: 'http',
              target: `${stack.services[name].url}/health/ready`,
              action: 'alert_only',
            }),
          ]),
        ),
      );
    }, 45_000);
  });

  describe('the go-live checklist', () => {
    it('should hold the projector’s verification of the audit log and the risk policy fact, each from its own service', async () => {
      type ChecklistRow = { item: string; passed: boolean; reportedBy: string; evidence: string | null };
      const checklist = await waitFor(
        async () => {
          const rows = ok(await api('GET', '/api/v1/control', { key: viewer.apiKey }))
            .checklist as ChecklistRow[];
          const items = new Map(rows.map((row) => [row.item, row]));
          return items.get('auditChainVerified')?.passed && items.get('riskPoliciesPresent')?.passed
            ? items
            : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: 'auditChainVerified and riskPoliciesPresent passed' },
      );

      expect(checklist.get('auditChainVerified')).toMatchObject({
        reportedBy: 'projector',
        evidence: expect.stringMatching(/^audit log intact: \d+ rows through seq \d+, head [0-9a-f]{64}$/),
      });
      expect(checklist.get('riskPoliciesPresent')).toMatchObject({ reportedBy: 'risk-guard' });
    }, 45_000);
  });

  // Last: every scenario above sent only valid facts, so nothing may have been parked.
  describe('after every scenario', () => {
    it('should have parked nothing on the dead-letter queue', async () => {
      const dlq = await probe.jsm.streams.info(stack.ns.naming.streams.dlq.name, { subjects_filter: '>' });

      expect({ messages: dlq.state.messages, subjects: dlq.state.subjects ?? {} }).toEqual({
        messages: 0,
        subjects: {},
      });
    }, 15_000);
  });
});

const OWNER_KEY = 'e2e-platform-owner-key-0123456789abcdef';
const JWT_SECRET = 'e2e-platform-jwt-secret-at-least-32-characters';
const KPI_ENGINE = 'WHOLESALE';
const KPI_POLICY = 'WHOLESALE-contract_rate';
const OFFER_ENGINE = 'offer-bot';
const OFFER_DOMAIN = 'WHOLESALE_OFFER';
const SILENT_ENGINE = 'silent-bot';
const BYSTANDER_ENGINE = 'bystander-bot';
const LEAVING_ENGINE = 'leaving-bot';
const ROASTER_ENGINE = 'roaster-1';
const STRATEGY = 'main';
const GAP_MS = 6_000;
const GATE_CHECK = { strategyId: STRATEGY, action: { kind: 'order.place', intent: 'open' } } as const;
const COMMAND_ACTION = { kind: 'roaster.command', intent: 'open', commandType: 'SET_FAN' } as const;

interface ProbeRow {
  readonly probe: { readonly name: string };
  readonly status: string;
}

function reservation(key: string) {
  return {
    idempotencyKey: `e2e-${key}`,
    maxLoss: { amount: 1_000, currency: 'USD' },
    exposure: { amount: 10_000, currency: 'USD' },
  };
}

function command(commandId: string, outcome: 'success' | 'error') {
  return { commandId, commandType: 'SET_POWER', outcome, requiredApproval: false };
}

function pauseOf(verdict: CheckVerdict): unknown {
  return verdict.checks.find((c) => c.name === 'enginePause')?.outcome;
}

function autonomyOf(verdict: CheckVerdict) {
  return verdict.checks.find((c) => c.name === 'autonomyPhase');
}

function evaluationIdOf(result: EvaluationResult): string {
  if (result.failClosed) throw new Error(`failed closed: ${result.code}`);
  return result.evaluationId;
}
