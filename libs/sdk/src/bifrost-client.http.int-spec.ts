import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { actionHash } from '@bifrost/audit';
import { waitFor } from '@bifrost/testing';
import { createClient, type BifrostClient } from './bifrost.client';
import {
  approvalReply,
  evaluationReply,
  grantedApproval,
  reservationReply,
  reserveReply,
  verdictReply,
} from './replies.fixtures';
import type {
  AwaitApprovalOptions,
  ClientEvents,
  ClientOptions,
  ConnectionState,
  ReconcileInput,
  ReleaseInput,
} from './sdk.types';

/**
 * The HTTP transport against a small local server that implements the engine contract of
 * docs/sdk.md (the real API gateway is being built in parallel).
 */
describe('SDK over HTTP', () => {
  let gateway: ContractServer;
  const clients: BifrostClient[] = [];
  const client = (options: Partial<ClientOptions> = {}): BifrostClient => {
    const created = createClient({
      gatewayUrl: gateway.url,
      apiKey: 'key-e1',
      engineId: 'e1',
      heartbeatIntervalMs: 0,
      ...options,
    });
    clients.push(created);
    return created;
  };

  /** A client whose outcome o-1 the gateway refused once with 503 and `Retry-After: seconds`. */
  const outcomeInBackoff = async (seconds: number, options: Partial<ClientOptions>) => {
    gateway.answerOnce('outcome', () =>
      problem(
        503,
        { title: 'Unavailable', code: 'INFRA.DATABASE_UNAVAILABLE' },
        { 'retry-after': String(seconds) },
      ),
    );
    const sdk = client(options);
    await sdk.whenConnected(5_000);
    sdk.recordOutcome(outcome('o-1'));
    await waitFor(() => gateway.all('outcome').length === 1, { what: 'the outcome refused once' });
    return sdk;
  };

  beforeEach(async () => {
    gateway = await ContractServer.start();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await gateway.stop();
  });

  describe('when the gateway answers', () => {
    it('should connect by probing /health/live', async () => {
      const sdk = client();

      await expect(sdk.whenConnected(5_000)).resolves.toBe(true);
      expect(gateway.requests.map((r) => `${r.method} ${r.path}`)).toContain('GET /health/live');
    });

    it('should post the check with the API key and its engine id, and return the verdict', async () => {
      const sdk = client();

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });

      expect(verdict).toMatchObject({ failClosed: false, action: 'ALLOW', engineId: 'e1', strategyId: 's1' });
      expect(gateway.last('check')).toMatchObject({
        apiKey: 'key-e1',
        contentType: 'application/json',
        body: { engineId: 'e1', strategyId: 's1', action: { kind: 'order.place', intent: 'open' } },
      });
    });

    it('should reserve and settle through the risk endpoints', async () => {
      const sdk = client();

      const reservation = await sdk.reserve({
        idempotencyKey: 'k-1',
        maxLoss: eur(500),
        exposure: eur(9_000),
      });
      expect(reservation).toMatchObject({ failClosed: false, outcome: 'GRANTED' });
      if (reservation.failClosed) throw new Error('unreachable');
      await expect(
        sdk.settle({ reservationId: reservation.reservationId, realizedLoss: eur(120) }),
      ).resolves.toMatchObject({ status: 'SETTLED' });
      await expect(sdk.release({ reservationId: reservation.reservationId })).resolves.toMatchObject({
        status: 'RELEASED',
      });

      expect(gateway.last('settle')?.body).toEqual({
        engineId: 'e1',
        reservationId: reservation.reservationId,
        realizedLoss: eur(120),
      });
    });

    it('should reject settle with the problem code when the risk guard refuses it', async () => {
      gateway.answer('settle', () =>
        problem(409, { title: 'Conflict', detail: 'already settled', code: 'RISK.RESERVATION_CLOSED' }),
      );
      const sdk = client();

      await expect(sdk.settle({ reservationId: randomUUID(), realizedLoss: eur(0) })).rejects.toMatchObject({
        name: 'SdkError',
        code: 'RISK.RESERVATION_CLOSED',
        message: 'already settled',
      });
    });

    it('should deliver outcomes as their data, 202 giving the stream sequence', async () => {
      const sdk = client();
      const flushed = collect(sdk, 'flushed');

      const recorded = sdk.recordOutcome(outcome('o-1'));

      await waitFor(() => flushed.length === 1, { what: 'the outcome accepted' });
      expect(flushed[0]).toMatchObject({ id: recorded.id, kind: 'outcome', sequence: 1, bufferDepth: 0 });
      expect(gateway.last('outcome')?.body).toEqual({ ...outcome('o-1'), engineId: 'e1' });
    });
  });

  describe('when the engine changes an object it passed after recording a fact', () => {
    it('should send what was recorded', async () => {
      gateway.answerOnce('outcome', () => problem(503, { title: 'Not now', code: 'INFRA.UNAVAILABLE' }));
      const sdk = client();
      const pnl = { amount: -100, currency: 'EUR' };
      for (const [id, amount] of [
        ['o-1', -200],
        ['o-2', -300],
        ['o-3', -400],
      ] as const) {
        sdk.recordOutcome({ strategyId: 's1', outcomeId: id, pnl });
        pnl.amount = amount;
      }

      await waitFor(() => sdk.bufferDepth === 0, { timeoutMs: 10_000, what: 'the outcomes accepted' });
      expect(gateway.accepted.map((a) => (a['pnl'] as { amount: number }).amount)).toEqual([
        -100, -200, -300,
      ]);
    });
  });

  describe('when the gate is unavailable behind the gateway', () => {
    it('should BLOCK on 503 gate-unavailable', async () => {
      gateway.answer('check', () =>
        problem(503, { type: 'https://bifrost.dev/problems/gate-unavailable', title: 'Gate unavailable' }),
      );
      const sdk = client();

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });

      expect(verdict).toMatchObject({
        failClosed: true,
        action: 'BLOCK',
        sizeMultiplier: 0,
        code: 'SDK.SERVICE_UNAVAILABLE',
        reason: 'Gate unavailable',
      });
      expect(gateway.count('check')).toBe(1);
    });

    it('should deny a reservation with reason UNAVAILABLE on 503', async () => {
      gateway.answer('reserve', () => problem(503, { title: 'Risk guard unavailable' }));
      const sdk = client();

      const result = await sdk.reserve({ idempotencyKey: 'k-2', maxLoss: eur(1), exposure: eur(1) });

      expect(result).toMatchObject({ failClosed: true, outcome: 'DENIED', reason: 'UNAVAILABLE' });
    });

    it('should BLOCK when the gateway does not answer within the deadline', async () => {
      gateway.answer('check', () => 'hang');
      const sdk = client({ deadlineMs: 300 });
      const started = Date.now();

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });

      expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.DEADLINE_EXCEEDED' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      // Below the default deadline (2 000 ms): the configured one is the one applied.
      expect(Date.now() - started).toBeLessThan(1_900);
    });

    it('should BLOCK with the problem code when the key may not act for the engine', async () => {
      const sdk = client({ apiKey: 'key-other' });

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });

      expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'AUTH.ENGINE_MISMATCH' });
    });
  });

  describe('when rate limited (429 + Retry-After)', () => {
    it('should retry a check when Retry-After ends before the deadline', async () => {
      gateway.answerOnce('check', () => problem(429, { title: 'Too many requests' }, { 'retry-after': '1' }));
      const sdk = client({ deadlineMs: 3_000 });
      const started = Date.now();

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });

      expect(verdict).toMatchObject({ failClosed: false, action: 'ALLOW' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(gateway.count('check')).toBe(2);
    });

    it('should BLOCK at once when Retry-After ends after the deadline', async () => {
      gateway.answerOnce('check', () => problem(429, { title: 'Too many requests' }, { 'retry-after': '5' }));
      const sdk = client({ deadlineMs: 4_000 });
      const started = Date.now();

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });

      expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.RATE_LIMITED' });
      // Not at the deadline (4 s), nor after a retry (5 s).
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(gateway.count('check')).toBe(1);
    });

    it('should deliver telemetry after Retry-After, in order', async () => {
      gateway.answerOnce('outcome', () =>
        problem(429, { title: 'Too many requests' }, { 'retry-after': '1' }),
      );
      const sdk = client();
      const flushed = collect(sdk, 'flushed');
      await sdk.whenConnected(5_000);
      const started = Date.now();

      const recorded = ['o-1', 'o-2'].map((id) => sdk.recordOutcome(outcome(id)));

      await waitFor(() => sdk.bufferDepth === 0, { what: 'both outcomes accepted' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(gateway.accepted.map((a) => a.outcomeId)).toEqual(['o-1', 'o-2']);
      expect(flushed.map((f) => f.id)).toEqual(recorded.map((r) => r.id));
      expect(sdk.droppedCount).toBe(0);
    });
  });

  describe('when the gateway fails to take a fact (5xx, 408)', () => {
    it.each([500, 502, 503, 504, 408])(
      'should keep a fact answered %d, even with a problem code, and deliver it after the backoff, in order',
      async (status) => {
        gateway.answerOnce('outcome', () => problem(status, { title: 'Not now', code: 'INFRA.UNAVAILABLE' }));
        const sdk = client();
        const dropped = collect(sdk, 'dropped');

        for (const id of ['o-1', 'o-2']) sdk.recordOutcome(outcome(id));

        await waitFor(() => sdk.bufferDepth === 0, { timeoutMs: 10_000, what: 'both outcomes accepted' });
        expect(gateway.accepted.map((a) => a.outcomeId)).toEqual(['o-1', 'o-2']);
        const [failed, resent] = gateway.all('outcome');
        expect(resent?.body['outcomeId']).toBe('o-1');
        // backoffDelay(1): 1 s ±20 %, no Retry-After given.
        expect((resent?.at ?? 0) - (failed?.at ?? 0)).toBeGreaterThanOrEqual(800);
        expect(dropped).toEqual([]);
        expect(sdk.droppedCount).toBe(0);
      },
      10_000,
    );

    it('should wait 1 s, then 2 s (each ±20 %) between attempts, and start over at 1 s after a success', async () => {
      const unavailable = () => problem(503, { title: 'Unavailable', code: 'INFRA.UNAVAILABLE' });
      gateway.answerOnce('outcome', unavailable);
      gateway.answerOnce('outcome', unavailable);
      const sdk = client();

      sdk.recordOutcome(outcome('o-1'));
      await waitFor(() => gateway.accepted.length === 1, { timeoutMs: 10_000, what: 'o-1 accepted' });
      gateway.answerOnce('outcome', unavailable);
      sdk.recordOutcome(outcome('o-2'));
      await waitFor(() => gateway.accepted.length === 2, { timeoutMs: 10_000, what: 'o-2 accepted' });

      const at = gateway.all('outcome').map((r) => r.at);
      const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
      expect(gateway.all('outcome').map((r) => r.body['outcomeId'])).toEqual([
        'o-1',
        'o-1',
        'o-1',
        'o-2',
        'o-2',
      ]);
      // Lower bounds are the policy's (1 s, 2 s, then 1 s again, each -20 %). Upper bounds leave
      // 800 ms for a busy machine and stay below the next step of the ladder (2 s, 4 s, 4 s -20 %):
      // a ladder one step ahead, or one that does not start over, lands above them.
      expect(gaps[0]).toBeGreaterThanOrEqual(800);
      expect(gaps[0]).toBeLessThan(2_000);
      expect(gaps[1]).toBeGreaterThanOrEqual(1_600);
      expect(gaps[1]).toBeLessThan(3_200);
      expect(gaps[3]).toBeGreaterThanOrEqual(800);
      expect(gaps[3]).toBeLessThan(2_000);
    }, 15_000);
  });

  describe('when the gateway answers /health/live but drops every outcome POST', () => {
    it('should send it again after 1 s, then 2 s (each ±20 %), not in a tight loop', async () => {
      gateway.answer('outcome', () => 'drop');
      const sdk = client();
      await sdk.whenConnected(5_000);

      sdk.recordOutcome(outcome('o-1'));
      await waitFor(() => gateway.count('outcome') >= 3, { timeoutMs: 10_000, what: 'three attempts' });

      const at = gateway.all('outcome').map((r) => r.at);
      // Lower bounds only (a busy machine only makes the gaps longer): the policy's 1 s and 2 s, -20 %.
      // Reconnecting at once after each drop, the third attempt came within milliseconds.
      expect(gateway.count('outcome')).toBe(3);
      expect((at[1] as number) - (at[0] as number)).toBeGreaterThanOrEqual(800);
      expect((at[2] as number) - (at[1] as number)).toBeGreaterThanOrEqual(1_600);
      expect(sdk.bufferDepth).toBe(1);
    }, 15_000);

    it('should keep growing the backoff of a fact across the reconnection that follows its failure', async () => {
      gateway.answerOnce('outcome', () => 'drop');
      gateway.answerOnce('outcome', () => problem(503, { title: 'Unavailable', code: 'INFRA.UNAVAILABLE' }));
      const sdk = client();
      await sdk.whenConnected(5_000);

      sdk.recordOutcome(outcome('o-1'));
      await waitFor(() => gateway.accepted.length === 1, { timeoutMs: 10_000, what: 'the third attempt' });

      // Dropped, sent again on reconnecting (after 1 s), refused: its second failure waits 2 s -20 %,
      // not the 1 s of a count started over by the reconnection.
      const at = gateway.all('outcome').map((r) => r.at);
      expect(at).toHaveLength(3);
      expect((at[2] as number) - (at[1] as number)).toBeGreaterThanOrEqual(1_600);
    }, 15_000);
  });

  describe('when a fact waits out a long backoff', () => {
    it('should still send the heartbeats that come due meanwhile, and the fact after it', async () => {
      const sdk = await outcomeInBackoff(3, { heartbeatIntervalMs: 300 });
      const before = gateway.all('heartbeat').length;

      // Within the 3 s the outcome waits: heartbeats every 300 ms, the outcome still buffered.
      await waitFor(() => gateway.all('heartbeat').length >= before + 2, {
        what: 'heartbeats during the backoff',
      });
      expect(gateway.accepted).toEqual([]);
      expect(sdk.bufferDepth).toBe(1);
      await waitFor(() => gateway.accepted.length === 1, {
        timeoutMs: 10_000,
        what: 'the outcome after its backoff',
      });
    }, 15_000);

    it('should keep growing that backoff though the heartbeats go through', async () => {
      gateway.answer('outcome', () => problem(503, { title: 'Unavailable', code: 'INFRA.UNAVAILABLE' }));
      const sdk = client({ heartbeatIntervalMs: 300 });
      await sdk.whenConnected(5_000);

      sdk.recordOutcome(outcome('o-1'));
      await waitFor(() => gateway.count('outcome') >= 3, { timeoutMs: 10_000, what: 'three attempts' });

      const at = gateway.all('outcome').map((r) => r.at);
      const beats = gateway
        .all('heartbeat')
        .filter((r) => r.at > (at[1] as number) && r.at < (at[2] as number));
      expect(beats.length).toBeGreaterThan(0);
      // 1 s, then 2 s (-20 %): not 1 s again because a heartbeat went through in between.
      expect((at[2] as number) - (at[1] as number)).toBeGreaterThanOrEqual(1_600);
    }, 15_000);

    it('should retry when a heartbeat sent meanwhile fails after the backoff ended, not stall', async () => {
      // In flight past the outcome's 1 s Retry-After, then timed out (deadlineMs 1.5 s).
      gateway.answerOnce('heartbeat', () => 'hang');
      const sdk = await outcomeInBackoff(1, { deadlineMs: 1_500 });

      sdk.heartbeat();

      await waitFor(() => gateway.accepted.length === 1, {
        timeoutMs: 10_000,
        what: 'the outcome, with nothing else recorded',
      });
      expect(gateway.all('heartbeat')).toHaveLength(2);
    }, 15_000);
  });

  describe('when the engine closes while a fact waits out its backoff', () => {
    it('should send the sign-off and the buffer at once, within the deadline', async () => {
      // A deadline a loaded machine keeps (2 s did not always), still far short of the 30 s backoff.
      const sdk = await outcomeInBackoff(30, { heartbeatIntervalMs: 60_000, deadlineMs: 10_000 });

      const { undelivered } = await sdk.close();

      expect(undelivered).toBe(0);
      expect(gateway.accepted.map((a) => a['outcomeId'])).toEqual(['o-1']);
      expect(gateway.all('heartbeat').some((r) => r.body['signingOff'] === true)).toBe(true);
    });

    it('should send the buffer at once with heartbeats off too (no sign-off to start it)', async () => {
      const sdk = await outcomeInBackoff(30, { heartbeatIntervalMs: 0 });

      const { undelivered } = await sdk.close();

      expect(undelivered).toBe(0);
      expect(gateway.accepted.map((a) => a['outcomeId'])).toEqual(['o-1']);
    });
  });

  describe('when close() signs off', () => {
    /**
     * A client with heartbeats on whose connect heartbeat is accepted, `buffered` facts left; and
     * what its later heartbeats said of signing off.
     */
    const signingClient = async (
      sdk = client({ heartbeatIntervalMs: 60_000, deadlineMs: 5_000 }),
      buffered = 0,
    ) => {
      await sdk.whenConnected(5_000);
      await waitFor(() => gateway.all('heartbeat').length === 1 && sdk.bufferDepth === buffered, {
        what: 'the connect heartbeat accepted',
      });
      const later = () =>
        gateway
          .all('heartbeat')
          .slice(1)
          .map((r) => r.body['signingOff'] === true);
      return { sdk, later };
    };

    it('should send the sign-off again after a blip, not the reconnection’s heartbeat instead', async () => {
      const { sdk, later } = await signingClient();
      gateway.answerOnce('heartbeat', () => 'drop');

      const { undelivered } = await sdk.close();

      expect(later()).toEqual([true, true]);
      expect(undelivered).toBe(0);
    }, 15_000);

    it('should send no heartbeat after the sign-off when a fact behind it is dropped and the client reconnects', async () => {
      // A backoff no slow machine outlives before close(): its retry would meet the drop first.
      const sdk = await outcomeInBackoff(30, { heartbeatIntervalMs: 60_000, deadlineMs: 5_000 });
      const { later } = await signingClient(sdk, 1);
      gateway.answerOnce('outcome', () => 'drop');

      const { undelivered } = await sdk.close();

      expect(later()).toEqual([true]);
      expect(gateway.accepted.map((a) => a['outcomeId'])).toEqual(['o-1']);
      expect(undelivered).toBe(0);
    }, 15_000);

    it('should not let a heartbeat recorded meanwhile replace the sign-off waiting to go', async () => {
      const { sdk, later } = await signingClient();
      sdk.recordOutcome(outcome('o-1'));

      // The sign-off waits behind the outcome in flight.
      const closing = sdk.close();
      sdk.heartbeat({ status: 'stopping' });
      await closing;

      expect(later()).toEqual([true]);
    });

    it('should put the sign-off back ahead of a heartbeat recorded while it failed', async () => {
      const { sdk, later } = await signingClient();
      gateway.answerOnce('heartbeat', () => 'drop');

      // The sign-off is in flight; the engine's heartbeat comes due behind it.
      const closing = sdk.close();
      sdk.heartbeat({ status: 'stopping' });
      await closing;

      expect(later()).toEqual([true, true]);
    }, 15_000);
  });

  describe('when the engine closes while a check is under way', () => {
    it('should not send it again after the 429 it waits out, and BLOCK with SDK.CLOSED', async () => {
      gateway.answerOnce('check', () => problem(429, { title: 'Too many requests' }, { 'retry-after': '1' }));
      const sdk = client({ deadlineMs: 3_000 });
      await sdk.whenConnected(5_000);
      const verdict = sdk.check(checkRequest());
      await waitFor(() => gateway.count('check') === 1, { what: 'the check refused with 429' });

      await sdk.close();

      await expect(verdict).resolves.toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.CLOSED' });
      expect(gateway.count('check')).toBe(1);
    });

    it('should cut a request the gateway has not answered, and BLOCK with SDK.CLOSED at once', async () => {
      gateway.answer('check', () => 'hang');
      const sdk = client({ deadlineMs: 10_000 });
      await sdk.whenConnected(5_000);
      const started = Date.now();
      const verdict = sdk.check(checkRequest());
      await waitFor(() => gateway.count('check') === 1, { what: 'the check under way' });

      await sdk.close();

      await expect(verdict).resolves.toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.CLOSED' });
      // Not at its deadline (10 s).
      expect(Date.now() - started).toBeLessThan(5_000);
    }, 15_000);
  });

  describe('when the gateway refuses a fact for good (a 4xx with its problem code)', () => {
    it.each([400, 404, 409, 413, 422])(
      'should drop a fact answered %d as rejected at once, asking once, and go on with the next',
      async (status) => {
        gateway.answerOnce('outcome', () => problem(status, { title: 'Refused', code: 'INGEST.INVALID' }));
        const sdk = client();
        const dropped = collect(sdk, 'dropped');

        const [first] = ['o-1', 'o-2'].map((id) => sdk.recordOutcome(outcome(id)));

        await waitFor(() => sdk.bufferDepth === 0, { what: 'the buffer drained' });
        expect(dropped).toEqual([
          expect.objectContaining({ id: first?.id, reason: 'rejected', droppedCount: 1 }),
        ]);
        expect(gateway.all('outcome').map((r) => r.body['outcomeId'])).toEqual(['o-1', 'o-2']);
        expect(gateway.accepted.map((a) => a.outcomeId)).toEqual(['o-2']);
      },
    );
  });

  describe('when the gateway refuses the API key', () => {
    it('should keep the fact and deliver it once the key is accepted again, dropping nothing', async () => {
      gateway.answerOnce('outcome', () => problem(401, { title: 'Unauthorized', code: 'AUTH.UNAUTHORIZED' }));
      const errors: string[] = [];
      const sdk = client({ logger: { error: (message) => errors.push(message) } });

      sdk.recordOutcome(outcome('o-1'));

      await waitFor(() => sdk.bufferDepth === 0, { timeoutMs: 10_000, what: 'the outcome accepted' });
      expect(gateway.accepted.map((a) => a.outcomeId)).toEqual(['o-1']);
      expect(gateway.count('outcome')).toBe(2);
      expect(sdk.droppedCount).toBe(0);
      expect(errors).toContain('bifrost: the gateway refuses this API key; facts are kept and retried');
    });
  });

  describe('when something other than the gateway answers (a wrong gatewayUrl, a proxy)', () => {
    it('should keep a fact refused without a Bifrost problem code, and deliver it once the gateway answers', async () => {
      gateway.answerOnce('outcome', () => problem(404, { title: 'Not Found' }));
      const errors: string[] = [];
      const sdk = client({ logger: { error: (message) => errors.push(message) } });

      sdk.recordOutcome(outcome('o-1'));

      await waitFor(() => sdk.bufferDepth === 0, { timeoutMs: 10_000, what: 'the outcome accepted' });
      expect(gateway.accepted.map((a) => a.outcomeId)).toEqual(['o-1']);
      expect(sdk.droppedCount).toBe(0);
      expect(errors).toContain(
        'bifrost: an answer without a Bifrost problem code; facts are kept and retried',
      );
    });
  });

  describe('when something other than the gateway answers a fact with a success', () => {
    it('should keep the fact (only the gateway’s 202 takes it) and deliver it once the gateway answers', async () => {
      gateway.answerOnce('outcome', () => ({
        status: 200,
        headers: { 'content-type': 'text/html' },
        body: '<html>single-page app</html>',
      }));
      const sdk = client();
      const dropped = collect(sdk, 'dropped');

      sdk.recordOutcome(outcome('o-1'));

      await waitFor(() => gateway.accepted.length === 1, {
        timeoutMs: 10_000,
        what: 'the outcome delivered',
      });
      expect(gateway.all('outcome')).toHaveLength(2);
      expect(dropped).toEqual([]);
    }, 15_000);
  });

  describe('when the gateway answers with a redirect', () => {
    it('should BLOCK without following it: neither the check nor the API key goes elsewhere', async () => {
      const elsewhere = await ContractServer.start();
      try {
        gateway.answer('check', () => ({
          status: 307,
          headers: { location: `${elsewhere.url}/api/v1/engine/check` },
        }));
        const sdk = client();

        const verdict = await sdk.check({
          strategyId: 's1',
          action: { kind: 'order.place', intent: 'open' },
        });

        expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'HTTP.307' });
        expect(elsewhere.count('check')).toBe(0);
      } finally {
        await elsewhere.stop();
      }
    });
  });

  describe('when the gateway asks to retry at once', () => {
    it('should wait at least the minimum between decision attempts (Retry-After: 0 is no tight loop)', async () => {
      gateway.answer('check', () =>
        problem(503, { title: 'Unavailable', code: 'RPC.NO_RESPONDERS' }, { 'retry-after': '0' }),
      );
      const sdk = client();
      await sdk.whenConnected(5_000);

      const verdict = await sdk.check(
        { strategyId: 's1', action: { kind: 'order.place', intent: 'open' } },
        { deadlineMs: 1_000 },
      );

      expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK' });
      // 100 ms apart within a 1 s deadline: about ten attempts, not hundreds.
      expect(gateway.count('check')).toBeGreaterThan(1);
      expect(gateway.count('check')).toBeLessThanOrEqual(11);
    });
  });

  describe('when the gateway answers 503 because no one could decide yet (risk-guard failover)', () => {
    it('should retry the decision within its deadline, without Retry-After', async () => {
      gateway.answerOnce('reserve', () => problem(503, { title: 'Unavailable', code: 'RISK.NO_LEADER' }));
      gateway.answerOnce('reserve', () => problem(503, { title: 'Unavailable', code: 'RISK.NOT_LEADER' }));
      const sdk = client();
      await sdk.whenConnected(5_000);

      const reservation = await sdk.reserve({
        idempotencyKey: 'k-failover',
        maxLoss: eur(1),
        exposure: eur(1),
      });

      expect(reservation).toMatchObject({ failClosed: false, outcome: 'GRANTED' });
      expect(gateway.count('reserve')).toBe(3);
    });

    it('should retry a check that a gate replica refused as not proven current', async () => {
      gateway.answerOnce('check', () => problem(503, { title: 'Unavailable', code: 'INFRA.STATE_STALE' }));
      const sdk = client();
      await sdk.whenConnected(5_000);

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });

      expect(verdict).toMatchObject({ failClosed: false, action: 'ALLOW' });
      expect(gateway.count('check')).toBe(2);
    });

    it('should not retry a 503 that may have been decided (a timeout)', async () => {
      gateway.answer('reserve', () => problem(503, { title: 'Unavailable', code: 'RPC.TIMEOUT' }));
      const sdk = client();
      await sdk.whenConnected(5_000);

      const reservation = await sdk.reserve({
        idempotencyKey: 'k-timeout',
        maxLoss: eur(1),
        exposure: eur(1),
      });

      expect(reservation).toMatchObject({ failClosed: true, code: 'RPC.TIMEOUT' });
      expect(gateway.count('reserve')).toBe(1);
    });

    it('should not retry a check that timed out at the gate, though the gateway says Retry-After: 1', async () => {
      gateway.answer('check', () =>
        problem(503, { title: 'Gate unavailable', code: 'RPC.TIMEOUT' }, { 'retry-after': '1' }),
      );
      const sdk = client();
      await sdk.whenConnected(5_000);

      const verdict = await sdk.check(
        { strategyId: 's1', action: { kind: 'order.place', intent: 'open' } },
        { deadlineMs: 5_000 },
      );

      expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'RPC.TIMEOUT' });
      expect(gateway.count('check')).toBe(1);
    });
  });

  describe('with a per-call deadline no timer can hold', () => {
    it('should use the client’s deadline and stay connected', async () => {
      const sdk = client();
      await sdk.whenConnected(5_000);

      const verdict = await sdk.check(
        { strategyId: 's1', action: { kind: 'order.place', intent: 'open' } },
        { deadlineMs: 2 ** 32 },
      );

      expect(verdict).toMatchObject({ failClosed: false, action: 'ALLOW' });
      expect(sdk.connected).toBe(true);
    });
  });

  describe('with a per-call deadline that is not a whole number of ms', () => {
    it.each([
      ['a fraction, rounded up', 1_500.5],
      ['a string from JavaScript, ignored', '500'],
    ])('should take %s, answer, and stay connected', async (_what, deadlineMs) => {
      const sdk = client();
      await sdk.whenConnected(5_000);
      const states = collectStates(sdk);

      const verdict = await sdk.check(checkRequest(), { deadlineMs: deadlineMs as number });

      expect(verdict).toMatchObject({ failClosed: false, action: 'ALLOW' });
      expect(sdk.connected).toBe(true);
      expect(states).toEqual([]);
    });
  });

  describe('when the engine’s event loop stalls while the answer comes in', () => {
    it('should BLOCK a verdict read after the deadline', async () => {
      const unreachable: string[] = [];
      await gateway.stop();
      const sdk = client({ logger: { debug: (message) => unreachable.push(message) } });
      await waitFor(() => unreachable.includes('bifrost: gateway unreachable'), { what: 'a failed probe' });
      await gateway.restart();
      // The check's answer is the first sign of the gateway, so the state listener runs before the
      // answer is read: busy for longer than the deadline, like an engine under load.
      sdk.on('state', (state) => {
        if (state === 'connected') stall(300);
      });

      const verdict = await sdk.check(checkRequest(), { deadlineMs: 100 });

      expect(gateway.count('check')).toBe(1);
      expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.DEADLINE_EXCEEDED' });
    });
  });

  describe('when a reply breaks its contract', () => {
    it.each([
      ['a size multiplier of 5', verdictReply({ sizeMultiplier: 5 })],
      ['a negative size multiplier', verdictReply({ sizeMultiplier: -1 })],
      ['an action without decision id or checks', { action: 'ALLOW', sizeMultiplier: 1 }],
    ])('should BLOCK a check answered with %s', async (_what, body) => {
      gateway.answer('check', () => ({ status: 200, body }));

      const verdict = await client().check(checkRequest());

      expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.MALFORMED_REPLY' });
    });

    it('should BLOCK a verdict for another action (its actionHash is not that of the action sent)', async () => {
      gateway.answer('check', () => ({
        status: 200,
        body: verdictReply({ actionHash: actionHash({ kind: 'order.cancel', intent: 'close' }) }),
      }));

      const verdict = await client().check(checkRequest());

      expect(verdict).toMatchObject({
        failClosed: true,
        action: 'BLOCK',
        code: 'SDK.MALFORMED_REPLY',
        reason: expect.stringMatching(/^the reply is a verdict for another action/),
      });
    });

    it('should deny a reservation granted with nothing but an id', async () => {
      gateway.answer('reserve', () => ({ status: 200, body: { outcome: 'GRANTED', reservationId: 'x' } }));

      const result = await client().reserve({ idempotencyKey: 'k-1', maxLoss: eur(1), exposure: eur(1) });

      expect(result).toMatchObject({
        failClosed: true,
        outcome: 'DENIED',
        reason: 'UNAVAILABLE',
        code: 'SDK.MALFORMED_REPLY',
      });
    });

    it('should not find a recommendation eligible on an evaluation without its gates', async () => {
      gateway.answer('evaluate', () => ({
        status: 200,
        body: { evaluationId: randomUUID(), outcome: 'ELIGIBLE', eligible: true },
      }));

      const result = await client().evaluateRecommendation({ domain: 'OFFER', confidence: 0.9 });

      expect(result).toMatchObject({
        failClosed: true,
        outcome: 'NOT_ELIGIBLE',
        code: 'SDK.MALFORMED_REPLY',
      });
    });

    it('should take a verdict with fields this SDK does not know (a newer Bifrost), at any depth', async () => {
      const known = verdictReply({
        actionHash: actionHash(checkRequest().action),
        checks: [{ name: 'maturity', outcome: 'ALLOW', value: 'L2', threshold: null, distanceToTrip: null }],
      });
      gateway.answer('check', () => ({
        status: 200,
        body: {
          ...known,
          addedLater: { any: 'thing' },
          checks: known.checks.map((c) => ({ ...c, addedLater: 1 })),
        },
      }));

      const verdict = await client().check(checkRequest());

      expect(verdict).toMatchObject({
        failClosed: false,
        action: known.action,
        decisionId: known.decisionId,
      });
    });

    it('should reject a settle answered with a string', async () => {
      gateway.answer('settle', () => ({ status: 200, body: 'hello' }));

      await expect(
        client().settle({ reservationId: randomUUID(), realizedLoss: eur(0) }),
      ).rejects.toMatchObject({ name: 'SdkError', code: 'SDK.MALFORMED_REPLY' });
    });

    it('should reject an approval granted without its token', async () => {
      gateway.answer('approval', () => ({ status: 200, body: { status: 'granted' } }));

      await expect(client().approval(where)).rejects.toMatchObject({
        name: 'SdkError',
        code: 'SDK.MALFORMED_REPLY',
      });
    });
  });

  describe('when a reply names another request (a stale cache, a mixed-up reply)', () => {
    it.each([
      ['another approval', { approvalId: 'a-2' }],
      ['another strategy', { strategyId: 's2' }],
      ['another engine', { engineId: 'e2' }],
    ])('should reject an approval answered for %s, its token not handed out', async (_what, fields) => {
      gateway.answer('approval', () => ({ status: 200, body: { ...grantedApproval('t-9'), ...fields } }));

      await expect(client().approval(where)).rejects.toMatchObject({
        name: 'SdkError',
        code: 'SDK.MALFORMED_REPLY',
        message: expect.stringMatching(/^the approval reply names/),
      });
    });

    it('should reject awaitApproval at once when the decision it gets is of another approval', async () => {
      gateway.answerOnce('approval', () => ({ status: 200, body: approvalReply() }));
      gateway.answerOnce('approval', () => ({ status: 200, body: grantedApproval('t-9') }));
      const sdk = client();

      await expect(
        sdk.awaitApproval({ strategyId: 's1', approvalId: 'a-2' }, { timeoutMs: 5_000, pollMs: 100 }),
      ).rejects.toMatchObject({ name: 'SdkError', code: 'SDK.MALFORMED_REPLY' });
      expect(gateway.count('approval')).toBe(1);
    });

    it.each([
      ['settle', (sdk: BifrostClient, id: string) => sdk.settle({ reservationId: id, realizedLoss: eur(0) })],
      ['release', (sdk: BifrostClient, id: string) => sdk.release({ reservationId: id })],
      [
        'reconcile',
        (sdk: BifrostClient, id: string) => sdk.reconcile({ reservationId: id, realizedLoss: eur(0) }),
      ],
    ])('should reject a %s answered for another reservation', async (operation, call) => {
      gateway.answer(operation, () => ({
        status: 200,
        body: reservationReply({ reservationId: randomUUID() }),
      }));

      await expect(call(client(), randomUUID())).rejects.toMatchObject({
        name: 'SdkError',
        code: 'SDK.MALFORMED_REPLY',
        message: expect.stringMatching(new RegExp(`^the ${operation} reply names reservationId`)),
      });
    });

    it.each([
      ['another domain', { domain: 'BUYER_MATCH' }],
      ['another recommendation', { recommendationId: 'r-2' }],
      ['another engine', { engineId: 'e2' }],
    ])('should not find a recommendation eligible on an evaluation of %s', async (_what, fields) => {
      gateway.answer('evaluate', () => ({
        status: 200,
        body: evaluationReply({ recommendationId: 'r-1', ...fields }),
      }));

      const result = await client().evaluateRecommendation({
        domain: 'WHOLESALE_OFFER',
        recommendationId: 'r-1',
        confidence: 0.9,
      });

      expect(result).toMatchObject({
        failClosed: true,
        outcome: 'NOT_ELIGIBLE',
        code: 'SDK.MALFORMED_REPLY',
      });
    });

    it('should take an evaluation that names what was asked', async () => {
      gateway.answer('evaluate', () => ({ status: 200, body: evaluationReply({ recommendationId: 'r-1' }) }));

      const result = await client().evaluateRecommendation({
        domain: 'WHOLESALE_OFFER',
        recommendationId: 'r-1',
        confidence: 0.9,
      });

      expect(result).toMatchObject({ failClosed: false, outcome: 'ELIGIBLE' });
    });
  });

  describe('when settle, release or reconcile breaks its request schema', () => {
    it.each([
      [
        'a settle of a fraction of a cent',
        (sdk: BifrostClient) => sdk.settle({ reservationId: randomUUID(), realizedLoss: eur(1.5) }),
      ],
      ['a release without a reservation id', (sdk: BifrostClient) => sdk.release({} as ReleaseInput)],
      [
        'a reconcile with the amount as a string',
        (sdk: BifrostClient) =>
          sdk.reconcile({
            reservationId: randomUUID(),
            realizedLoss: { amount: '5', currency: 'EUR' },
          } as unknown as ReconcileInput),
      ],
      [
        'a reconcile naming an actor (an engine reconciles as itself)',
        (sdk: BifrostClient) =>
          sdk.reconcile({
            reservationId: randomUUID(),
            realizedLoss: eur(1),
            actor: { kind: 'operator', id: 'me' },
          } as unknown as ReconcileInput),
      ],
    ])('should reject %s with SDK.INVALID_REQUEST, without sending it', async (_what, call) => {
      const sdk = client();

      await expect(call(sdk)).rejects.toMatchObject({ name: 'SdkError', code: 'SDK.INVALID_REQUEST' });
      expect(gateway.requests.filter((r) => r.method === 'POST')).toEqual([]);
    });
  });

  describe('awaitApproval', () => {
    it.each([
      ['no options', undefined],
      ['no timeoutMs', {}],
      ['a timeoutMs that is NaN', { timeoutMs: Number.NaN }],
      ['a negative timeoutMs', { timeoutMs: -5 }],
      ['a pollMs of 0', { timeoutMs: 1_000, pollMs: 0 }],
      ['a pollMs that is NaN', { timeoutMs: 1_000, pollMs: Number.NaN }],
      ['a pollMs below 100 ms', { timeoutMs: 1_000, pollMs: 10 }],
    ])('should reject %s with SDK.INVALID_REQUEST, asking nothing', async (_what, options) => {
      const sdk = client();

      await expect(sdk.awaitApproval(where, options as AwaitApprovalOptions)).rejects.toMatchObject({
        name: 'SdkError',
        code: 'SDK.INVALID_REQUEST',
      });
      expect(gateway.count('approval')).toBe(0);
    });

    it('should make its last ask once the time is up, seeing a decision taken just before', async () => {
      const pending = approvalReply();
      const granted = grantedApproval('t-1');
      // Asked at 0 and 1000 ms (pending), then once more at 1900 ms, when the time is up.
      gateway.answerOnce('approval', () => ({ status: 200, body: pending }));
      gateway.answerOnce('approval', () => ({ status: 200, body: pending }));
      gateway.answerOnce('approval', () => ({ status: 200, body: granted }));
      const sdk = client();

      const answer = await sdk.awaitApproval(where, { timeoutMs: 1_900, pollMs: 1_000 });

      expect(answer).toEqual(granted);
      expect(gateway.count('approval')).toBe(3);
    });

    it('should ask again after an ask the gateway did not answer within the deadline', async () => {
      const granted = grantedApproval('t-3');
      gateway.answerOnce('approval', () => 'hang');
      gateway.answerOnce('approval', () => ({ status: 200, body: granted }));
      const sdk = client({ deadlineMs: 300 });

      const answer = await sdk.awaitApproval(where, { timeoutMs: 5_000, pollMs: 100 });

      expect(answer).toEqual(granted);
      expect(gateway.count('approval')).toBe(2);
    });

    it('should keep asking while the gateway is out of reach, and return the decision once it is back', async () => {
      const granted = grantedApproval('t-4');
      const sdk = client();
      await sdk.whenConnected(5_000);
      await gateway.stop();

      const waiting = sdk.awaitApproval(where, { timeoutMs: 10_000, pollMs: 100 });
      // The first ask failed on the network (SDK.DISCONNECTED).
      await waitFor(() => !sdk.connected, { what: 'a failed ask' });
      gateway.answer('approval', () => ({ status: 200, body: granted }));
      await gateway.restart();

      await expect(waiting).resolves.toEqual(granted);
      expect(gateway.count('approval')).toBe(1);
    }, 15_000);

    it("should ask again after the gateway's own rate limit (429 RATE.LIMITED), not give up", async () => {
      const granted = grantedApproval('t-2');
      // As the gateway answers: a problem with its code, and a Retry-After past this call's deadline.
      gateway.answerOnce('approval', () =>
        problem(429, { title: 'Too many requests', code: 'RATE.LIMITED' }, { 'retry-after': '1' }),
      );
      gateway.answerOnce('approval', () => ({ status: 200, body: granted }));
      const sdk = client({ deadlineMs: 500 });

      const answer = await sdk.awaitApproval(where, { timeoutMs: 4_000, pollMs: 500 });

      expect(answer).toEqual(granted);
      expect(gateway.count('approval')).toBe(2);
    });
  });

  describe('when closed twice at once', () => {
    it('should close once: the same promise, one closed state', async () => {
      gateway.answer('outcome', () => 'hang');
      const sdk = client({ deadlineMs: 300 });
      await sdk.whenConnected(5_000);
      const states = collectStates(sdk);
      sdk.recordOutcome(outcome('o-1'));

      const first = sdk.close();
      const second = sdk.close();

      expect(second).toBe(first);
      await expect(first).resolves.toEqual({ undelivered: 1 });
      expect(states).toEqual(['closed']);
    });
  });

  describe('when the gateway comes back to a backlog', () => {
    it('should send the reconnect heartbeat before the buffered facts', async () => {
      const sdk = client({ heartbeatIntervalMs: 60_000 });
      await sdk.whenConnected(5_000);
      await waitFor(() => sdk.bufferDepth === 0, { what: 'the first heartbeat accepted' });
      await gateway.stop();
      // An outage's worth of telemetry, waiting to be sent (the first failed send shows the outage).
      sdk.recordOutcome(outcome('o-0'));
      await waitFor(() => !sdk.connected, { what: 'the client to notice' });
      for (let i = 1; i < 50; i += 1) sdk.recordOutcome(outcome(`o-${i}`));
      const before = gateway.requests.length;

      await gateway.restart();
      await waitFor(() => sdk.bufferDepth === 0, { timeoutMs: 10_000, what: 'the backlog sent' });

      const posts = gateway.requests.slice(before).filter((r) => r.method === 'POST');
      expect(posts[0]?.path).toBe('/api/v1/engine/heartbeat');
      expect(posts.slice(1).map((r) => r.body['outcomeId'])).toEqual(
        Array.from({ length: 50 }, (_, i) => `o-${i}`),
      );
    });
  });

  describe('when the gateway goes away', () => {
    it('should BLOCK, buffer telemetry, and flush it in order once the gateway is back', async () => {
      const unreachable: string[] = [];
      const sdk = client({ logger: { debug: (message) => unreachable.push(message) } });
      const flushed = collect(sdk, 'flushed');
      await sdk.whenConnected(5_000);
      await gateway.stop();

      const verdict = await sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });
      expect(verdict).toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.DISCONNECTED' });
      const recorded = ['o-1', 'o-2', 'o-3'].map((id) => sdk.recordOutcome(outcome(id)));
      await waitFor(() => !sdk.connected, { what: 'the client to notice' });
      expect(sdk.bufferDepth).toBe(3);
      await waitFor(() => unreachable.includes('bifrost: gateway unreachable'), { what: 'a failed probe' });

      await gateway.restart();
      await waitFor(() => sdk.connected && sdk.bufferDepth === 0, { what: 'reconnect and flush' });

      expect(gateway.accepted.map((a) => a.outcomeId)).toEqual(['o-1', 'o-2', 'o-3']);
      expect(flushed.map((f) => f.id)).toEqual(recorded.map((r) => r.id));
      // Each carries when it was recorded, not when the backlog was sent.
      expect(
        gateway.requests.filter((r) => r.path === '/api/v1/engine/outcome').map((r) => r.occurredAt),
      ).toEqual(recorded.map((r) => r.occurredAt));
    });

    it('should give up after maxReconnectAttempts failed probes, and ask nothing once it has', async () => {
      const sdk = client({ maxReconnectAttempts: 1 });
      await sdk.whenConnected(5_000);
      const states = collectStates(sdk);
      await gateway.stop();

      await sdk.check(checkRequest());
      await waitFor(() => sdk.state === 'failed', { what: 'the client to give up' });
      await gateway.restart();
      const before = gateway.requests.length;

      expect(states).toEqual(['reconnecting', 'failed']);
      await expect(sdk.check(checkRequest())).resolves.toMatchObject({
        failClosed: true,
        action: 'BLOCK',
        code: 'SDK.CONNECTION_FAILED',
      });
      await expect(sdk.approval(where)).rejects.toMatchObject({ code: 'SDK.CONNECTION_FAILED' });
      expect(gateway.requests.length).toBe(before);
    });
  });
});

const where = { strategyId: 's1', approvalId: 'a-1' };

function checkRequest() {
  return { strategyId: 's1', action: { kind: 'order.place', intent: 'open' as const } };
}

function collectStates(sdk: BifrostClient): ConnectionState[] {
  const states: ConnectionState[] = [];
  sdk.on('state', (state) => {
    states.push(state);
  });
  return states;
}

/** Blocks the event loop, as an engine busy computing does. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function outcome(outcomeId: string) {
  return { strategyId: 's1', outcomeId, pnl: { amount: -40, currency: 'EUR' } };
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

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** An answer, or none: `hang` never answers, `drop` closes the connection without one. */
type Reply = Answer | 'hang' | 'drop';

interface Received {
  method: string;
  path: string;
  apiKey: string | undefined;
  contentType: string | undefined;
  occurredAt: string | undefined;
  body: Record<string, unknown>;
  /** When it arrived (ms since the epoch). */
  at: number;
}

function problem(
  status: number,
  fields: Record<string, unknown>,
  headers: Record<string, string> = {},
): Answer {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: { type: 'about:blank', status, ...fields },
  };
}

/** The engine HTTP contract of docs/sdk.md, with scripted deviations per endpoint. */
class ContractServer {
  readonly requests: Received[] = [];
  /** Outcome data accepted with 202, in order. */
  readonly accepted: Record<string, unknown>[] = [];
  private readonly scripted = new Map<string, { once: boolean; reply: (r: Received) => Reply }[]>();
  private server: Server;
  private port = 0;

  private constructor() {
    this.server = this.create();
  }

  static async start(): Promise<ContractServer> {
    const self = new ContractServer();
    await self.listen(0);
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  answer(endpoint: string, reply: (r: Received) => Reply): void {
    this.scripted.set(endpoint, [{ once: false, reply }]);
  }

  answerOnce(endpoint: string, reply: (r: Received) => Reply): void {
    this.scripted.set(endpoint, [...(this.scripted.get(endpoint) ?? []), { once: true, reply }]);
  }

  last(endpoint: string): Received | undefined {
    return this.requests.filter((r) => r.path === `/api/v1/engine/${endpoint}`).at(-1);
  }

  /** The requests to `endpoint`, oldest first. */
  all(endpoint: string): Received[] {
    return this.requests.filter((r) => r.path === `/api/v1/engine/${endpoint}`);
  }

  count(endpoint: string): number {
    return this.requests.filter((r) => r.path === `/api/v1/engine/${endpoint}`).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async restart(): Promise<void> {
    this.server = this.create();
    await this.listen(this.port);
  }

  private create(): Server {
    return createServer((req, res) => void this.handle(req, res));
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const received: Received = {
      method: req.method ?? '',
      path: req.url ?? '',
      apiKey: req.headers['x-api-key'] as string | undefined,
      contentType: req.headers['content-type'],
      occurredAt: req.headers['occurred-at'] as string | undefined,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      at,
    };
    this.requests.push(received);
    const answer = this.scriptedAnswer(received) ?? this.contract(received);
    if (answer === 'hang') return;
    if (answer === 'drop') {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  private scriptedAnswer(received: Received): Reply | undefined {
    const endpoint = received.path.replace('/api/v1/engine/', '');
    const queue = this.scripted.get(endpoint);
    const next = queue?.[0];
    if (!queue || !next) return undefined;
    if (next.once) queue.shift();
    return next.reply(received);
  }

  private contract({ method, path, apiKey, body }: Received): Answer {
    if (method === 'GET' && path === '/health/live') return { status: 200, body: { status: 'ok' } };
    const endpoint = path.replace('/api/v1/engine/', '');
    const keyEngine = apiKey === 'key-e1' ? 'e1' : apiKey === 'key-other' ? 'other' : undefined;
    if (!keyEngine) return problem(401, { title: 'Unauthorized', code: 'AUTH.UNAUTHENTICATED' });
    if (body['engineId'] !== keyEngine) {
      return problem(403, {
        title: 'Forbidden',
        detail: 'the key is bound to another engine',
        code: 'AUTH.ENGINE_MISMATCH',
      });
    }
    switch (endpoint) {
      case 'check':
        return {
          status: 200,
          body: verdictReply({
            engineId: keyEngine,
            strategyId: String(body['strategyId']),
            actionHash: actionHash(body['action']),
          }),
        };
      case 'reserve':
        return { status: 200, body: reserveReply() };
      case 'settle':
        return {
          status: 200,
          body: reservationReply({ reservationId: String(body['reservationId']), status: 'SETTLED' }),
        };
      case 'release':
        return {
          status: 200,
          body: reservationReply({ reservationId: String(body['reservationId']), status: 'RELEASED' }),
        };
      case 'outcome':
        this.accepted.push(body);
        return { status: 202, body: { id: randomUUID(), sequence: this.accepted.length } };
      case 'heartbeat':
        return { status: 202, body: { id: randomUUID() } };
      default:
        return problem(404, { title: 'Not found' });
    }
  }
}
