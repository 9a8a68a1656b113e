import { canonicalize, sha256Hex } from '@bifrost/audit';
import { POLICY_RECORD_MAX_BYTES, type GateCheckReply, type GatePolicyInForce } from '@bifrost/contracts';
import { Messaging, createEnvelope } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, startTestService, waitFor, type TestNamespace } from '@bifrost/testing';
import { PolicyRevisions } from './check/policy-revisions';
import { GateConfig, gateService } from './gate.service';
import { GateState } from './state/gate-state';

const operator = { kind: 'operator' as const, id: 'alice' };

describe('gate service: policy revisions', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let gate: RunningService;

  const start = () => startTestService(GateConfig, gateService, ns);
  const check = (engineId = 'pr-1') =>
    client.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', {
      engineId,
      strategyId: 's1',
      action: { kind: 'order.place', intent: 'open' },
    });
  const command = (name: string, body: Record<string, unknown>) =>
    client.rpc.call(`bifrost.rpc.gate.cmd.${name}`, { actor: operator, ...body });
  /** The records of a revision, read as the verdict comes back: no waiting. */
  const recordsOf = async (revision: string) =>
    (await client.eventStore.read(ns.naming.eventSubject('gate', 'policy', revision))).events.map(
      (e) => e.envelope,
    );

  beforeAll(async () => {
    ns = await createTestNamespace('gpol');
    client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'probe',
      instanceId: 'p',
      namespace: ns.namespace,
    });
    gate = await start();
  });
  afterAll(async () => {
    await gate?.close();
    await client?.drain();
    await ns?.cleanup();
  });

  it('should record the policies of a revision before the first verdict that carries it, and once', async () => {
    const first = await check();

    const [record, ...more] = await recordsOf(first.policyRevision);
    expect(more).toEqual([]);
    expect(record).toMatchObject({
      type: 'gate.PolicyRevisionRecorded',
      actor: { kind: 'system', id: 'gate' },
      data: { revision: first.policyRevision, bytes: expect.any(Number) },
    });
    const { policies, bytes } = record?.data as { policies: unknown; bytes: number };
    // What the record keeps is what the revision hashes.
    expect(sha256Hex(canonicalize(policies))).toBe(first.policyRevision);
    expect(bytes).toBe(Buffer.byteLength(canonicalize(policies)));
    expect(policies).toMatchObject({
      control: { goLive: false, killSwitches: { global: null } },
      strategy: { maxStrategiesPerEngine: 1000 },
    });

    await Promise.all([check(), check('pr-2'), check('pr-3')]);
    expect(await recordsOf(first.policyRevision)).toHaveLength(1);
  });

  it('should record the new revision a control change makes, and not again the one it returns to', async () => {
    const before = (await check()).policyRevision;
    await command('kill-switch.engage', { mode: 'hard', reason: 'incident 7' });

    const killed = await check();

    expect(killed.action).toBe('KILL');
    expect(killed.policyRevision).not.toBe(before);
    const [record] = await recordsOf(killed.policyRevision);
    expect(record?.data).toMatchObject({ policies: { control: { killSwitches: { global: 'hard' } } } });

    await command('kill-switch.release', { reason: 'incident 7 over' });
    expect((await check()).policyRevision).toBe(before);
    expect(await recordsOf(before)).toHaveLength(1);
  });

  it('should give a check the revision of the control plane it decided with, though a change landed since', async () => {
    const revisions = gate.app.get(PolicyRevisions);
    const state = gate.app.get(GateState);
    const read = state.controlEntry();
    await command('kill-switch.engage', { mode: 'soft', reason: 'incident 9' });
    await waitFor(() => state.controlEntry().lastSequence > read.lastSequence, { what: 'the kill switch' });

    // A check that read the control plane before the change asks for its revision after it.
    const decidedWith = revisions.inForce(read);
    const now = revisions.inForce(state.controlEntry());

    expect(decidedWith.policies).toMatchObject({ control: { killSwitches: { global: null } } });
    expect(now.policies).toMatchObject({ control: { killSwitches: { global: 'soft' } } });
    expect(now.revision).not.toBe(decidedWith.revision);
    expect((await check()).policyRevision).toBe(now.revision);
    await command('kill-switch.release', { reason: 'incident 9 over' });
  });

  it('should answer the policies in force, recorded before the answer, as the next verdict carries them', async () => {
    // A revision no verdict has carried yet.
    await command('kill-switch.engage', { engineId: 'pr-9', mode: 'soft', reason: 'incident 10' });

    const inForce = await client.rpc.call<GatePolicyInForce>('bifrost.rpc.gate.policy', {});

    expect(inForce.policies).toMatchObject({ control: { killSwitches: { engines: { 'pr-9': 'soft' } } } });
    expect(sha256Hex(canonicalize(inForce.policies))).toBe(inForce.revision);
    expect(inForce.bytes).toBe(Buffer.byteLength(canonicalize(inForce.policies)));
    const [record, ...more] = await recordsOf(inForce.revision);
    expect(more).toEqual([]);
    expect(record?.data).toMatchObject({ revision: inForce.revision, policies: inForce.policies });
    expect((await check()).policyRevision).toBe(inForce.revision);
    await command('kill-switch.release', { engineId: 'pr-9', reason: 'incident 10 over' });
  });

  it('should refuse a policy request that asks for anything', async () => {
    await expect(client.rpc.call('bifrost.rpc.gate.policy', { revision: 'latest' })).rejects.toMatchObject({
      code: 'RPC.VALIDATION_FAILED',
    });
  });

  it('should record the revision of policies over 512 KiB without them, saying their size', async () => {
    // Autonomy whitelists are policy: 12 engines with 500 command types of 100 characters each.
    const whitelist = Array.from(
      { length: 500 },
      (_, i) => `cmd_${String(i).padStart(3, '0')}_${'x'.repeat(92)}`,
    );
    for (let e = 0; e < 12; e += 1) {
      await client.publisher.publish(
        createEnvelope({
          type: 'governance.PhaseChanged',
          subject: ns.naming.eventSubject('governance', 'engine', `big-${e}`),
          source: 'governance-agent',
          actor: { kind: 'system', id: 'governance-agent' },
          data: { engineId: `big-${e}`, phase: 'L5', whitelist, reason: 'large whitelist' },
        }),
      );
    }

    // All twelve applied: a verdict under fewer (already over 512 KiB) would not be the one in force.
    const state = gate.app.get(GateState);
    await waitFor(() => state.controlState().autonomy['big-11'] !== undefined, { what: 'the last phase' });

    const [record] = await recordsOf((await check()).policyRevision);

    expect(record?.data).toMatchObject({ policies: null, bytes: expect.any(Number) });
    expect(record?.data['bytes']).toBeGreaterThan(POLICY_RECORD_MAX_BYTES);
    const inForce = await client.rpc.call<GatePolicyInForce>('bifrost.rpc.gate.policy', {});
    expect(inForce).toEqual({
      revision: record?.data['revision'],
      bytes: record?.data['bytes'],
      policies: null,
    });
  });

  it('should find a revision recorded by another replica, or before a restart, and record it no more', async () => {
    const second = await start();
    try {
      const revision = (await check()).policyRevision;
      await gate.close();
      gate = await start();

      // Whichever replica answers, the verdicts come and the revision has its one record.
      const verdicts = await Promise.all(Array.from({ length: 8 }, (_, i) => check(`pr-r${i}`)));

      expect(new Set(verdicts.map((v) => v.policyRevision))).toEqual(new Set([revision]));
      expect(await recordsOf(revision)).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('should record its revision again in an events stream deleted and created again', async () => {
    const before = (await check()).policyRevision;
    expect(await recordsOf(before)).toHaveLength(1);

    let rebuilt = false;
    gate.app.get(GateState).onRebuilt(() => (rebuilt = true));
    // An operator restores an empty events stream: the records of every revision are gone with it.
    const name = ns.naming.streams.events.name;
    const { config } = await client.jsm.streams.info(name);
    await client.jsm.streams.delete(name);
    await client.jsm.streams.add(config);

    // The gate notices the new stream within its state verification, rebuilds, and answers again.
    await waitFor(() => rebuilt, { what: 'the state rebuilt from the new stream', timeoutMs: 15_000 });
    const after = await waitFor(() => check('pr-new-stream').catch(() => undefined), {
      what: 'a verdict from the rebuilt state',
      timeoutMs: 15_000,
    });
    const [record, ...more] = await recordsOf(after.policyRevision);
    expect(more).toEqual([]);
    expect(record).toMatchObject({ data: { revision: after.policyRevision } });
  }, 30_000);
});
