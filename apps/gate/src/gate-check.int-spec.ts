import type {
  GateApprovalReply,
  GateApprovalRequest,
  GateCheckReply,
  GateCheckRequest,
} from '@bifrost/contracts';
import { KeyedMutex, Messaging, createEnvelope, decodeEnvelope } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, startTestService, waitFor, type TestNamespace } from '@bifrost/testing';
import { publishOutcome } from './gate.fixtures';
import { GateConfig, gateService } from './gate.service';

const operator = { kind: 'operator' as const, id: 'alice' };
type CheckInput = Partial<GateCheckRequest> & Pick<GateCheckRequest, 'engineId'>;
/** A check of strategy s1 placing an order unless the request says otherwise. */
const checkOn = (on: Messaging, request: CheckInput) =>
  on.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', {
    strategyId: 's1',
    action: { kind: 'order.place', intent: 'open' },
    ...request,
  });
const probeOn = (space: TestNamespace) =>
  Messaging.connect({ url: space.natsUrl, service: 'probe', instanceId: 'p', namespace: space.namespace });

describe('gate service: checks over NATS', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let gate: RunningService;

  const start = (): Promise<RunningService> => startTestService(GateConfig, gateService, ns);

  const check = (request: CheckInput) => checkOn(client, request);
  /** A check's reply (a verdict or an error) and how long the client waited for it. */
  const timedCheck = async (request: CheckInput, timeoutMs = 10_000) => {
    const started = Date.now();
    const reply = await client.rpc.request<GateCheckReply>(
      'bifrost.rpc.gate.check',
      { strategyId: 's1', action: { kind: 'order.place', intent: 'open' }, ...request },
      { timeoutMs },
    );
    return { reply, waited: Date.now() - started };
  };
  // The verdict's approvalId is optional in its type; a missing one is the gate's to refuse.
  const approval = (request: Omit<GateApprovalRequest, 'approvalId'> & { approvalId?: string }) =>
    client.rpc.call<GateApprovalReply>('bifrost.rpc.gate.approval', request);
  const command = (name: string, body: Record<string, unknown>) =>
    client.rpc.call<{ events: { type: string }[] }>(`bifrost.rpc.gate.cmd.${name}`, {
      actor: operator,
      ...body,
    });
  /** Classes `order.place` SANDBOX_EXEC, so that go-live being off blocks nothing. */
  const inSandbox = () =>
    command('execution-class', { actionKind: 'order.place', executionClass: 'SANDBOX_EXEC', reason: 'test' });
  /** Registers the strategy and sets its level: the way an operator onboards a seasoned strategy. */
  const onboard = async (engineId: string, strategyId: string, level: string) => {
    await command('strategy.register', { engineId, strategyId });
    await command('strategy.override-maturity', {
      engineId,
      strategyId,
      level,
      reason: 'seasoned elsewhere',
    });
  };

  /** The engine's newest decision record, read back from the decisions stream. */
  const lastDecision = async (engineId: string) => {
    const stored = await client.jsm.streams.getMessage(ns.naming.streams.decisions.name, {
      last_by_subj: ns.naming.decisionSubject('gate', engineId),
    });
    return decodeEnvelope(stored?.data ?? new Uint8Array());
  };
  /** An outcome of the engine's strategy s1, as the SDK reports it on the ingest stream. */
  const reportOutcome = (engineId: string, outcomeId: string, amount: number) =>
    publishOutcome(client, { engineId, strategyId: 's1', outcomeId, pnl: { amount, currency: 'USD' } });

  beforeAll(async () => {
    ns = await createTestNamespace('gchk');
    client = await probeOn(ns);
    gate = await start();
  });
  afterAll(async () => {
    await gate.close();
    await client.drain();
    await ns.cleanup();
  });

  describe('an unknown engine and strategy', () => {
    it('should be registered at L0 and blocked (shadow), with every check explained', async () => {
      const verdict = await check({ engineId: 'fresh' });

      expect(verdict).toMatchObject({
        action: 'BLOCK',
        sizeMultiplier: 0,
        // A skipped action (BLOCK in enforce mode) is LOW risk, whatever the confidence.
        riskLevel: 'LOW',
        mode: 'enforce',
        engineId: 'fresh',
        strategyId: 's1',
      });
      expect(verdict.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining(['executionClass', 'killSwitch', 'maturity', 'impact']),
      );
      expect(verdict.actionHash).toMatch(/^[0-9a-f]{64}$/);
      const { events } = await client.eventStore.read(ns.naming.eventSubject('gate', 'strategy', 'fresh:s1'));
      expect(events.map((e) => e.envelope.type)).toEqual(['gate.StrategyRegistered']);
      expect((await lastDecision('fresh')).data['verdict']).toMatchObject({
        decisionId: verdict.decisionId,
        riskLevel: 'LOW',
      });
    });
  });

  describe('the kill switch', () => {
    beforeAll(async () => {
      await inSandbox();
      await onboard('k1', 's1', 'L4');
    });

    it('should answer KILL to the next check once an operator engages it, and let reduce-only pass a soft kill', async () => {
      expect((await check({ engineId: 'k1' })).action).toBe('ALLOW');

      await command('kill-switch.engage', { engineId: 'k1', mode: 'soft', reason: 'incident 42' });

      expect((await check({ engineId: 'k1' })).action).toBe('KILL');
      expect(
        (await check({ engineId: 'k1', action: { kind: 'order.place', intent: 'reduce' } })).action,
      ).toBe('ALLOW');
    });

    it('should block reduce-only actions too under a hard kill', async () => {
      await command('kill-switch.engage', { engineId: 'k1', mode: 'hard', reason: 'incident 43' });
      expect((await check({ engineId: 'k1', action: { kind: 'order.place', intent: 'close' } })).action).toBe(
        'KILL',
      );
    });

    it('should refuse a release by automation and accept one by an operator', async () => {
      await expect(
        client.rpc.request('bifrost.rpc.gate.cmd.kill-switch.release', {
          actor: { kind: 'system', id: 'bot' },
          engineId: 'k1',
          reason: 'x',
        }),
      ).resolves.toMatchObject({ ok: false });
      await command('kill-switch.release', { engineId: 'k1', reason: 'resolved' });
      expect((await check({ engineId: 'k1' })).action).toBe('ALLOW');
    });

    it('should bind an engine in observe or off mode too, and not spend the token it presents', async () => {
      await onboard('k2', 's1', 'L4');
      const { events } = await command('strategy.token.issue', {
        engineId: 'k2',
        strategyId: 's1',
        scope: { actionKinds: ['order.place'] },
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        singleUse: true,
      });
      const tokenId = (events[0] as unknown as { data: { tokenId: string } }).data.tokenId;
      const tokenUses = async () =>
        (await client.eventStore.read(ns.naming.eventSubject('gate', 'strategy', 'k2:s1'))).events.filter(
          (e) => e.envelope.type === 'gate.TokenConsumed',
        ).length;
      await command('kill-switch.engage', { engineId: 'k2', mode: 'hard', reason: 'incident 44' });

      for (const mode of ['observe', 'off']) {
        await command('engine-mode', { engineId: 'k2', mode, reason: 'dry run' });
        const verdict = await check({ engineId: 'k2', tokenId });
        // Skipped in every mode, so LOW risk, not log_only's NONE.
        expect(verdict).toMatchObject({ action: 'KILL', sizeMultiplier: 0, riskLevel: 'LOW', mode });
        expect(verdict.wouldBe).toBeUndefined();
      }
      expect(await tokenUses()).toBe(0);

      await command('kill-switch.release', { engineId: 'k2', reason: 'resolved' });
      expect(await check({ engineId: 'k2', tokenId })).toMatchObject({ action: 'ALLOW', mode: 'off' });
      expect(await tokenUses()).toBe(1);
    });
  });

  describe('a demotion while the kill switch is engaged', () => {
    const maturityOf = (verdict: GateCheckReply) => verdict.checks.find((c) => c.name === 'maturity');

    it('should answer KILL while engaged and DEMOTE to the first check after the release, acknowledging it then', async () => {
      await inSandbox();
      await onboard('dk1', 's1', 'L4');
      await command('kill-switch.engage', { engineId: 'dk1', mode: 'hard', reason: 'incident 45' });
      // 15 % of the reference capital lost: demoted by the outcome from L4 to L3.
      await reportOutcome('dk1', 'loss-1', -1_500_000);
      await waitFor(async () => maturityOf(await check({ engineId: 'dk1' }))?.outcome === 'DEMOTE', {
        what: "dk1's demotion in the checks",
      });
      const underKill = await check({ engineId: 'dk1' });
      expect(underKill.action).toBe('KILL');
      expect(maturityOf(underKill)).toMatchObject({ outcome: 'DEMOTE', value: 'L3' });
      const acknowledgements = async () =>
        (await client.eventStore.read(ns.naming.eventSubject('gate', 'strategy', 'dk1:s1'))).events.filter(
          (e) => e.envelope.type === 'gate.DemotionAcknowledged',
        ).length;
      expect(await acknowledgements()).toBe(0);

      await command('kill-switch.release', { engineId: 'dk1', reason: 'resolved' });

      expect(await check({ engineId: 'dk1' })).toMatchObject({ action: 'DEMOTE', sizeMultiplier: 0 });
      expect(await acknowledgements()).toBe(1);
      const after = await check({ engineId: 'dk1' });
      expect(after.action).toBe('REDUCE_SIZE');
      expect(maturityOf(after)).toMatchObject({ outcome: 'REDUCE_SIZE', value: 'L3' });
    });

    it('should tell of a second demotion while the first is untold as one, from the level the engine last knew', async () => {
      await inSandbox();
      await onboard('dk3', 's1', 'L4');
      await command('kill-switch.engage', { engineId: 'dk3', mode: 'hard', reason: 'incident 47' });
      // 15 % lost at L4, then 15 % again at L3 (evidence restarts at each level): L4 → L3 → L2.
      const levelOf = async () => maturityOf(await check({ engineId: 'dk3' }))?.value;
      await reportOutcome('dk3', 'loss-1', -1_500_000);
      await waitFor(async () => (await levelOf()) === 'L3', { what: "dk3's first demotion" });
      await reportOutcome('dk3', 'loss-2', -1_500_000);
      await waitFor(async () => (await levelOf()) === 'L2', { what: "dk3's second demotion" });

      await command('kill-switch.release', { engineId: 'dk3', reason: 'resolved' });

      const told = await check({ engineId: 'dk3' });
      expect(told.action).toBe('DEMOTE');
      expect(maturityOf(told)?.reason).toMatch(/^demoted L4 → L2 \(drawdown\)/);
      const stored = await client.eventStore.read(ns.naming.eventSubject('gate', 'strategy', 'dk3:s1'));
      expect(
        stored.events
          .filter((e) => e.envelope.type === 'gate.DemotionAcknowledged')
          .map((e) => e.envelope.data),
      ).toEqual([expect.objectContaining({ from: 'L4', to: 'L2' })]);
      expect(maturityOf(await check({ engineId: 'dk3' }))).toMatchObject({
        outcome: 'REQUIRE_APPROVAL',
        value: 'L2',
      });
    });

    it('should tell an engine in observe mode by wouldBe DEMOTE once the kill switch is released', async () => {
      await inSandbox();
      await onboard('dk2', 's1', 'L4');
      await command('engine-mode', { engineId: 'dk2', mode: 'observe', reason: 'dry run' });
      await command('kill-switch.engage', { engineId: 'dk2', mode: 'soft', reason: 'incident 46' });
      await command('strategy.override-maturity', {
        engineId: 'dk2',
        strategyId: 's1',
        level: 'L3',
        reason: 'review',
      });

      expect(await check({ engineId: 'dk2' })).toMatchObject({ action: 'KILL', mode: 'observe' });
      await command('kill-switch.release', { engineId: 'dk2', reason: 'resolved' });

      expect(await check({ engineId: 'dk2' })).toMatchObject({
        action: 'ALLOW',
        wouldBe: { action: 'DEMOTE' },
      });
      expect(await check({ engineId: 'dk2' })).toMatchObject({
        action: 'ALLOW',
        wouldBe: { action: 'REDUCE_SIZE' },
      });
    });
  });

  describe('an engine in observe mode', () => {
    it('should answer ALLOW with the verdict enforce mode would give as wouldBe, and record both', async () => {
      await command('engine-mode', { engineId: 'ob1', mode: 'observe', reason: 'dry run' });

      // An unknown strategy is registered at L0: enforce mode would block it.
      const verdict = await check({ engineId: 'ob1' });

      expect(verdict).toMatchObject({
        action: 'ALLOW',
        sizeMultiplier: 1,
        mode: 'observe',
        riskLevel: 'NONE',
      });
      expect(verdict.wouldBe).toEqual({ action: 'BLOCK', sizeMultiplier: 0 });
      expect(verdict.checks.find((c) => c.name === 'maturity')).toMatchObject({
        outcome: 'BLOCK',
        value: 'L0',
      });
      expect((await lastDecision('ob1')).data['verdict']).toMatchObject({
        decisionId: verdict.decisionId,
        action: 'ALLOW',
        wouldBe: { action: 'BLOCK', sizeMultiplier: 0 },
        riskLevel: 'NONE',
      });
    });
  });

  describe('go-live', () => {
    it('should block PROD_EXEC actions while go-live is off', async () => {
      await command('execution-class', {
        actionKind: 'order.live',
        executionClass: 'PROD_EXEC',
        reason: 'test',
      });
      await onboard('p1', 's1', 'L4');

      const verdict = await check({ engineId: 'p1', action: { kind: 'order.live', intent: 'open' } });

      expect(verdict.action).toBe('BLOCK');
      expect(verdict.checks.find((c) => c.name === 'executionClass')).toMatchObject({
        outcome: 'BLOCK',
        value: 'PROD_EXEC',
      });
    });

    it('should refuse to enable go-live while the checklist has unknown items', async () => {
      const result = await command('go-live.enable', { reason: 'launch' });
      expect(result.events.map((e) => e.type)).toEqual(['GoLiveRefused']);
    });

    it('should let PROD_EXEC through once go-live is on, and block it again once it is switched off', async () => {
      await command('execution-class', {
        actionKind: 'order.live',
        executionClass: 'PROD_EXEC',
        reason: 'test',
      });
      await onboard('p2', 's1', 'L4');
      const classCheck = async () =>
        (await check({ engineId: 'p2', action: { kind: 'order.live', intent: 'open' } })).checks.find(
          (c) => c.name === 'executionClass',
        );
      for (const [item, reportedBy] of [
        ['riskPoliciesPresent', 'risk-guard'],
        ['canaryHealthy', 'canary'],
        ['auditChainVerified', 'projector'],
      ] as const) {
        await client.rpc.call('bifrost.rpc.gate.cmd.checklist-fact', {
          actor: { kind: 'system', id: reportedBy },
          item,
          passed: true,
          reportedBy,
        });
      }
      try {
        const enabled = await command('go-live.enable', { reason: 'launch' });
        expect(enabled.events.map((e) => e.type)).toEqual(['GoLiveEnabled']);
        expect(await classCheck()).toMatchObject({ outcome: 'ALLOW', value: 'PROD_EXEC' });
      } finally {
        await command('go-live.disable', { reason: 'incident' });
      }
      expect(await classCheck()).toMatchObject({ outcome: 'BLOCK', value: 'PROD_EXEC' });
    });
  });

  describe('approvals', () => {
    it('should open a request bound to the action, let another person approve it, and accept the token once', async () => {
      await inSandbox();
      await onboard('a1', 's1', 'L2');
      const action = {
        kind: 'order.place',
        intent: 'open' as const,
        notional: { amount: 5_000, currency: 'USD' },
      };

      const asked = await check({ engineId: 'a1', action });
      expect(asked.action).toBe('REQUIRE_APPROVAL');
      expect(asked.approvalId).toBeDefined();
      const where = { engineId: 'a1', strategyId: 's1', approvalId: asked.approvalId };
      await expect(approval(where)).resolves.toMatchObject({
        status: 'pending',
        actionHash: asked.actionHash,
        action,
        decidedBy: null,
        token: null,
      });

      await expect(
        client.rpc.request('bifrost.rpc.gate.cmd.strategy.approval.approve', {
          actor: { kind: 'engine', id: 'a1' },
          engineId: 'a1',
          strategyId: 's1',
          approvalId: asked.approvalId,
        }),
      ).resolves.toMatchObject({ ok: false });
      const granted = await command('strategy.approval.approve', {
        engineId: 'a1',
        strategyId: 's1',
        approvalId: asked.approvalId,
      });
      const issued = (
        granted.events.find((e) => e.type === 'TokenIssued') as unknown as { data: { tokenId: string } }
      ).data.tokenId;
      // The engine learns the token from the gate, not from the operator.
      const learned = await approval(where);
      expect(learned).toMatchObject({ status: 'granted', decidedBy: operator.id });
      expect(learned.token).toMatchObject({ tokenId: issued, status: 'active' });
      const tokenId = learned.token?.tokenId;

      const other = await check({
        engineId: 'a1',
        action: { ...action, notional: { amount: 9_000, currency: 'USD' } },
        tokenId,
      });
      expect(other.action).toBe('BLOCK');
      expect(other.checks.find((c) => c.name === 'token')).toMatchObject({
        outcome: 'BLOCK',
        value: tokenId,
        reason: `token refused (wrong-hash): token ${tokenId} is bound to another action`,
      });
      const approved = await check({ engineId: 'a1', action, tokenId });
      expect(approved.action).toBe('REDUCE_SIZE');
      expect(approved.sizeMultiplier).toBeCloseTo(0.1);
      const again = await check({ engineId: 'a1', action, tokenId });
      expect(again.action).not.toMatch(/^(ALLOW|REDUCE_SIZE)$/);
      await expect(approval(where)).resolves.toMatchObject({
        status: 'granted',
        token: { tokenId, status: 'consumed' },
      });
    });

    it('should tell the engine of a rejection, and refuse to tell of a request the strategy does not have', async () => {
      await inSandbox();
      await onboard('a2', 's1', 'L2');
      const asked = await check({
        engineId: 'a2',
        action: { kind: 'order.place', intent: 'open', notional: { amount: 7_000, currency: 'USD' } },
      });
      expect(asked.action).toBe('REQUIRE_APPROVAL');
      await command('strategy.approval.reject', {
        engineId: 'a2',
        strategyId: 's1',
        approvalId: asked.approvalId,
        reason: 'too large today',
      });
      await expect(
        approval({ engineId: 'a2', strategyId: 's1', approvalId: asked.approvalId }),
      ).resolves.toMatchObject({ status: 'rejected', decidedBy: operator.id, token: null });

      // Another engine's (or strategy's) request is not found by its id alone.
      for (const other of [
        { engineId: 'a1', strategyId: 's1', approvalId: asked.approvalId },
        { engineId: 'a2', strategyId: 's2', approvalId: asked.approvalId },
      ]) {
        await expect(client.rpc.request('bifrost.rpc.gate.approval', other)).resolves.toMatchObject({
          ok: false,
          error: { code: 'GATE.APPROVAL_UNKNOWN' },
        });
      }
      await expect(
        client.rpc.request('bifrost.rpc.gate.approval', { engineId: 'a2', strategyId: 's1' }),
      ).resolves.toMatchObject({ ok: false, error: { code: 'RPC.VALIDATION_FAILED' } });
    });
  });

  describe('outcomes reported by the engine', () => {
    it('should promote a strategy after 50 winning outcomes, counting a repeated outcome once', async () => {
      await inSandbox();
      await onboard('o1', 's1', 'L2');
      const report = (n: number) => reportOutcome('o1', `out-${n}`, 1_000);
      for (let n = 0; n < 49; n += 1) await report(n);
      await report(48);
      const subject = ns.naming.eventSubject('gate', 'strategy', 'o1:s1');
      await waitFor(
        async () =>
          (await client.eventStore.read(subject)).events.filter(
            (e) => e.envelope.type === 'gate.OutcomeRecorded',
          ).length === 49,
        {
          what: '49 distinct outcomes recorded',
        },
      );
      expect((await check({ engineId: 'o1' })).checks.find((c) => c.name === 'maturity')?.value).toBe('L2');

      await report(49);

      await waitFor(
        async () =>
          (await client.eventStore.read(subject)).events.some(
            (e) => e.envelope.type === 'gate.MaturityPromoted',
          ),
        {
          what: 'the promotion',
        },
      );
      const promoted = await check({ engineId: 'o1' });
      expect(promoted.checks.find((c) => c.name === 'maturity')).toMatchObject({
        value: 'L3',
        sizeMultiplier: 0.25,
      });
    });

    it('should show the strategy in its metrics: maturity, health, drift from its baseline, active tokens', async () => {
      const strategy = { engineId: 'o1', strategyId: 's1' };
      // 50 wins of 1 000: half the average the backtest promised.
      await command('strategy.baseline', {
        ...strategy,
        winRate: 0.5,
        profitFactor: 1.5,
        avgPnl: { amount: 2_000, currency: 'USD' },
      });
      const token = {
        ...strategy,
        scope: { actionKinds: ['order.place'] },
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        singleUse: false,
      };
      await command('strategy.token.issue', token);
      await command('strategy.token.issue', {
        ...token,
        expiresAt: new Date(Date.now() + 2_000).toISOString(),
      });
      const series = (name: string) => `${name}{engine="o1",strategy="s1",service="gate"}`;
      const scrape = async () => (await fetch(`${gate.url}/metrics`)).text();

      // The second token stops counting once it has expired, without an event.
      const metrics = await waitFor(
        async () => {
          const text = await scrape();
          return text.includes(`${series('bifrost_gate_strategy_active_tokens')} 1`) && text;
        },
        { what: 'one active token' },
      );
      expect(metrics).toContain(`${series('bifrost_gate_strategy_maturity_level')} 3`);
      expect(metrics).toContain(`${series('bifrost_gate_strategy_health_score')} 1`);
      expect(metrics).toContain(`${series('bifrost_gate_strategy_drift_ratio')} 0.5`);
    });
  });

  describe('decision metrics', () => {
    it('should count verdicts by action, their latency and record failures, and show kill switches', async () => {
      /** The value of the series `name{labels…,service="gate"}` in a scrape (0 when absent). */
      const read = async (name: string, labels = '') => {
        const text = await (await fetch(`${gate.url}/metrics`)).text();
        const series = `${name}{${labels}${labels ? ',' : ''}service="gate"} `;
        const line = text.split('\n').find((l) => l.startsWith(series));
        return line === undefined ? 0 : Number(line.slice(series.length));
      };
      const blocked = () => read('bifrost_gate_decisions_total', 'action="BLOCK"');
      const timed = () => read('bifrost_gate_decision_latency_seconds_count');
      const failures = () => read('bifrost_gate_record_failures_total');
      const [blockedBefore, timedBefore, failuresBefore] = [await blocked(), await timed(), await failures()];

      // An unknown strategy is registered at L0: BLOCK.
      expect((await check({ engineId: 'mx1' })).action).toBe('BLOCK');
      await command('kill-switch.engage', { engineId: 'mx2', mode: 'hard', reason: 'metrics' });
      const events = ns.naming.streams.events.name;
      const { config } = await client.jsm.streams.info(events);
      await client.jsm.streams.update(events, { ...config, max_msg_size: 64 });
      try {
        await expect(
          client.rpc.call('bifrost.rpc.gate.check', {
            engineId: 'mx3',
            strategyId: 's1',
            action: { kind: 'order.place', intent: 'open' },
          }),
        ).rejects.toMatchObject({ code: 'GATE.RECORD_FAILED' });
      } finally {
        await client.jsm.streams.update(events, config);
      }

      expect(await blocked()).toBe(blockedBefore + 1);
      expect(await timed()).toBe(timedBefore + 1);
      expect(await failures()).toBe(failuresBefore + 1);
      expect(await read('bifrost_gate_kill_switch_engaged', 'scope="engine",engine="mx2",mode="hard"')).toBe(
        1,
      );
      expect(await read('bifrost_gate_kill_switch_engaged', 'scope="global",engine="",mode="none"')).toBe(0);
    });
  });

  describe('bad input', () => {
    it('should answer malformed JSON and schema violations with error replies', async () => {
      const raw = await client.nc.request(
        ns.naming.qualify('bifrost.rpc.gate.check'),
        new TextEncoder().encode('{'),
      );
      expect(JSON.parse(new TextDecoder().decode(raw.data))).toMatchObject({
        ok: false,
        error: { code: 'PAYLOAD.MALFORMED' },
      });
      await expect(
        client.rpc.request('bifrost.rpc.gate.check', {
          engineId: 'x.y',
          strategyId: 's',
          action: { kind: 'a', intent: 'open' },
        }),
      ).resolves.toMatchObject({ ok: false, error: { code: 'RPC.VALIDATION_FAILED' } });
      await expect(
        client.rpc.request('bifrost.rpc.gate.check', {
          engineId: 'e',
          strategyId: 's',
          action: { kind: 'a', intent: 'sideways' },
        }),
      ).resolves.toMatchObject({ ok: false, error: { code: 'RPC.VALIDATION_FAILED' } });
      // A number JSON reads as Infinity, where the schema takes any value: the caller's input too.
      const overflow = await client.nc.request(
        ns.naming.qualify('bifrost.rpc.gate.check'),
        new TextEncoder().encode(
          '{"engineId":"e","strategyId":"s","action":{"kind":"a","intent":"open","params":{"px":1e400}}}',
        ),
      );
      expect(JSON.parse(new TextDecoder().decode(overflow.data))).toMatchObject({
        ok: false,
        error: { code: 'RPC.VALIDATION_FAILED', message: expect.stringContaining('/params/px') },
      });
    });

    it('should refuse token and approval ids that are names every object has, as malformed ids', async () => {
      // 'constructor' was taken for a token record: the check failed on the record's missing expiry.
      await expect(
        client.rpc.request('bifrost.rpc.gate.check', {
          engineId: 'e',
          strategyId: 's',
          action: { kind: 'a', intent: 'open' },
          tokenId: 'constructor',
        }),
      ).resolves.toMatchObject({ ok: false, error: { code: 'RPC.VALIDATION_FAILED' } });
      await expect(
        client.rpc.request('bifrost.rpc.gate.approval', {
          engineId: 'e',
          strategyId: 's',
          approvalId: 'toString',
        }),
      ).resolves.toMatchObject({ ok: false, error: { code: 'RPC.VALIDATION_FAILED' } });
    });
  });

  describe('decision records', () => {
    it('should record the request and exactly the verdict answered, as a valid envelope', async () => {
      await inSandbox();
      await onboard('rec1', 's1', 'L3');
      const request = {
        engineId: 'rec1',
        strategyId: 's1',
        action: { kind: 'order.place', intent: 'open', notional: { amount: 1_000, currency: 'USD' } },
        requestId: 'req-é-1',
      } satisfies GateCheckRequest;
      const verdict = await check(request);

      const record = await lastDecision('rec1');
      expect(record).toMatchObject({
        id: verdict.decisionId,
        type: 'gate.VerdictRendered',
        occurredAt: verdict.decidedAt,
        correlationId: 'req-é-1',
        actor: { kind: 'engine', id: 'rec1' },
      });
      expect(record.data).toEqual({ request, verdict, latencyMicros: expect.any(Number) });
      expect(verdict.checks.find((c) => c.name === 'maturity')?.reason).toContain('sized ×');
    });

    it('should store exactly one decision record per answered check', async () => {
      const before = (await client.jsm.streams.info(ns.naming.streams.decisions.name)).state.messages;
      const count = 10_000;
      const inFlight = 64;
      let next = 0;
      const ids = new Set<string>();
      await Promise.all(
        Array.from({ length: inFlight }, async (_, worker) => {
          while (next < count) {
            next += 1;
            const verdict = await check({ engineId: `bulk${worker % 4}`, strategyId: `s${worker % 8}` });
            ids.add(verdict.decisionId);
          }
        }),
      );
      const info = await client.jsm.streams.info(ns.naming.streams.decisions.name);
      expect(ids.size).toBe(count);
      expect(info.state.messages - before).toBe(ids.size);
    }, 120_000);

    /** Runs `during` with no decisions stream, then creates it again as it was. */
    const withoutDecisionsStream = async <T>(during: () => Promise<T>): Promise<T> => {
      const { name } = ns.naming.streams.decisions;
      const { config } = await client.jsm.streams.info(name);
      await client.jsm.streams.delete(name);
      try {
        return await during();
      } finally {
        await client.jsm.streams.add(config);
      }
    };

    /**
     * A timed check of `engineId` whose record no stream takes and a plain subscriber swallows: the
     * publish is delivered and never acknowledged, as when JetStream stalls instead of refusing.
     */
    const checkWithRecordStalled = async (engineId: string) => {
      const swallowed = client.nc.subscribe(client.naming.decisionSubject('gate', engineId));
      await client.nc.flush();
      try {
        const answer = await withoutDecisionsStream(() => timedCheck({ engineId }));
        expect(swallowed.getReceived()).toBe(1);
        return answer;
      } finally {
        swallowed.unsubscribe();
      }
    };

    it('should answer with an error, never a verdict, when the record cannot be stored', async () => {
      await withoutDecisionsStream(async () => {
        const reply = await client.rpc.request<GateCheckReply>(
          'bifrost.rpc.gate.check',
          {
            engineId: 'k1',
            strategyId: 's1',
            action: { kind: 'order.place', intent: 'open' },
          },
          { timeoutMs: 10_000 },
        );
        expect(reply).toMatchObject({ ok: false, error: { code: 'GATE.RECORD_FAILED' } });
      });
    }, 20_000);

    it("should answer GATE.RECORD_FAILED after GATE_RECORD_TIMEOUT_MS, within the SDK's deadline, when the record is never acknowledged", async () => {
      const { reply, waited } = await checkWithRecordStalled('stalled');

      expect(reply).toMatchObject({ ok: false, error: { code: 'GATE.RECORD_FAILED' } });
      expect(waited).toBeGreaterThanOrEqual(1_000);
      // The SDK's default deadline (DEFAULT_DEADLINE_MS in libs/sdk, which an app may not import).
      expect(waited).toBeLessThan(2_000);
    }, 20_000);

    it('should fit its turn on the strategy and every acknowledgement in one GATE_RECORD_TIMEOUT_MS', async () => {
      // The strategy is held for most of the budget; the check registers it (an event), then its
      // record is never acknowledged.
      const holding = gate.app
        .get(KeyedMutex)
        .run('queued:s1', () => new Promise<void>((resolve) => setTimeout(resolve, 950)));
      const { reply, waited } = await checkWithRecordStalled('queued');
      await holding;

      expect(reply).toMatchObject({ ok: false, error: { code: 'GATE.RECORD_FAILED' } });
      expect(waited).toBeGreaterThanOrEqual(1_000);
      // Two waits of their own would take 1.9 s or so; one budget ~1 s, whatever the load adds.
      expect(waited).toBeLessThan(1_750);
    }, 20_000);
  });

  describe('a check whose events cannot be stored', () => {
    it('should answer GATE.RECORD_FAILED without naming streams or quoting the server', async () => {
      const events = ns.naming.streams.events.name;
      const { config } = await client.jsm.streams.info(events);
      // Registering an unknown strategy is an event: the stream now refuses it.
      await client.jsm.streams.update(events, { ...config, max_msg_size: 64 });
      try {
        const reply = await client.rpc.request<GateCheckReply>('bifrost.rpc.gate.check', {
          engineId: 'refused',
          strategyId: 's1',
          action: { kind: 'order.place', intent: 'open' },
        });
        expect(reply).toEqual({
          ok: false,
          error: {
            code: 'GATE.RECORD_FAILED',
            message:
              'the events this check leaves behind could not be stored, so no verdict is given (fail closed)',
          },
        });
      } finally {
        await client.jsm.streams.update(events, config);
      }
    });
  });

  describe('a check whose strategy stays busy', () => {
    it('should answer CONCURRENCY.CONFLICT after GATE_RECORD_TIMEOUT_MS and never decide it, so its single-use token is not spent', async () => {
      await inSandbox();
      await onboard('busy', 's1', 'L4');
      await command('strategy.token.issue', {
        engineId: 'busy',
        strategyId: 's1',
        tokenId: 'tok-busy',
        scope: { actionKinds: ['order.place'] },
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        singleUse: true,
      });
      const recorded = async () =>
        (
          await client.jsm.streams.info(ns.naming.streams.decisions.name, {
            subjects_filter: ns.naming.decisionSubject('gate', 'busy'),
          })
        ).state.subjects?.[ns.naming.decisionSubject('gate', 'busy')] ?? 0;

      // An outcome fold or an operator command waiting out a stalled JetStream holds the strategy.
      let release!: () => void;
      const holding = gate.app
        .get(KeyedMutex)
        .run('busy:s1', () => new Promise<void>((resolve) => (release = resolve)));
      const { reply, waited } = await timedCheck({ engineId: 'busy', tokenId: 'tok-busy' }, 3_000);
      release();
      await holding;

      expect(reply).toMatchObject({ ok: false, error: { code: 'CONCURRENCY.CONFLICT' } });
      expect(waited).toBeGreaterThanOrEqual(1_000);
      // The SDK's default deadline (DEFAULT_DEADLINE_MS in libs/sdk, which an app may not import).
      expect(waited).toBeLessThan(2_000);
      expect(await recorded()).toBe(0);
      // Its turn has come and gone: the token is still there to be spent, once.
      const spending = await check({ engineId: 'busy', tokenId: 'tok-busy' });
      expect(spending.checks.find((c) => c.name === 'token')?.outcome).toBe('ALLOW');
      const again = await check({ engineId: 'busy', tokenId: 'tok-busy' });
      expect(again.checks.find((c) => c.name === 'token')?.outcome).toBe('BLOCK');
      expect(await recorded()).toBe(2);
    }, 15_000);
  });

  describe('a restart', () => {
    it('should keep maturity (set or earned by outcomes), tokens, pauses and kill switches exactly, from its snapshot or from the events alone', async () => {
      // So that a check with a token goes ahead and spends it (as the tests before this one leave it).
      await inSandbox();
      await onboard('r1', 's1', 'L3');
      await command('strategy.register', { engineId: 'r1', strategyId: 's2' });
      await command('strategy.pause', { engineId: 'r1', strategyId: 's2', reason: 'investigating' });
      await command('strategy.token.issue', {
        engineId: 'r1',
        strategyId: 's1',
        tokenId: 'tok-1',
        scope: { actionKinds: ['order.place'] },
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        singleUse: false,
      });
      await command('strategy.register', { engineId: 'r1', strategyId: 's3' });
      await command('strategy.pause', {
        engineId: 'r1',
        strategyId: 's3',
        reason: 'cooling down',
        cooldownUntil: new Date(Date.now() + 3600_000).toISOString(),
      });
      await command('strategy.token.issue', {
        engineId: 'r1',
        strategyId: 's1',
        tokenId: 'tok-once',
        scope: { actionKinds: ['order.place'] },
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        singleUse: true,
      });
      // Spent before the restart: it must stay spent after it.
      const spending = await check({ engineId: 'r1', strategyId: 's1', tokenId: 'tok-once' });
      await command('strategy.token.issue', {
        engineId: 'r1',
        strategyId: 's1',
        tokenId: 'tok-revoked',
        scope: { actionKinds: ['order.place'] },
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        singleUse: false,
      });
      await command('strategy.token.revoke', { engineId: 'r1', strategyId: 's1', tokenId: 'tok-revoked' });
      // r5 loses 15 % of the reference capital: demoted by its outcome from L4 to L3.
      await onboard('r5', 's1', 'L4');
      await reportOutcome('r5', 'loss-1', -1_500_000);
      await waitFor(async () => (await check({ engineId: 'r5' })).action === 'DEMOTE', {
        what: "r5's demotion notice",
      });
      await command('kill-switch.engage', { engineId: 'r2', mode: 'soft', reason: 'keep me' });
      await command('kill-switch.engage', { engineId: 'r4', mode: 'hard', reason: 'keep me hard' });
      await command('engine.pause', { engineId: 'r3', reason: 'keep me paused' });
      // Registers r2's to r4's strategies: a registering check carries `strategyLimit`, the checks after it do not.
      await check({ engineId: 'r2' });
      await check({ engineId: 'r3' });
      await check({ engineId: 'r4' });
      const reduce = { kind: 'order.place', intent: 'reduce' } as const;
      const verdicts = async () => ({
        s1: await check({ engineId: 'r1', strategyId: 's1', tokenId: 'tok-1' }),
        s2: await check({ engineId: 'r1', strategyId: 's2' }),
        s3: await check({ engineId: 'r1', strategyId: 's3' }),
        spent: await check({ engineId: 'r1', strategyId: 's1', tokenId: 'tok-once' }),
        revoked: await check({ engineId: 'r1', strategyId: 's1', tokenId: 'tok-revoked' }),
        demoted: await check({ engineId: 'r5' }),
        r2: await check({ engineId: 'r2' }),
        r2reduce: await check({ engineId: 'r2', action: reduce }),
        r3: await check({ engineId: 'r3' }),
        r4reduce: await check({ engineId: 'r4', action: reduce }),
      });
      const essence = (v: GateCheckReply) => ({
        action: v.action,
        checks: v.checks,
        policyRevision: v.policyRevision,
      });
      const before = await verdicts();
      const outcomeOf = (v: GateCheckReply, name: string) => v.checks.find((c) => c.name === name)?.outcome;
      expect(before.s2.action).toBe('PAUSE');
      expect(before.r2.action).toBe('KILL');
      expect(before.r3.action).toBe('PAUSE');
      // What each must keep: a cooldown, a spent and a revoked token, a level an outcome set, a soft
      // and a hard kill switch.
      expect(before.s3.checks.find((c) => c.name === 'pause')).toMatchObject({
        outcome: 'PAUSE',
        value: true,
      });
      expect(outcomeOf(spending, 'token')).toBe('ALLOW');
      expect(outcomeOf(before.spent, 'token')).toBe('BLOCK');
      expect(before.revoked.action).toBe('BLOCK');
      expect(before.revoked.checks.find((c) => c.name === 'token')?.reason).toContain('(revoked)');
      expect(before.demoted.checks.find((c) => c.name === 'maturity')).toMatchObject({
        value: 'L3',
        outcome: 'REDUCE_SIZE',
      });
      expect(outcomeOf(before.r2reduce, 'killSwitch')).toBe('ALLOW');
      expect(outcomeOf(before.r4reduce, 'killSwitch')).toBe('KILL');

      /** A clean stop (a snapshot is written), then a crash before any snapshot: the events alone. */
      const restartsKeep = async <K extends string>(
        was: Record<K, GateCheckReply>,
        again: () => Promise<Record<K, GateCheckReply>>,
      ) => {
        for (const withSnapshot of [true, false]) {
          await gate.close();
          if (!withSnapshot) {
            expect((await client.snapshots.load('gate.state')).snapshot).toBeDefined();
            await client.snapshots.remove('gate.state');
          }
          gate = await start();
          const after = await again();
          for (const key of Object.keys(was) as K[]) {
            expect({ withSnapshot, key, ...essence(after[key]) }).toEqual({
              withSnapshot,
              key,
              ...essence(was[key]),
            });
          }
        }
      };
      await restartsKeep(before, verdicts);

      // Last, since it kills every open action of every engine: a global soft kill switch.
      await command('kill-switch.engage', { mode: 'soft', reason: 'keep me global' });
      try {
        const underGlobal = async () => ({
          open: await check({ engineId: 'r1', strategyId: 's1' }),
          reduce: await check({ engineId: 'r1', strategyId: 's1', action: reduce }),
        });
        const globalBefore = await underGlobal();
        expect(globalBefore.open.action).toBe('KILL');
        expect(globalBefore.reduce.action).toBe('ALLOW');
        expect(globalBefore.reduce.checks.find((c) => c.name === 'killSwitch')).toMatchObject({
          outcome: 'ALLOW',
          value: 'soft',
        });
        await restartsKeep(globalBefore, underGlobal);
      } finally {
        await command('kill-switch.release', { reason: 'resolved' });
      }
    }, 30_000);
  });

  describe('reactions to other services', () => {
    it('should engage the kill switch when a tripwire asks for it, naming the event as cause', async () => {
      const trigger = createEnvelope({
        type: 'tripwire.TripwireTriggered',
        subject: ns.naming.eventSubject('tripwire', 'policy', 'wholesale-contract-rate'),
        source: 'tripwire',
        actor: { kind: 'system', id: 'tripwire' },
        data: { engineId: 't1', action: 'KILL_SWITCH', policyId: 'wholesale-contract-rate' },
      });
      await client.publisher.publish(trigger);

      await waitFor(async () => (await check({ engineId: 't1' })).action === 'KILL', {
        what: 'KILL after the tripwire',
      });
      const { events } = await client.eventStore.read(ns.naming.eventSubject('gate', 'control', 'global'));
      const engaged = events.find(
        (e) => e.envelope.type === 'gate.KillSwitchEngaged' && e.envelope.data['engineId'] === 't1',
      );
      expect(engaged?.envelope.causationId).toBe(trigger.id);
    });

    it("should lift only the canary's own dead-man pause on a canary resume request", async () => {
      const canaryEvent = async (engineId: string, type: string, data: Record<string, unknown>) => {
        const envelope = createEnvelope({
          type,
          subject: ns.naming.eventSubject('canary', 'engine', engineId),
          source: 'canary',
          actor: { kind: 'system', id: 'canary' },
          data,
        });
        await client.publisher.publish(envelope);
        return envelope.id;
      };
      const deadMan = (engineId: string) =>
        canaryEvent(engineId, 'canary.EnginePauseRequested', { engineId, reason: 'silent' });
      /** `pauseRequestId`: the dead-man request it answers (absent: as an older canary sends it). */
      const resume = (engineId: string, pauseRequestId?: string) =>
        canaryEvent(engineId, 'canary.EngineResumeRequested', {
          engineId,
          reason: 'fresh heartbeat',
          authorizedBy: operator,
          authorizedAt: '2026-11-21T12:00:00.000Z',
          ...(pauseRequestId === undefined ? {} : { pauseRequestId }),
        });
      const c1Pause = await deadMan('c1');
      await command('engine.pause', { engineId: 'c2', reason: 'operator maintenance' });
      // c3: the canary paused it, then an operator paused it too (without extending it).
      await deadMan('c3');
      await waitFor(async () => (await check({ engineId: 'c3' })).action === 'PAUSE', { what: 'c3 paused' });
      await command('engine.pause', { engineId: 'c3', reason: 'operator investigating' });
      // c4: a canary probe paused it, then the engine fell silent: the gate keeps the probe's pause.
      await canaryEvent('c4', 'canary.EnginePauseRequested', {
        engineId: 'c4',
        reason: 'probe exchange-api: down',
        probeName: 'exchange-api',
      });
      const c4DeadMan = await deadMan('c4');
      await waitFor(async () => (await check({ engineId: 'c1' })).action === 'PAUSE', { what: 'c1 paused' });

      await resume('c2');
      await resume('c3');
      await resume('c4', c4DeadMan);
      await resume('c1', c1Pause);
      await waitFor(async () => (await check({ engineId: 'c1' })).action !== 'PAUSE', { what: 'c1 resumed' });
      // The reactions are handled in order: c2's, c3's and c4's requests were handled before c1's.
      expect((await check({ engineId: 'c2' })).action).toBe('PAUSE');
      expect((await check({ engineId: 'c3' })).action).toBe('PAUSE');
      expect((await check({ engineId: 'c4' })).action).toBe('PAUSE');
    });

    it('should require approval for a command type the governance phase does not whitelist', async () => {
      await onboard('g1', 's1', 'L4');
      await client.publisher.publish(
        createEnvelope({
          type: 'governance.PhaseChanged',
          subject: ns.naming.eventSubject('governance', 'engine', 'g1'),
          source: 'governance-agent',
          actor: { kind: 'system', id: 'governance-agent' },
          data: { engineId: 'g1', phase: 'L3', whitelist: ['restart_service'], reason: 'initial' },
        }),
      );
      const run = (commandType: string) =>
        check({ engineId: 'g1', action: { kind: 'order.place', intent: 'open', commandType } });

      await waitFor(async () => (await run('restart_service')).action === 'ALLOW', {
        what: 'the phase to apply',
      });
      expect((await run('scale_cluster')).action).toBe('REQUIRE_APPROVAL');
    });
  });

  describe('an approval that waits for its strategy past its expiry', () => {
    // Its own namespace: approvals here expire after 1.5 s, tokens live 10 min at most.
    let shortNs: TestNamespace;
    let shortGate: RunningService;
    let short: Messaging;
    const shortCommand = (name: string, body: Record<string, unknown>) =>
      short.rpc.request<{ events: { type: string }[] }>(`bifrost.rpc.gate.cmd.${name}`, {
        actor: operator,
        ...body,
      });

    beforeAll(async () => {
      shortNs = await createTestNamespace('gexp');
      shortGate = await startTestService(GateConfig, gateService, shortNs, {
        GATE_STRATEGY_POLICY: '{"approvalTtlMs":1500,"maxTokenTtlMs":600000}',
      });
      short = await probeOn(shortNs);
    });
    afterAll(async () => {
      await short.drain();
      await shortGate.close();
      await shortNs.cleanup();
    });

    it('should be refused as expired when its turn comes after the expiry, though it arrived before', async () => {
      const where = { engineId: 'late', strategyId: 's1' };
      await shortCommand('execution-class', {
        actionKind: 'order.place',
        executionClass: 'SANDBOX_EXEC',
        reason: 'test',
      });
      await shortCommand('strategy.register', where);
      await shortCommand('strategy.override-maturity', { ...where, level: 'L2', reason: 'seasoned' });
      const asked = await checkOn(short, { engineId: 'late' });
      expect(asked.action).toBe('REQUIRE_APPROVAL');
      const status = () =>
        short.rpc.call<GateApprovalReply>('bifrost.rpc.gate.approval', {
          ...where,
          approvalId: asked.approvalId,
        });
      const { expiresAt } = await status();

      // Another command holds the strategy (a burst of token refusals, say) past the expiry.
      let release!: () => void;
      const held = shortGate.app
        .get(KeyedMutex)
        .run('late:s1', () => new Promise<void>((resolve) => (release = resolve)));
      const approved = shortCommand('strategy.approval.approve', { ...where, approvalId: asked.approvalId });
      await waitFor(() => Date.now() > Date.parse(expiresAt) + 50, { what: 'the approval to expire' });
      release();
      await held;

      await expect(approved).resolves.toMatchObject({ ok: false, error: { code: 'GATE.APPROVAL_EXPIRED' } });
      await expect(status()).resolves.toMatchObject({ status: 'expired', token: null });
    });

    it("should give an approval's token no longer than the policy allows when the operator names none", async () => {
      const where = { engineId: 'capped', strategyId: 's1' };
      await shortCommand('strategy.register', where);
      await shortCommand('strategy.override-maturity', { ...where, level: 'L2', reason: 'seasoned' });
      const asked = await checkOn(short, { engineId: 'capped' });
      expect(asked.action).toBe('REQUIRE_APPROVAL');

      const approved = await shortCommand('strategy.approval.approve', {
        ...where,
        approvalId: asked.approvalId,
      });

      expect(approved).toMatchObject({ ok: true });
      const { token } = await short.rpc.call<GateApprovalReply>('bifrost.rpc.gate.approval', {
        ...where,
        approvalId: asked.approvalId,
      });
      // The policy's 10 min, not the default 15.
      expect(Date.parse(token?.expiresAt ?? '') - Date.now()).toBeLessThanOrEqual(600_000);
      expect(Date.parse(token?.expiresAt ?? '') - Date.now()).toBeGreaterThan(540_000);
    });
  });

  describe('a gate started with policies of its own (GATE_IMPACT_NOTIONAL, GATE_STRATEGY_POLICY)', () => {
    // Its own namespace: a gate with other configuration must not share this suite's queue group.
    let ownNs: TestNamespace;
    let ownGate: RunningService;
    let own: Messaging;
    const ownCheck = (request: CheckInput) => checkOn(own, request);
    const checkOf = (verdict: GateCheckReply, name: string) => verdict.checks.find((c) => c.name === name);

    beforeAll(async () => {
      ownNs = await createTestNamespace('gpol');
      ownGate = await startTestService(GateConfig, gateService, ownNs, {
        GATE_IMPACT_NOTIONAL: 'USD=100000/1000000/10000000,EUR=100000/1000000/10000000',
        GATE_STRATEGY_POLICY: '{"promotion":{"minOutcomes":3}}',
      });
      own = await probeOn(ownNs);
    });
    afterAll(async () => {
      await own.drain();
      await ownGate.close();
      await ownNs.cleanup();
    });

    it('should judge a EUR order by the EUR thresholds, under another policy revision', async () => {
      const request = {
        engineId: 'eur',
        action: { kind: 'order.place', intent: 'open', notional: { amount: 50_000, currency: 'EUR' } },
        impact: { irreversible: false, blastRadius: 'single', concentration: 0 },
      } as const;

      const byDefault = await check(request);
      const configured = await ownCheck(request);

      expect(checkOf(byDefault, 'impact')?.value).toBe('CRITICAL');
      expect(checkOf(configured, 'impact')?.value).toBe('LOW');
      expect(configured.policyRevision).not.toBe(byDefault.policyRevision);
    });

    it('should count promotion to its own number of outcomes, in the checks and in the outcomes it consumes', async () => {
      for (const [command, body] of [
        ['strategy.register', {}],
        ['strategy.override-maturity', { level: 'L2', reason: 'seasoned elsewhere' }],
      ] as const) {
        await own.rpc.call(`bifrost.rpc.gate.cmd.${command}`, {
          actor: operator,
          engineId: 'p1',
          strategyId: 's1',
          ...body,
        });
      }
      expect(checkOf(await ownCheck({ engineId: 'p1' }), 'maturity')).toMatchObject({
        value: 'L2',
        distanceToTrip: 3,
      });

      for (let n = 0; n < 3; n += 1) {
        await own.publisher.publish(
          createEnvelope({
            type: 'ingest.OutcomeReported',
            subject: ownNs.naming.ingestSubject('outcome', 'p1'),
            source: 'sdk',
            actor: { kind: 'engine', id: 'p1' },
            data: {
              engineId: 'p1',
              strategyId: 's1',
              outcomeId: `out-${n}`,
              pnl: { amount: 1_000, currency: 'USD' },
            },
          }),
        );
      }

      await waitFor(async () => checkOf(await ownCheck({ engineId: 'p1' }), 'maturity')?.value === 'L3', {
        what: 'the promotion after 3 outcomes',
      });
    });
  });
});
