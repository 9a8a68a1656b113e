import type { RunningService } from '@bifrost/service';
import { createEnvelope } from '@bifrost/messaging';
// The real gate, in-process, is this spec's peer (apps/gate has no src/index.ts yet: deep import).
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { GateConfig, gateService } from '@bifrost/gate/src/gate.service';
import { peer, startGatewayStack, type GatewayStack } from '../testing/gateway.fixtures';

const ENGINE = 'gw-tokens';
const DAY_MS = 86_400_000;
const YEAR_9999 = '9999-12-31T23:59:59.999Z';

describe('execution tokens over HTTP, issued by the real gate', () => {
  let h: GatewayStack<'gate'>;
  let restarted: RunningService | undefined;

  beforeAll(async () => {
    h = await startGatewayStack('gwtokens', {
      engineId: ENGINE,
      peers: { gate: peer(GateConfig, gateService) },
    });
  });
  afterAll(async () => {
    await restarted?.close();
    await h?.close();
  });

  const subjectOf = (strategyId: string) =>
    h.ns.naming.eventSubject('gate', 'strategy', `${ENGINE}:${strategyId}`);
  const register = async (strategyId: string) =>
    expect(
      await h.http('POST', '/api/v1/strategies', {
        key: h.keys.operator,
        body: { engineId: ENGINE, strategyId },
      }),
    ).toMatchObject({ status: 200 });
  const issue = (
    strategyId: string,
    expiresAt: string,
    { idempotencyKey, header }: { idempotencyKey?: string; header?: string } = {},
  ) =>
    h.http('POST', `/api/v1/strategies/${ENGINE}/${strategyId}/tokens`, {
      key: h.keys.admin,
      body: {
        scope: { actionKinds: ['*'] },
        expiresAt,
        singleUse: false,
        ...(idempotencyKey ? { idempotencyKey } : {}),
      },
      ...(header ? { headers: { 'idempotency-key': header } } : {}),
    });
  const tokenIdOf = (response: { body: { events: { data: { tokenId: string } }[] } }) =>
    response.body.events[0]?.data.tokenId;
  const tokenEvents = async (strategyId: string) =>
    (await h.probe.eventStore.read(subjectOf(strategyId))).events.filter(
      (e) => e.envelope.type === 'gate.TokenIssued',
    );

  describe('Given the default maximum token lifetime of 24 h', () => {
    it('should refuse a multi-use token until the year 9999 with 422, saying the latest expiry allowed, issuing nothing', async () => {
      await register('forever');

      const response = await issue('forever', YEAR_9999);

      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({
        type: '/problems/rejected',
        code: 'GATE.TOKEN_TTL_TOO_LONG',
        detail: expect.stringContaining(`expiresAt ${YEAR_9999} is too far ahead`),
        details: { maxTokenTtlMs: DAY_MS, latestExpiresAt: expect.any(String) },
      });
      expect(await tokenEvents('forever')).toEqual([]);
    });

    it('should refuse a day and a minute, and issue a day less a minute', async () => {
      await register('daily');
      // The gate decides a little after this clock reads, so a lifetime measured here is a bit longer there.
      const now = Date.now();

      const tooLong = await issue('daily', new Date(now + DAY_MS + 60_000).toISOString());
      const inside = await issue('daily', new Date(now + DAY_MS - 60_000).toISOString());

      expect(tooLong).toMatchObject({ status: 422, body: { code: 'GATE.TOKEN_TTL_TOO_LONG' } });
      expect(inside).toMatchObject({ status: 200, body: { events: [{ type: 'TokenIssued' }] } });
    });
  });

  describe('Given an issue sent with an Idempotency-Key header', () => {
    const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

    it('should issue one token for the key sent twice, answering its id both times, as for the key in the body', async () => {
      await register('retried');
      const expiresAt = inAnHour();

      const first = await issue('retried', expiresAt, { header: 'rotation-1' });
      const again = await issue('retried', expiresAt, { header: 'rotation-1' });
      const inBody = await issue('retried', expiresAt, { idempotencyKey: 'rotation-1' });
      const inBoth = await issue('retried', expiresAt, {
        idempotencyKey: 'rotation-1',
        header: 'rotation-1',
      });

      expect(first).toMatchObject({ status: 200, body: { events: [{ type: 'TokenIssued' }] } });
      for (const retry of [again, inBody, inBoth]) {
        expect(retry).toMatchObject({ status: 200, body: { events: [{ type: 'TokenIssued' }] } });
        expect(tokenIdOf(retry)).toBe(tokenIdOf(first));
      }
      expect(await tokenEvents('retried')).toHaveLength(1);
    });

    it('should refuse the key sent again with other parameters with 409 GATE.TOKEN_EXISTS, issuing nothing more', async () => {
      await register('changed');
      const first = await issue('changed', inAnHour(), { header: 'rotation-2' });

      const other = await issue('changed', new Date(Date.now() + 7_200_000).toISOString(), {
        header: 'rotation-2',
      });

      expect(first.status).toBe(200);
      expect(other).toMatchObject({
        status: 409,
        body: { type: '/problems/conflict', code: 'GATE.TOKEN_EXISTS' },
      });
      expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await tokenEvents('changed')).toHaveLength(1);
    });

    it('should refuse a header that names another key than the body, or no key at all, with 400, issuing nothing', async () => {
      await register('two-keys');

      const differing = await issue('two-keys', inAnHour(), { idempotencyKey: 'a', header: 'b' });
      const blank = await issue('two-keys', inAnHour(), { header: '   ' });

      expect(differing).toMatchObject({ status: 400, body: { code: 'REQUEST.INVALID' } });
      expect(differing.body.detail).toContain('idempotency-key');
      expect(blank).toMatchObject({ status: 400, body: { code: 'REQUEST.INVALID' } });
      expect(await tokenEvents('two-keys')).toEqual([]);
    });
  });

  describe('Given a token stored before the cap, valid until the year 9999', () => {
    it('should rebuild a restarted gate with it, still active and revocable', async () => {
      await register('legacy');
      const subject = subjectOf('legacy');
      const { lastSequence } = await h.probe.eventStore.read(subject);
      await h.stopPeer('gate');
      await h.probe.eventStore.append(
        subject,
        [
          createEnvelope({
            type: 'gate.TokenIssued',
            source: 'gate',
            subject,
            actor: { kind: 'operator', id: h.keyIds.admin },
            data: {
              tokenId: 'legacy-forever',
              scope: { actionKinds: ['*'] },
              maxNotional: null,
              expiresAt: YEAR_9999,
              singleUse: false,
              boundActionHash: null,
              approvalId: null,
              issuedBy: h.keyIds.admin,
              issuedAt: new Date().toISOString(),
            },
          }),
        ],
        lastSequence,
      );

      restarted = await peer(GateConfig, gateService)({ ns: h.ns, db: h.db });
      const revoked = await h.http(
        'POST',
        `/api/v1/strategies/${ENGINE}/legacy/tokens/legacy-forever/revoke`,
        {
          key: h.keys.operator,
          body: { reason: 'older than the cap' },
        },
      );

      expect(revoked).toMatchObject({
        status: 200,
        body: { events: [{ type: 'TokenRevoked', data: { tokenId: 'legacy-forever' } }] },
      });
    });
  });
});
