import type { GateCheckReply } from '@bifrost/contracts';
import { Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import {
  createTestNamespace,
  readStreamJson,
  startTestService,
  waitFor,
  type TestNamespace,
} from '@bifrost/testing';
import { GateCommands } from './commands/gate-commands.service';
import { publishOutcome } from './gate.fixtures';
import { GateConfig, gateService } from './gate.service';
import { GateState } from './state/gate-state';

const operator = { kind: 'operator' as const, id: 'alice' };
// The default: verified every 500 ms, so a replica whose tail is fine stays current through a
// stall of the machine of over a second.
const MAX_LAG_MS = 2_000;

describe('gate replicas: a replica answers only from state proven current', () => {
  let ns: TestNamespace;
  let client: Messaging;
  const running: RunningService[] = [];

  const start = async (): Promise<RunningService> => {
    const service = await startTestService(GateConfig, gateService, ns, {
      GATE_MAX_STATE_LAG_MS: String(MAX_LAG_MS),
    });
    running.push(service);
    return service;
  };
  const check = () =>
    client.rpc.request<GateCheckReply>('bifrost.rpc.gate.check', {
      engineId: 'rep',
      strategyId: 's1',
      action: { kind: 'order.place', intent: 'open' },
    });
  const command = (name: string, body: Record<string, unknown>) =>
    client.rpc.call(`bifrost.rpc.gate.cmd.${name}`, { actor: operator, ...body });

  beforeAll(async () => {
    ns = await createTestNamespace('grep');
    client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'probe',
      instanceId: 'p',
      namespace: ns.namespace,
    });
  });
  afterAll(async () => {
    for (const service of running) await service.close().catch(() => undefined);
    await client.drain();
    await ns.cleanup();
  });

  it('should stop answering once its tail falls behind a kill switch engaged through another replica', async () => {
    const cut = await start();
    await command('execution-class', {
      actionKind: 'order.place',
      executionClass: 'SANDBOX_EXEC',
      reason: 't',
    });
    await command('strategy.register', { engineId: 'rep', strategyId: 's1' });
    await command('strategy.override-maturity', {
      engineId: 'rep',
      strategyId: 's1',
      level: 'L4',
      reason: 't',
    });
    // Idle for longer than the limit: a replica whose tail is fine goes on proving itself current.
    await new Promise((resolve) => setTimeout(resolve, 3 * MAX_LAG_MS));
    expect(await check()).toMatchObject({ ok: true, data: { action: 'ALLOW' } });

    const other = await start();
    // The tail of `cut` stops delivering; its NATS connection and its verification go on.
    await cut.app.get(GateState).context.stop();
    await other.app.get(GateCommands).control(
      {
        type: 'EngageKillSwitch',
        data: {
          engineId: 'rep',
          mode: 'hard',
          reason: 'incident',
          actor: operator,
          now: new Date().toISOString(),
        },
      },
      operator,
    );
    await other.close();

    // Within the limit it may still answer from the state before the kill switch; past it, never.
    const refused = await waitFor(
      async () => {
        const reply = await check();
        return !reply.ok && reply;
      },
      { timeoutMs: 10 * MAX_LAG_MS, what: 'the cut replica to refuse checks' },
    );
    expect(refused.error).toMatchObject({ code: 'INFRA.STATE_STALE' });
    expect(await check()).toMatchObject({ ok: false, error: { code: 'INFRA.STATE_STALE' } });
    const ready = await fetch(`${cut.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { 'gate-state': { ok: false } } });
    const metrics = await (await fetch(`${cut.url}/metrics`)).text();
    const staleness = /bifrost_gate_state_staleness_seconds\{service="gate"\} ([\d.e+-]+)/.exec(metrics)?.[1];
    expect(Number(staleness)).toBeGreaterThan(MAX_LAG_MS / 1000);
  }, 60_000);
});

describe('gate replicas: outcomes are folded in the order they were reported', () => {
  let ns: TestNamespace;
  let client: Messaging;
  const running: RunningService[] = [];

  beforeAll(async () => {
    ns = await createTestNamespace('gord');
    client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'probe',
      instanceId: 'p',
      namespace: ns.namespace,
    });
    for (let i = 0; i < 2; i += 1) running.push(await startTestService(GateConfig, gateService, ns));
  });
  afterAll(async () => {
    for (const service of running) await service.close().catch(() => undefined);
    await client.drain();
    await ns.cleanup();
  });

  it('should record one strategy’s outcomes in stream order while two replicas share the consumer', async () => {
    const count = 200;
    // Losses with a win every 7th: a swap of two outcomes changes the loss streak.
    const reported = Array.from({ length: count }, (_, n) => ({
      outcomeId: `o-${n}`,
      pnl: { amount: n % 7 === 6 ? 500 : -10, currency: 'USD' },
    }));
    await Promise.all(
      reported.map((outcome) => publishOutcome(client, { engineId: 'ord', strategyId: 's1', ...outcome })),
    );
    // The order the ingest stream holds them in (pipelined publishes may be stored in any order).
    // (the namespace's ingest stream holds nothing else)
    const inStreamOrder = (
      await readStreamJson<{ data: { outcomeId: string } }>(client.js, ns.naming.streams.ingest.name, count)
    ).map((m) => m.data.outcomeId);
    expect(inStreamOrder).toHaveLength(count);

    const subject = ns.naming.eventSubject('gate', 'strategy', 'ord:s1');
    const recorded = await waitFor(
      async () => {
        const ids = (await client.eventStore.read(subject)).events
          .filter((e) => e.envelope.type === 'gate.OutcomeRecorded')
          .map((e) => (e.envelope.data as { outcomeId: string }).outcomeId);
        return ids.length === count && ids;
      },
      { timeoutMs: 30_000, what: `${count} outcomes recorded` },
    );
    expect(recorded).toEqual(inStreamOrder);
  }, 60_000);
});
