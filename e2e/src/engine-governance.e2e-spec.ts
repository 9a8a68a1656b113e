import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Messaging } from '@bifrost/messaging';
import { createClient, type BifrostClient, type CheckVerdict } from '@bifrost/sdk';
import { factId } from '@bifrost/contracts';
import { waitFor } from '@bifrost/testing';
import {
  auditRows as auditRowsOf,
  createKey as createGatewayKey,
  request,
  type Key,
  type RequestOptions,
} from './gateway.http';
import { connectProbe, startStack, stopCleanly, type Stack } from './stack.harness';

/**
 * Issue 6, end to end: every service (STACK_SERVICES) runs as a real process from its main.ts
 * against the local NATS and a fresh Postgres database. Scenarios share the stack
 * (starting it is most of the suite's time), so each uses engine ids of its own and leaves no
 * global state behind except where it says so.
 */
describe('Bifrost end to end', () => {
  let stack: Stack;
  let probe: Messaging;
  let admin: Key;
  let operator: Key;
  let viewer: Key;
  const clients: BifrostClient[] = [];

  const api = (method: string, path: string, options: RequestOptions = {}) =>
    request(stack.gatewayUrl, method, path, options);
  const sdk = (engineId: string, transport: { apiKey: string } | 'nats'): BifrostClient => {
    const client = createClient(
      transport === 'nats'
        ? { natsUrl: stack.ns.natsUrl, namespace: stack.ns.namespace, engineId, heartbeatIntervalMs: 0 }
        : { gatewayUrl: stack.gatewayUrl, apiKey: transport.apiKey, engineId, heartbeatIntervalMs: 0 },
    );
    clients.push(client);
    return client;
  };
  const createKey = (by: Key | string, body: Record<string, unknown>) =>
    createGatewayKey(stack.gatewayUrl, by, body);
  const tokenOf = async (key: Key): Promise<string> =>
    (await api('POST', '/api/v1/auth/token', { body: { apiKey: key.apiKey } })).body.accessToken;
  // Straight from the event store: the source of truth, with no projection lag to hide an event.
  const controlEventTypes = async (): Promise<string[]> =>
    (await probe.eventStore.read(stack.ns.naming.eventSubject('gate', 'control', 'global'))).events.map(
      (e) => e.envelope.type,
    );
  const auditRows = (eventType: string) => auditRowsOf(stack.gatewayUrl, viewer, eventType);

  beforeAll(async () => {
    stack = await startStack('e2e', {
      env: {
        GATEWAY_JWT_SECRET: JWT_SECRET,
        GATEWAY_BOOTSTRAP_OWNER_KEY: OWNER_KEY,
        // Token issuing shares the anonymous bucket; the suite logs in several principals at once.
        GATEWAY_RATE_LIMIT_ANONYMOUS: '1000',
      },
      readyTimeoutMs: 60_000,
    });
    probe = await connectProbe(stack);
    admin = await createKey(OWNER_KEY, { name: 'e2e admin', role: 'admin' });
    operator = await createKey(admin, { name: 'e2e operator', role: 'operator' });
    viewer = await createKey(admin, { name: 'e2e viewer', role: 'viewer' });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await probe?.drain();
    if (stack) await stopCleanly(stack);
  }, 45_000);

  describe('an engine onboarded by an admin and acting through the SDK over HTTP', () => {
    it('should ask for approval at L2, wait for it, act with the approval token, and be promoted to L3 after 50 winning outcomes', async () => {
      const engine = await createKey(admin, { name: 'promo bot', role: 'engine', engineId: PROMO_ENGINE });
      const adminToken = await tokenOf(admin);
      const operatorToken = await tokenOf(operator);
      const strategy = `/api/v1/strategies/${PROMO_ENGINE}/${STRATEGY}`;
      expect(
        await api('POST', '/api/v1/control/execution-classes', {
          token: adminToken,
          body: { actionKind: ACTION.kind, executionClass: 'SANDBOX_EXEC', reason: 'paper trading first' },
        }),
      ).toMatchObject({ status: 200 });
      expect(
        await api('POST', '/api/v1/strategies', {
          token: adminToken,
          body: {
            engineId: PROMO_ENGINE,
            strategyId: STRATEGY,
            capital: { amount: 10_000_000, currency: 'USD' },
          },
        }),
      ).toMatchObject({ status: 200 });
      expect(
        await api('POST', `${strategy}/maturity`, {
          token: adminToken,
          body: { level: 'L2', reason: 'seasoned in backtests' },
        }),
      ).toMatchObject({ status: 200 });
      const bot = sdk(PROMO_ENGINE, engine);

      const asked = await bot.check({ strategyId: STRATEGY, action: ACTION });
      expect(asked).toMatchObject({
        failClosed: false,
        action: 'REQUIRE_APPROVAL',
        approvalId: expect.any(String),
      });
      // The engine waits for a decision while an operator finds the request among the pending ones.
      const where = { strategyId: STRATEGY, approvalId: approvalIdOf(asked) };
      const decided = bot.awaitApproval(where, { timeoutMs: 30_000, pollMs: 100 });
      await waitFor(
        async () => {
          const pending = await api('GET', `/api/v1/approvals?status=pending&engineId=${PROMO_ENGINE}`, {
            key: viewer.apiKey,
          });
          return pending.body?.items?.some((a: { approvalId: string }) => a.approvalId === where.approvalId);
        },
        { timeoutMs: 20_000, what: 'the request among the pending approvals' },
      );
      const approved = await api('POST', `${strategy}/approvals/${where.approvalId}/approve`, {
        token: operatorToken,
        body: { tokenTtlSeconds: 600 },
      });
      expect(approved.status).toBe(200);
      const answer = await decided;
      expect(answer).toMatchObject({
        status: 'granted',
        token: { tokenId: tokenIdOf(approved.body), status: 'active' },
      });
      const allowed = await bot.check({
        strategyId: STRATEGY,
        action: ACTION,
        tokenId: answer.token?.tokenId,
      });
      expect(allowed).toMatchObject({ failClosed: false, action: 'REDUCE_SIZE', sizeMultiplier: 0.1 });
      expect(levelOf(allowed)).toBe('L2');

      const recorded = Array.from({ length: 50 }, (_, i) =>
        bot.recordOutcome({
          strategyId: STRATEGY,
          outcomeId: `fill-${i + 1}`,
          pnl: { amount: 2_500, currency: 'USD' },
        }),
      );
      await waitFor(() => bot.bufferDepth === 0, {
        timeoutMs: 20_000,
        what: '50 outcomes accepted by the gateway',
      });
      expect(bot.droppedCount).toBe(0);
      // The gate appends MaturityPromoted before the projector can show it: once the read model
      // says L3, the gate's own state is at L3 too.
      await waitFor(
        async () => {
          const read = await api('GET', strategy, { key: viewer.apiKey });
          if (read.body?.strategy?.level === 'L3') return true;
          // Outcomes a service could not handle end on the DLQ; say so rather than only "timed out".
          const parked = (await probe.jsm.streams.info(stack.ns.naming.streams.dlq.name)).state.messages;
          throw new Error(
            `strategy read model: ${JSON.stringify(read.body?.strategy ?? read.body)}; ${parked} message(s) on the DLQ`,
          );
        },
        { timeoutMs: 20_000, intervalMs: 200, what: 'the promotion in the strategies read model' },
      );
      const promoted = await bot.check({ strategyId: STRATEGY, action: ACTION });

      expect(promoted).toMatchObject({ failClosed: false, action: 'REDUCE_SIZE', sizeMultiplier: 0.25 });
      expect(levelOf(promoted)).toBe('L3');
      // Idempotency-Key: the gateway published each fact under the id named by the SDK's fact id
      // for this engine and kind.
      const last = recorded.at(-1);
      const stored = await probe.jsm.streams.getMessage(stack.ns.naming.streams.ingest.name, {
        last_by_subj: stack.ns.naming.ingestSubject('outcome', PROMO_ENGINE),
      });
      expect(stored?.json()).toMatchObject({
        id: factId(PROMO_ENGINE, 'outcome', last?.id ?? ''),
        source: 'api-gateway',
      });
    }, 60_000);
  });

  describe('an engine speaking NATS', () => {
    it('should get a recorded verdict straight from the gate, visible through the gateway', async () => {
      const bot = sdk(NATS_ENGINE, 'nats');
      await bot.whenConnected(10_000);

      const verdict = await bot.check({ strategyId: STRATEGY, action: ACTION });

      // Unknown strategies start at L0 (shadow): blocked, but decided and recorded, not failed closed.
      expect(verdict).toMatchObject({ failClosed: false, action: 'BLOCK' });
      expect(levelOf(verdict)).toBe('L0');
      const listed = await waitFor(
        async () => {
          const page = await api('GET', `/api/v1/decisions?engineId=${NATS_ENGINE}&limit=50`, {
            key: viewer.apiKey,
          });
          return page.body?.items?.length > 0 ? page.body.items : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200, what: 'the NATS decision in /decisions' },
      );
      expect(listed).toEqual([
        expect.objectContaining({ decisionId: decisionIdOf(verdict), action: 'BLOCK' }),
      ]);
    }, 30_000);
  });

  describe('when a viewer tries to engage the kill switch', () => {
    it('should refuse with 403 and record no KillSwitchEngaged', async () => {
      const before = await controlEventTypes();

      const refused = await api('POST', '/api/v1/control/kill-switch/engage', {
        token: await tokenOf(viewer),
        body: { mode: 'hard', reason: 'viewer trying' },
      });

      expect(refused).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });
      expect(await controlEventTypes()).toEqual(before);
      expect(before).not.toContain('gate.KillSwitchEngaged');
    }, 20_000);
  });

  describe('when an engine key names another engine', () => {
    it('should answer 403 over HTTP, make the SDK fail closed, and record no decision for that engine', async () => {
      const engine = await createKey(admin, { name: 'own bot', role: 'engine', engineId: OWN_ENGINE });

      const overHttp = await api('POST', '/api/v1/engine/check', {
        key: engine.apiKey,
        body: { engineId: OTHER_ENGINE, strategyId: STRATEGY, action: ACTION },
      });
      const throughSdk = await sdk(OTHER_ENGINE, engine).check({ strategyId: STRATEGY, action: ACTION });

      expect(overHttp.status).toBe(403);
      expect(throughSdk).toMatchObject({ failClosed: true, action: 'BLOCK', code: overHttp.body.code });
      const decisions = await probe.jsm.streams.info(stack.ns.naming.streams.decisions.name, {
        subjects_filter: stack.ns.naming.decisionSubject('gate', OTHER_ENGINE),
      });
      expect(decisions.state.subjects ?? {}).toEqual({});
    }, 20_000);
  });

  describe('the example engine (examples/engine), let act by an admin as docs/sdk.md shows', () => {
    type Line = { message: string } & Record<string, unknown>;
    /** Onboards the strategy at `level` in the sandbox with a risk policy for the example engine. */
    const onboardExample = async (strategyId: string, level: string) => {
      const adminToken = await tokenOf(admin);
      for (const [method, path, body] of [
        [
          'POST',
          '/api/v1/control/execution-classes',
          { actionKind: 'order.place', executionClass: 'SANDBOX_EXEC', reason: 'demo in the sandbox' },
        ],
        ['POST', '/api/v1/strategies', { engineId: EXAMPLE_ENGINE, strategyId }],
        ['POST', `/api/v1/strategies/${EXAMPLE_ENGINE}/${strategyId}/maturity`, { level, reason: 'demo' }],
        [
          'PUT',
          `/api/v1/risk/policies/${EXAMPLE_ENGINE}`,
          {
            reason: 'demo',
            maxDailyLoss: { amount: 100_000, currency: 'USD' },
            maxDailyExposure: { amount: 1_000_000, currency: 'USD' },
            maxDailyActions: 1_000,
          },
        ],
      ] as const) {
        expect(await api(method, path, { token: adminToken, body })).toMatchObject({ status: 200 });
      }
    };
    /**
     * Runs the example over NATS until `done(lines)` holds, then stops it with SIGINT; returns its
     * log lines, the last one written as it stopped.
     */
    const runExample = async (
      strategyId: string,
      done: (lines: Line[]) => boolean | Promise<boolean>,
    ): Promise<Line[]> => {
      const example = spawn(process.execPath, ['-r', '@swc-node/register', 'examples/engine/main.ts'], {
        cwd: resolve(__dirname, '../..'),
        env: {
          ...process.env,
          NATS_URL: stack.ns.natsUrl,
          BIFROST_NAMESPACE: stack.ns.namespace,
          ENGINE_ID: EXAMPLE_ENGINE,
          STRATEGY_ID: strategyId,
          ENGINE_INTERVAL_MS: '200',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      example.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise((finished) => example.once('exit', finished));
      const lines = () =>
        output
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Line);
      try {
        await waitFor(() => done(lines()), { timeoutMs: 30_000, what: 'the example engine to trade' }).catch(
          (error: Error) => {
            throw new Error(`${error.message}; its log:\n${output}`);
          },
        );
      } finally {
        example.kill('SIGINT');
        await exited;
      }
      return lines();
    };

    it('should trade over NATS: a REDUCE_SIZE verdict, a settled reservation and its outcome counted', async () => {
      const strategy = `/api/v1/strategies/${EXAMPLE_ENGINE}/${EXAMPLE_STRATEGY}`;
      await onboardExample(EXAMPLE_STRATEGY, 'L3');

      const lines = await runExample(EXAMPLE_STRATEGY, (seen) => seen.some((l) => l.message === 'traded'));

      // From the first check on (the example waits for its connection): not one blocked trade.
      expect(lines.filter((line) => /not acting|blocked|denied/.test(line.message))).toEqual([]);
      expect(lines.find((line) => line.message === 'traded')).toMatchObject({
        action: 'REDUCE_SIZE',
        size: 12_500,
      });
      expect(lines.at(-1)).toMatchObject({ message: 'engine stopped', undelivered: 0 });
      await waitFor(
        async () => {
          const settled = await api(
            'GET',
            `/api/v1/risk/reservations?engineId=${EXAMPLE_ENGINE}&status=SETTLED`,
            { key: viewer.apiKey },
          );
          const read = await api('GET', strategy, { key: viewer.apiKey });
          return settled.body?.items?.length > 0 && read.body?.strategy?.outcomes > 0;
        },
        { timeoutMs: 20_000, intervalMs: 200, what: 'a settled reservation and a counted outcome' },
      );
      // Its reservations were recorded as decisions, with the checks the engine was answered with.
      const granted = await waitFor(
        async () => {
          const decisions = await api(
            'GET',
            `/api/v1/risk/decisions?engineId=${EXAMPLE_ENGINE}&outcome=GRANTED`,
            { key: viewer.apiKey },
          );
          return decisions.body?.items?.[0];
        },
        { timeoutMs: 20_000, intervalMs: 200, what: 'a granted reservation decision' },
      );
      expect(granted).toMatchObject({
        engineId: EXAMPLE_ENGINE,
        request: { engineId: EXAMPLE_ENGINE },
        reply: {
          outcome: 'GRANTED',
          checks: expect.arrayContaining([expect.objectContaining({ outcome: 'ALLOW' })]),
        },
      });
    }, 60_000);

    it('should wait at L2 until an operator approves its order, then trade it with the token', async () => {
      const gated = `${EXAMPLE_STRATEGY}-gated`;
      await onboardExample(gated, 'L2');
      const operatorToken = await tokenOf(operator);
      const approved = new Set<string>();

      const lines = await runExample(gated, async (seen) => {
        for (const line of seen) {
          const approvalId = line['approvalId'];
          if (line.message !== 'waiting for an operator to approve' || typeof approvalId !== 'string')
            continue;
          if (approved.has(approvalId)) continue;
          approved.add(approvalId);
          const decided = await api(
            'POST',
            `/api/v1/strategies/${EXAMPLE_ENGINE}/${gated}/approvals/${approvalId}/approve`,
            { token: operatorToken, body: {} },
          );
          expect(decided.status).toBe(200);
        }
        return seen.some((l) => l.message === 'traded');
      });

      const traded = lines.findIndex((line) => line.message === 'traded');
      // L2: every order waits for its approval, then goes ahead at 10 % of its size.
      expect(lines[traded]).toMatchObject({ action: 'REDUCE_SIZE', size: 5_000 });
      expect(
        lines.slice(0, traded).filter((l) => /not acting|not approved|blocked|denied/.test(l.message)),
      ).toEqual([]);
      expect(lines.slice(0, traded).some((l) => l.message === 'waiting for an operator to approve')).toBe(
        true,
      );
      // Stopped while it waited for the next order's approval: it stopped waiting at once.
      expect(lines.at(-1)).toMatchObject({ message: 'engine stopped', undelivered: 0 });
    }, 60_000);
  });

  // Last: a global kill switch blocks everyone, so this scenario runs after the others.
  describe('when an operator engages the global kill switch over HTTP', () => {
    it('should answer the next SDK check with KILL within one second, attributed and verifiable', async () => {
      const engine = await createKey(admin, { name: 'kill bot', role: 'engine', engineId: KILL_ENGINE });
      const bot = sdk(KILL_ENGINE, engine);
      const operatorToken = await tokenOf(operator);
      expect(await bot.check({ strategyId: STRATEGY, action: ACTION })).toMatchObject({ failClosed: false });

      const engagedAt = performance.now();
      const engaged = await api('POST', '/api/v1/control/kill-switch/engage', {
        token: operatorToken,
        body: { mode: 'hard', reason: 'e2e: runaway losses' },
      });
      const verdict = await bot.check({ strategyId: STRATEGY, action: ACTION });
      const elapsedMs = performance.now() - engagedAt;

      expect(engaged.status).toBe(200);
      expect(verdict).toMatchObject({ failClosed: false, action: 'KILL' });
      expect(elapsedMs).toBeLessThan(1_000);
      const listed = await waitFor(
        async () =>
          (
            await api('GET', `/api/v1/decisions?engineId=${KILL_ENGINE}&action=KILL&limit=50`, {
              key: viewer.apiKey,
            })
          ).body?.items?.[0],
        { timeoutMs: 15_000, intervalMs: 200, what: 'the KILL decision in /decisions' },
      );
      expect(listed).toMatchObject({
        decisionId: decisionIdOf(verdict),
        engineId: KILL_ENGINE,
        action: 'KILL',
      });
      const audited = await waitFor(async () => (await auditRows('gate.KillSwitchEngaged'))[0], {
        timeoutMs: 15_000,
        intervalMs: 200,
        what: 'KillSwitchEngaged in the audit log',
      });
      expect(audited.envelope).toMatchObject({
        type: 'gate.KillSwitchEngaged',
        actor: { kind: 'operator', id: operator.id },
      });
      expect(await api('GET', '/api/v1/audit/verify', { key: viewer.apiKey })).toMatchObject({
        status: 200,
        body: { ok: true, count: expect.any(Number) },
      });
    }, 45_000);
  });
});

const OWNER_KEY = 'e2e-bootstrap-owner-key-0123456789abcdef';
const JWT_SECRET = 'e2e-jwt-secret-at-least-32-characters-long';
const PROMO_ENGINE = 'promo-bot';
const NATS_ENGINE = 'nats-bot';
const OWN_ENGINE = 'own-bot';
const OTHER_ENGINE = 'other-bot';
const KILL_ENGINE = 'kill-bot';
const EXAMPLE_ENGINE = 'example-bot';
const EXAMPLE_STRATEGY = 'mean-reversion';
const STRATEGY = 'mean-revert';
const ACTION = {
  kind: 'order.place',
  intent: 'open',
  notional: { amount: 50_000, currency: 'USD' },
} as const;

function levelOf(verdict: CheckVerdict): unknown {
  return verdict.checks.find((c) => c.name === 'maturity')?.value;
}

function decisionIdOf(verdict: CheckVerdict): string {
  if (verdict.failClosed) throw new Error(`failed closed: ${verdict.code}`);
  return verdict.decisionId;
}

function approvalIdOf(verdict: CheckVerdict): string {
  if (verdict.failClosed || !verdict.approvalId) throw new Error('no approval requested');
  return verdict.approvalId;
}

function tokenIdOf(reply: { events: { type: string; data: Record<string, unknown> }[] }): string {
  const issued = reply.events.find((e) => e.type === 'TokenIssued');
  if (typeof issued?.data['tokenId'] !== 'string')
    throw new Error(`no token issued: ${JSON.stringify(reply)}`);
  return issued.data['tokenId'];
}
