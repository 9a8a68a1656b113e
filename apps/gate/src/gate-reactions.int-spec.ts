import type { GateCheckReply } from '@bifrost/contracts';
import { KeyedMutex, Messaging, createEnvelope } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, startTestService, waitFor, type TestNamespace } from '@bifrost/testing';
import { GateConfig, gateService } from './gate.service';

const operator = { kind: 'operator' as const, id: 'alice' };

/**
 * Kill-switch and pause requests from the tripwire and the canary are consumed from the start of
 * the stream: a gate that starts after they were made still acts on them, and replaying them (a
 * consumer re-created) never undoes an operator's release.
 */
describe('gate reactions across gate restarts', () => {
  let ns: TestNamespace;
  let client: Messaging;
  const gates: RunningService[] = [];

  const start = async (): Promise<RunningService> => {
    const gate = await startTestService(GateConfig, gateService, ns);
    gates.push(gate);
    return gate;
  };
  const stop = async (gate: RunningService) => {
    gates.splice(gates.indexOf(gate), 1);
    await gate.close();
  };
  const action = async (engineId: string) =>
    (
      await client.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', {
        engineId,
        strategyId: 's1',
        action: { kind: 'order.place', intent: 'open' },
      })
    ).action;
  const killRequested = (engineId: string) =>
    client.publisher.publish(
      createEnvelope({
        type: 'canary.KillSwitchRequested',
        subject: ns.naming.eventSubject('canary', 'probe', 'broker-api'),
        source: 'canary',
        actor: { kind: 'system', id: 'canary' },
        data: { probeName: 'broker-api', engineId, mode: 'hard', reason: 'down', consecutiveFailures: 3 },
      }),
    );
  /** Every request on the canary subjects delivered to the gate and acknowledged. */
  const drained = async () => {
    const info = await client.jsm.consumers.info(
      ns.naming.streams.events.name,
      ns.naming.consumerName('gate', 'canary'),
    );
    return info.num_pending === 0 && info.num_ack_pending === 0;
  };

  /** The latest go-live checklist fact for `item`, straight from the control plane's events. */
  const latestFact = async (item: string) => {
    const { events } = await client.eventStore.read(ns.naming.eventSubject('gate', 'control', 'global'));
    return events
      .map((e) => e.envelope)
      .filter((e) => e.type === 'gate.ChecklistFactRecorded' && e.data['item'] === item)
      .at(-1)?.data;
  };

  beforeAll(async () => {
    ns = await createTestNamespace('greact');
    client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'probe',
      instanceId: 'p',
      namespace: ns.namespace,
    });
  });
  afterAll(async () => {
    await Promise.all(gates.map((g) => g.close()));
    await client.drain();
    await ns.cleanup();
  });

  it('should act on a kill request made before the gate ever started', async () => {
    await killRequested('early-bot');

    await start();

    await waitFor(async () => (await action('early-bot')) === 'KILL', { what: 'KILL for early-bot' });
  });

  it('should not re-engage a released kill switch when old requests are replayed', async () => {
    await client.rpc.call('bifrost.rpc.gate.cmd.kill-switch.release', {
      actor: operator,
      engineId: 'early-bot',
      reason: 'broker back',
    });
    expect(await action('early-bot')).not.toBe('KILL');
    const [gate] = gates;
    if (!gate) throw new Error('no gate running');
    await stop(gate);
    // The durable consumer goes away (as after a reset): the next gate re-creates it at the start.
    await client.jsm.consumers.delete(
      ns.naming.streams.events.name,
      ns.naming.consumerName('gate', 'canary'),
    );

    await start();
    await waitFor(drained, { what: 'the old requests replayed' });
    await killRequested('late-bot');
    await waitFor(async () => (await action('late-bot')) === 'KILL', { what: 'a fresh request still acts' });

    expect(await action('early-bot')).not.toBe('KILL');
  });

  it('should pause and kill engines on requests whose reasons are as long as allowed, clipping its own', async () => {
    if (gates.length === 0) await start();
    // 500 code points, as many as a canary or tripwire reason may hold, with emoji where the gate cuts.
    const reason = `a${'😀'.repeat(499)}`;
    const request = (type: string, subject: string, data: Record<string, unknown>) => {
      const source = type.startsWith('canary.') ? 'canary' : 'tripwire';
      return client.publisher.publish(
        createEnvelope({ type, subject, source, actor: { kind: 'system', id: source }, data }),
      );
    };

    await request('canary.EnginePauseRequested', ns.naming.eventSubject('canary', 'engine', 'long-pause'), {
      engineId: 'long-pause',
      reason,
    });
    await request('canary.KillSwitchRequested', ns.naming.eventSubject('canary', 'probe', 'broker-api'), {
      probeName: 'broker-api',
      engineId: 'long-kill',
      mode: 'hard',
      reason,
      consecutiveFailures: 3,
    });
    const policyId = 'p'.repeat(130);
    await request('tripwire.TripwireTriggered', ns.naming.eventSubject('tripwire', 'policy', policyId), {
      policyId,
      engineId: 'long-trip',
      action: 'KILL_SWITCH',
      reason,
    });

    await waitFor(async () => (await action('long-pause')) === 'PAUSE', { what: 'long-pause paused' });
    await waitFor(async () => (await action('long-kill')) === 'KILL', { what: 'KILL for long-kill' });
    await waitFor(async () => (await action('long-trip')) === 'KILL', { what: 'KILL for long-trip' });
    const { events } = await client.eventStore.read(ns.naming.eventSubject('gate', 'control', 'global'));
    const reasonFor = (type: string, engineId: string) =>
      String(
        events.find((e) => e.envelope.type === type && e.envelope.data['engineId'] === engineId)?.envelope
          .data['reason'],
      );
    expect(reasonFor('gate.EnginePaused', 'long-pause')).toBe(`canary: a${'😀'.repeat(490)}…`);
    expect(Array.from(reasonFor('gate.KillSwitchEngaged', 'long-kill'))).toHaveLength(500);
    expect(reasonFor('gate.KillSwitchEngaged', 'long-trip')).toMatch(/^tripwire p+: a😀+…$/u);
  });

  it('should record the go-live fact canaryHealthy: passed when every probe is UP, failed when one goes DOWN', async () => {
    const canary = (type: string, subject: string, data: Record<string, unknown>) =>
      client.publisher.publish(
        createEnvelope({ type, subject, source: 'canary', actor: { kind: 'system', id: 'canary' }, data }),
      );
    const fact = () => latestFact('canaryHealthy');
    const at = new Date().toISOString();
    const probe = (probeName: string, status: string) => ({
      probeName,
      status,
      checks: 10,
      failures: 0,
      consecutiveFailures: 0,
    });

    await canary('canary.SummaryReported', ns.naming.eventSubject('canary', 'summary', '2026-11-22'), {
      from: at,
      to: at,
      probes: [probe('nats', 'UP'), probe('postgres', 'UP')],
      engines: [],
    });
    await waitFor(async () => (await fact())?.['passed'] === true, { what: 'canaryHealthy passed' });
    expect(await fact()).toMatchObject({ reportedBy: 'canary', evidence: 'all 2 probes UP' });

    await canary('canary.ProbeStatusChanged', ns.naming.eventSubject('canary', 'probe', 'postgres'), {
      probeName: 'postgres',
      from: 'UP',
      to: 'DOWN',
      consecutiveFailures: 3,
      consecutivePasses: 0,
      detail: 'connect ECONNREFUSED',
      latencyMs: 3,
      at,
    });
    await waitFor(async () => (await fact())?.['passed'] === false, { what: 'canaryHealthy failed' });
    expect(await fact()).toMatchObject({ evidence: 'probe postgres DOWN: connect ECONNREFUSED' });
  });

  it('should record the go-live fact riskPoliciesPresent from the GLOBAL risk policy', async () => {
    const policyEvent = (type: string, data: Record<string, unknown>) =>
      client.publisher.publish(
        createEnvelope({
          type,
          subject: ns.naming.eventSubject('risk', 'policy', 'GLOBAL'),
          source: 'risk-guard',
          actor: { kind: 'system', id: 'risk-guard' },
          data: {
            policyId: 'GLOBAL',
            cause: { kind: 'seed', id: 'seed' },
            at: new Date().toISOString(),
            ...data,
          },
        }),
      );
    const usd = (amount: number) => ({ amount, currency: 'USD' });

    await policyEvent('risk.PolicyDefined', {
      limits: { maxDailyLoss: usd(25_000), maxDailyExposure: usd(1_000_000), maxDailyActions: 5_000 },
      enabled: true,
      previous: null,
    });
    await waitFor(async () => (await latestFact('riskPoliciesPresent'))?.['passed'] === true, {
      what: 'riskPoliciesPresent passed',
    });
    expect(await latestFact('riskPoliciesPresent')).toMatchObject({ reportedBy: 'risk-guard' });

    await policyEvent('risk.PolicyDisabled', {});
    await waitFor(async () => (await latestFact('riskPoliciesPresent'))?.['passed'] === false, {
      what: 'riskPoliciesPresent failed',
    });
  });

  it('should record the go-live fact auditChainVerified from the projector verifying the audit log', async () => {
    const verified = (data: Record<string, unknown>) =>
      client.publisher.publish(
        createEnvelope({
          type: 'system.AuditChainVerified',
          subject: ns.naming.eventSubject('system', 'audit', '2026-12-07'),
          source: 'projector',
          actor: { kind: 'system', id: 'projector' },
          data: { startedAt: new Date().toISOString(), durationMs: 12, ...data },
        }),
      );
    const fact = () => latestFact('auditChainVerified');
    const head = 'ab'.repeat(32);

    await verified({ intact: true, rowsVerified: 42, throughSeq: 42, headHash: head });
    await waitFor(async () => (await fact())?.['passed'] === true, { what: 'auditChainVerified passed' });
    expect(await fact()).toMatchObject({
      reportedBy: 'projector',
      evidence: `audit log intact: 42 rows through seq 42, head ${head}`,
    });

    await verified({
      intact: false,
      rowsVerified: 6,
      throughSeq: 6,
      break: { seq: 7, reason: 'HASH_MISMATCH' },
    });
    await waitFor(async () => (await fact())?.['passed'] === false, { what: 'auditChainVerified failed' });
    expect(await fact()).toMatchObject({
      evidence: 'audit log broken at seq 7 (HASH_MISMATCH); 6 rows intact before it',
    });
  });

  it('should retry a kill request while JetStream refuses its event, never park it, and engage it after', async () => {
    const gate = gates[0] ?? (await start());
    const events = ns.naming.streams.events.name;
    const consumer = () => client.jsm.consumers.info(events, ns.naming.consumerName('gate', 'tripwire'));
    const parked = async () => (await client.jsm.streams.info(ns.naming.streams.dlq.name)).state.messages;
    const parkedBefore = await parked();
    // The request is held in the gate's hands while the events stream is made to refuse its event.
    let release!: () => void;
    const held = gate.app.get(KeyedMutex).run('control', () => new Promise<void>((r) => (release = r)));
    await client.publisher.publish(
      createEnvelope({
        type: 'tripwire.TripwireTriggered',
        subject: ns.naming.eventSubject('tripwire', 'policy', 'p-refused'),
        source: 'tripwire',
        actor: { kind: 'system', id: 'tripwire' },
        data: { policyId: 'p-refused', engineId: 'refused-bot', action: 'KILL_SWITCH' },
      }),
    );
    await waitFor(async () => (await consumer()).num_ack_pending === 1, { what: 'the request in hand' });
    const { config } = await client.jsm.streams.info(events);
    await client.jsm.streams.update(events, { ...config, max_msg_size: 64 });
    const deliveries = (await consumer()).delivered.consumer_seq;
    release();
    await held;
    try {
      // Five deliveries used to be the limit, after which the request was parked and the engine ran on.
      await waitFor(async () => (await consumer()).delivered.consumer_seq >= deliveries + 6, {
        what: 'a sixth attempt',
        timeoutMs: 20_000,
      });
    } finally {
      await client.jsm.streams.update(events, config);
    }
    await waitFor(async () => (await action('refused-bot')) === 'KILL', { what: 'KILL for refused-bot' });
    expect(await parked()).toBe(parkedBefore);
  }, 30_000);

  it('should engage the global kill switch on a tripwire KILL_SWITCH of global scope (seed 000)', async () => {
    if (gates.length === 0) await start();
    const trip = (engineId: string, killScope?: 'engine' | 'global') =>
      client.publisher.publish(
        createEnvelope({
          type: 'tripwire.TripwireTriggered',
          subject: ns.naming.eventSubject('tripwire', 'policy', 'CAPITAL-roi_event'),
          source: 'tripwire',
          actor: { kind: 'system', id: 'tripwire' },
          data: {
            policyId: 'CAPITAL-roi_event',
            engineId,
            action: 'KILL_SWITCH',
            ...(killScope ? { killScope } : {}),
          },
        }),
      );

    await trip('scoped-bot', 'engine');
    await waitFor(async () => (await action('scoped-bot')) === 'KILL', { what: 'KILL for scoped-bot' });
    expect(await action('bystander-bot')).not.toBe('KILL');

    await trip('capital-bot', 'global');
    await waitFor(async () => (await action('bystander-bot')) === 'KILL', { what: 'KILL for every engine' });
    const { events } = await client.eventStore.read(ns.naming.eventSubject('gate', 'control', 'global'));
    expect(
      events
        .map((e) => e.envelope)
        .find((e) => e.type === 'gate.KillSwitchEngaged' && !('engineId' in e.data))?.data['reason'],
    ).toMatch(/^tripwire CAPITAL-roi_event/);
    await client.rpc.call('bifrost.rpc.gate.cmd.kill-switch.release', {
      actor: operator,
      reason: 'test over',
    });
  });
});
