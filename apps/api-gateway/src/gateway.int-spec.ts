import { connect } from 'node:net';
import { factId } from '@bifrost/contracts';
import type { GateApprovalReply, GateCheckReply } from '@bifrost/contracts';
// The real gate, in-process, is this spec's peer (apps/gate has no src/index.ts yet: deep import).
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { GateConfig, gateService } from '@bifrost/gate/src/gate.service';
import { startTestService } from '@bifrost/testing';
import { GatewayConfig, gatewayService } from './gateway.service';
import {
  JWT_SECRET,
  OWNER_KEY,
  peer,
  startGateway,
  startGatewayStack,
  type GatewayHarness,
  type GatewayStack,
} from './testing/gateway.fixtures';

describe('gateway over the real gate', () => {
  let h: GatewayStack<'gate'>;

  const controlEvents = async () =>
    (await h.probe.eventStore.read(h.ns.naming.eventSubject('gate', 'control', 'global'))).events.map(
      (e) => e.envelope,
    );
  const check = (key: string, engineId: string, strategyId = 's1', query = '') =>
    h.http('POST', `/api/v1/engine/check${query}`, {
      key,
      body: { engineId, strategyId, action: { kind: 'order.place', intent: 'open' } },
    });

  beforeAll(async () => {
    h = await startGatewayStack('gwgate', {
      engineId: 'engine-a',
      env: { GATEWAY_RATE_LIMIT_ANONYMOUS: '1000' },
      peers: { gate: peer(GateConfig, gateService) },
    });
  });
  afterAll(() => h?.close());

  describe('the kill switch over HTTP', () => {
    it('should make the next engine check over HTTP answer KILL, with the operator on the event', async () => {
      const { body: tokens } = await h.http('POST', '/api/v1/auth/token', {
        body: { apiKey: h.keys.operator },
      });

      const engaged = await h.http('POST', '/api/v1/control/kill-switch/engage', {
        token: tokens.accessToken,
        body: { mode: 'hard', reason: 'runaway losses' },
      });

      expect(engaged).toMatchObject({ status: 200, body: { events: [{ type: 'KillSwitchEngaged' }] } });
      const verdict = await check(h.keys.engine, 'engine-a');
      expect(verdict.status).toBe(200);
      expect((verdict.body as GateCheckReply).action).toBe('KILL');
      const events = await controlEvents();
      expect(events.find((e) => e.type === 'gate.KillSwitchEngaged')?.actor).toEqual({
        kind: 'operator',
        id: h.keyIds.operator,
      });
      expect(events.find((e) => e.type === 'gate.KillSwitchEngaged')?.data['actor']).toEqual({
        kind: 'operator',
        id: h.keyIds.operator,
      });

      const admin = await h.createKey('admin');
      const released = await h.http('POST', '/api/v1/control/kill-switch/release', {
        key: admin.apiKey,
        body: { reason: 'fixed' },
      });
      expect(released).toMatchObject({ status: 200, body: { events: [{ type: 'KillSwitchReleased' }] } });
    });

    it('should let an operator make a switch harder but only an admin make a hard one soft', async () => {
      const engage = (key: string, mode: string) =>
        h.http('POST', '/api/v1/control/kill-switch/engage', {
          key,
          body: { engineId: 'engine-soft', mode, reason: 'drill' },
        });

      expect(await engage(h.keys.operator, 'soft')).toMatchObject({ status: 200 });
      expect(await engage(h.keys.operator, 'hard')).toMatchObject({ status: 200 });
      // Softening releases part of a hard switch: as a release, an admin's call.
      expect(await engage(h.keys.operator, 'soft')).toMatchObject({
        status: 403,
        body: { code: 'GATE.SOFTENING_FORBIDDEN' },
      });
      expect(await engage(h.keys.admin, 'soft')).toMatchObject({
        status: 200,
        body: { events: [{ type: 'KillSwitchEngaged', data: { mode: 'soft' } }] },
      });
      expect(
        await h.http('POST', '/api/v1/control/kill-switch/release', {
          key: h.keys.admin,
          body: { engineId: 'engine-soft', reason: 'drill over' },
        }),
      ).toMatchObject({ status: 200 });
    });
  });

  describe('unauthenticated and under-privileged calls', () => {
    it.each<[string, () => Record<string, string>, number]>([
      ['no credential', () => ({}), 401],
      ['an unknown key', () => ({ key: 'bfk_0000000000000000_' + 'x'.repeat(43) }), 401],
      ['a garbage bearer token', () => ({ token: 'not.a.jwt' }), 401],
      ['a viewer', () => ({ key: h.keys.viewer }), 403],
      ['an engine key', () => ({ key: h.keys.engine }), 403],
    ])(
      'should refuse %s engaging the kill switch (%i) and change nothing',
      async (_what, credential, status) => {
        const before = (await controlEvents()).length;

        const response = await h.http('POST', '/api/v1/control/kill-switch/engage', {
          ...credential(),
          body: { mode: 'hard', reason: 'should not happen' },
        });

        expect(response.status).toBe(status);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(response.body).toMatchObject({
          status,
          type: status === 401 ? '/problems/unauthorized' : '/problems/forbidden',
        });
        // RFC 9110: every 401 names the scheme, whichever credential was refused.
        expect(response.headers.get('www-authenticate')).toBe(
          status === 401 ? 'Bearer realm="bifrost"' : null,
        );
        expect(await controlEvents()).toHaveLength(before);
      },
    );

    it('should refuse an engine key checking for another engine, and record nothing for it', async () => {
      const response = await check(h.keys.engine, 'engine-b');

      expect(response).toMatchObject({ status: 403, body: { code: 'AUTH.FOREIGN_ENGINE_FORBIDDEN' } });
      const { events } = await h.probe.eventStore.read(
        h.ns.naming.eventSubject('gate', 'strategy', 'engine-b:s1'),
      );
      expect(events).toEqual([]);
      const decisions = await h.probe.jsm.streams.info(h.ns.naming.streams.decisions.name, {
        subjects_filter: '>',
      });
      expect(Object.keys(decisions.state.subjects ?? {})).not.toContain(
        h.ns.naming.decisionSubject('gate', 'engine-b'),
      );
    });

    it('should refuse an engine key reporting an outcome for another engine', async () => {
      const response = await h.http('POST', '/api/v1/engine/outcome', {
        key: h.keys.engine,
        body: {
          engineId: 'engine-b',
          strategyId: 's1',
          outcomeId: 'o1',
          pnl: { amount: 1, currency: 'USD' },
        },
      });

      expect(response.status).toBe(403);
    });

    it('should refuse operators on engine routes', async () => {
      expect((await check(OWNER_KEY, 'engine-a')).status).toBe(403);
    });
  });

  describe('engine facts', () => {
    it('should publish an outcome to the ingest stream, attributed to the engine, and answer 202 after the ack', async () => {
      const response = await h.http('POST', '/api/v1/engine/outcome', {
        key: h.keys.engine,
        body: {
          engineId: 'engine-a',
          strategyId: 's1',
          outcomeId: 'o-1',
          pnl: { amount: 120, currency: 'USD' },
        },
      });

      expect(response).toMatchObject({
        status: 202,
        body: { id: expect.any(String), sequence: expect.any(Number) },
      });
      const stored = await h.probe.jsm.streams.getMessage(h.ns.naming.streams.ingest.name, {
        seq: response.body.sequence,
      });
      expect(stored?.subject).toBe(h.ns.naming.ingestSubject('outcome', 'engine-a'));
      expect(stored?.json()).toMatchObject({
        id: response.body.id,
        type: 'ingest.OutcomeReported',
        source: 'api-gateway',
        actor: { kind: 'engine', id: 'engine-a' },
      });
    });

    it('should store a fact re-sent with the same Idempotency-Key once, answering the original id and sequence', async () => {
      const ingestMessages = async () =>
        (await h.probe.jsm.streams.info(h.ns.naming.streams.ingest.name)).state.messages;
      const before = await ingestMessages();
      const send = () =>
        h.http('POST', '/api/v1/engine/outcome', {
          key: h.keys.engine,
          headers: { 'idempotency-key': FACT_ID },
          body: {
            engineId: 'engine-a',
            strategyId: 's1',
            outcomeId: 'o-dup',
            pnl: { amount: 5, currency: 'USD' },
          },
        });

      const first = await send();
      const resent = await send();

      expect(first).toMatchObject({ status: 202, body: { id: factId('engine-a', 'outcome', FACT_ID) } });
      expect(resent).toMatchObject({ status: 202, body: first.body });
      expect(await ingestMessages()).toBe(before + 1);
    });

    it('should keep an Idempotency-Key to its engine and fact kind: another engine or kind with it is a new fact', async () => {
      const other = await h.createKey('engine', { engineId: 'engine-b' });
      const key = { 'idempotency-key': '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a6c' };
      const command = await h.http('POST', '/api/v1/engine/command', {
        key: h.keys.engine,
        headers: key,
        body: {
          engineId: 'engine-a',
          commandId: 'c-1',
          commandType: 'SET_POWER',
          outcome: 'success',
          requiredApproval: false,
        },
      });
      const incident = { incidentId: 'inc-shared-key', severity: 'low', summary: 'fan noisy' };

      const otherEngine = await h.http('POST', '/api/v1/engine/incident', {
        key: other.apiKey,
        headers: key,
        body: { engineId: 'engine-b', ...incident },
      });
      const otherKind = await h.http('POST', '/api/v1/engine/incident', {
        key: h.keys.engine,
        headers: key,
        body: { engineId: 'engine-a', ...incident },
      });

      expect([command.status, otherEngine.status, otherKind.status]).toEqual([202, 202, 202]);
      const answers = [command.body, otherEngine.body, otherKind.body];
      expect(new Set(answers.map((a) => a.id)).size).toBe(3);
      expect(new Set(answers.map((a) => a.sequence)).size).toBe(3);
      const stored = await h.probe.jsm.streams.getMessage(h.ns.naming.streams.ingest.name, {
        seq: otherEngine.body.sequence,
      });
      expect(stored?.subject).toBe(h.ns.naming.ingestSubject('incident', 'engine-b'));
      expect(stored?.json()).toMatchObject({
        id: otherEngine.body.id,
        actor: { kind: 'engine', id: 'engine-b' },
      });
    });

    it('should refuse an Idempotency-Key that is not a lowercase UUID, publishing nothing', async () => {
      const before = (await h.probe.jsm.streams.info(h.ns.naming.streams.ingest.name)).state.messages;

      const response = await h.http('POST', '/api/v1/engine/outcome', {
        key: h.keys.engine,
        headers: { 'idempotency-key': 'order-8812' },
        body: {
          engineId: 'engine-a',
          strategyId: 's1',
          outcomeId: 'o-bad',
          pnl: { amount: 5, currency: 'USD' },
        },
      });

      expect(response).toMatchObject({ status: 400, body: { code: 'INGEST.IDEMPOTENCY_KEY_INVALID' } });
      expect((await h.probe.jsm.streams.info(h.ns.naming.streams.ingest.name)).state.messages).toBe(before);
    });

    it('should keep the engine’s Occurred-At (a buffered fact), take a future one as now, and refuse one that is no time', async () => {
      const post = (outcomeId: string, occurredAt: string) =>
        h.http('POST', '/api/v1/engine/outcome', {
          key: h.keys.engine,
          headers: { 'occurred-at': occurredAt },
          body: { engineId: 'engine-a', strategyId: 's1', outcomeId, pnl: { amount: 5, currency: 'USD' } },
        });
      const storedAt = async (sequence: number) =>
        (await h.probe.jsm.streams.getMessage(h.ns.naming.streams.ingest.name, { seq: sequence }))?.json<{
          occurredAt: string;
        }>().occurredAt;
      const before = Date.now();
      const pastAt = new Date(before - 3_600_000).toISOString();

      const past = await post('o-past', pastAt);
      const future = await post('o-future', '2999-01-01T00:00:00.000Z');
      const bad = await post('o-bad-time', '2026-02-31T00:00:00.000Z');

      expect(past.status).toBe(202);
      expect(await storedAt(past.body.sequence)).toBe(pastAt);
      expect(future.status).toBe(202);
      expect(Date.parse((await storedAt(future.body.sequence)) as string)).toBeGreaterThanOrEqual(before);
      expect(Date.parse((await storedAt(future.body.sequence)) as string)).toBeLessThanOrEqual(Date.now());
      expect(bad).toMatchObject({ status: 400, body: { code: 'INGEST.OCCURRED_AT_INVALID' } });
    });

    it('should accept an incident fact once the catalogue defines the kind', async () => {
      const response = await h.http('POST', '/api/v1/engine/incident', {
        key: h.keys.engine,
        body: { engineId: 'engine-a', incidentId: 'inc-1', severity: 'high', summary: 'fan stalled' },
      });

      expect(response).toMatchObject({ status: 202, body: { sequence: expect.any(Number) } });
    });

    it('should answer a fact JetStream refuses with 503, without the namespace or the server’s words', async () => {
      const ingest = h.ns.naming.streams.ingest.name;
      const { config } = await h.probe.jsm.streams.info(ingest);
      await h.probe.jsm.streams.update(ingest, { ...config, max_msg_size: 16 });
      try {
        const refused = await h.http('POST', '/api/v1/engine/outcome', {
          key: h.keys.engine,
          body: {
            engineId: 'engine-a',
            strategyId: 's1',
            outcomeId: 'o-503',
            pnl: { amount: 1, currency: 'USD' },
          },
        });

        expect(refused).toMatchObject({
          status: 503,
          body: { type: '/problems/service-unavailable', code: 'INFRA.UNAVAILABLE' },
        });
        expect(refused.body.detail).not.toContain(h.ns.namespace);
        expect(refused.body.detail).not.toMatch(/exceeds|JetStream|bifrost\./);
      } finally {
        await h.probe.jsm.streams.update(ingest, { ...config, max_msg_size: config.max_msg_size });
      }
    });

    it('should refuse a command whose reason is only spaces with 400', async () => {
      expect(
        await h.http('POST', '/api/v1/control/kill-switch/engage', {
          key: h.keys.operator,
          body: { engineId: 'engine-blank', mode: 'hard', reason: '   ' },
        }),
      ).toMatchObject({ status: 400, body: { code: 'REQUEST.INVALID', issues: [{ path: '/reason' }] } });
    });

    it('should answer a schema violation with 400 listing the issues', async () => {
      const response = await h.http('POST', '/api/v1/engine/outcome', {
        key: h.keys.engine,
        body: {
          engineId: 'engine-a',
          strategyId: 's1',
          outcomeId: 'o-2',
          pnl: { amount: 1.5, currency: 'USD' },
        },
      });

      expect(response).toMatchObject({
        status: 400,
        body: {
          type: '/problems/validation-failed',
          code: 'REQUEST.INVALID',
          issues: [{ path: '/pnl/amount' }],
        },
      });
    });
  });

  describe('query parameters a route does not take', () => {
    const decisionsOfEngineA = async () => {
      const info = await h.probe.jsm.streams.info(h.ns.naming.streams.decisions.name, {
        subjects_filter: h.ns.naming.decisionSubject('gate', 'engine-a'),
      });
      return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
    };

    it('should refuse them on a route that takes none, as on the lists, deciding nothing', async () => {
      const before = await decisionsOfEngineA();
      const checked = await check(h.keys.engine, 'engine-a', 's1', '?dryRun=true');
      const control = await h.http('GET', '/api/v1/control?engineId=engine-a', { key: OWNER_KEY });

      expect(checked.status).toBe(400);
      expect(checked.body).toMatchObject({
        code: 'REQUEST.INVALID',
        issues: [{ path: '/', message: 'must NOT have the property "dryRun"' }],
      });
      expect(control).toMatchObject({ status: 400, body: { code: 'REQUEST.INVALID' } });
      expect(await decisionsOfEngineA()).toBe(before);
      // The same check without the parameter is decided (and recorded): the count could move.
      expect((await check(h.keys.engine, 'engine-a')).status).toBe(200);
      expect(await decisionsOfEngineA()).toBe(before + 1);
    });

    it('should refuse body fields on a route that takes no body, changing nothing', async () => {
      const viewer = await h.http('POST', '/api/v1/keys', {
        key: OWNER_KEY,
        body: { name: 'kept', role: 'viewer' },
      });
      const refused = await h.http('DELETE', `/api/v1/keys/${viewer.body.id}`, {
        key: OWNER_KEY,
        body: { unknownField: 1 },
      });

      expect(refused).toMatchObject({
        status: 400,
        body: {
          code: 'REQUEST.INVALID',
          issues: [{ path: '/', message: 'must NOT have the property "unknownField"' }],
        },
      });
      expect((await h.http('GET', '/api/v1/auth/me', { key: viewer.body.apiKey })).status).toBe(200);
    });
  });

  describe('money beyond what JSON carries exactly', () => {
    it('should refuse an outcome of 10^20 minor units with 400, publishing nothing the audit log could not hold', async () => {
      const response = await h.http('POST', '/api/v1/engine/outcome', {
        key: h.keys.engine,
        body: {
          engineId: 'engine-a',
          strategyId: 's-huge',
          outcomeId: 'o-huge',
          pnl: { amount: 1e20, currency: 'USD' },
        },
      });

      expect(response).toMatchObject({
        status: 400,
        body: { code: 'REQUEST.INVALID', issues: [{ path: '/pnl/amount' }] },
      });
    });

    it('should take the largest safe integer, as a loss too', async () => {
      const response = await h.http('POST', '/api/v1/engine/outcome', {
        key: h.keys.engine,
        body: {
          engineId: 'engine-a',
          strategyId: 's-huge',
          outcomeId: 'o-safe',
          pnl: { amount: -Number.MAX_SAFE_INTEGER, currency: 'USD' },
        },
      });

      expect(response.status).toBe(202);
    });
  });

  describe('text Postgres cannot store', () => {
    it('should refuse it in a body, a path or a query with 400, changing nothing', async () => {
      const before = await h.http('GET', '/api/v1/keys', { key: OWNER_KEY });
      const key = await fetch(`${h.gateway.url}/api/v1/keys`, {
        method: 'POST',
        headers: { 'x-api-key': OWNER_KEY, 'content-type': 'application/json' },
        body: '{"name":"lone \\ud800","role":"viewer"}',
      });
      const check = await fetch(`${h.gateway.url}/api/v1/engine/check`, {
        method: 'POST',
        headers: { 'x-api-key': h.keys.engine, 'content-type': 'application/json' },
        body: '{"engineId":"engine-a","strategyId":"s1","action":{"kind":"order.place","params":{"n":"\\u0000"}}}',
      });
      const path = await h.http('GET', '/api/v1/decisions/%00', { key: OWNER_KEY });
      const query = await h.http('GET', '/api/v1/decisions?engineId=%00', { key: OWNER_KEY });

      for (const response of [key, check]) {
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ code: 'REQUEST.MALFORMED' });
      }
      expect(path).toMatchObject({ status: 400, body: { code: 'REQUEST.MALFORMED' } });
      expect(query).toMatchObject({ status: 400, body: { code: 'REQUEST.MALFORMED' } });
      const after = await h.http('GET', '/api/v1/keys', { key: OWNER_KEY });
      expect(after.body.keys).toHaveLength(before.body.keys.length);
    });
  });

  describe('a body nested too deep', () => {
    /** `{"a":[{"a":[…1…]}]}`, `levels` arrays and objects deep, as text: too deep for JSON.stringify to build. */
    const nested = (levels: number, leaf = '1') => {
      const open = Array.from({ length: levels }, (_, i) => (i % 2 === 0 ? '{"a":' : '[')).join('');
      const close = Array.from({ length: levels }, (_, i) => (i % 2 === 0 ? '}' : ']'))
        .reverse()
        .join('');
      return open + leaf + close;
    };
    const post = (path: string, body: string) =>
      fetch(`${h.gateway.url}${path}`, {
        method: 'POST',
        headers: { 'x-api-key': h.keys.engine, 'content-type': 'application/json' },
        body,
      });

    it('should refuse a gate check with action.params 5000 levels deep as malformed (400), not a retryable 503', async () => {
      const body =
        '{"engineId":"engine-a","strategyId":"s1","action":{"kind":"order.place","intent":"open","params":' +
        `{"p":${nested(5000)}}}}`;
      expect(body.length).toBeLessThan(256 * 1024);

      const response = await post('/api/v1/engine/check', body);

      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.headers.get('retry-after')).toBeNull();
      expect(await response.json()).toMatchObject({
        status: 400,
        type: '/problems/malformed-request',
        code: 'REQUEST.MALFORMED',
        detail: expect.stringContaining('nested deeper than 64 levels'),
      });
      // The gate still answers the engine's next check.
      expect((await check(h.keys.engine, 'engine-a')).status).toBe(200);
    });

    it('should refuse a fact 5000 levels deep the same way, publishing nothing', async () => {
      const ingest = h.ns.naming.streams.ingest.name;
      const before = (await h.probe.jsm.streams.info(ingest)).state.messages;

      const response = await post('/api/v1/engine/incident', `{"engineId":"engine-a","x":${nested(5000)}}`);

      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'REQUEST.MALFORMED' });
      expect((await h.probe.jsm.streams.info(ingest)).state.messages).toBe(before);
    });

    it('should take 64 levels, the whole body counted, and refuse 65', async () => {
      // The check body is 3 levels down to params (body, action, params) and 4 down to its value.
      const checkAt = (levels: number) =>
        post(
          '/api/v1/engine/check',
          '{"engineId":"engine-a","strategyId":"s1","action":{"kind":"order.place","intent":"open","params":' +
            `{"p":${nested(levels - 3)}}}}`,
        );

      expect((await checkAt(64)).status).toBe(200);
      const refused = await checkAt(65);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ code: 'REQUEST.MALFORMED' });
    });
  });

  describe('commands the gate refuses', () => {
    it('should pass the refusal on as a problem with its code', async () => {
      const response = await h.http('POST', '/api/v1/strategies/engine-a/s1/tokens/nope/revoke', {
        key: h.keys.operator,
        body: { reason: 'test' },
      });

      expect(response).toMatchObject({
        status: 404,
        body: { status: 404, code: expect.stringMatching(/^[A-Z_]+\.[A-Z_.]+$/) },
      });
    });
  });

  describe('registering a strategy with its capital', () => {
    it('should be an admin action, as setting the capital is: an operator may register without it', async () => {
      const register = (key: string, body: object) => h.http('POST', '/api/v1/strategies', { key, body });
      const capital = { amount: 10_000_000_000, currency: 'USD' };

      expect(
        await register(h.keys.operator, { engineId: 'engine-a', strategyId: 'rich', capital }),
      ).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });
      expect(await register(h.keys.operator, { engineId: 'engine-a', strategyId: 'plain' })).toMatchObject({
        status: 200,
      });
      const admin = await h.createKey('admin');
      expect(
        await register(admin.apiKey, { engineId: 'engine-a', strategyId: 'rich', capital }),
      ).toMatchObject({
        status: 200,
      });
    });
  });

  describe('a strategy baseline', () => {
    it('should let an operator register and raise it, and only an admin lower it (drift is a shortfall against it)', async () => {
      const baseline = (key: string, body: object) =>
        h.http('POST', '/api/v1/strategies/engine-a/backtested/baseline', { key, body });
      await h.http('POST', '/api/v1/strategies', {
        key: h.keys.operator,
        body: { engineId: 'engine-a', strategyId: 'backtested' },
      });

      const first = await baseline(h.keys.operator, { winRate: 0.55, profitFactor: 1.4 });
      const raised = await baseline(h.keys.operator, { winRate: 0.6, profitFactor: 1.4 });
      const lowered = await baseline(h.keys.operator, { winRate: 0.0001, profitFactor: 0.0001 });
      const sent = await baseline(h.keys.operator, { winRate: 0.3, profitFactor: 1.1, mayNotLoosen: false });
      const admin = await h.createKey('admin');
      const byAdmin = await baseline(admin.apiKey, { winRate: 0.3, profitFactor: 1.1 });

      expect([first.status, raised.status]).toEqual([200, 200]);
      expect(lowered).toMatchObject({ status: 403, body: { code: 'GATE.LOOSENING_FORBIDDEN' } });
      expect(sent).toMatchObject({ status: 400, body: { code: 'REQUEST.INVALID' } });
      expect(byAdmin.status).toBe(200);
    });
  });

  describe('an approval over HTTP', () => {
    it('should let the engine learn that its request was granted, and the token to act with', async () => {
      const admin = await h.createKey('admin');
      const as = (key: string) => (method: 'POST', path: string, body: object) =>
        h.http(method, path, { key, body });
      await as(admin.apiKey)('POST', '/api/v1/control/execution-classes', {
        actionKind: 'order.place',
        executionClass: 'SANDBOX_EXEC',
        reason: 'test',
      });
      await as(admin.apiKey)('POST', '/api/v1/strategies', { engineId: 'engine-a', strategyId: 'gated' });
      await as(admin.apiKey)('POST', '/api/v1/strategies/engine-a/gated/maturity', {
        level: 'L2',
        reason: 'test',
      });
      const action = { kind: 'order.place', intent: 'open', notional: { amount: 4_000, currency: 'USD' } };
      const engine = as(h.keys.engine);
      const asked = (await engine('POST', '/api/v1/engine/check', {
        engineId: 'engine-a',
        strategyId: 'gated',
        action,
      })) as { body: GateCheckReply };
      expect(asked.body.action).toBe('REQUIRE_APPROVAL');
      const where = { engineId: 'engine-a', strategyId: 'gated', approvalId: asked.body.approvalId };

      expect(await engine('POST', '/api/v1/engine/approval', where)).toMatchObject({
        status: 200,
        body: { status: 'pending', token: null, actionHash: asked.body.actionHash },
      });
      await as(h.keys.operator)(
        'POST',
        `/api/v1/strategies/engine-a/gated/approvals/${asked.body.approvalId}/approve`,
        {},
      );
      const granted = await engine('POST', '/api/v1/engine/approval', where);
      expect(granted).toMatchObject({
        status: 200,
        body: { status: 'granted', decidedBy: h.keyIds.operator, token: { status: 'active' } },
      });
      const tokenId = (granted.body as GateApprovalReply).token?.tokenId;
      const acted = await engine('POST', '/api/v1/engine/check', {
        engineId: 'engine-a',
        strategyId: 'gated',
        action,
        tokenId,
      });
      expect(acted).toMatchObject({ status: 200, body: { action: 'REDUCE_SIZE', sizeMultiplier: 0.1 } });

      expect(
        await engine('POST', '/api/v1/engine/approval', { ...where, approvalId: 'no-such-request' }),
      ).toMatchObject({ status: 404, body: { code: 'GATE.APPROVAL_UNKNOWN' } });
      expect(
        await engine('POST', '/api/v1/engine/approval', { ...where, engineId: 'engine-b' }),
      ).toMatchObject({ status: 403, body: { code: 'AUTH.FOREIGN_ENGINE_FORBIDDEN' } });
    });
  });

  describe('a gate that does not answer', () => {
    it('should answer engine checks with 503 gate-unavailable', async () => {
      const lonely = await startGateway('gwnogate', {}, undefined);
      try {
        const engine = await lonely.createKey('engine', { engineId: 'engine-a' });

        const response = await lonely.http('POST', '/api/v1/engine/check', {
          key: engine.apiKey,
          body: { engineId: 'engine-a', strategyId: 's1', action: { kind: 'order.place', intent: 'open' } },
        });

        expect(response.status).toBe(503);
        expect(response.body).toMatchObject({ code: 'RPC.NO_RESPONDERS' });
        expect(response.body.type).toMatch(/\/gate-unavailable$/);
        // What the messaging said (the subject asked, the server's words) is for the log only.
        expect(response.body.detail).toBe('the gate did not answer: no verdict (fail closed)');
        // Nobody decided it: no Retry-After, so the SDK asks again within its deadline on its own.
        expect(response.headers.get('retry-after')).toBeNull();
      } finally {
        await lonely.close();
      }
    });
  });

  describe('a browser console on another origin (GATEWAY_CORS_ALLOWED_ORIGINS)', () => {
    const CONSOLE = 'https://console.example.com';
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/api/v1/control`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'x-api-key, content-type',
        },
      });

    it('should answer the preflight and the call of an allowed origin, and nobody else', async () => {
      const open = await startGateway(
        'gwcors',
        { GATEWAY_CORS_ALLOWED_ORIGINS: CONSOLE },
        { ns: h.ns, db: h.db },
      );
      try {
        const allowed = await preflight(open.gateway.url, CONSOLE);
        expect(allowed.status).toBe(204);
        expect(allowed.headers.get('access-control-allow-origin')).toBe(CONSOLE);
        expect(allowed.headers.get('access-control-allow-methods')).toContain('PUT');
        expect(allowed.headers.get('access-control-allow-headers')).toBe('x-api-key, content-type');

        const call = await open.http('GET', '/api/v1/auth/me', {
          key: h.keys.viewer,
          headers: { origin: CONSOLE },
        });
        expect(call.status).toBe(200);
        expect(call.headers.get('access-control-allow-origin')).toBe(CONSOLE);
        expect(call.headers.get('access-control-expose-headers')).toBe('Retry-After');

        // The live stream too, though it writes its own headers.
        const controller = new AbortController();
        const stream = await fetch(`${open.gateway.url}/api/v1/decisions/stream`, {
          headers: { 'x-api-key': h.keys.viewer, origin: CONSOLE },
          signal: controller.signal,
        });
        controller.abort();
        expect(stream.status).toBe(200);
        expect(stream.headers.get('access-control-allow-origin')).toBe(CONSOLE);

        // Problem documents too: a console must be able to read why it was refused.
        const refused = await open.http('GET', '/api/v1/auth/me', { headers: { origin: CONSOLE } });
        expect(refused.status).toBe(401);
        expect(refused.headers.get('access-control-allow-origin')).toBe(CONSOLE);

        const stranger = 'https://elsewhere.example.com';
        expect(
          (await preflight(open.gateway.url, stranger)).headers.get('access-control-allow-origin'),
        ).toBeNull();
        const foreign = await open.http('GET', '/api/v1/auth/me', {
          key: h.keys.viewer,
          headers: { origin: stranger },
        });
        expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        await open.close();
      }
    });

    it('should send no CORS headers by default', async () => {
      const call = await h.http('GET', '/api/v1/auth/me', {
        key: h.keys.viewer,
        headers: { origin: CONSOLE },
      });
      expect(call.status).toBe(200);
      expect(call.headers.get('access-control-allow-origin')).toBeNull();
      expect((await preflight(h.gateway.url, CONSOLE)).status).toBe(404);
    });
  });

  describe('rate limits', () => {
    it('should answer 429 with Retry-After once a principal spent its burst, and not touch others', async () => {
      // 0.1/s × 20 s: a bucket of two tokens, the next one back 10 s after the first was taken, so
      // that three calls fall in one window however slow the machine.
      const limited = await startGateway(
        'gwrate',
        { GATEWAY_RATE_LIMIT_VIEWER: '0.1', GATEWAY_RATE_BURST_SECONDS: '20' },
        { ns: h.ns, db: h.db },
      );
      try {
        const statuses: number[] = [];
        let last: Awaited<ReturnType<GatewayHarness['http']>> | undefined;
        const started = Date.now();
        for (let i = 0; i < 3; i += 1) {
          last = await limited.http('GET', '/api/v1/auth/me', { key: h.keys.viewer });
          statuses.push(last.status);
        }
        const retryAfter = Number(last?.headers.get('retry-after'));

        expect(statuses).toEqual([200, 200, 429]);
        expect(retryAfter).toBeLessThanOrEqual(10);
        expect(retryAfter).toBeGreaterThanOrEqual(Math.ceil((10_000 - (Date.now() - started)) / 1000));
        expect(last?.headers.get('content-type')).toContain('application/problem+json');
        expect(last?.body).toMatchObject({
          status: 429,
          type: '/problems/rate-limited',
          code: 'RATE.LIMITED',
          detail: `rate limit of 0.1/s exceeded; retry in ${retryAfter} s`,
        });
        expect((await limited.http('GET', '/api/v1/auth/me', { key: h.keys.operator })).status).toBe(200);
      } finally {
        await limited.close();
      }
    });

    it('should hold a viewer to the default 20/s with a burst of 40 when no limit is configured', async () => {
      // Empty is unset: the viewer limit the test fixtures raise falls back to the shipped default.
      const defaults = await startGateway(
        'gwratedef',
        { GATEWAY_RATE_LIMIT_VIEWER: '' },
        { ns: h.ns, db: h.db },
      );
      try {
        const me = () => defaults.http('GET', '/api/v1/auth/me', { key: h.keys.viewer });
        const first = await Promise.all(Array.from({ length: 50 }, me));
        let refused = first.find((r) => r.status === 429);
        // Should a slow machine refill the bucket as fast as one batch drains it, send more.
        for (let batch = 0; refused === undefined && batch < 10; batch += 1)
          refused = (await Promise.all(Array.from({ length: 50 }, me))).find((r) => r.status === 429);

        // A full bucket serves the whole burst (40) whatever the timing; refills only add to it.
        expect(first.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(40);
        expect(refused).toBeDefined();
        expect(refused?.headers.get('retry-after')).toBe('1');
        expect(refused?.body).toMatchObject({
          status: 429,
          type: '/problems/rate-limited',
          code: 'RATE.LIMITED',
          detail: 'rate limit of 20/s exceeded; retry in 1 s',
        });
      } finally {
        await defaults.close();
      }
    });

    it('should say in Retry-After the whole seconds until the next token, rounded up', async () => {
      // 0.25/s: a bucket of one token, the next one back 4 s after it was taken. The wait left is at
      // least 4 s less the time between sending the first call and reading the second's answer;
      // rounded up, Retry-After is no less than that rounded up (rounded down, it would be less).
      const slow = await startGateway(
        'gwrateslow',
        { GATEWAY_RATE_LIMIT_VIEWER: '0.25' },
        { ns: h.ns, db: h.db },
      );
      try {
        const started = Date.now();
        const first = await slow.http('GET', '/api/v1/auth/me', { key: h.keys.viewer });
        const second = await slow.http('GET', '/api/v1/auth/me', { key: h.keys.viewer });
        const leastLeft = 4_000 - (Date.now() - started);
        const retryAfter = Number(second.headers.get('retry-after'));

        expect(first.status).toBe(200);
        expect(second.status).toBe(429);
        expect(retryAfter).toBeLessThanOrEqual(4);
        expect(retryAfter).toBeGreaterThanOrEqual(Math.ceil(leastLeft / 1000));
        expect(second.body).toMatchObject({
          code: 'RATE.LIMITED',
          detail: `rate limit of 0.25/s exceeded; retry in ${retryAfter} s`,
        });
      } finally {
        await slow.close();
      }
    });

    it('should count refused (403) calls against the caller’s budget too', async () => {
      const limited = await startGateway(
        'gwrate403',
        { GATEWAY_RATE_LIMIT_VIEWER: '0.1', GATEWAY_RATE_BURST_SECONDS: '20' },
        { ns: h.ns, db: h.db },
      );
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 3; i += 1)
          statuses.push((await limited.http('GET', '/api/v1/keys', { key: h.keys.viewer })).status);

        expect(statuses).toEqual([403, 403, 429]);
      } finally {
        await limited.close();
      }
    });
  });

  describe('errors outside any route', () => {
    it('should be problem documents too', async () => {
      const before = (await controlEvents()).length;
      const missing = await h.http('GET', '/api/v1/nothing-here', { key: OWNER_KEY });
      const malformed = await fetch(`${h.gateway.url}/api/v1/control/kill-switch/engage`, {
        method: 'POST',
        headers: { 'x-api-key': OWNER_KEY, 'content-type': 'application/json' },
        body: '{not json',
      });

      expect(missing).toMatchObject({
        status: 404,
        body: { type: '/problems/not-found', status: 404, code: 'NOT_FOUND.ROUTE' },
      });
      expect(missing.headers.get('content-type')).toContain('application/problem+json');
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('content-type')).toContain('application/problem+json');
      expect(await malformed.json()).toMatchObject({
        type: '/problems/malformed-request',
        code: 'REQUEST.MALFORMED',
        detail: expect.stringMatching(/^the body is not valid JSON: /),
      });
      const notUtf8 = await fetch(`${h.gateway.url}/api/v1/control/kill-switch/engage`, {
        method: 'POST',
        headers: { 'x-api-key': OWNER_KEY, 'content-type': 'application/json' },
        body: Buffer.concat([Buffer.from('{"reason":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
      });
      expect(notUtf8.status).toBe(400);
      expect(await notUtf8.json()).toMatchObject({
        code: 'REQUEST.MALFORMED',
        detail: 'the body is not valid UTF-8',
      });
      // JSON only: a body of another type is refused as such, not parsed and failed as a string.
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
        const other = await fetch(`${h.gateway.url}/api/v1/control/kill-switch/engage`, {
          method: 'POST',
          headers: { 'x-api-key': OWNER_KEY, 'content-type': type },
          body: '{"mode":"hard","reason":"not json"}',
        });
        expect(other.status).toBe(415);
        expect(other.headers.get('content-type')).toContain('application/problem+json');
        expect(await other.json()).toMatchObject({
          type: '/problems/unsupported-media-type',
          status: 415,
          code: 'REQUEST.MEDIA_TYPE',
          detail: `send the body as application/json (the request's content-type: ${type})`,
        });
      }
      expect(await controlEvents()).toHaveLength(before);
    });

    it('should answer a path that is no URL, and headers too large to read, with problem documents', async () => {
      const badUrl = await fetch(`${h.gateway.url}/api/v1/engines/%E0%A4%A`, {
        headers: { 'x-api-key': OWNER_KEY },
      });
      const bigHeaders = await fetch(`${h.gateway.url}/api/v1/control`, {
        headers: { 'x-api-key': OWNER_KEY, 'x-padding': 'a'.repeat(20_000) },
      });

      expect(badUrl.status).toBe(400);
      expect(badUrl.headers.get('content-type')).toContain('application/problem+json');
      expect(await badUrl.json()).toMatchObject({
        code: 'REQUEST.MALFORMED',
        detail: expect.stringContaining('not a valid url component'),
      });
      expect(bigHeaders.status).toBe(431);
      expect(bigHeaders.headers.get('content-type')).toContain('application/problem+json');
      expect(await bigHeaders.json()).toMatchObject({
        type: '/problems/headers-too-large',
        status: 431,
        code: 'REQUEST.HEADERS_TOO_LARGE',
      });
    });

    it('should refuse a body over 1 MiB with 413 payload-too-large, and read one of exactly 1 MiB', async () => {
      const before = (await controlEvents()).length;
      /** A kill-switch command of exactly `bytes` bytes, its reason padded. */
      const engage = (bytes: number) => {
        const frame = '{"mode":"hard","reason":""}';
        const body = `{"mode":"hard","reason":"${'x'.repeat(bytes - frame.length)}"}`;
        expect(Buffer.byteLength(body)).toBe(bytes);
        return fetch(`${h.gateway.url}/api/v1/control/kill-switch/engage`, {
          method: 'POST',
          headers: { 'x-api-key': OWNER_KEY, 'content-type': 'application/json' },
          body,
        });
      };

      const atLimit = await engage(1024 * 1024);
      const over = await engage(1024 * 1024 + 1);

      // Read, then refused by the schema (a reason that long), not by its size.
      expect(atLimit.status).toBe(400);
      expect(await atLimit.json()).toMatchObject({ code: 'REQUEST.INVALID', issues: [{ path: '/reason' }] });
      expect(over.status).toBe(413);
      expect(over.headers.get('content-type')).toContain('application/problem+json');
      expect(await over.json()).toMatchObject({
        type: '/problems/payload-too-large',
        status: 413,
        code: 'REQUEST.TOO_LARGE',
        instance: '/api/v1/control/kill-switch/engage',
      });
      expect(await controlEvents()).toHaveLength(before);
    });

    describe('a client that sends its request too slowly', () => {
      let impatient: Awaited<ReturnType<typeof startTestService>>;
      beforeAll(async () => {
        // GATEWAY_REQUEST_TIMEOUT_MS at its least, Node's header timeout (60 s by default) shortened,
        // and both checked every 50 ms instead of every 30 s, so that the tests need not wait a
        // minute; the refusal is the gateway's own.
        impatient = await startTestService(
          GatewayConfig,
          {
            ...gatewayService,
            http: (config) =>
              Object.assign({}, gatewayService.http?.(config), {
                http: { headersTimeout: 300, connectionsCheckingInterval: 50 },
              }),
          },
          h.ns,
          {
            DATABASE_URL: h.db.url,
            GATEWAY_JWT_SECRET: JWT_SECRET,
            GATEWAY_REQUEST_TIMEOUT_MS: '1000',
            GATEWAY_STREAM_HEARTBEAT_MS: '200',
            LOG_LEVEL: 'error',
          },
        );
      });
      afterAll(() => impatient.close());

      /** Sends `text` on a connection of its own and resolves what came back once it is closed. */
      function rawRequest(text: string): Promise<{ head: string; body: string; after: number }> {
        const { hostname, port } = new URL(impatient.url);
        const started = Date.now();
        const socket = connect(Number(port), hostname);
        return new Promise((resolve, reject) => {
          let answer = '';
          socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
          socket.on('close', () => {
            const [head = '', body = ''] = answer.split('\r\n\r\n');
            resolve({ head, body, after: Date.now() - started });
          });
          socket.on('error', reject);
          socket.write(text.replaceAll('{host}', hostname));
        });
      }

      const timedOut = {
        type: '/problems/request-timeout',
        title: 'Request timeout',
        status: 408,
        detail: 'the request did not arrive in time',
        code: 'REQUEST.TIMEOUT',
      };

      it('should answer headers that never end with 408 request-timeout and close the connection', async () => {
        // The request line and one header, then nothing.
        const { head, body } = await rawRequest(
          `GET /api/v1/control HTTP/1.1\r\nHost: {host}\r\nX-Api-Key: ${OWNER_KEY}\r\n`,
        );

        expect(head.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
        expect(head).toContain('Content-Type: application/problem+json');
        expect(head).toContain('Connection: close');
        expect(JSON.parse(body)).toEqual(timedOut);
      });

      it('should answer a body that stops arriving with 408 once GATEWAY_REQUEST_TIMEOUT_MS has passed', async () => {
        const before = (await controlEvents()).length;
        // Whole headers announcing 60 bytes, then 10 of them and nothing more.
        const { head, body, after } = await rawRequest(
          `POST /api/v1/control/kill-switch/engage HTTP/1.1\r\nHost: {host}\r\nX-Api-Key: ${OWNER_KEY}\r\n` +
            `Content-Type: application/json\r\nContent-Length: 60\r\n\r\n{"mode":"h`,
        );

        expect(head.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
        expect(JSON.parse(body)).toEqual(timedOut);
        expect(after).toBeGreaterThanOrEqual(1_000);
        expect(await controlEvents()).toHaveLength(before);
      });

      it("should keep a live stream open past it: a stream's request is complete once its headers are in", async () => {
        const controller = new AbortController();
        const response = await fetch(`${impatient.url}/api/v1/decisions/stream`, {
          headers: { 'x-api-key': OWNER_KEY },
          signal: controller.signal,
        });
        expect(response.status).toBe(200);
        const reader = response.body?.getReader();
        const opened = Date.now();
        try {
          // Heartbeats every 200 ms, until well past the request timeout (1 s, checked every 50 ms).
          let chunk = await reader?.read();
          while (chunk && !chunk.done && Date.now() - opened < 1_500) chunk = await reader?.read();

          expect(chunk?.done).toBe(false);
          expect(Date.now() - opened).toBeGreaterThanOrEqual(1_500);
        } finally {
          controller.abort();
        }
      });
    });

    it('should say which key a JSON body was refused for', async () => {
      const poisoned = await fetch(`${h.gateway.url}/api/v1/control/kill-switch/engage`, {
        method: 'POST',
        headers: { 'x-api-key': OWNER_KEY, 'content-type': 'application/json' },
        body: '{"mode":"hard","reason":"x","__proto__":{"role":"owner"}}',
      });

      expect(poisoned.status).toBe(400);
      expect(await poisoned.json()).toMatchObject({
        code: 'REQUEST.MALFORMED',
        detail: expect.stringContaining('__proto__'),
      });
    });

    it('should read an empty body sent as JSON as no body (a DELETE from a client that always sets the type)', async () => {
      const viewer = await h.http('POST', '/api/v1/keys', {
        key: OWNER_KEY,
        body: { name: 'to revoke', role: 'viewer' },
      });
      const revoked = await fetch(`${h.gateway.url}/api/v1/keys/${viewer.body.id}`, {
        method: 'DELETE',
        headers: { 'x-api-key': OWNER_KEY, 'content-type': 'application/json' },
      });

      expect(revoked.status).toBe(200);
      expect(await revoked.json()).toMatchObject({ id: viewer.body.id, revokedBy: 'bootstrap-owner' });
    });

    it('should read an empty body of any other type as no body too (`curl -d ""` says form-urlencoded)', async () => {
      for (const type of ['application/x-www-form-urlencoded', 'text/plain']) {
        const viewer = await h.http('POST', '/api/v1/keys', {
          key: OWNER_KEY,
          body: { name: 'to revoke', role: 'viewer' },
        });
        const revoked = await fetch(`${h.gateway.url}/api/v1/keys/${viewer.body.id}`, {
          method: 'DELETE',
          headers: { 'x-api-key': OWNER_KEY, 'content-type': type },
          body: '',
        });

        expect(revoked.status).toBe(200);
      }
    });
  });
});

const FACT_ID = '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b';
