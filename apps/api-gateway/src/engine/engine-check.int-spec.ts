import { connect, type NatsConnection } from '@nats-io/transport-node';
import { actionHash } from '@bifrost/audit';
import type { GateCheckReply } from '@bifrost/contracts';
import { startGateway, type GatewayHarness } from '../testing/gateway.fixtures';

const ENGINE = 'gw-check';
/** What the scripted gate answers to leave a check unanswered. */
const NO_ANSWER = 'no answer';
const action = { kind: 'order.place', intent: 'open' as const };

/** A verdict as the gate gives one, for the check below. */
function verdict(): GateCheckReply {
  return {
    decisionId: '0193a0b8-5c4e-7000-8000-000000000001',
    policyRevision: 'a'.repeat(64),
    action: 'ALLOW',
    sizeMultiplier: 1,
    riskLevel: 'LOW',
    checks: [{ name: 'killSwitch', outcome: 'ALLOW', value: 'off', threshold: 'all', distanceToTrip: null }],
    mode: 'enforce',
    decidedAt: '2026-12-07T06:00:00.000Z',
    engineId: ENGINE,
    strategyId: 's1',
    actionHash: actionHash(action),
  };
}

/**
 * The engine check route in front of a gate scripted to answer each check as a test says: whatever
 * the gate answers, an HTTP client gets a verdict or an error, never a success without a verdict.
 */
describe('engine check route with a scripted gate', () => {
  let h: GatewayHarness;
  let nc: NatsConnection;
  let answer = '';
  let engineKey = '';

  beforeAll(async () => {
    // A short rpc timeout (the default is 5 s), so that the check the gate leaves unanswered times
    // out quickly, and long enough for the answers a loaded machine still gives.
    h = await startGateway('gwcheck', { GATEWAY_RPC_TIMEOUT_MS: '2000' });
    nc = await connect({ servers: h.ns.natsUrl });
    nc.subscribe(h.ns.naming.qualify('bifrost.rpc.gate.check'), {
      callback: (_err, msg) => {
        // No answer at all: the gateway's request times out (RPC.TIMEOUT).
        if (answer === NO_ANSWER) return;
        msg.respond(new TextEncoder().encode(answer));
      },
    });
    await nc.flush();
    engineKey = (await h.createKey('engine', { engineId: ENGINE })).apiKey;
  });
  afterAll(async () => {
    await nc?.close();
    await h?.close();
  });

  const check = () =>
    h.http('POST', '/api/v1/engine/check', {
      key: engineKey,
      body: { engineId: ENGINE, strategyId: 's1', action },
    });

  it('should pass a verdict through', async () => {
    answer = JSON.stringify({ ok: true, data: verdict() });

    const reply = await check();

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual(verdict());
  });

  it.each([
    ['no data', { ok: true, data: null }],
    ['a verdict without its checks', { ok: true, data: { ...verdict(), checks: undefined } }],
    ['an action outside the vocabulary', { ok: true, data: { ...verdict(), action: 'PERMIT' } }],
  ])('should answer 500 INTERNAL.MALFORMED_REPLY, not 200, when the gate answers %s', async (_, data) => {
    answer = JSON.stringify(data);

    const reply = await check();

    expect(reply.status).toBe(500);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toMatchObject({
      type: '/problems/internal-error',
      status: 500,
      code: 'INTERNAL.MALFORMED_REPLY',
    });
  });

  describe('when the gate cannot give a verdict', () => {
    const refusal = (code: string) =>
      JSON.stringify({ ok: false, error: { code, message: `scripted ${code}` } });

    it.each([
      // Maybe decided (and recorded) meanwhile: the SDK does not ask again; other clients wait a second.
      ['does not answer in time', NO_ANSWER, 'RPC.TIMEOUT'],
      // Decided, but the decision record was not stored, so no verdict was given.
      ['cannot record its decision', refusal('GATE.RECORD_FAILED'), 'GATE.RECORD_FAILED'],
    ])(
      'should answer 503 gate-unavailable with Retry-After: 1 when the gate %s',
      async (_, scripted, code) => {
        answer = scripted;

        const reply = await check();

        expect(reply.status).toBe(503);
        expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(reply.headers.get('retry-after')).toBe('1');
        expect(reply.body).toMatchObject({
          type: '/problems/gate-unavailable',
          title: 'Gate unavailable',
          status: 503,
          code,
          instance: '/api/v1/engine/check',
        });
      },
    );

    it('should answer 503 gate-unavailable without Retry-After from a replica not proven current: nothing was decided, the SDK asks again at once', async () => {
      answer = refusal('INFRA.STATE_STALE');

      const reply = await check();

      expect(reply.status).toBe(503);
      expect(reply.headers.get('retry-after')).toBeNull();
      expect(reply.body).toMatchObject({ type: '/problems/gate-unavailable', code: 'INFRA.STATE_STALE' });
    });

    it('should answer 409 conflict without Retry-After when the strategy was contended: nothing was decided, the SDK asks again', async () => {
      answer = refusal('CONCURRENCY.CONFLICT');

      const reply = await check();

      expect(reply.status).toBe(409);
      expect(reply.headers.get('retry-after')).toBeNull();
      expect(reply.body).toMatchObject({ type: '/problems/conflict', code: 'CONCURRENCY.CONFLICT' });
    });

    it('should pass a check too large for the gate on as 413 payload-too-large, not as an outage', async () => {
      answer = refusal('RPC.PAYLOAD_TOO_LARGE');

      const reply = await check();

      expect(reply.status).toBe(413);
      expect(reply.headers.get('retry-after')).toBeNull();
      expect(reply.body).toMatchObject({
        type: '/problems/payload-too-large',
        code: 'RPC.PAYLOAD_TOO_LARGE',
      });
    });
  });
});
