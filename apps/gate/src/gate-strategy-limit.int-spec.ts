import type { GateCheckReply } from '@bifrost/contracts';
import { Messaging, decodeEnvelope, decodeJson } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, startTestService, waitFor, type TestNamespace } from '@bifrost/testing';
import { publishOutcome } from './gate.fixtures';
import { GateConfig, gateService } from './gate.service';

const LIMIT = 3;
const operator = { kind: 'operator' as const, id: 'alice' };

describe('gate service: the limit on strategies registered by checks and outcomes', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let gate: RunningService;
  const first: GateCheckReply[] = [];

  const start = () =>
    startTestService(GateConfig, gateService, ns, {
      GATE_STRATEGY_POLICY: JSON.stringify({ maxStrategiesPerEngine: LIMIT }),
    });
  const check = (engineId: string, strategyId: string) =>
    client.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', {
      engineId,
      strategyId,
      action: { kind: 'order.place', intent: 'open' },
    });
  const limitCheck = (verdict: GateCheckReply) => verdict.checks.find((c) => c.name === 'strategyLimit');
  const strategyEvents = async (engineId: string, strategyId: string) =>
    (
      await client.eventStore.read(ns.naming.eventSubject('gate', 'strategy', `${engineId}:${strategyId}`))
    ).events.map((e) => e.envelope.type);
  const decisionSubject = (engineId: string) => ns.naming.decisionSubject('gate', engineId);
  const decisionsOf = async (engineId: string) => {
    const info = await client.jsm.streams.info(ns.naming.streams.decisions.name, {
      subjects_filter: decisionSubject(engineId),
    });
    return info.state.subjects?.[decisionSubject(engineId)] ?? 0;
  };

  const reportOutcome = (engineId: string, strategyId: string, outcomeId: string) =>
    publishOutcome(client, { engineId, strategyId, outcomeId, pnl: { amount: 1_000, currency: 'USD' } });
  const gateLetters = async () => {
    const stream = ns.naming.streams.dlq.name;
    const info = await client.jsm.streams.info(stream);
    const letters: { consumer: string; error: { code: string; message: string } }[] = [];
    for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq += 1) {
      const msg = await client.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
      if (msg) letters.push(decodeJson(msg.data) as (typeof letters)[number]);
    }
    return letters.filter((l) => l.consumer === 'gate__outcomes');
  };

  beforeAll(async () => {
    ns = await createTestNamespace('glim');
    client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'probe',
      instanceId: 'p',
      namespace: ns.namespace,
    });
    gate = await start();
    for (let i = 1; i <= LIMIT; i += 1) first.push(await check('lim', `s${i}`));
  });
  afterAll(async () => {
    await gate.close();
    await client.drain();
    await ns.cleanup();
  });

  it('should register new strategies up to the limit, the last one at distance 0', async () => {
    expect(first.map((v) => limitCheck(v)?.distanceToTrip)).toEqual([2, 1, 0]);
    expect(first.map((v) => limitCheck(v)?.outcome)).toEqual(['ALLOW', 'ALLOW', 'ALLOW']);
    expect(await strategyEvents('lim', `s${LIMIT}`)).toEqual(['gate.StrategyRegistered']);
    // Per engine: another engine starts from none.
    expect(limitCheck(await check('lim2', 's1'))).toMatchObject({ outcome: 'ALLOW', value: 0 });
  });

  it('should answer BLOCK to new strategies beyond the limit, register nothing and record every decision', async () => {
    const before = await decisionsOf('lim');

    const verdicts = [await check('lim', 'x1'), await check('lim', 'x2'), await check('lim', 'x1')];

    for (const verdict of verdicts) {
      expect(verdict.action).toBe('BLOCK');
      expect(limitCheck(verdict)).toEqual({
        name: 'strategyLimit',
        outcome: 'BLOCK',
        value: LIMIT,
        threshold: LIMIT,
        distanceToTrip: -1,
        reason: expect.stringMatching(/register.*explicitly.*raises the limit/),
      });
    }
    expect(await strategyEvents('lim', 'x1')).toEqual([]);
    expect(await strategyEvents('lim', 'x2')).toEqual([]);
    expect(await decisionsOf('lim')).toBe(before + verdicts.length);
    const last = await client.jsm.streams.getMessage(ns.naming.streams.decisions.name, {
      last_by_subj: decisionSubject('lim'),
    });
    expect(decodeEnvelope(last?.data ?? new Uint8Array())).toMatchObject({
      id: verdicts[2]?.decisionId,
      data: { verdict: { action: 'BLOCK', checks: expect.arrayContaining([limitCheck(verdicts[2]!)]) } },
    });
  });

  it('should park an outcome of a new strategy beyond the limit, registering nothing', async () => {
    await reportOutcome('lim', 'y1', 'out-y1');
    // A later outcome of a registered strategy is recorded: the parked one did not stop the consumer.
    await reportOutcome('lim', 's1', 'out-s1');

    await waitFor(async () => (await strategyEvents('lim', 's1')).includes('gate.OutcomeRecorded'), {
      what: 'the outcome of a registered strategy',
    });
    const letters = await gateLetters();
    expect(letters).toEqual([
      expect.objectContaining({
        error: expect.objectContaining({
          code: 'GATE.STRATEGY_LIMIT',
          message: expect.stringMatching(/strategy y1 not registered.*replays the outcome/),
        }),
      }),
    ]);
    expect(await strategyEvents('lim', 'y1')).toEqual([]);
    // Below the limit, an outcome registers its strategy at L0 and is recorded.
    await reportOutcome('lim2', 'y1', 'out-lim2');
    await waitFor(
      async () =>
        (await strategyEvents('lim2', 'y1')).join() === 'gate.StrategyRegistered,gate.OutcomeRecorded',
      { what: 'an outcome registering its strategy' },
    );
  });

  it('should let an operator register one explicitly beyond the limit', async () => {
    await client.rpc.call('bifrost.rpc.gate.cmd.strategy.register', {
      actor: operator,
      engineId: 'lim',
      strategyId: 'x1',
    });

    expect(await strategyEvents('lim', 'x1')).toEqual(['gate.StrategyRegistered']);
    const verdict = await check('lim', 'x1');
    expect(limitCheck(verdict)).toBeUndefined();
    expect(verdict.checks.find((c) => c.name === 'maturity')).toMatchObject({ value: 'L0' });
  });

  it('should count the engine strategies again after a restart', async () => {
    await gate.close();
    gate = await start();

    const verdict = await check('lim', 'x3');

    expect(limitCheck(verdict)).toMatchObject({ outcome: 'BLOCK', value: LIMIT + 1, threshold: LIMIT });
    expect(await strategyEvents('lim', 'x3')).toEqual([]);
  });
});
