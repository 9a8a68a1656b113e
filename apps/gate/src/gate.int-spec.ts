import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createEnvelope, Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, startTestService, type TestNamespace } from '@bifrost/testing';
import { GateConfig, gateService } from './gate.service';

describe('gate service shell', () => {
  let ns: TestNamespace;
  let client: Messaging;

  beforeAll(async () => {
    ns = await createTestNamespace('gate');
    client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'probe',
      instanceId: 'p1',
      namespace: ns.namespace,
    });
  });
  afterAll(async () => {
    await client.drain();
    await ns.cleanup();
  });

  const start = (): Promise<RunningService> => startTestService(GateConfig, gateService, ns);

  it('should serve health and metrics, answer ping, and replay its start history on restart', async () => {
    const first = await start();
    try {
      expect((await fetch(`${first.url}/health/live`)).status).toBe(200);
      const ready = await fetch(`${first.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ok',
        checks: { nats: { ok: true }, startup: { ok: true } },
      });
      const metrics = await (await fetch(`${first.url}/metrics`)).text();
      expect(metrics).toContain('bifrost_process_cpu_user_seconds_total{service="gate"}');
      expect(metrics).toContain(
        'bifrost_gate_kill_switch_engaged{scope="global",engine="",mode="none",service="gate"} 0',
      );

      const pong = await client.rpc.call('bifrost.rpc.gate.ping', { echo: 'hi' });
      expect(pong).toMatchObject({
        service: 'gate',
        instanceId: first.info.instanceId,
        starts: 1,
        echo: 'hi',
      });
    } finally {
      await first.close();
    }

    const second = await start();
    try {
      await expect(client.rpc.call('bifrost.rpc.gate.ping', {})).resolves.toMatchObject({
        instanceId: second.info.instanceId,
        starts: 2,
      });
      const { events } = await client.eventStore.read(ns.naming.eventSubject('system', 'service', 'gate'));
      expect(events.map((e) => e.envelope.data['previousStarts'])).toEqual([0, 1]);
      expect(events.map((e) => e.envelope.data['instanceId'])).toEqual([
        first.info.instanceId,
        second.info.instanceId,
      ]);
    } finally {
      await second.close();
    }
  });

  it('should answer malformed and schema-invalid pings with error replies', async () => {
    const service = await start();
    try {
      const raw = await client.nc.request(
        ns.naming.qualify('bifrost.rpc.gate.ping'),
        new TextEncoder().encode('not json'),
      );
      expect(JSON.parse(new TextDecoder().decode(raw.data))).toMatchObject({
        ok: false,
        error: { code: 'PAYLOAD.MALFORMED' },
      });
      await expect(client.rpc.request('bifrost.rpc.gate.ping', { echo: 42 })).resolves.toMatchObject({
        ok: false,
        error: { code: 'RPC.VALIDATION_FAILED' },
      });
    } finally {
      await service.close();
    }
  });

  it('should record every start when two instances start at once', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    await Promise.all([a.close(), b.close()]);
    const { events } = await client.eventStore.read(ns.naming.eventSubject('system', 'service', 'gate'));
    const previous = events.map((e) => e.envelope.data['previousStarts'] as number);
    expect(previous).toEqual(previous.map((_, i) => i));
    expect(new Set([a.info.starts, b.info.starts]).size).toBe(2);
  });

  it('should refuse to publish an envelope of an unknown type', async () => {
    const bogus = createEnvelope({
      type: 'gate.NothingHappened',
      subject: ns.naming.eventSubject('gate', 'control', 'global'),
      source: 'test',
      actor: { kind: 'system', id: 't' },
      data: {},
    });
    await expect(client.publisher.publish(bogus)).rejects.toMatchObject({ code: 'ENVELOPE.UNKNOWN_TYPE' });
  });
});

describe('a service with stream settings in its configuration', () => {
  let ns: TestNamespace;

  beforeAll(async () => {
    ns = await createTestNamespace('gstreams');
  });
  afterAll(() => ns.cleanup());

  it('should create the streams with them, and refuse to start against streams that differ', async () => {
    const DAY_NS = 24 * 3600 * 1e9;
    const gate = await startTestService(GateConfig, gateService, ns, {
      DECISIONS_RETENTION_DAYS: '7',
      INGEST_RETENTION_DAYS: '0',
    });
    const nc = await connect({ servers: ns.natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      const maxAge = async (name: string) => (await jsm.streams.info(name)).config.max_age;
      expect(await maxAge(ns.naming.streams.decisions.name)).toBe(7 * DAY_NS);
      expect(await maxAge(ns.naming.streams.ingest.name)).toBe(0);
      expect(await maxAge(ns.naming.streams.events.name)).toBe(0);

      await expect(startTestService(GateConfig, gateService, ns)).rejects.toThrow(
        /stream \S+BIFROST_DECISIONS exists with a different configuration \(max_age: expected 2592000000000000, found 604800000000000\)/,
      );
    } finally {
      await nc.close();
      await gate.close();
    }
  });
});
