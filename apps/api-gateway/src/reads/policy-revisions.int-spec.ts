import { canonicalize, sha256Hex } from '@bifrost/audit';
import { createEnvelope } from '@bifrost/messaging';
import { waitFor } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { GateConfig, gateService } from '@bifrost/gate/src/gate.service';
import { peer, projectorPeer, startGatewayStack, type GatewayStack } from '../testing/gateway.fixtures';

/** Policies as the gate hashes them: two revisions apart in one kill switch and one strategy number. */
const policies = (global: 'hard' | null, minOutcomesForPromotion: number) => ({
  control: {
    goLive: { enabled: false },
    killSwitches: { global, engines: { 'bot-1': 'soft' } },
    executionClasses: { 'order.place': 'SANDBOX_EXEC' },
    whitelists: { 'bot-1': ['SET_POWER', 'SET_FAN'] },
  },
  strategy: { maxStrategiesPerEngine: 50, minOutcomesForPromotion },
  impact: { notional: { amount: 100_000, currency: 'USD' } },
});
const ENGAGED = policies('hard', 30);
const RELEASED = policies(null, 50);
const A = sha256Hex(canonicalize(ENGAGED));
const B = sha256Hex(canonicalize(RELEASED));
/** A revision whose policies the gate did not keep (over 512 KiB). */
const LARGE = sha256Hex('policies too large to keep');
const UNKNOWN = '0'.repeat(64);
const T = (minute: number) => `2026-11-22T09:${String(minute).padStart(2, '0')}:00.000Z`;
const bytesOf = (value: unknown) => Buffer.byteLength(canonicalize(value));

describe('policy revisions read routes', () => {
  let h: GatewayStack<'projector' | 'gate'>;
  const eventIds: Record<string, string> = {};

  beforeAll(async () => {
    h = await startGatewayStack('gwpolrev', {
      engineId: 'pol-bot',
      peers: { projector: projectorPeer, gate: peer(GateConfig, gateService) },
    });
    const record = async (revision: string, kept: unknown, bytes: number, recordedAt: string) => {
      const envelope = createEnvelope({
        type: 'gate.PolicyRevisionRecorded',
        subject: h.ns.naming.eventSubject('gate', 'policy', revision),
        source: 'gate',
        actor: { kind: 'system', id: 'gate' },
        occurredAt: recordedAt,
        data: { revision, policies: kept, bytes, recordedAt },
      });
      await h.probe.publisher.publish(envelope);
      eventIds[revision] = envelope.id;
    };
    await record(A, ENGAGED, bytesOf(ENGAGED), T(1));
    await record(B, RELEASED, bytesOf(RELEASED), T(2));
    await record(LARGE, null, 600_000, T(3));
    await waitFor(async () => (await list('')).body.items?.length === 3, { what: 'the three revisions' });
  });
  afterAll(() => h?.close());

  const list = (query: string) => h.http('GET', `/api/v1/policy-revisions${query}`, { key: h.keys.viewer });
  const get = (path: string) => h.http('GET', `/api/v1/policy-revisions/${path}`, { key: h.keys.viewer });

  describe('GET /policy-revisions', () => {
    it('should list the revisions newest first, without their policies, a page at a time', async () => {
      const first = await list('?limit=2');
      expect(first.status).toBe(200);
      expect(first.body.items).toEqual([
        { revision: LARGE, bytes: 600_000, recordedAt: T(3), eventId: eventIds[LARGE] },
        { revision: B, bytes: bytesOf(RELEASED), recordedAt: T(2), eventId: eventIds[B] },
      ]);
      expect(first.body.nextCursor).toEqual(expect.any(String));

      const second = await list(`?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body).toEqual({
        items: [{ revision: A, bytes: bytesOf(ENGAGED), recordedAt: T(1), eventId: eventIds[A] }],
        nextCursor: null,
      });
    });

    it('should need a key', async () => {
      expect((await h.http('GET', '/api/v1/policy-revisions')).status).toBe(401);
    });
  });

  describe('GET /policy-revisions/{revision}', () => {
    it('should answer one revision with the policies it hashes', async () => {
      const one = await get(A);
      expect(one.status).toBe(200);
      expect(one.body).toEqual({
        revision: A,
        bytes: bytesOf(ENGAGED),
        recordedAt: T(1),
        eventId: eventIds[A],
        policies: ENGAGED,
      });
      // Honest: whoever reads them can check that they are what the revision stands for.
      expect(sha256Hex(canonicalize(one.body.policies))).toBe(A);
    });

    it('should answer null policies, with their size, when the gate did not keep them', async () => {
      expect(await get(LARGE)).toMatchObject({
        status: 200,
        body: { revision: LARGE, bytes: 600_000, recordedAt: T(3), policies: null },
      });
    });

    it('should answer 404 for a revision never recorded and 400 for one that is not 64 lowercase hex', async () => {
      expect(await get(UNKNOWN)).toMatchObject({ status: 404, body: { code: 'NOT_FOUND.ENTITY' } });
      for (const bad of [A.toUpperCase(), A.slice(1), `${A}0`, 'rev-1'])
        expect(await get(bad)).toMatchObject({ status: 400, body: { code: 'REQUEST.INVALID' } });
    });
  });

  describe('GET /policy-revisions/{revision}/diff/{other}', () => {
    it('should answer what changed from one revision to the other, as JSON Pointer paths', async () => {
      expect(await get(`${A}/diff/${B}`)).toMatchObject({
        status: 200,
        body: {
          from: A,
          to: B,
          changes: [
            { path: '/control/killSwitches/global', op: 'changed', from: 'hard', to: null },
            { path: '/strategy/minOutcomesForPromotion', op: 'changed', from: 30, to: 50 },
          ],
        },
      });
      expect((await get(`${B}/diff/${A}`)).body.changes).toEqual([
        { path: '/control/killSwitches/global', op: 'changed', from: null, to: 'hard' },
        { path: '/strategy/minOutcomesForPromotion', op: 'changed', from: 50, to: 30 },
      ]);
    });

    it('should answer no changes from a revision to itself', async () => {
      expect(await get(`${A}/diff/${A}`)).toMatchObject({
        status: 200,
        body: { from: A, to: A, changes: [] },
      });
    });

    it('should answer 404 when either revision is unknown, and 400 for a malformed one', async () => {
      for (const path of [`${UNKNOWN}/diff/${A}`, `${A}/diff/${UNKNOWN}`])
        expect(await get(path)).toMatchObject({
          status: 404,
          body: { code: 'NOT_FOUND.ENTITY', detail: `no policy revision ${UNKNOWN}` },
        });
      expect(await get(`${A}/diff/${B.toUpperCase()}`)).toMatchObject({ status: 400 });
      expect(await get(`rev-1/diff/${B}`)).toMatchObject({ status: 400 });
    });

    it('should refuse with 409 when the gate did not keep the policies of either revision', async () => {
      for (const path of [`${A}/diff/${LARGE}`, `${LARGE}/diff/${B}`])
        expect(await get(path)).toMatchObject({
          status: 409,
          body: { type: '/problems/conflict', code: 'POLICY_REVISION.POLICIES_NOT_KEPT' },
        });
    });
  });

  describe('GET /policy-revisions/current', () => {
    it("should answer the gate's policies in force, recorded so that they can be looked up", async () => {
      const current = await get('current');

      expect(current.status).toBe(200);
      expect(current.body).toEqual({
        revision: expect.stringMatching(/^[0-9a-f]{64}$/),
        bytes: expect.any(Number),
        policies: { control: expect.any(Object), strategy: expect.any(Object), impact: expect.any(Object) },
      });
      expect(sha256Hex(canonicalize(current.body.policies))).toBe(current.body.revision);
      const recorded = await waitFor(
        async () => {
          const one = await get(current.body.revision);
          return one.status === 200 && one;
        },
        { what: 'the revision in force, projected' },
      );
      expect(recorded.body.policies).toEqual(current.body.policies);
    });

    it('should answer 503 when no gate answers', async () => {
      await h.stopPeer('gate');

      const down = await get('current');

      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ code: 'RPC.NO_RESPONDERS' });
    });
  });
});
