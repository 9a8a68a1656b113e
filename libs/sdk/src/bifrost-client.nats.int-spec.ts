import { execFile } from 'node:child_process';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { actionHash } from '@bifrost/audit';
import { Catalogue, catalogue, type Envelope } from '@bifrost/contracts';
import {
  createTestNamespace,
  startTestService,
  TcpProxy,
  waitFor,
  type TestNamespace,
} from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the SDK's specs run the real gate (issue 6 brief)
import { GateConfig, gateService } from '../../../apps/gate/src/gate.service';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the SDK's specs run the real services
import {
  connectClient,
  occupyLease,
  startRiskGuard,
  upsertPolicy,
} from '../../../apps/risk-guard/src/risk-guard.fixtures';
import { createClient, type BifrostClient } from './bifrost.client';
import { SDK_IDENTITY } from './heartbeat.payload';
import { grantedApproval } from './replies.fixtures';
import type { ClientEvents, ClientOptions, ConnectionState } from './sdk.types';

describe('SDK over NATS', () => {
  const clients: BifrostClient[] = [];
  const createdClient = (options: Partial<ClientOptions>): BifrostClient => {
    const created = createClient({ engineId: 'e1', heartbeatIntervalMs: 0, ...options });
    clients.push(created);
    return created;
  };
  const client = (ns: TestNamespace, options: Partial<ClientOptions> = {}): BifrostClient =>
    createdClient({ natsUrl: ns.natsUrl, namespace: ns.namespace, ...options });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  describe('with a running gate', () => {
    let ns: TestNamespace;
    let gate: Awaited<ReturnType<typeof startTestService>>;
    let operator: NatsConnection;
    const command = (name: string, body: Record<string, unknown>) =>
      rpc(operator, ns.naming.rpcSubject('gate', `cmd.${name}`), {
        actor: { kind: 'operator', id: 'alice' },
        ...body,
      });
    const onboard = async (strategyId: string, level: string) => {
      await command('strategy.register', { engineId: 'e1', strategyId });
      await command('strategy.override-maturity', {
        engineId: 'e1',
        strategyId,
        level,
        reason: 'onboarding',
      });
    };

    beforeAll(async () => {
      ns = await createTestNamespace('sdkgate');
      gate = await startTestService(GateConfig, gateService, ns);
      operator = await connect({ servers: ns.natsUrl });
      await command('execution-class', {
        actionKind: 'order.place',
        executionClass: 'SANDBOX_EXEC',
        reason: 'test',
      });
      await onboard('s1', 'L4');
    });
    afterAll(async () => {
      await operator.close();
      await gate.close();
      await ns.cleanup();
    });

    it('should return the gate verdict for an onboarded strategy, explained and recorded', async () => {
      const sdk = client(ns);
      await expect(sdk.whenConnected(5_000)).resolves.toBe(true);

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });

      expect(verdict).toMatchObject({ failClosed: false, action: 'ALLOW', engineId: 'e1', strategyId: 's1' });
      if (verdict.failClosed) throw new Error('unreachable');
      expect(verdict.decisionId).toMatch(/^[0-9a-f-]{36}$/);
      const record = await withManager(ns, (jsm) =>
        jsm.streams.getMessage(ns.naming.streams.decisions.name, {
          last_by_subj: ns.naming.decisionSubject('gate', 'e1'),
        }),
      );
      expect(record?.json<Envelope<{ verdict: { decisionId: string } }>>().data.verdict.decisionId).toBe(
        verdict.decisionId,
      );
      expect(verdict.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['killSwitch', 'maturity']));
    });

    it('should pass the gate BLOCK of a strategy at L0 through as a real verdict, not a fail-closed one', async () => {
      const sdk = client(ns);
      await sdk.whenConnected(5_000);

      const verdict = await sdk.check({
        strategyId: 'fresh',
        action: { kind: 'order.place', intent: 'open' },
      });

      expect(verdict).toMatchObject({ failClosed: false, action: 'BLOCK', strategyId: 'fresh' });
    });

    it("should serialize the action once, and bind the verdict to the gate's hash of it as sent", async () => {
      const sdk = client(ns);
      await sdk.whenConnected(5_000);
      let serialized = 0;
      // Parameters out of JCS order, with a value JSON turns into another (as a Date does).
      const at = { toJSON: () => ((serialized += 1), '2026-12-08T00:00:00.000Z') };
      const action = {
        kind: 'order.place',
        intent: 'open' as const,
        params: { z: [1.5, 1e21, 'é'], a: { at, dropped: undefined } },
      };

      const verdict = await sdk.check({ strategyId: 's1', action });

      expect(verdict).toMatchObject({ failClosed: false, action: 'ALLOW' });
      if (verdict.failClosed) throw new Error('unreachable');
      expect(verdict.actionHash).toBe(
        actionHash({
          kind: 'order.place',
          intent: 'open',
          params: { z: [1.5, 1e21, 'é'], a: { at: '2026-12-08T00:00:00.000Z' } },
        }),
      );
      expect(serialized).toBe(1);
    });

    describe('an action that needs approval (a strategy at L2)', () => {
      const action = {
        kind: 'order.place',
        intent: 'open' as const,
        notional: { amount: 3_000, currency: 'USD' },
      };
      beforeAll(async () => {
        await onboard('gated', 'L2');
      });
      /** A connected client whose order of `amount` the gate answered REQUIRE_APPROVAL. */
      const askApproval = async (amount: number) => {
        const sdk = client(ns);
        await sdk.whenConnected(5_000);
        const asked = await sdk.check({
          strategyId: 'gated',
          action: { ...action, notional: { amount, currency: 'USD' } },
        });
        if (asked.failClosed || !asked.approvalId) throw new Error(`no approval asked: ${asked.action}`);
        return { sdk, approvalId: asked.approvalId };
      };

      it('should wait until an operator approves, then act with the token the approval issued', async () => {
        const { sdk, approvalId } = await askApproval(action.notional.amount);
        const where = { strategyId: 'gated', approvalId };

        const waiting = sdk.awaitApproval(where, { timeoutMs: 10_000, pollMs: 100 });
        await expect(sdk.approval(where)).resolves.toMatchObject({ status: 'pending', token: null });
        await command('strategy.approval.approve', { engineId: 'e1', ...where });
        const approved = await waiting;

        expect(approved).toMatchObject({
          status: 'granted',
          decidedBy: 'alice',
          token: { status: 'active' },
        });
        const acted = await sdk.check({ strategyId: 'gated', action, tokenId: approved.token?.tokenId });
        expect(acted).toMatchObject({ failClosed: false, action: 'REDUCE_SIZE', sizeMultiplier: 0.1 });
      });

      it('should answer pending when nobody decides within the time given', async () => {
        const { sdk, approvalId } = await askApproval(3_001);
        const started = Date.now();

        const answer = await sdk.awaitApproval(
          { strategyId: 'gated', approvalId },
          { timeoutMs: 400, pollMs: 100 },
        );

        expect(answer.status).toBe('pending');
        expect(Date.now() - started).toBeGreaterThanOrEqual(300);
        expect(Date.now() - started).toBeLessThan(2_900);
      });

      it('should stop waiting when its signal aborts (an engine shutting down), answering pending', async () => {
        const { sdk, approvalId } = await askApproval(3_002);
        const stopping = new AbortController();
        const started = Date.now();
        setTimeout(() => stopping.abort(), 200);

        const answer = await sdk.awaitApproval(
          { strategyId: 'gated', approvalId },
          { timeoutMs: 10_000, pollMs: 5_000, signal: stopping.signal },
        );

        expect(answer.status).toBe('pending');
        expect(Date.now() - started).toBeLessThan(4_000);
      });

      it('should reject at once for a request the strategy does not have, without waiting', async () => {
        const sdk = client(ns);
        await sdk.whenConnected(5_000);
        const started = Date.now();

        await expect(
          sdk.awaitApproval({ strategyId: 'gated', approvalId: 'no-such-request' }, { timeoutMs: 5_000 }),
        ).rejects.toMatchObject({ name: 'SdkError', code: 'GATE.APPROVAL_UNKNOWN' });
        expect(Date.now() - started).toBeLessThan(4_000);
        await expect(sdk.approval({ strategyId: 'gated', approvalId: '' })).rejects.toMatchObject({
          code: 'SDK.INVALID_REQUEST',
        });
      });
    });

    it.each([
      ['a fraction, rounded up', 1_500.5],
      ['a string from JavaScript, ignored', '500'],
    ])('should take a per-call deadline that is %s and answer', async (_what, deadlineMs) => {
      const sdk = client(ns);
      await sdk.whenConnected(5_000);

      const verdict = await sdk.check(
        { strategyId: 's1', action: { kind: 'order.place', intent: 'open' } },
        { deadlineMs: deadlineMs as number },
      );

      expect(verdict).toMatchObject({ failClosed: false, action: 'ALLOW' });
    });

    it('should count the time before the request leaves against the deadline (a busy engine)', async () => {
      const sdk = client(ns);
      await sdk.whenConnected(5_000);
      const request = {
        strategyId: 's1',
        // Reading the request takes longer than the deadline, as in an engine whose event loop is busy.
        get action() {
          stall(300);
          return { kind: 'order.place', intent: 'open' as const };
        },
      };

      const verdict = await sdk.check(request, { deadlineMs: 100 });

      expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.DEADLINE_EXCEEDED' });
    });

    it('should fail closed without asking when the request breaks the schema', async () => {
      const sdk = client(ns);
      await sdk.whenConnected(5_000);

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'Not A Kind', intent: 'open' } });

      expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.INVALID_REQUEST' });
    });

    it('should publish outcomes as catalogue envelopes with Nats-Msg-Id = envelope id', async () => {
      const sdk = client(ns);
      const flushed = collect(sdk, 'flushed');

      const recorded = sdk.recordOutcome(outcome('o-1'));
      await waitFor(() => flushed.length === 1, { what: 'the outcome acknowledged' });

      const stored = await storedFact(ns, flushed[0]?.sequence as number);
      expect(stored.msgId).toBe(recorded.id);
      expect(catalogue.check(stored.envelope)).toEqual({ ok: true });
      expect(stored.envelope).toMatchObject({
        id: recorded.id,
        occurredAt: recorded.occurredAt,
        type: 'ingest.OutcomeReported',
        subject: ns.naming.ingestSubject('outcome', 'e1'),
        actor: { kind: 'engine', id: 'e1' },
        data: { engineId: 'e1', outcomeId: 'o-1' },
      });
    });

    it('should report in its heartbeats the policy revision of its last verdict and the sessions the engine counts', async () => {
      let sessions = 2;
      const sdk = client(ns, { heartbeatIntervalMs: 60_000, activeSessions: () => sessions });
      const flushed = collect(sdk, 'flushed');
      await waitFor(() => flushed.length === 1, { what: 'the heartbeat on connect' });

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });
      if (verdict.failClosed) throw new Error(`no verdict: ${verdict.code}`);
      sessions = 0;
      sdk.heartbeat({ status: 'trading' });
      await waitFor(() => flushed.length === 2, { what: 'the heartbeat after the verdict' });

      const before = await storedFact(ns, flushed[0]?.sequence as number);
      const after = await storedFact(ns, flushed[1]?.sequence as number);
      // No verdict yet: no revision to report.
      expect(before.envelope.data).toEqual({
        engineId: 'e1',
        intervalMs: 60_000,
        activeSessions: 2,
        ...sdkFields,
      });
      expect(after.envelope.data).toEqual({
        engineId: 'e1',
        intervalMs: 60_000,
        status: 'trading',
        policyRevision: verdict.policyRevision,
        activeSessions: 0,
        ...sdkFields,
      });
      // What every consumer (the canary) and the gateway check an ingest envelope against.
      expect(catalogue.check(after.envelope)).toEqual({ ok: true });
    });
  });

  describe('without an answering gate', () => {
    let ns: TestNamespace;
    let silent: NatsConnection;

    beforeAll(async () => {
      ns = await createTestNamespace('sdknogate');
      // Subscribed but never answering: a gate that hangs.
      silent = await connect({ servers: ns.natsUrl });
      silent.subscribe(ns.naming.rpcSubject('gate', 'check'));
      silent.subscribe(ns.naming.rpcSubject('risk', 'reserve'));
      await silent.flush();
    });
    afterAll(async () => {
      await silent.close();
      await ns.cleanup();
    });

    it('should BLOCK once the deadline passes, not before and not much after', async () => {
      const sdk = client(ns, { deadlineMs: 300 });
      await sdk.whenConnected(5_000);
      const started = Date.now();

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });

      const elapsed = Date.now() - started;
      expect(verdict).toMatchObject({
        failClosed: true,
        action: 'BLOCK',
        sizeMultiplier: 0,
        code: 'SDK.DEADLINE_EXCEEDED',
      });
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(1_900);
    });

    it('should BLOCK after the default deadline of 2000 ms when none is given, not before and not never', async () => {
      const sdk = client(ns);
      await sdk.whenConnected(5_000);
      const started = Date.now();

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });

      const elapsed = Date.now() - started;
      expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.DEADLINE_EXCEEDED' });
      // The NATS request was given what was left of 2000 ms when it left, and it waited for all of it.
      const given = Number(/within (\d+) ms$/.exec(verdict.failClosed ? verdict.reason : '')?.[1]);
      expect(given).toBeGreaterThan(1_500);
      expect(given).toBeLessThanOrEqual(2_000);
      expect(elapsed).toBeGreaterThanOrEqual(1_990);
      expect(elapsed).toBeLessThan(5_000);
    }, 10_000);

    it('should honour a per-call deadline', async () => {
      const sdk = client(ns, { deadlineMs: 5_000 });
      await sdk.whenConnected(5_000);
      const started = Date.now();

      await sdk.check(
        { strategyId: 's1', action: { kind: 'order.place', intent: 'open' } },
        { deadlineMs: 100 },
      );

      expect(Date.now() - started).toBeLessThan(1_900);
    });

    it('should deny a reservation with reason UNAVAILABLE once the deadline passes', async () => {
      const sdk = client(ns, { deadlineMs: 200 });
      await sdk.whenConnected(5_000);

      const result = await sdk.reserve({ idempotencyKey: 'k-1', maxLoss: eur(500), exposure: eur(10_000) });

      expect(result).toMatchObject({
        failClosed: true,
        outcome: 'DENIED',
        reason: 'UNAVAILABLE',
        code: 'SDK.DEADLINE_EXCEEDED',
        idempotencyKey: 'k-1',
      });
    });

    it('should BLOCK at once when nothing listens on the subject', async () => {
      const other = await createTestNamespace('sdknobody');
      try {
        const sdk = client(other, { deadlineMs: 5_000 });
        await sdk.whenConnected(5_000);
        const started = Date.now();

        const verdict = await sdk.check({
          strategyId: 's1',
          action: { kind: 'order.place', intent: 'open' },
        });

        expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.SERVICE_UNAVAILABLE' });
        expect(Date.now() - started).toBeLessThan(1_900);
      } finally {
        await other.cleanup();
      }
    });

    it('should keep asking for an approval while no gate answers, and reject with the SDK error at the end', async () => {
      const other = await createTestNamespace('sdknoapproval');
      try {
        const sdk = client(other);
        await sdk.whenConnected(5_000);
        const started = Date.now();

        await expect(
          sdk.awaitApproval({ strategyId: 's1', approvalId: 'a-1' }, { timeoutMs: 500, pollMs: 100 }),
        ).rejects.toMatchObject({ name: 'SdkError', code: 'SDK.SERVICE_UNAVAILABLE' });
        expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      } finally {
        await other.cleanup();
      }
    });

    it('should reject a settle that breaks its schema locally, as over HTTP', async () => {
      const sdk = client(ns);
      await sdk.whenConnected(5_000);

      await expect(
        sdk.settle({ reservationId: '01937b4e-0000-7000-8000-000000000000', realizedLoss: eur(1.5) }),
      ).rejects.toMatchObject({ name: 'SdkError', code: 'SDK.INVALID_REQUEST' });
    });

    it('should reject settle with the SDK error when no risk guard runs', async () => {
      const sdk = client(ns, { deadlineMs: 200 });
      await sdk.whenConnected(5_000);

      await expect(
        sdk.settle({ reservationId: '01937b4e-0000-7000-8000-000000000000', realizedLoss: eur(0) }),
      ).rejects.toMatchObject({ name: 'SdkError', code: 'SDK.SERVICE_UNAVAILABLE' });
    });
  });

  describe('during a risk-guard failover (a standby, the crashed leader’s lease still held)', () => {
    it('should retry the reservation within its deadline until the standby leads, and be granted', async () => {
      const ns = await createTestNamespace('sdkfail');
      const operator = await connectClient(ns, 'operator');
      const services: { close(): Promise<void> }[] = [];
      try {
        const first = await startRiskGuard(ns);
        await waitFor(() => upsertPolicy(operator, 'e1', 100_000, 100_000, 100).then(() => true), {
          what: 'a leader',
        });
        await first.close();
        await occupyLease(operator, 1_500);
        services.push(await startRiskGuard(ns));
        const sdk = client(ns, { deadlineMs: 10_000 });
        await sdk.whenConnected(5_000);

        const usd = { amount: 5, currency: 'USD' };
        const result = await sdk.reserve({ idempotencyKey: 'k-failover', maxLoss: usd, exposure: usd });

        expect(result).toMatchObject({ failClosed: false, outcome: 'GRANTED' });
      } finally {
        for (const service of services) await service.close();
        await operator.drain();
        await ns.cleanup();
      }
    }, 30_000);
  });

  describe('while NATS cannot be reached', () => {
    it('should BLOCK at once, keep trying, and connect once NATS is back', async () => {
      const ns = await createTestNamespace('sdkdown');
      const proxy = await TcpProxy.start(natsTarget(ns.natsUrl));
      proxy.pause();
      try {
        const failures: string[] = [];
        const sdk = client(ns, {
          natsUrl: proxy.url,
          logger: { debug: (message) => failures.push(message) },
        });
        await waitFor(() => failures.includes('bifrost: NATS connect failed'), { what: 'a failed attempt' });

        const verdict = await sdk.check({
          strategyId: 's1',
          action: { kind: 'order.place', intent: 'open' },
        });

        expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.DISCONNECTED' });
        expect(sdk.state).toBe('connecting');

        proxy.resume();
        await expect(sdk.whenConnected(5_000)).resolves.toBe(true);
      } finally {
        await proxy.stop();
        await ns.cleanup();
      }
    });
  });

  describe('awaitApproval when an ask goes unanswered (a gate whose answers are scripted)', () => {
    let ns: TestNamespace;
    let gate: ScriptedApprovals;
    let proxy: TcpProxy;
    const where = { strategyId: 's1', approvalId: 'a-1' };

    beforeEach(async () => {
      ns = await createTestNamespace('sdkapprovalretry');
      gate = await ScriptedApprovals.start(ns);
      proxy = await TcpProxy.start(natsTarget(ns.natsUrl));
    });
    afterEach(async () => {
      await proxy.stop();
      await gate.stop();
      await ns.cleanup();
    });

    it('should ask again after an ask that got no answer within the deadline, and return the decision', async () => {
      const sdk = client(ns, { deadlineMs: 300 });
      await sdk.whenConnected(5_000);
      gate.ignoreNext(1);

      const answer = await sdk.awaitApproval(where, { timeoutMs: 5_000, pollMs: 100 });

      expect(answer).toEqual(gate.granted);
      expect(gate.asks).toBe(2);
    });

    it('should keep asking while disconnected, and return the decision once NATS is back', async () => {
      const sdk = client(ns, { natsUrl: proxy.url });
      await sdk.whenConnected(5_000);
      proxy.pause();
      await waitFor(() => !sdk.connected, { what: 'the client to notice the cut' });

      // Its first ask fails at once (SDK.DISCONNECTED): the client is reconnecting.
      const waiting = sdk.awaitApproval(where, { timeoutMs: 15_000, pollMs: 100 });
      proxy.resume();

      await expect(waiting).resolves.toEqual(gate.granted);
      expect(sdk.connected).toBe(true);
      expect(gate.asks).toBe(1);
    }, 20_000);

    it('should reject, not hand out its token, when the decision that comes back is of another approval', async () => {
      const sdk = client(ns);
      await sdk.whenConnected(5_000);

      // The scripted gate answers every ask with the grant of a-1.
      await expect(
        sdk.awaitApproval({ ...where, approvalId: 'a-2' }, { timeoutMs: 5_000, pollMs: 100 }),
      ).rejects.toMatchObject({
        name: 'SdkError',
        code: 'SDK.MALFORMED_REPLY',
        message: 'the approval reply names approvalId "a-1", not "a-2" as asked',
      });
      expect(gate.asks).toBe(1);
    });

    it('should reject with SDK.DISCONNECTED when still disconnected at its last ask', async () => {
      const sdk = client(ns, { natsUrl: proxy.url });
      await sdk.whenConnected(5_000);
      proxy.pause();
      await waitFor(() => !sdk.connected, { what: 'the client to notice the cut' });
      const started = Date.now();

      await expect(sdk.awaitApproval(where, { timeoutMs: 500, pollMs: 100 })).rejects.toMatchObject({
        name: 'SdkError',
        code: 'SDK.DISCONNECTED',
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      expect(gate.asks).toBe(0);
    });
  });

  describe('with maxReconnectAttempts', () => {
    it('should give up after its retries against a closed port: failed, decisions fail closed, calls reject', async () => {
      const attempts: string[] = [];
      const sdk = createdClient({
        natsUrl: `nats://127.0.0.1:${await closedPort()}`,
        maxReconnectAttempts: 1,
        logger: { debug: (message) => attempts.push(message) },
      });
      const states = collectStates(sdk);
      const started = Date.now();

      await expect(sdk.whenConnected(30_000)).resolves.toBe(false);

      // At once, then once after 1 s (±20 %): never the 30 s it was given.
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(attempts.filter((m) => m === 'bifrost: NATS connect failed')).toHaveLength(2);
      expect(states).toEqual(['failed']);
      expect(sdk.state).toBe('failed');
      await expect(
        sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } }),
      ).resolves.toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.CONNECTION_FAILED' });
      await expect(
        sdk.reserve({ idempotencyKey: 'k-1', maxLoss: eur(1), exposure: eur(1) }),
      ).resolves.toMatchObject({ failClosed: true, outcome: 'DENIED', code: 'SDK.CONNECTION_FAILED' });
      // Not worth asking again: awaitApproval rejects at once instead of polling until its timeout.
      await expect(
        sdk.awaitApproval({ strategyId: 's1', approvalId: 'a-1' }, { timeoutMs: 60_000 }),
      ).rejects.toMatchObject({ name: 'SdkError', code: 'SDK.CONNECTION_FAILED' });
      await expect(sdk.whenConnected(30_000)).resolves.toBe(false);
      await expect(sdk.close()).resolves.toEqual({ undelivered: 0 });
      expect(states).toEqual(['failed', 'closed']);
    }, 15_000);

    it("should let the engine's process exit once it gave up, without close()", async () => {
      const script = `
        const { createClient } = require(${JSON.stringify(join(__dirname, 'index.ts'))});
        createClient({ natsUrl: 'nats://127.0.0.1:${await closedPort()}', engineId: 'e1', maxReconnectAttempts: 1 })
          .on('state', (state) => console.log(state));`;

      // Killed after 20 s if a timer or a socket kept it alive.
      const { stdout } = await run(process.execPath, ['-r', '@swc-node/register', '-e', script], {
        cwd: join(__dirname, '..', '..', '..'),
        timeout: 20_000,
      });

      expect(stdout.trim()).toBe('failed');
    }, 30_000);

    it('should give up when NATS stays out of reach after the connection is lost', async () => {
      const ns = await createTestNamespace('sdkgiveup');
      const proxy = await TcpProxy.start(natsTarget(ns.natsUrl));
      try {
        const sdk = client(ns, { natsUrl: proxy.url, maxReconnectAttempts: 1 });
        await expect(sdk.whenConnected(5_000)).resolves.toBe(true);
        const states = collectStates(sdk);

        proxy.pause();
        await waitFor(() => sdk.state === 'failed', { what: 'the client to give up' });

        expect(states).toEqual(['reconnecting', 'failed']);
        const recorded = sdk.recordOutcome(outcome('o-1'));
        expect(recorded.kind).toBe('outcome');
        await expect(sdk.close()).resolves.toEqual({ undelivered: 1 });
      } finally {
        await proxy.stop();
        await ns.cleanup();
      }
    });
  });

  describe('against a server that accepts connections but never speaks (a proxy with nothing behind it)', () => {
    let hole: BlackHole;
    beforeEach(async () => {
      hole = await BlackHole.start();
    });
    afterEach(() => hole.stop());

    it('should close the socket of an attempt that timed out', async () => {
      const failures: string[] = [];
      createdClient({ natsUrl: hole.url, logger: { debug: (message) => failures.push(message) } });

      await waitFor(() => failures.includes('bifrost: NATS connect failed'), {
        timeoutMs: 15_000,
        what: 'the first attempt to time out',
      });

      await waitFor(() => hole.closed >= 1, { what: 'the client to close its socket' });
    }, 30_000);

    it('should close the socket of an attempt under way when the client closes', async () => {
      const sdk = createdClient({ natsUrl: hole.url });
      await waitFor(() => hole.accepted >= 1, { what: 'a connection attempt' });

      await sdk.close();

      await waitFor(() => hole.open === 0, { what: 'every socket closed' });
    }, 30_000);
  });

  describe('telemetry while the connection is cut', () => {
    let ns: TestNamespace;
    let proxy: TcpProxy;

    beforeEach(async () => {
      ns = await createTestNamespace('sdkcut');
      await provisionIngest(ns);
      proxy = await TcpProxy.start(natsTarget(ns.natsUrl));
    });
    afterEach(async () => {
      await proxy.stop();
      await ns.cleanup();
    });

    it('should buffer facts and flush them in order on reconnect, nothing lost', async () => {
      const sdk = client(ns, { natsUrl: proxy.url, buffer: { maxItems: 10 } });
      await sdk.whenConnected(5_000);
      const before = sdk.recordOutcome(outcome('o-0'));
      await waitFor(() => sdk.bufferDepth === 0, { what: 'the first outcome delivered' });

      const states: string[] = [];
      sdk.on('state', (state) => states.push(state));
      proxy.pause();
      await waitFor(() => !sdk.connected, { what: 'the client to notice the cut' });
      const during = ['o-1', 'o-2', 'o-3'].map((id) => sdk.recordOutcome(outcome(id)));
      expect(sdk.bufferDepth).toBe(3);
      proxy.resume();
      await waitFor(() => sdk.connected && sdk.bufferDepth === 0, { what: 'reconnect and flush' });

      expect(states).toEqual(['reconnecting', 'connected']);
      const stored = await storedOutcomes(ns);
      expect(stored.map((e) => e.id)).toEqual([before, ...during].map((f) => f.id));
      expect(stored.map((e) => e.occurredAt)).toEqual([before, ...during].map((f) => f.occurredAt));
      expect(sdk.droppedCount).toBe(0);
    });

    it('should reconnect after 1 s, then 2 s (each ±20 %) when every publish loses its ack, not in a tight loop', async () => {
      const sdk = client(ns, { natsUrl: proxy.url });
      await sdk.whenConnected(5_000);
      const connectedAt: number[] = [];
      sdk.on('state', (state) => {
        if (state === 'connected') connectedAt.push(Date.now());
      });
      let cutting = true;
      void (async () => {
        while (cutting) await proxy.cutOnServerChunk((chunk) => chunk.includes('"stream":"'));
      })();
      const recordedAt = Date.now();

      sdk.recordOutcome(outcome('o-1'));
      await waitFor(() => connectedAt.length >= 2, { timeoutMs: 10_000, what: 'two reconnections' });
      cutting = false;

      // Lower bounds only (a busy machine only makes the gaps longer): the policy's 1 s and 2 s, -20 %.
      // Reconnecting at once after each cut, they came within milliseconds.
      expect(connectedAt.length).toBe(2);
      expect((connectedAt[0] as number) - recordedAt).toBeGreaterThanOrEqual(800);
      expect((connectedAt[1] as number) - (connectedAt[0] as number)).toBeGreaterThanOrEqual(1_600);
    }, 15_000);

    it('should drop the oldest facts when the buffer overflows, and count them', async () => {
      const sdk = client(ns, { natsUrl: proxy.url, buffer: { maxItems: 5 } });
      const dropped = collect(sdk, 'dropped');
      await sdk.whenConnected(5_000);
      proxy.pause();
      await waitFor(() => !sdk.connected, { what: 'the client to notice the cut' });

      const recorded = Array.from({ length: 8 }, (_, i) => sdk.recordOutcome(outcome(`o-${i}`)));

      expect(sdk.bufferDepth).toBe(5);
      expect(sdk.droppedCount).toBe(3);
      expect(dropped.map((d) => [d.id, d.reason, d.droppedCount])).toEqual([
        [recorded[0]?.id, 'overflow', 1],
        [recorded[1]?.id, 'overflow', 2],
        [recorded[2]?.id, 'overflow', 3],
      ]);

      proxy.resume();
      await waitFor(() => sdk.connected && sdk.bufferDepth === 0, { what: 'reconnect and flush' });
      expect((await storedOutcomes(ns)).map((e) => e.id)).toEqual(recorded.slice(3).map((f) => f.id));
      expect(sdk.droppedCount).toBe(3);
    });
  });

  describe('heartbeats (the catalogue has ingest.HeartbeatReported)', () => {
    let ns: TestNamespace;

    beforeEach(async () => {
      ns = await createTestNamespace('sdkbeat');
      await provisionIngest(ns);
    });
    afterEach(() => ns.cleanup());

    it('should send one on connect and then one per interval', async () => {
      const sdk = client(ns, { heartbeatIntervalMs: 100 });
      const flushed = collect(sdk, 'flushed');

      await waitFor(() => flushed.filter((f) => f.kind === 'heartbeat').length >= 3, {
        what: 'three heartbeats',
      });

      const first = await storedFact(ns, flushed[0]?.sequence as number);
      expect(first.envelope).toMatchObject({
        type: 'ingest.HeartbeatReported',
        subject: ns.naming.ingestSubject('heartbeat', 'e1'),
        // An interval other than the default is declared: the canary allows three of it.
        data: { engineId: 'e1', intervalMs: 100 },
      });
    });

    it('should declare no interval with the default one (the canary default gap is three of it)', async () => {
      const sdk = client(ns, { heartbeatIntervalMs: 10_000 });
      const flushed = collect(sdk, 'flushed');
      await waitFor(() => flushed.length === 1, { what: 'the heartbeat on connect' });

      expect((await storedFact(ns, flushed[0]?.sequence as number)).envelope.data).toEqual({
        engineId: 'e1',
        ...sdkFields,
      });
    });

    it('should sign the engine off with a last heartbeat when it closes', async () => {
      const sdk = client(ns, { heartbeatIntervalMs: 60_000 });
      const flushed = collect(sdk, 'flushed');
      await waitFor(() => flushed.length === 1, { what: 'the heartbeat on connect' });

      await expect(sdk.close()).resolves.toEqual({ undelivered: 0 });

      expect(flushed.map((f) => f.kind)).toEqual(['heartbeat', 'heartbeat']);
      const first = await storedFact(ns, flushed[0]?.sequence as number);
      const last = await storedFact(ns, flushed[1]?.sequence as number);
      expect(first.envelope.data).toEqual({ engineId: 'e1', intervalMs: 60_000, ...sdkFields });
      expect(last.envelope.data).toEqual({
        engineId: 'e1',
        intervalMs: 60_000,
        signingOff: true,
        ...sdkFields,
      });
    });

    it('should send none without a heartbeat type, and refuse a manual one as unsupported', async () => {
      const sdk = client(ns, { heartbeatIntervalMs: 50, catalogue: withoutHeartbeat() });
      await sdk.whenConnected(5_000);

      expect(() => sdk.heartbeat()).toThrow(expect.objectContaining({ code: 'SDK.UNSUPPORTED_FACT' }));
      expect(sdk.bufferDepth).toBe(0);
    });
  });
});

function outcome(outcomeId: string) {
  return { strategyId: 's1', outcomeId, pnl: { amount: 120, currency: 'EUR' } };
}

function eur(amount: number) {
  return { amount, currency: 'EUR' };
}

function collect<E extends 'flushed' | 'dropped'>(
  sdk: BifrostClient,
  event: E,
): Parameters<ClientEvents[E]>[0][] {
  const seen: Parameters<ClientEvents[E]>[0][] = [];
  sdk.on(event, ((e: Parameters<ClientEvents[E]>[0]) => {
    seen.push(e);
  }) as ClientEvents[E]);
  return seen;
}

const run = promisify(execFile);

/** What the SDK fills in on every heartbeat, whatever the engine says. */
const sdkFields = { sdk: SDK_IDENTITY, uptimeS: expect.any(Number) as number };

function collectStates(sdk: BifrostClient): ConnectionState[] {
  const states: ConnectionState[] = [];
  sdk.on('state', (state) => {
    states.push(state);
  });
  return states;
}

/** A port nothing listens on: every connection attempt is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Blocks the event loop, as an engine busy computing does. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The gate's approval subject, answered `granted` unless told to leave the next asks unanswered. */
class ScriptedApprovals {
  readonly granted = grantedApproval('t-1');
  asks = 0;
  private unanswered = 0;

  private constructor(private readonly nc: NatsConnection) {}

  static async start(ns: TestNamespace): Promise<ScriptedApprovals> {
    const self = new ScriptedApprovals(await connect({ servers: ns.natsUrl }));
    self.nc.subscribe(ns.naming.rpcSubject('gate', 'approval'), {
      callback: (_error, msg) => {
        self.asks += 1;
        if (self.unanswered > 0) {
          self.unanswered -= 1;
          return;
        }
        msg.respond(JSON.stringify({ ok: true, data: self.granted }));
      },
    });
    await self.nc.flush();
    return self;
  }

  ignoreNext(count: number): void {
    this.unanswered = count;
  }

  stop(): Promise<void> {
    return this.nc.close();
  }
}

/** A TCP server that accepts connections and never sends a byte, counting what the client closes. */
class BlackHole {
  accepted = 0;
  closed = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {
    server.on('connection', (socket) => {
      this.accepted += 1;
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.closed += 1;
        this.sockets.delete(socket);
      });
    });
  }

  static async start(): Promise<BlackHole> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new BlackHole(server);
  }

  get url(): string {
    return `nats://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get open(): number {
    return this.sockets.size;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function natsTarget(natsUrl: string): { host: string; port: number } {
  const url = new URL(natsUrl.split(',')[0] as string);
  return { host: url.hostname, port: Number(url.port || 4222) };
}

async function rpc(nc: NatsConnection, subject: string, body: unknown): Promise<unknown> {
  const reply = (await nc.request(subject, JSON.stringify(body), { timeout: 5_000 })).json<{
    ok: boolean;
    data?: unknown;
    error?: unknown;
  }>();
  if (!reply.ok) throw new Error(`${subject}: ${JSON.stringify(reply.error)}`);
  return reply.data;
}

async function withManager<T>(ns: TestNamespace, use: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: ns.natsUrl });
  try {
    return await use(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

/** What the services' provisioning does for BIFROST_INGEST, enough for facts to be stored. */
function provisionIngest(ns: TestNamespace): Promise<unknown> {
  return withManager(ns, (jsm) =>
    jsm.streams.add({
      name: ns.naming.streams.ingest.name,
      subjects: [ns.naming.streams.ingest.subjects],
      storage: StorageType.File,
      duplicate_window: nanos(120_000),
    }),
  );
}

async function storedFact(
  ns: TestNamespace,
  seq: number,
): Promise<{ envelope: Envelope; msgId: string | undefined }> {
  return withManager(ns, async (jsm) => {
    const msg = await jsm.streams.getMessage(ns.naming.streams.ingest.name, { seq });
    if (!msg) throw new Error(`no message at ${seq}`);
    return { envelope: msg.json<Envelope>(), msgId: msg.header.get('Nats-Msg-Id') || undefined };
  });
}

async function storedOutcomes(ns: TestNamespace): Promise<Envelope[]> {
  return withManager(ns, async (jsm) => {
    const info = await jsm.streams.info(ns.naming.streams.ingest.name);
    const envelopes: Envelope[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
      const msg = await jsm.streams.getMessage(ns.naming.streams.ingest.name, { seq });
      if (msg) envelopes.push(msg.json<Envelope>());
    }
    return envelopes;
  });
}

/** An older Bifrost's catalogue: no heartbeat type yet. */
function withoutHeartbeat(): Catalogue {
  return new Catalogue(
    catalogue.definitions.filter((d) => d.subject !== 'bifrost.ingest.heartbeat.{engineId}'),
    catalogue.rpcs,
  );
}
