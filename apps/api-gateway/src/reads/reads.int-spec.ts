import { get, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { uuidv7 } from '@bifrost/messaging';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the projector's own migrations create the read models
import { openProjectorDatabase } from '@bifrost/projector';
import type { RunningService } from '@bifrost/service';
import { TcpProxy, waitFor } from '@bifrost/testing';
// The real gate, in-process, is this spec's peer (apps/gate has no src/index.ts yet: deep import).
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { GateConfig, gateService } from '@bifrost/gate/src/gate.service';
import { TOKEN_ISSUER } from '../auth/auth.service';
import { signJwt } from '../auth/jwt';
import { apiControllers } from '../gateway.service';
import { declaredRoutes } from '../http/openapi';
import {
  JWT_SECRET,
  OWNER_KEY,
  peer,
  startGateway,
  startGatewayStack,
  type GatewayStack,
} from '../testing/gateway.fixtures';

describe('read routes', () => {
  let h: GatewayStack;

  beforeAll(async () => {
    h = await startGatewayStack('gwread', {
      engineId: 'bot-1',
      env: {
        GATEWAY_STREAM_HEARTBEAT_MS: '200',
        GATEWAY_MAX_STREAMS_PER_PRINCIPAL: '2',
      },
    });
  });
  afterAll(() => h?.close());

  describe('before the projector migrated the database', () => {
    it('should answer 503 problem documents', async () => {
      const control = await h.http('GET', '/api/v1/control', { key: h.keys.viewer });

      expect(control).toMatchObject({ status: 503, body: { code: 'READ_MODELS.MISSING' } });
    });

    it('should be ready with Postgres among its checks (keys and reads need it)', async () => {
      expect(await h.http('GET', '/health/ready')).toMatchObject({
        status: 200,
        body: { checks: { postgres: { ok: true }, nats: { ok: true } } },
      });
    });
  });

  describe('with the read models in place', () => {
    let projectorDb: DataSource;

    /** Every row of a list route, two per page, following nextCursor: `[engineId/]id` each. */
    const walk = async (path: string, id: string, engine?: string): Promise<string[]> => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `${path}limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const response = await h.http('GET', `/api/v1${query}`, { key: h.keys.viewer });
        expect(response.status).toBe(200);
        expect(response.body.items.length).toBeLessThanOrEqual(2);
        seen.push(
          ...response.body.items.map((row: Record<string, string>) =>
            engine ? `${row[engine]}/${row[id]}` : row[id],
          ),
        );
        cursor = response.body.nextCursor;
      } while (cursor);
      return seen;
    };

    beforeAll(async () => {
      projectorDb = await openProjectorDatabase(h.db.url);
    });
    afterAll(async () => {
      await projectorDb.destroy();
    });

    it('should read the control state with the bootstrap key', async () => {
      const control = await h.http('GET', '/api/v1/control', { key: OWNER_KEY });

      expect(control).toMatchObject({ status: 200, body: { goLive: { enabled: false }, killSwitches: [] } });
    });

    it('should tell the global kill switch from that of an engine named global by kind, global first', async () => {
      for (const [kind, scope, engaged] of [
        ['engine', 'global', false],
        ['global', 'global', true],
        ['engine', 'alpha', true],
      ] as const)
        await projectorDb.query(
          `INSERT INTO control_kill_switches (kind, scope, engaged, mode, reason, engaged_by, engaged_at)
           VALUES ($1, $2, $3, 'hard', 'drill', 'op-7', now())`,
          [kind, scope, engaged],
        );

      const control = await h.http('GET', '/api/v1/control', { key: h.keys.viewer });
      await projectorDb.query(`DELETE FROM control_kill_switches`);

      expect(control.status).toBe(200);
      expect(
        control.body.killSwitches.map((k: { kind: string; scope: string; engaged: boolean }) => [
          k.kind,
          k.scope,
          k.engaged,
        ]),
      ).toEqual([
        ['global', 'global', true],
        ['engine', 'alpha', true],
        ['engine', 'global', false],
      ]);
    });

    it('should page through decisions newest first with filters, every row exactly once', async () => {
      const ids = await insertDecisions(projectorDb, 7);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `engineId=bot-1&action=BLOCK&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const response = await h.http('GET', `/api/v1/decisions?${query}`, { key: h.keys.viewer });
        expect(response.status).toBe(200);
        seen.push(...response.body.items.map((d: { decisionId: string }) => d.decisionId));
        // A page carries the checks that shaped each verdict; the whole verdict is one GET away.
        for (const item of response.body.items) {
          expect(item).toMatchObject({ action: 'BLOCK', reasons: [BLOCKING] });
          expect(item).not.toHaveProperty('verdict');
        }
        cursor = response.body.nextCursor;
      } while (cursor);

      expect(seen).toEqual(ids.filter((_, i) => i % 2 === 0).reverse());
      const one = await h.http('GET', `/api/v1/decisions/${ids[0]}`, { key: h.keys.viewer });
      expect(one.body).toMatchObject({
        decisionId: ids[0],
        engineId: 'bot-1',
        request: { engineId: 'bot-1' },
        verdict: { action: 'BLOCK', checks: [BLOCKING, ALLOWING] },
        reasons: [BLOCKING],
        // bigint columns come back as JSON numbers, as in /audit.
        streamSeq: 1,
      });
      expect((await h.http('GET', '/api/v1/decisions/nope', { key: h.keys.viewer })).status).toBe(404);
    });

    it('should apply the declared defaults to a query without parameters', async () => {
      const page = await h.http('GET', '/api/v1/decisions', { key: h.keys.viewer });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeGreaterThan(0);
      expect((await h.http('GET', '/api/v1/audit', { key: h.keys.viewer })).status).toBe(200);
    });

    it('should answer a page of 50 rows, and the cursor to the rest, when no limit is given', async () => {
      const ids = await insertDecisions(projectorDb, 51, 'bot-page');

      const first = await h.http('GET', '/api/v1/decisions?engineId=bot-page', { key: h.keys.viewer });
      const rest = await h.http(
        'GET',
        `/api/v1/decisions?engineId=bot-page&cursor=${first.body.nextCursor}`,
        {
          key: h.keys.viewer,
        },
      );

      expect(first.status).toBe(200);
      expect(first.body.items).toHaveLength(50);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      expect(rest.body).toMatchObject({ items: [{ decisionId: ids[0] }], nextCursor: null });
    });

    it('should take a limit of 1 to 500 on every paged list, and refuse 0 and 501 with 400 naming the limit', async () => {
      const lists = declaredRoutes(apiControllers)
        .filter((route) => route.spec.method === 'GET' && route.spec.query?.properties['limit'] !== undefined)
        .map((route) => route.path.replace('/api/v1', '').replace(/\{[^}]+\}/g, 'bot-1'));
      const page = (path: string, limit: number) =>
        h.http('GET', `/api/v1${path}?limit=${limit}`, { key: h.keys.viewer });

      expect(lists.length).toBeGreaterThan(10);
      expect(lists).toEqual(expect.arrayContaining(['/decisions', '/audit', '/strategies']));
      const answers: Record<string, number[]> = {};
      for (const path of lists) {
        answers[path] = [];
        for (const limit of [0, 1, 500, 501]) {
          const response = await page(path, limit);
          answers[path].push(response.status);
          if (response.status === 400)
            expect(response.body).toMatchObject({
              type: '/problems/validation-failed',
              code: 'REQUEST.INVALID',
              issues: [{ path: '/limit' }],
            });
        }
      }

      expect(Object.values(answers).filter((statuses) => statuses.join() !== '400,200,200,400')).toEqual([]);
    });

    it('should refuse a forged cursor, an unknown filter value and a date that does not exist with 400', async () => {
      const status = async (query: string) =>
        (await h.http('GET', `/api/v1/decisions?${query}`, { key: h.keys.viewer })).status;
      // A cursor that decodes to JSON, but not to a key this API returned: ["x","y"].
      const garbage = Buffer.from(JSON.stringify(['x', 'y'])).toString('base64url');

      expect(await status('cursor=bm9wZQ')).toBe(400);
      expect(await status(`cursor=${garbage}`)).toBe(400);
      expect(await status('action=MAYBE')).toBe(400);
      expect(await status('from=2026-13-01T00:00:00.000Z')).toBe(400);
      expect(await status('from=2026-02-31T00:00:00.000Z')).toBe(400);
      // Refused by the schema, before Postgres could be asked.
      expect(
        (await h.http('GET', '/api/v1/decisions?from=2026-02-31T00:00:00.000Z', { key: h.keys.viewer })).body,
      ).toMatchObject({ code: 'REQUEST.INVALID', issues: [{ path: '/from' }] });
    });

    it('should refuse a range whose from is after its to (swapped), and answer from = to with an empty page', async () => {
      const get = (path: string) => h.http('GET', `/api/v1${path}`, { key: h.keys.viewer });
      const later = '2026-11-21T20:42:55.123Z';
      const earlier = '2026-11-21T20:42:55.122Z';

      for (const list of ['/decisions', '/heimdall/evaluations', '/canary/summaries']) {
        expect(await get(`${list}?from=${later}&to=${earlier}`)).toMatchObject({
          status: 400,
          body: { code: 'REQUEST.INVALID', detail: `from ${later} is after to ${earlier}` },
        });
        expect(await get(`${list}?from=${later}&to=${later}`)).toMatchObject({
          status: 200,
          body: { items: [], nextCursor: null },
        });
      }
      expect(await get('/heimdall/scorecards?from=2026-11-22&to=2026-11-21')).toMatchObject({
        status: 400,
        body: { code: 'REQUEST.INVALID' },
      });
      expect((await get('/heimdall/scorecards?from=2026-11-21&to=2026-11-21')).status).toBe(200);
    });

    it('should read a number only from plain decimal digits, and refuse 2.5, 1e2, 0x3 and true with 400', async () => {
      const get = (path: string) => h.http('GET', `/api/v1${path}`, { key: h.keys.viewer });

      expect((await get('/decisions?limit=2')).status).toBe(200);
      for (const bad of ['2.5', '1e2', '0x3', 'true', ' 2']) {
        expect(await get(`/decisions?limit=${encodeURIComponent(bad)}`)).toMatchObject({
          status: 400,
          body: { code: 'REQUEST.INVALID' },
        });
        expect((await get(`/audit/${encodeURIComponent(bad)}`)).status).toBe(400);
      }
      // Past 2^53 − 1 digits no longer name one number: refused, not read as 1e20 (nor sent on as such).
      expect((await get('/audit?afterSeq=9007199254740991')).status).toBe(200);
      // An event type that is none (empty, no context, an object member's name) is refused, not an empty page.
      expect((await get('/audit?eventType=gate.KillSwitchEngaged')).status).toBe(200);
      for (const path of [
        '/audit?eventType=',
        '/audit?eventType=bogus',
        '/audit?eventType=constructor',
        '/audit?afterSeq=99999999999999999999',
        '/audit/9007199254740993',
        '/decisions/stream?lastEventId=99999999999999999999',
      ])
        expect(await get(path)).toMatchObject({ status: 400, body: { code: 'REQUEST.INVALID' } });
      // An id longer than its schema allows is refused by the schema, not taken for another route.
      for (const length of [101, 1_001, 12_000])
        expect(await get(`/decisions/${'d'.repeat(length)}`)).toMatchObject({
          status: 400,
          body: { code: 'REQUEST.INVALID' },
        });
    });

    it('should refuse a reservation status or day that does not exist with 400', async () => {
      const get = (query: string) =>
        h.http('GET', `/api/v1/risk/reservations?${query}`, { key: h.keys.viewer });

      expect((await get('status=SETTLED&day=2026-11-21')).status).toBe(200);
      expect((await get('status=settled')).status).toBe(400);
      expect((await get('day=2026-13-45')).status).toBe(400);
    });

    it('should show reserve decisions with the reply the engine got, and refuse an unknown outcome or a reservation id that is no UUID with 400', async () => {
      const reply = {
        reservationId: '01a2487a-0000-7000-8000-0000000000d1',
        engineId: 'decider',
        outcome: 'DENIED',
        checks: [{ name: 'risk.decider.maxDailyLoss', outcome: 'BLOCK', value: 2, threshold: 1 }],
      };
      await projectorDb.query(
        `INSERT INTO risk_reservation_decisions (reservation_id, event_id, engine_id, outcome, reason, day, decided_at, request, reply)
         VALUES ($1, 'record-1', 'decider', 'DENIED', 'LIMIT_EXCEEDED', '2026-11-21', '2026-11-21T20:00:00.123Z', '{"idempotencyKey":"k"}', $2)`,
        [reply.reservationId, JSON.stringify(reply)],
      );
      const get = (query: string) => h.http('GET', `/api/v1/risk/decisions?${query}`, { key: h.keys.viewer });

      expect((await get(`reservationId=${reply.reservationId}`)).body.items).toEqual([
        {
          reservationId: reply.reservationId,
          eventId: 'record-1',
          engineId: 'decider',
          outcome: 'DENIED',
          reason: 'LIMIT_EXCEEDED',
          day: '2026-11-21',
          decidedAt: '2026-11-21T20:00:00.123Z',
          request: { idempotencyKey: 'k' },
          reply,
        },
      ]);
      expect((await get('engineId=decider&outcome=GRANTED')).body.items).toEqual([]);
      expect((await get('outcome=denied')).status).toBe(400);
      // The live stream: risk decisions have no action or risk level to filter on.
      const stream = (query: string) =>
        h.http('GET', `/api/v1/decisions/stream?${query}`, { key: h.keys.viewer });
      expect(await stream('context=risk&action=ALLOW')).toMatchObject({
        status: 400,
        body: { code: 'REQUEST.INVALID' },
      });
      expect((await stream('context=risk&riskLevel=LOW')).status).toBe(400);
      expect((await get('reservationId=r-1')).status).toBe(400);
    });

    it('should show a pending approval request past its expiry as expired, and filter by status', async () => {
      const soon = new Date(Date.now() + 600_000).toISOString();
      const past = new Date(Date.now() - 1_000).toISOString();
      const approval = (id: string, status: string, expiresAt: string, minute: number) =>
        projectorDb.query(
          `INSERT INTO approvals (approval_id, engine_id, strategy_id, status, action_hash, action, requested_by,
             requested_at, expires_at) VALUES ($1, 'bot-1', 's1', $2, $3, '{"kind":"order.place","intent":"open"}',
             'bot-1', $4, $5)`,
          [id, status, 'a'.repeat(64), new Date(Date.UTC(2026, 10, 21, 20, minute)).toISOString(), expiresAt],
        );
      await approval('ap-open', 'pending', soon, 3);
      await approval('ap-late', 'pending', past, 2);
      await approval('ap-done', 'granted', past, 1);
      const list = async (query = '') => {
        const response = await h.http('GET', `/api/v1/approvals${query}`, { key: h.keys.viewer });
        expect(response.status).toBe(200);
        return response.body.items.map((a: { approvalId: string; status: string }) => [
          a.approvalId,
          a.status,
        ]);
      };

      expect(await list()).toEqual([
        ['ap-open', 'pending'],
        ['ap-late', 'expired'],
        ['ap-done', 'granted'],
      ]);
      expect(await list('?status=pending')).toEqual([['ap-open', 'pending']]);
      expect(await list('?status=expired&engineId=bot-1')).toEqual([['ap-late', 'expired']]);
      expect(await list('?status=granted')).toEqual([['ap-done', 'granted']]);
      expect(await list('?status=rejected')).toEqual([]);
      expect(await walk('/approvals?', 'approvalId')).toEqual(['ap-open', 'ap-late', 'ap-done']);
      // An unknown status is refused, not answered with an empty list.
      expect(await h.http('GET', '/api/v1/approvals?status=PENDING', { key: h.keys.viewer })).toMatchObject({
        status: 400,
        body: { code: 'REQUEST.INVALID' },
      });
    });

    it('should page through reservations (newest day first) and strategies (by engine and strategy id), every row once', async () => {
      const reservations = [
        ['01a2487a-0000-7000-8000-000000000001', '2026-11-20'],
        ['01a2487a-0000-7000-8000-000000000002', '2026-11-20'],
        ['01a2487a-0000-7000-8000-000000000003', '2026-11-21'],
        ['01a2487a-0000-7000-8000-000000000004', '2026-11-21'],
        ['01a2487a-0000-7000-8000-000000000005', '2026-11-21'],
      ];
      for (const [id, day] of reservations)
        await projectorDb.query(
          `INSERT INTO risk_reservations (reservation_id, engine_id, day, status, latest) VALUES ($1, 'bot-1', $2, 'SETTLED', '{}')`,
          [id, day],
        );
      const strategies = [
        ['bot-2', 's1'],
        ['bot-1', 's2'],
        ['bot-1', 's1'],
        ['bot-2', 's0'],
        ['bot-1', 's3'],
      ];
      for (const [engineId, strategyId] of strategies)
        await projectorDb.query(
          `INSERT INTO strategies (engine_id, strategy_id, level, demotion_pending, outcomes, wins, losses, pnl_total, paused)
           VALUES ($1, $2, 'L0', false, 0, 0, 0, -1250, false)`,
          [engineId, strategyId],
        );

      expect(await walk('/risk/reservations?engineId=bot-1&', 'reservationId')).toEqual(
        [4, 3, 2, 1, 0].map((i) => reservations[i]?.[0]),
      );
      expect(await walk('/strategies?', 'strategyId', 'engineId')).toEqual([
        'bot-1/s1',
        'bot-1/s2',
        'bot-1/s3',
        'bot-2/s0',
        'bot-2/s1',
      ]);
      const one = await h.http('GET', '/api/v1/strategies/bot-1/s1', { key: h.keys.viewer });
      expect(one.body).toMatchObject({ strategy: { outcomes: 0, pnlTotal: -1250 } });
    });

    it('should say from which level a pending demotion will be told', async () => {
      await projectorDb.query(
        `INSERT INTO strategies (engine_id, strategy_id, level, demotion_pending, demotion_pending_from, outcomes, wins, losses, pnl_total, paused)
         VALUES ('bot-demoted', 's1', 'L2', true, 'L4', 0, 0, 0, 0, false), ('bot-demoted', 's2', 'L3', false, NULL, 0, 0, 0, 0, false)`,
      );
      const pending = await h.http('GET', '/api/v1/strategies/bot-demoted/s1', { key: h.keys.viewer });
      expect(pending.body).toMatchObject({
        strategy: { level: 'L2', demotionPending: true, demotionPendingFrom: 'L4' },
      });
      const told = await h.http('GET', '/api/v1/strategies/bot-demoted/s2', { key: h.keys.viewer });
      expect(told.body).toMatchObject({ strategy: { demotionPending: false, demotionPendingFrom: null } });
    });

    it('should read what lapses by the clock as of now: a pause past its cooldown, a token past its expiry', async () => {
      const past = new Date(Date.now() - 60_000).toISOString();
      const future = new Date(Date.now() + 600_000).toISOString();
      for (const [strategyId, cooldown] of [
        ['lapsed', past],
        ['running', future],
        ['open-ended', null],
      ] as const)
        await projectorDb.query(
          `INSERT INTO strategies (engine_id, strategy_id, level, demotion_pending, outcomes, wins, losses, pnl_total,
             paused, cooldown_until) VALUES ('bot-clock', $1, 'L3', false, 0, 0, 0, 0, true, $2)`,
          [strategyId, cooldown],
        );
      for (const [tokenId, expiresAt, status] of [
        ['t-expired', past, 'active'],
        ['t-active', future, 'active'],
        ['t-revoked', past, 'revoked'],
      ] as const)
        await projectorDb.query(
          `INSERT INTO execution_tokens (token_id, engine_id, strategy_id, status, scope, expires_at, single_use, issued_by,
             issued_at, uses, refusals) VALUES ($1, 'bot-clock', 'lapsed', $2, '{"actionKinds":["*"]}', $3, true, 'op',
             $4, 0, 0)`,
          [tokenId, status, expiresAt, past],
        );
      await projectorDb.query(
        `INSERT INTO control_engines (engine_id, mode, paused, cooldown_until) VALUES ('bot-clock', 'enforce', true, $1)`,
        [past],
      );
      const get = async (path: string) =>
        (await h.http('GET', `/api/v1${path}`, { key: h.keys.viewer })).body;

      const list = await get('/strategies?engineId=bot-clock');
      expect(
        Object.fromEntries(
          list.items.map((s: { strategyId: string; paused: boolean }) => [s.strategyId, s.paused]),
        ),
      ).toEqual({
        lapsed: false,
        running: true,
        'open-ended': true,
      });
      const one = await get('/strategies/bot-clock/lapsed');
      expect(one.strategy.paused).toBe(false);
      expect(
        Object.fromEntries(one.tokens.map((t: { tokenId: string; status: string }) => [t.tokenId, t.status])),
      ).toEqual({
        't-expired': 'expired',
        't-active': 'active',
        't-revoked': 'revoked',
      });
      const control = await get('/control');
      expect(control.engines.find((e: { engineId: string }) => e.engineId === 'bot-clock')).toMatchObject({
        paused: false,
        cooldownUntil: past,
      });
    });

    it('should refuse a cursor of another list, or one whose key does not fit the list, with 400 REQUEST.INVALID', async () => {
      await insertDecisions(projectorDb, 2);
      for (const strategyId of ['s1', 's2'])
        await projectorDb.query(
          `INSERT INTO strategies (engine_id, strategy_id, level, demotion_pending, outcomes, wins, losses, pnl_total, paused)
           VALUES ('bot-cursor', $1, 'L0', false, 0, 0, 0, 0, false)`,
          [strategyId],
        );
      const get = (path: string, cursor: string) =>
        h.http('GET', `/api/v1${path}${path.includes('?') ? '&' : '?'}cursor=${cursor}`, {
          key: h.keys.viewer,
        });
      const cursorOf = async (path: string): Promise<string> =>
        (await h.http('GET', `/api/v1${path}`, { key: h.keys.viewer })).body.nextCursor;
      const decisions = await cursorOf('/decisions?limit=1');
      const strategies = await cursorOf('/strategies?engineId=bot-cursor&limit=1');
      const encode = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
      const [table, , decisionId] = JSON.parse(Buffer.from(decisions, 'base64url').toString('utf8'));
      const refused = {
        status: 400,
        body: { code: 'REQUEST.INVALID', detail: 'cursor is not one this API returned' },
      };
      const cursorLists = declaredRoutes(apiControllers)
        .filter((route) => route.spec.query?.properties['cursor'] !== undefined)
        .map((route) => route.path.replace('/api/v1', '').replace('{engineId}', 'bot-1'));

      expect(cursorLists.length).toBeGreaterThan(10);
      expect(await get('/decisions', decisions)).toMatchObject({ status: 200 });
      expect(await get('/strategies?engineId=bot-cursor', strategies)).toMatchObject({
        status: 200,
        body: { items: [{ strategyId: 's2' }] },
      });
      for (const path of cursorLists) {
        if (path !== '/decisions') expect(await get(path, decisions)).toMatchObject(refused);
        if (path !== '/strategies') expect(await get(path, strategies)).toMatchObject(refused);
        expect(await get(path, encode([null, null]))).toMatchObject(refused);
      }
      // The list's own table, with key values of the wrong type or a time that does not exist.
      for (const key of [
        [table, null, null],
        [table, '2026-02-31T00:00:00.000Z', decisionId],
        [table, '2026-11-21 20:00:00', decisionId],
        [table, 1764000000000, decisionId],
        [table, '2026-11-21T20:00:00.000Z', 7],
        [table, '2026-11-21T20:00:00.000Z'],
        // Text no row's key holds, which Postgres would refuse with its own words.
        [table, '2026-11-21T20:00:00.000Z', 'x\u0000'],
      ])
        expect(await get('/decisions', encode(key))).toMatchObject(refused);
      const [strategiesTable] = JSON.parse(Buffer.from(strategies, 'base64url').toString('utf8'));
      expect(
        await get('/strategies?engineId=bot-cursor', encode([strategiesTable, 'a\u0000', 's1'])),
      ).toMatchObject(refused);
    });

    it('should page every history list newest first (policies by domain) with its filters, every row exactly once', async () => {
      const time = (minute: number) => new Date(Date.UTC(2026, 10, 21, 20, minute)).toISOString();
      /** Five rows a list shows (two at the same time: the id breaks the tie) and one its filters leave out. */
      const lists: {
        path: string;
        table: string;
        id: string;
        order: 'asc' | 'desc';
        row: (id: string, at: string, n: number, shown: boolean) => Record<string, unknown> | undefined;
      }[] = [
        {
          path: '/canary/history?probeName=walk-probe&',
          table: 'canary_probe_history',
          id: 'eventId',
          order: 'desc',
          row: (id, at, _n, shown) => ({
            event_id: id,
            probe_name: shown ? 'walk-probe' : 'other-probe',
            from_status: 'UP',
            to_status: 'DOWN',
            consecutive_failures: 1,
            consecutive_passes: 0,
            detail: 'timeout',
            latency_ms: 5,
            at,
          }),
        },
        {
          path: '/canary/alerts?engineId=walk-engine&open=true&',
          table: 'canary_alerts',
          id: 'alertId',
          order: 'desc',
          row: (id, at, _n, shown) => ({
            alert_id: id,
            engine_id: 'walk-engine',
            action: 'PAUSE',
            reason: 'silent',
            raised_at: at,
            resolved_at: shown ? null : at,
          }),
        },
        {
          path: '/canary/requests?engineId=walk-engine&',
          table: 'canary_requests',
          id: 'eventId',
          order: 'desc',
          row: (id, at, _n, shown) => ({
            event_id: id,
            kind: 'engine-pause',
            engine_id: shown ? 'walk-engine' : 'other-engine',
            reason: 'silent',
            requested_at: at,
          }),
        },
        {
          // Engines signed off and no longer watched; the left-out one (ALIVE) would sort last.
          path: '/canary/engines?status=OFFLINE&enabled=false&',
          table: 'canary_engines',
          id: 'engineId',
          order: 'asc',
          row: (id, at, _n, shown) => ({
            engine_id: id,
            status: shown ? 'OFFLINE' : 'ALIVE',
            auto_resume: false,
            enabled: false,
            last_heartbeat_at: at,
            updated_at: at,
          }),
        },
        {
          // `from` is inclusive (the first row ends at 20:01), `to` exclusive (the left-out one ends at 20:05).
          path: '/canary/summaries?from=2026-11-21T20:01:00.000Z&to=2026-11-21T20:05:00.000Z&',
          table: 'canary_summaries',
          id: 'eventId',
          order: 'desc',
          row: (id, at) => ({ event_id: id, from_at: at, to_at: at, probes: '[]', engines: '[]' }),
        },
        {
          path: '/tripwire/triggers?engineId=walk-engine&policyId=walk-policy&',
          table: 'tripwire_triggers',
          id: 'eventId',
          order: 'desc',
          row: (id, at, _n, shown) => ({
            event_id: id,
            engine_id: 'walk-engine',
            action: 'THROTTLE',
            policy_id: shown ? 'walk-policy' : 'other-policy',
            data: '{}',
            triggered_at: at,
          }),
        },
        {
          path: '/heimdall/policy-history?',
          table: 'heimdall_policies',
          id: 'domain',
          order: 'asc',
          row: (id, at, _n, shown) =>
            shown
              ? {
                  domain: id,
                  min_confidence: 0.8,
                  min_sandbox_trials: 10,
                  min_sandbox_success_rate: 0.9,
                  prod_use_enabled: false,
                  updated_at: at,
                }
              : undefined,
        },
        {
          // No filters: every revision is shown.
          path: '/policy-revisions?',
          table: 'policy_revisions',
          id: 'revision',
          order: 'desc',
          row: (id, at, _n, shown) =>
            shown ? { revision: id, policies: '{}', bytes: 2, recorded_at: at, event_id: id } : undefined,
        },
        {
          path: '/risk/decisions?engineId=walk-engine&outcome=DENIED&',
          table: 'risk_reservation_decisions',
          id: 'reservationId',
          order: 'desc',
          row: (id, at, _n, shown) => ({
            reservation_id: id,
            event_id: 'walk-record',
            engine_id: 'walk-engine',
            outcome: shown ? 'DENIED' : 'GRANTED',
            day: '2026-11-21',
            decided_at: at,
            request: '{}',
            reply: '{}',
          }),
        },
        {
          path: '/risk/engines/walk-engine/usage?',
          table: 'risk_usage',
          id: 'day',
          order: 'desc',
          // One row per day and policy: the day is the key here, not the id.
          row: (_id, at, n, shown) => ({
            day: `2026-11-1${n}`,
            policy_id: shown ? 'walk-engine' : 'other-engine',
            usage: '{}',
            decided_at: at,
          }),
        },
        {
          path: '/governance/engines/walk-engine/reports?',
          table: 'governance_reports',
          id: 'reportId',
          order: 'desc',
          row: (id, at, _n, shown) => ({
            engine_id: shown ? 'walk-engine' : 'other-engine',
            report_id: id,
            cycle_trigger: 'schedule',
            ran_at: at,
            phase: 'L3',
            readiness_score: 40,
            readiness_status: 'NEEDS_WORK',
            proposed: false,
            report: '{}',
          }),
        },
        {
          path: '/governance/engines/walk-engine/proposals?',
          table: 'governance_proposals',
          id: 'proposalId',
          order: 'desc',
          row: (id, at, _n, shown) => ({
            engine_id: 'walk-engine',
            proposal_id: id,
            from_phase: 'L3',
            target_phase: 'L3+',
            status: shown ? 'PENDING' : 'APPROVED',
            proposal: '{}',
            approvals: '[]',
            outstanding: '[]',
            created_at: at,
            expires_at: at,
          }),
        },
        {
          path: '/governance/engines/walk-engine/circuit-breaker/events/unresolved?',
          table: 'governance_breaker_events',
          id: 'eventId',
          order: 'desc',
          row: (id, at, _n, shown) => ({
            engine_id: 'walk-engine',
            event_id: id,
            rule_id: 'high-error-rate',
            rule_name: 'High error rate',
            condition: 'errorRate > 0.05',
            rule_window: '5m',
            action: 'revert_to_l3',
            observed: '{}',
            explanation: 'errorRate 0.2 > 0.05',
            tripped_at: at,
            resolved_at: shown ? null : at,
          }),
        },
      ];

      for (const list of lists) {
        const ids = [1, 2, 3, 4, 5].map((n) => `${list.table}-${n}`);
        const rows = [
          ...ids.map((id, i) => list.row(id, time([1, 2, 2, 3, 4][i] as number), i + 1, true)),
          list.row(`${list.table}-left-out`, time(5), 6, false),
        ];
        for (const row of rows) {
          if (!row) continue;
          const columns = Object.keys(row);
          await projectorDb.query(
            `INSERT INTO ${list.table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
            Object.values(row),
          );
        }
        const shown = rows.slice(0, 5).map((row) => (row as Record<string, unknown>)[decamel(list.id)]);

        expect(await walk(list.path, list.id)).toEqual(list.order === 'asc' ? shown : shown.reverse());
      }
      // Without the filter, the resolved breaker event is there too (newest first).
      expect(await walk('/governance/engines/walk-engine/circuit-breaker/events?', 'eventId')).toEqual(
        ['left-out', 5, 4, 3, 2, 1].map((n) => `governance_breaker_events-${n}`),
      );
    });

    it('should list only open canary alerts with open=true, only resolved ones with open=false, and all without it', async () => {
      const time = (minute: number) => new Date(Date.UTC(2026, 10, 21, 21, minute)).toISOString();
      // Alert n is raised at minute n; the 1st and 3rd are resolved.
      for (const [n, resolvedAt] of [
        [1, time(2)],
        [2, null],
        [3, time(4)],
      ] as const)
        await projectorDb.query(
          `INSERT INTO canary_alerts (alert_id, engine_id, action, reason, raised_at, resolved_at)
           VALUES ($1, 'open-filter', 'pause_engine', 'silent', $2, $3)`,
          [`engine:open-filter:${n}`, time(n), resolvedAt],
        );
      const alertIds = async (open: string) =>
        (
          await h.http('GET', `/api/v1/canary/alerts?engineId=open-filter${open}`, { key: h.keys.viewer })
        ).body.items.map((a: { alertId: string }) => a.alertId);

      expect(await alertIds('&open=true')).toEqual(['engine:open-filter:2']);
      expect(await alertIds('&open=false')).toEqual(['engine:open-filter:3', 'engine:open-filter:1']);
      expect(await alertIds('')).toEqual([
        'engine:open-filter:3',
        'engine:open-filter:2',
        'engine:open-filter:1',
      ]);
    });

    it('should list the watched engines by engine id with their heartbeat policy, by status and enabled', async () => {
      const time = (minute: number) => new Date(Date.UTC(2026, 10, 22, 9, minute)).toISOString();
      const engine = (engineId: string, row: Record<string, unknown>) => ({
        engine_id: engineId,
        status: 'ALIVE',
        allowed_gap_ms: null,
        auto_resume: false,
        enabled: true,
        stale_since: null,
        last_heartbeat_at: time(1),
        resume_requested_at: null,
        updated_at: time(1),
        ...row,
      });
      // Inserted out of engine id order: the order is the route's, not the table's.
      for (const row of [
        engine('fleet-e', { auto_resume: true, resume_requested_at: time(8), updated_at: time(8) }),
        engine('fleet-c', { status: 'OFFLINE', last_heartbeat_at: time(3), updated_at: time(3) }),
        engine('fleet-a', {}),
        // A policy set before the engine sent a heartbeat: no heartbeat yet, watching switched off.
        engine('fleet-d', {
          allowed_gap_ms: 120_000,
          enabled: false,
          last_heartbeat_at: null,
          updated_at: time(4),
        }),
        engine('fleet-b', {
          status: 'STALE',
          allowed_gap_ms: 60_000,
          auto_resume: true,
          stale_since: time(6),
          last_heartbeat_at: time(5),
          updated_at: time(6),
        }),
      ]) {
        const columns = Object.keys(row);
        await projectorDb.query(
          `INSERT INTO canary_engines (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
          Object.values(row),
        );
      }
      const get = (query: string) => h.http('GET', `/api/v1/canary/engines?${query}`, { key: h.keys.viewer });
      // This spec's other rows of the table (the list walk above) are not this test's.
      const fleet = (ids: string[]) => ids.filter((id) => id.startsWith('fleet-'));
      const list = async (query: string) => {
        const response = await get(query);
        expect(response.status).toBe(200);
        return fleet(response.body.items.map((e: { engineId: string }) => e.engineId));
      };

      expect(fleet(await walk('/canary/engines?', 'engineId'))).toEqual([
        'fleet-a',
        'fleet-b',
        'fleet-c',
        'fleet-d',
        'fleet-e',
      ]);
      expect(await list('status=ALIVE')).toEqual(['fleet-a', 'fleet-d', 'fleet-e']);
      expect(await list('status=STALE')).toEqual(['fleet-b']);
      expect(await list('status=OFFLINE')).toEqual(['fleet-c']);
      expect(await list('enabled=false')).toEqual(['fleet-d']);
      expect(await list('enabled=true&status=ALIVE')).toEqual(['fleet-a', 'fleet-e']);
      const { items } = (await get('limit=500')).body;
      const rowOf = (engineId: string) => items.find((e: { engineId: string }) => e.engineId === engineId);
      expect(rowOf('fleet-b')).toEqual({
        engineId: 'fleet-b',
        status: 'STALE',
        allowedGapMs: 60_000,
        autoResume: true,
        enabled: true,
        staleSince: time(6),
        lastHeartbeatAt: time(5),
        resumeRequestedAt: null,
        updatedAt: time(6),
      });
      // Null gap: the canary's default.
      expect(rowOf('fleet-e')).toMatchObject({ allowedGapMs: null, resumeRequestedAt: time(8) });
      expect(rowOf('fleet-d')).toMatchObject({
        allowedGapMs: 120_000,
        enabled: false,
        lastHeartbeatAt: null,
      });
      for (const bad of ['status=DEAD', 'status=alive', 'enabled=yes'])
        expect(await get(bad)).toMatchObject({ status: 400, body: { code: 'REQUEST.INVALID' } });
    });

    it('should list the canary summaries newest first by their end, from inclusive and to exclusive, with their probes and engines', async () => {
      const time = (minute: number) => new Date(Date.UTC(2026, 10, 23, 10, minute)).toISOString();
      const probes = (failures: number) => [
        { probeName: 'exchange-api', status: 'UP', checks: 30, failures, consecutiveFailures: 0 },
        { probeName: 'nats', status: 'DOWN', checks: 30, failures: 30, consecutiveFailures: 30 },
      ];
      const engines = [
        { engineId: 'bot-1', status: 'ALIVE' },
        { engineId: 'bot-2', status: 'STALE' },
      ];
      // Summary n ends at its minute, five minutes after it began. 3 and 4 end at once: the id breaks the
      // tie, and two to a page, the walk's first page ends between them.
      for (const [n, end] of [
        [1, 5],
        [2, 10],
        [3, 15],
        [4, 15],
        [5, 20],
      ] as const)
        await projectorDb.query(
          `INSERT INTO canary_summaries (event_id, from_at, to_at, probes, engines) VALUES ($1, $2, $3, $4, $5)`,
          [`summary-${n}`, time(end - 5), time(end), JSON.stringify(probes(n)), JSON.stringify(engines)],
        );
      const get = (query: string) =>
        h.http('GET', `/api/v1/canary/summaries?${query}`, { key: h.keys.viewer });
      const ids = async (query: string) => {
        const response = await get(query);
        expect(response.status).toBe(200);
        return response.body.items.map((s: { eventId: string }) => s.eventId);
      };

      expect(await walk(`/canary/summaries?from=${time(0)}&to=${time(21)}&`, 'eventId')).toEqual([
        'summary-5',
        'summary-4',
        'summary-3',
        'summary-2',
        'summary-1',
      ]);
      expect(await ids(`from=${time(10)}&to=${time(20)}`)).toEqual(['summary-4', 'summary-3', 'summary-2']);
      expect(await ids(`from=${time(0)}&to=${time(10)}`)).toEqual(['summary-1']);
      expect(await ids(`from=${time(15)}`)).toEqual(['summary-5', 'summary-4', 'summary-3']);
      expect(await ids(`from=${time(10)}&to=${time(10)}`)).toEqual([]);
      expect(await get(`from=${time(20)}&to=${time(10)}`)).toMatchObject({
        status: 400,
        body: { code: 'REQUEST.INVALID', detail: `from ${time(20)} is after to ${time(10)}` },
      });
      expect((await get(`from=${time(20)}&to=${time(21)}`)).body).toEqual({
        items: [{ eventId: 'summary-5', fromAt: time(15), toAt: time(20), probes: probes(5), engines }],
        nextCursor: null,
      });
    });

    it('should verify the (empty) audit chain', async () => {
      const verified = await h.http('GET', '/api/v1/audit/verify', { key: h.keys.viewer });

      expect(verified).toMatchObject({ status: 200, body: { ok: true, count: 0 } });
      const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
      expect(metrics).toMatch(/^bifrost_audit_verifications_total\{result="intact"[^}]*\} [1-9]/m);
      expect(metrics).toMatch(/^bifrost_audit_verifications_total\{result="broken"[^}]*\} 0$/m);
    });
  });

  describe('the live decision stream', () => {
    let gate: RunningService;

    beforeAll(async () => {
      gate = await peer(GateConfig, gateService)(h);
    });
    afterAll(async () => {
      await gate.close();
    });

    const check = () =>
      h.http('POST', '/api/v1/engine/check', {
        key: h.keys.engine,
        body: { engineId: 'bot-1', strategyId: 's1', action: { kind: 'order.place', intent: 'open' } },
      });

    it('should end its open streams when the gateway shuts down, so the shutdown is not held up', async () => {
      // A second instance on the same bus and database, to shut down while a client listens.
      const second = await startGateway('gwread2', {}, { ns: h.ns, db: h.db });
      const live = await openStream(`${second.gateway.url}/api/v1/decisions/stream`, h.keys.viewer);
      try {
        expect(live.ended()).toBe(false);
        // Without its streams ended, the HTTP server waits for them: this would never resolve.
        await second.close();
        await waitFor(() => live.ended(), { what: 'the stream to end' });
      } finally {
        live.close();
      }
    });

    it('should delete its consumer on the server when the client leaves', async () => {
      const stream = h.ns.naming.streams.decisions.name;
      const consumers = async () => (await h.probe.jsm.streams.info(stream)).state.consumer_count;
      const before = await consumers();
      const live = await openStream(`${h.gateway.url}/api/v1/decisions/stream`, h.keys.viewer);
      await waitFor(async () => (await consumers()) === before + 1, { what: 'the stream’s consumer' });
      live.close();
      // Left behind, it would stay for the 5 min inactive threshold of an ordered consumer.
      await waitFor(async () => (await consumers()) === before, { what: 'the consumer deleted' });
    });

    it('should push decisions as they are recorded and resume after Last-Event-ID', async () => {
      const live = await openStream(`${h.gateway.url}/api/v1/decisions/stream?engineId=bot-1`, h.keys.viewer);
      try {
        const first = await check();
        const event = await waitFor(() => live.events().find((e) => e.data.id === first.body.decisionId), {
          what: 'the first decision on the stream',
        });
        expect(event.event).toBe('gate.VerdictRendered');

        const second = await check();
        const resumed = await openStream(`${h.gateway.url}/api/v1/decisions/stream`, h.keys.viewer, event.id);
        try {
          const replayed = await waitFor(
            () => resumed.events().find((e) => e.data.id === second.body.decisionId),
            {
              what: 'the second decision after resuming',
            },
          );
          expect(resumed.events()[0]).toBe(replayed);
          const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
          expect(metrics).toMatch(/^bifrost_gateway_decision_streams\{[^}]*\} 2$/m);
        } finally {
          resumed.close();
        }
      } finally {
        live.close();
      }
    });

    it('should skip a record that is no envelope, and let a client resume past it', async () => {
      const subject = h.ns.naming.qualify('bifrost.dec.gate.poison-bot');
      const live = await openStream(`${h.gateway.url}/api/v1/decisions/stream`, h.keys.viewer);
      try {
        await h.probe.js.publish(subject, 'not json at all');
        await h.probe.js.publish(subject, JSON.stringify({ id: 'no-data', type: 'gate.VerdictRendered' }));
        const after = await check();

        const event = await waitFor(() => live.events().find((e) => e.data.id === after.body.decisionId), {
          what: 'the decision after the bad records',
        });
        expect(live.ended()).toBe(false);
        const resumed = await openStream(
          `${h.gateway.url}/api/v1/decisions/stream`,
          h.keys.viewer,
          String(Number(event.id) - 3),
        );
        try {
          await waitFor(() => resumed.events().find((e) => e.id === event.id), {
            what: 'the resumed decision',
          });
          expect(resumed.ended()).toBe(false);
        } finally {
          resumed.close();
        }
      } finally {
        live.close();
      }
    });

    it('should skip a record whose type would break the event framing (no forged event, no other id)', async () => {
      const subject = h.ns.naming.qualify('bifrost.dec.gate.poison-bot');
      // A key of its own: the viewer's streams of the tests before may not be given back yet.
      const key = await h.createKey('viewer');
      const live = await openStream(`${h.gateway.url}/api/v1/decisions/stream`, key.apiKey);
      try {
        await h.probe.js.publish(
          subject,
          JSON.stringify({
            id: 'framing',
            type: 'gate.VerdictRendered\n\nid: 1\nevent: gate.Forged\ndata: {"forged":true}',
            data: {},
          }),
        );
        const after = await check();

        await waitFor(() => live.events().find((e) => e.data.id === after.body.decisionId), {
          what: 'the decision after the bad record',
        });
        expect(live.events().filter((e) => e.event === 'gate.Forged' || e.id === '1')).toEqual([]);
      } finally {
        live.close();
      }
    });

    it('should answer HEAD with the headers of a stream, holding none open', async () => {
      const head = await h.http('HEAD', '/api/v1/decisions/stream', { key: h.keys.viewer });

      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toContain('text/event-stream');
      const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
      expect(metrics).toMatch(/^bifrost_gateway_decision_streams\{[^}]*\} 0$/m);
    });

    it('should filter heimdall evaluations by the action and risk level of their reply', async () => {
      const subject = h.ns.naming.qualify('bifrost.dec.heimdall.ai-bot');
      const evaluation = (id: string, action: string, riskLevel: string) =>
        h.probe.js.publish(
          subject,
          JSON.stringify({
            id,
            type: 'heimdall.RecommendationEvaluated',
            data: { request: { engineId: 'ai-bot' }, reply: { evaluationId: id, action, riskLevel } },
          }),
        );
      const stream = h.ns.naming.streams.decisions.name;
      const before = (await h.probe.jsm.streams.info(stream)).state.last_seq;
      await evaluation('ev-allow', 'ALLOW', 'LOW');
      await evaluation('ev-block', 'BLOCK', 'HIGH');
      await evaluation('ev-block-low', 'BLOCK', 'LOW');

      const live = await openStream(
        `${h.gateway.url}/api/v1/decisions/stream?context=heimdall&action=BLOCK&riskLevel=HIGH&lastEventId=${before}`,
        h.keys.viewer,
      );
      try {
        await waitFor(() => live.events().length > 0, { what: 'the matching evaluation' });
        // Past the last one published, so the stream has read all three before this check ends.
        await evaluation('ev-block-high-2', 'BLOCK', 'HIGH');
        await waitFor(() => live.events().length === 2, { what: 'the second matching evaluation' });
        expect(live.events().map((e) => e.data.id)).toEqual(['ev-block', 'ev-block-high-2']);
      } finally {
        live.close();
      }
    });

    it('should ignore a Last-Event-ID that is not a sequence number and start with new decisions', async () => {
      await check();
      // `Number('')` is 0: an empty header used to replay the whole stream from its first record.
      const live = await openStream(`${h.gateway.url}/api/v1/decisions/stream`, h.keys.viewer, '');
      try {
        const next = await check();
        const event = await waitFor(() => live.events().find((e) => e.data.id === next.body.decisionId), {
          what: 'the decision made after connecting',
        });
        expect(live.events()[0]).toBe(event);
      } finally {
        live.close();
      }
    });

    it('should end the stream once its key is revoked', async () => {
      const key = await h.createKey('viewer');
      const live = await openStream(`${h.gateway.url}/api/v1/decisions/stream`, key.apiKey);
      const revoked = await h.http('DELETE', `/api/v1/keys/${key.id}`, { key: h.keys.admin });
      expect(revoked.status).toBe(200);

      await waitFor(() => live.ended(), { what: 'the stream ending after the revocation' });
      expect(live.events().map((e) => e.event)).toEqual(['unauthorized']);
    });

    it('should end a stream opened with an access token once the token expires, though its key is still good', async () => {
      const key = await h.createKey('viewer');
      // An access token as the gateway issues them, but expiring in 3 s rather than 15 min
      // (GATEWAY_ACCESS_TOKEN_TTL_SECONDS cannot go below 10 s).
      const iat = Math.floor(Date.now() / 1000);
      const token = signJwt(
        { sub: key.id, role: 'viewer', iat, exp: iat + 3, jti: uuidv7(), iss: TOKEN_ISSUER },
        JWT_SECRET,
      );
      const url = `${h.gateway.url}/api/v1/decisions/stream`;
      const live = await openStream(url, { token });

      await waitFor(() => live.ended(), { what: 'the stream ending once its token expired' });

      expect(live.events().map((e) => e.event)).toEqual(['unauthorized']);
      expect(await h.http('GET', '/api/v1/decisions/stream', { token })).toMatchObject({
        status: 401,
        body: { code: 'AUTH.TOKEN_EXPIRED' },
      });
      const reopened = await openStream(url, key.apiKey);
      reopened.close();
    }, 15_000);

    it('should end a stream opened with an access token once the token’s key is revoked', async () => {
      const key = await h.createKey('viewer');
      const { body: tokens } = await h.http('POST', '/api/v1/auth/token', { body: { apiKey: key.apiKey } });
      const live = await openStream(`${h.gateway.url}/api/v1/decisions/stream`, {
        token: tokens.accessToken,
      });

      expect((await h.http('DELETE', `/api/v1/keys/${key.id}`, { key: h.keys.admin })).status).toBe(200);

      await waitFor(() => live.ended(), { what: 'the stream ending after the revocation' });
      expect(live.events().map((e) => e.event)).toEqual(['unauthorized']);
    });

    it('should hold no slot for a client that hung up while it was being authenticated', async () => {
      const streams = async () => {
        const text = await (await fetch(`${h.gateway.url}/metrics`)).text();
        return Number(/^bifrost_gateway_decision_streams(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1]);
      };
      const before = await streams();
      // A key this instance has not looked up yet: the guard waits for Postgres, the client does not.
      const key = await h.createKey('viewer');
      const { hostname, port } = new URL(h.gateway.url);
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), hostname, () => {
          socket.write(
            `GET /api/v1/decisions/stream HTTP/1.1\r\nHost: ${hostname}\r\nX-Api-Key: ${key.apiKey}\r\n\r\n`,
            () => {
              socket.destroy();
              resolve();
            },
          );
        });
        socket.on('error', () => resolve());
      });
      // Long enough for the request to be handled; a stream set up for it would still be counted.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await streams()).toBe(before);
      const url = `${h.gateway.url}/api/v1/decisions/stream`;
      const first = await openStream(url, key.apiKey);
      const second = await openStream(url, key.apiKey);
      first.close();
      second.close();
    });

    it('should end a stream without `unauthorized` while its key cannot be looked up, and let it resume once it can', async () => {
      const key = await h.createKey('viewer');
      const url = `${h.gateway.url}/api/v1/decisions/stream`;
      const live = await openStream(url, key.apiKey);
      const db = new Client({ connectionString: h.db.url });
      await db.connect();
      try {
        // The key lookup fails in Postgres (not the key): the stream cannot be checked again.
        await db.query('ALTER TABLE api_keys RENAME TO api_keys_away');
        try {
          await waitFor(() => live.ended(), { what: 'the stream to end' });
          expect(live.events().map((e) => e.event)).not.toContain('unauthorized');
          // Nor is a reconnect told so: the gateway fails, the key does not.
          expect((await h.http('GET', '/api/v1/auth/me', { key: key.apiKey })).status).toBeGreaterThanOrEqual(
            500,
          );
        } finally {
          await db.query('ALTER TABLE api_keys_away RENAME TO api_keys');
        }
        const next = await check();
        const resumed = await openStream(url, key.apiKey, '0');
        await waitFor(() => resumed.events().find((e) => e.data.id === next.body.decisionId), {
          what: 'the resumed stream to deliver the decision made since',
        });
        resumed.close();
      } finally {
        await db.end();
        live.close();
      }
      // The key is looked up again once the gateway's cache of it expires (5 s).
    }, 20_000);

    it('should hold at most GATEWAY_MAX_STREAMS_PER_PRINCIPAL streams per key, and take new ones once one closes', async () => {
      const key = await h.createKey('viewer');
      const url = `${h.gateway.url}/api/v1/decisions/stream`;
      const first = await openStream(url, key.apiKey);
      const second = await openStream(url, key.apiKey);
      try {
        const third = await fetch(url, { headers: { 'x-api-key': key.apiKey } });
        expect(third.status).toBe(429);
        expect(await third.json()).toMatchObject({ code: 'RATE.STREAMS' });
        // Another principal is not affected.
        const other = await openStream(url, h.keys.viewer);
        other.close();

        first.close();
        const again = await waitFor(
          async () => {
            const response = await fetch(url, { headers: { 'x-api-key': key.apiKey } });
            if (response.status === 200) return response;
            await response.body?.cancel();
            return undefined;
          },
          { what: 'a stream accepted after one was closed' },
        );
        await again.body?.cancel();
      } finally {
        second.close();
      }
    });

    it('should read the stream only as fast as the client takes it (a paused client does not fill the gateway)', async () => {
      // ~24 MB of records: more than the loopback socket buffers hold on both ends.
      const total = 12_000;
      const filler = 'x'.repeat(2_000);
      const subject = h.ns.naming.qualify('bifrost.dec.gate.slow-reader');
      const acks = [];
      for (let i = 0; i < total; i += 1)
        acks.push(h.probe.js.publish(subject, JSON.stringify({ type: 'bench', data: { filler } })));
      await Promise.all(acks);
      const stream = h.ns.naming.streams.decisions.name;
      const last = (await h.probe.jsm.streams.info(stream)).state.last_seq;

      const paused = await pausedStream(
        `${h.gateway.url}/api/v1/decisions/stream?engineId=slow-reader&lastEventId=0`,
        h.keys.operator,
      );
      try {
        // The stream's consumer is ephemeral (and nats.js may recreate it): find it by its filter.
        const delivered = async () => {
          const consumers = await h.probe.jsm.consumers.list(stream).next();
          const ours = consumers.find((c) =>
            JSON.stringify(c.config.filter_subjects ?? c.config.filter_subject ?? '').includes('slow-reader'),
          );
          return ours?.delivered.stream_seq ?? 0;
        };
        // It reads until the sockets are full, then waits for the client.
        const settled = await waitFor(
          async () => {
            const before = await delivered();
            await new Promise((resolve) => setTimeout(resolve, 500));
            const after = await delivered();
            return before > 0 && after === before ? after : undefined;
          },
          { timeoutMs: 20_000, what: 'the stream to stop reading for a paused client' },
        );
        expect(settled).toBeLessThan(last);

        paused.resume();
        await waitFor(async () => (await delivered()) === last, {
          timeoutMs: 30_000,
          what: 'every record delivered once the client reads',
        });
      } finally {
        paused.close();
      }
    }, 60_000);

    it('should answer 503 with Retry-After, not 500, while JetStream cannot be reached', async () => {
      // A second instance whose NATS link goes through a proxy that can be cut.
      const url = new URL(h.ns.natsUrl.split(',')[0] as string);
      const proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 4222) });
      const cut = await startGateway('gwread3', { NATS_URL: proxy.url }, { ns: h.ns, db: h.db });
      try {
        proxy.pause();
        const refused = await cut.http('GET', '/api/v1/decisions/stream', { key: OWNER_KEY });

        expect(refused).toMatchObject({
          status: 503,
          body: { type: '/problems/service-unavailable', code: 'INFRA.UNAVAILABLE' },
        });
        expect(refused.headers.get('content-type')).toContain('application/problem+json');
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      } finally {
        proxy.resume();
        await cut.close();
        await proxy.stop();
      }
    }, 30_000);

    it.each([
      ['after one it sent', 'lossy-bot', ['sent-before']],
      // Nothing taken yet: the stream goes on from where it began, not with the records new by then.
      ['as the first of a stream of new records', 'lossy-first-bot', []],
    ])(
      'should send a decision its gateway lost on the way %s, with no later decision to show the gap, and none twice',
      async (_, engineId, before) => {
        // A second instance whose NATS link goes through a proxy that can cut it at a chosen record.
        const url = new URL(h.ns.natsUrl.split(',')[0] as string);
        const proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 4222) });
        const cutOff = await startGateway(engineId, { NATS_URL: proxy.url }, { ns: h.ns, db: h.db });
        const subject = h.ns.naming.qualify(`bifrost.dec.gate.${engineId}`);
        const publish = (id: string) =>
          h.probe.js.publish(subject, JSON.stringify({ id, type: 'gate.VerdictRendered', data: { id } }));
        const live = await openStream(
          `${cutOff.gateway.url}/api/v1/decisions/stream?engineId=${engineId}`,
          OWNER_KEY,
        );
        const sent = (id: string) => live.events().some((e) => e.data.id === id);
        try {
          for (const id of before) {
            await publish(id);
            await waitFor(() => sent(id), { what: 'the decision before the cut' });
          }
          // The connection dies with the record on its way to the gateway; the stream's consumer acks
          // nothing, so the server does not send it again.
          const cut = proxy.cutOnServerChunk((chunk) => chunk.includes('"id":"lost-on-the-way"'));
          await publish('lost-on-the-way');
          await cut;

          await waitFor(() => sent('lost-on-the-way'), {
            timeoutMs: 30_000,
            what: 'the decision lost on the way',
          });
          await publish('sent-after');
          await waitFor(() => sent('sent-after'), { what: 'the decision after the cut' });
          expect(live.events().map((e) => e.data.id)).toEqual([...before, 'lost-on-the-way', 'sent-after']);
          expect(live.ended()).toBe(false);
        } finally {
          live.close();
          await cutOff.close();
          await proxy.stop();
        }
      },
      60_000,
    );

    it('should need a credential', async () => {
      const response = await fetch(`${h.gateway.url}/api/v1/decisions/stream`);

      expect(response.status).toBe(401);
    });
  });
});

interface SseEvent {
  id: string;
  event: string;
  data: { id: string; type: string };
}

/** `credential`: an API key, or `{ token }`, an access token sent as `Authorization: Bearer`. */
async function openStream(url: string, credential: string | { token: string }, lastEventId?: string) {
  const controller = new AbortController();
  const auth: Record<string, string> =
    typeof credential === 'string'
      ? { 'x-api-key': credential }
      : { authorization: `Bearer ${credential.token}` };
  const response = await fetch(url, {
    headers: { ...auth, ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}) },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: SseEvent[] = [];
  let ended = false;
  let buffer = '';
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    for (;;) {
      const chunk = await reader?.read().catch(() => ({ done: true, value: undefined }));
      if (!chunk || chunk.done) {
        ended = true;
        return;
      }
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((l) => l.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        const data = field('data');
        if (data)
          events.push({
            id: field('id') ?? '',
            event: field('event') ?? '',
            data: JSON.parse(data) as SseEvent['data'],
          });
      }
    }
  })();
  return { events: () => events, ended: () => ended, close: () => controller.abort() };
}

/** A stream whose client reads nothing until `resume()` (node:http, so that nothing buffers on its behalf). */
async function pausedStream(url: string, key: string) {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = get(url, { headers: { 'x-api-key': key } }, resolve);
    request.on('error', reject);
  });
  expect(response.statusCode).toBe(200);
  response.pause();
  return {
    resume: () => response.on('data', () => undefined).resume(),
    close: () => response.destroy(),
  };
}

/** A row property's column: `eventId` → `event_id`. */
const decamel = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const BLOCKING = { name: 'maturity', outcome: 'BLOCK', value: 'L0', threshold: 'L1', distanceToTrip: -1 };
const ALLOWING = { name: 'health', outcome: 'ALLOW', value: 0.9, threshold: 0.5, distanceToTrip: 0.4 };

/** Decisions alternating BLOCK / ALLOW for an engine (bot-1), one second apart; returns their ids in time order. */
async function insertDecisions(db: DataSource, count: number, engineId = 'bot-1'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const id = uuidv7();
    ids.push(id);
    const decidedAt = new Date(Date.UTC(2026, 10, 21, 20, 0, i)).toISOString();
    await db.query(
      `INSERT INTO gate_decisions (decision_id, event_id, decided_at, engine_id, strategy_id, action, risk_level, mode,
         size_multiplier, action_kind, action_hash, policy_revision, verdict, request, reasons, stream_seq)
       VALUES ($1, $2, $3, $10, 's1', $4, 'LOW', 'enforce', 0, 'order.place', $5, 'rev', $6, $7, $8, $9)`,
      [
        id,
        uuidv7(),
        decidedAt,
        i % 2 === 0 ? 'BLOCK' : 'ALLOW',
        'a'.repeat(64),
        JSON.stringify({ action: i % 2 === 0 ? 'BLOCK' : 'ALLOW', checks: [BLOCKING, ALLOWING] }),
        JSON.stringify({ engineId }),
        JSON.stringify([BLOCKING]),
        i + 1,
        engineId,
      ],
    );
  }
  return ids;
}
