import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalize, sha256Hex } from '@bifrost/audit';
import { compile, formatIssues, type ValidationResult } from '@bifrost/contracts';
import { ATTESTATION_ITEM_IDS } from '@bifrost/domain-governance';
import { createEnvelope } from '@bifrost/messaging';
import { waitFor } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { CanaryConfig, canaryService } from '@bifrost/canary';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { GateConfig, gateService } from '@bifrost/gate/src/gate.service';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { GovernanceAgentConfig, governanceAgentService } from '@bifrost/governance-agent';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { HeimdallConfig, heimdallService } from '@bifrost/heimdall';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { RiskGuardConfig, riskGuardService } from '@bifrost/risk-guard';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { TripwireConfig, tripwireService } from '@bifrost/tripwire';
import { apiControllers } from '../gateway.service';
import { declaredRoutes, type DeclaredRoute } from '../http/openapi';
import type { Access } from '../http/route';
import {
  OWNER_KEY,
  peer,
  projectorPeer,
  startGatewayStack,
  type GatewayStack,
} from '../testing/gateway.fixtures';

const ENGINE = 'schema-bot';
const STRATEGY = 's1';
const DOMAIN = 'SCHEMA_OFFER';
const TRIPWIRE_POLICY = 'SCHEMA-deal_rate';
const DAY = 86_400_000;

/** GET routes this spec does not call, and why. */
const SKIPPED: Readonly<Record<string, string>> = {
  '/api/v1/decisions/stream':
    'a text/event-stream of decision records, not one JSON body (reads.int-spec follows it)',
};

/** Query strings of the lists whose defaults would not show every row this spec made. */
const QUERIES: Readonly<Record<string, string>> = {
  '/api/v1/audit': '?limit=500',
  '/api/v1/governance/engines/{engineId}/proposals': '?status=ALL',
};

/** Lists of rows in the answers: each must hold a row at least, so that its row schema is put to the test. */
const ROW_LISTS = [
  'items',
  'checklist',
  'killSwitches',
  'executionClasses',
  'engines',
  'tokens',
  'maturityChanges',
  'cumulative',
  'days',
  'changes',
];

const routes = declaredRoutes(apiControllers);
const called = routes.filter((route) => route.spec.method === 'GET' && !(route.path in SKIPPED));

const issuesOf = (result: ValidationResult<unknown>) => (result.ok ? '' : formatIssues(result.issues));

type Peers = 'gate' | 'risk' | 'tripwire' | 'canary' | 'governance' | 'heimdall' | 'projector';
type Send = (method: string, path: string, key: string, body?: unknown) => Promise<Json>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are read loosely, as a client would
type Json = any;

describe('the response schemas of the GET routes', () => {
  let h: GatewayStack<Peers>;
  let target: Server;
  /** Path parameters by name; `routeParams` where a name means another thing on another route (`{id}`). */
  const params: Record<string, string> = {
    engineId: ENGINE,
    strategyId: STRATEGY,
    policyId: TRIPWIRE_POLICY,
    seq: '1',
  };
  const routeParams: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    // A probe target that is up on /up and down everywhere else.
    target = createServer((request, response) => {
      response.statusCode = request.url === '/up' ? 200 : 503;
      response.end();
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    h = await startGatewayStack<Peers>('gwschema', {
      engineId: ENGINE,
      peers: {
        gate: peer(GateConfig, gateService),
        risk: peer(RiskGuardConfig, riskGuardService),
        tripwire: peer(TripwireConfig, tripwireService),
        // A summary a second (default 5 min), for GET /canary/summaries to have rows.
        canary: peer(CanaryConfig, canaryService, {
          CANARY_DEFAULT_PROBES: 'false',
          CANARY_SUMMARY_INTERVAL_MS: '1000',
        }),
        governance: peer(GovernanceAgentConfig, governanceAgentService, {
          GOVERNANCE_BREAKER_CHECK_INTERVAL_MS: '100',
          GOVERNANCE_CYCLE_SCHEDULE: 'off',
        }),
        heimdall: peer(HeimdallConfig, heimdallService),
        projector: projectorPeer,
      },
    });
    const send: Send = async (method, path, key, body) => {
      const response = await h.http(method, `/api/v1${path}`, {
        key,
        ...(body === undefined ? {} : { body }),
      });
      if (response.status >= 300)
        throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    };

    await controlPlane(send, h.keys.admin);
    routeParams['/api/v1/decisions/{id}'] = { id: await strategy(send, h.keys) };
    await risk(send, h.keys);
    await tripwire(send, h.keys);
    await canary(send, h.keys, `http://127.0.0.1:${(target.address() as AddressInfo).port}`);
    params['reportId'] = await governance(send, h.keys, () => h.createKey('operator'));
    routeParams['/api/v1/heimdall/evaluations/{id}'] = { id: await heimdall(send, h.keys) };
    [params['revision'], params['other']] = await policyRevisions(h);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    target?.closeAllConnections();
    await new Promise((resolve) => target?.close(resolve));
  });

  const keyFor = (access: Access): string =>
    access === 'owner' ? OWNER_KEY : access === 'any' || access === 'public' ? h.keys.viewer : h.keys[access];
  const pathOf = (route: DeclaredRoute): string =>
    route.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
      const value = routeParams[route.path]?.[name] ?? params[name];
      if (value === undefined) throw new Error(`no value for {${name}} of ${route.path}: add one`);
      return value;
    }) + (QUERIES[route.path] ?? '');

  it('should skip only routes that exist', () => {
    expect(Object.keys(SKIPPED).filter((path) => !routes.some((route) => route.path === path))).toEqual([]);
  });

  describe.each(called.map((route) => [route.path, route] as const))('GET %s', (_path, route) => {
    it('should answer what its schema declares, a schema refusing a field more or one missing', async () => {
      const path = pathOf(route);
      // The projector writes the read models a moment after the services: wait for the rows.
      const body: Json = await waitFor(
        async () => {
          const response = await h.http('GET', path, { key: keyFor(route.spec.access) });
          if (response.status !== 200) return undefined;
          const lists = ROW_LISTS.map((name) => response.body[name]).filter(Array.isArray);
          return lists.every((list) => list.length > 0) && response.body;
        },
        { what: `GET ${path} with rows` },
      );
      const validate = compile(route.spec.response);

      expect(issuesOf(validate(body))).toBe('');
      // Closed schemas: a property they do not declare, or a declared one missing, is refused.
      expect(validate({ ...body, undeclared: true }).ok).toBe(false);
      for (const name of ROW_LISTS.filter((list) => Array.isArray(body[list]))) {
        const [row, ...rest] = body[name];
        const { [Object.keys(row)[0] as string]: _first, ...lacking } = row;
        expect(validate({ ...body, [name]: [{ ...row, undeclared: true }, ...rest] }).ok).toBe(false);
        expect(validate({ ...body, [name]: [lacking, ...rest] }).ok).toBe(false);
      }
    }, 15_000);
  });
});

describe('the response examples of the routes', () => {
  it('should fit the response schemas they illustrate', () => {
    const unfit = routes
      .filter((route) => route.spec.example?.response !== undefined)
      .map((route) => [route.path, issuesOf(compile(route.spec.response)(route.spec.example?.response))])
      .filter(([, issues]) => issues !== '');

    expect(unfit).toEqual([]);
  });
});

const usd = (amount: number) => ({ amount, currency: 'USD' });
const inADay = () => new Date(Date.now() + DAY).toISOString();
type Keys = GatewayStack['keys'];

/** A checklist fact, a refused go-live, an execution class, a released kill switch, a paused engine. */
async function controlPlane(send: Send, admin: string): Promise<void> {
  await send('POST', '/control/checklist-facts', admin, {
    item: 'auditChainVerified',
    passed: true,
    evidence: 'bifrost-audit verify',
  });
  await send('POST', '/control/go-live/enable', admin, { reason: 'not yet' });
  await send('POST', '/control/execution-classes', admin, {
    actionKind: 'order.place',
    executionClass: 'SANDBOX_EXEC',
    reason: 'sandbox first',
  });
  await send('POST', '/control/kill-switch/engage', admin, {
    engineId: 'drill-bot',
    mode: 'hard',
    reason: 'drill',
  });
  await send('POST', '/control/kill-switch/release', admin, { engineId: 'drill-bot', reason: 'drill over' });
  await send('POST', '/control/engines/drill-bot/mode', admin, { mode: 'observe', reason: 'watching' });
  await send('POST', '/control/engines/drill-bot/pause', admin, { reason: 'drill', cooldownUntil: inADay() });
}

/**
 * A strategy at L2 with capital, baseline, outcomes and a lifted pause; tokens kept, revoked, refused
 * and spent; an approval granted and one rejected. Returns the id of the first decision.
 */
async function strategy(send: Send, { admin, engine }: Keys): Promise<string> {
  const path = `/strategies/${ENGINE}/${STRATEGY}`;
  await send('POST', '/strategies', admin, {
    engineId: ENGINE,
    strategyId: STRATEGY,
    capital: usd(10_000_000),
  });
  await send('POST', `${path}/maturity`, admin, { level: 'L2', reason: 'seasoned elsewhere' });
  await send('POST', `${path}/baseline`, admin, {
    winRate: 0.55,
    profitFactor: 1.4,
    avgPnl: usd(120),
    source: 'backtest',
  });
  await send('POST', `${path}/pause`, admin, { reason: 'drill', cooldownUntil: inADay() });
  await send('POST', `${path}/resume`, admin, { reason: 'drill over' });
  for (const [i, amount] of [1200, -300].entries())
    await send('POST', '/engine/outcome', engine, {
      engineId: ENGINE,
      strategyId: STRATEGY,
      outcomeId: `o-${i}`,
      pnl: usd(amount),
    });
  const token = { scope: { actionKinds: ['order.place'] }, expiresAt: inADay() };
  await send('POST', `${path}/tokens`, admin, {
    ...token,
    tokenId: 'kept',
    maxNotional: usd(50_000),
    singleUse: false,
  });
  await send('POST', `${path}/tokens`, admin, { ...token, tokenId: 'revoked', singleUse: true });
  await send('POST', `${path}/tokens/revoked/revoke`, admin, { reason: 'leaked' });
  const check = (notional: number, tokenId?: string) =>
    send('POST', '/engine/check', engine, {
      engineId: ENGINE,
      strategyId: STRATEGY,
      action: { kind: 'order.place', intent: 'open', notional: usd(notional) },
      requestId: `order-${notional}`,
      ...(tokenId === undefined ? {} : { tokenId }),
    });
  const asked = await check(4_000);
  await send('POST', `${path}/approvals/${asked.approvalId}/approve`, admin, { tokenTtlSeconds: 600 });
  const granted = await send('POST', '/engine/approval', engine, {
    engineId: ENGINE,
    strategyId: STRATEGY,
    approvalId: asked.approvalId,
  });
  await check(4_000, granted.token.tokenId);
  await check(4_000, 'revoked');
  const second = await check(5_000);
  await send('POST', `${path}/approvals/${second.approvalId}/reject`, admin, { reason: 'too large' });
  return asked.decisionId;
}

/** The engine's risk policy; a settled, a released and a denied reservation. */
async function risk(send: Send, { admin, engine }: Keys): Promise<void> {
  await send('PUT', `/risk/policies/${ENGINE}`, admin, {
    reason: 'schema test',
    maxDailyLoss: usd(10_000),
    maxDailyExposure: usd(100_000),
    maxDailyActions: 100,
  });
  const reserve = (idempotencyKey: string, maxLoss: number) =>
    send('POST', '/engine/reserve', engine, {
      engineId: ENGINE,
      idempotencyKey,
      maxLoss: usd(maxLoss),
      exposure: usd(5_000),
      strategyId: STRATEGY,
    });
  const settled = await reserve('settled', 500);
  await send('POST', '/engine/settle', engine, {
    engineId: ENGINE,
    reservationId: settled.reservationId,
    realizedLoss: usd(100),
  });
  const released = await reserve('released', 500);
  await send('POST', '/engine/release', engine, { engineId: ENGINE, reservationId: released.reservationId });
  await reserve('denied', 50_000);
}

/** A policy the engine's KPIs trip (THROTTLE). */
async function tripwire(send: Send, { admin, engine }: Keys): Promise<void> {
  await send('POST', '/tripwire/policies', admin, {
    reason: 'schema test',
    domain: 'SCHEMA',
    metric: 'deal_rate',
    recentWindow: 10,
    baselineWindow: 40,
    maxDropPct: 30,
    minEvents: 10,
    action: 'THROTTLE',
  });
  await send('POST', `/tripwire/policies/${TRIPWIRE_POLICY}/enable`, admin, { reason: 'live' });
  for (let i = 0; i < 50; i += 1)
    await send('POST', '/engine/kpi', engine, {
      engineId: ENGINE,
      domain: 'SCHEMA',
      metric: 'deal_rate',
      success: i < 40,
    });
}

/**
 * A probe UP, two DOWN that ask the gate for a pause and a kill switch (one alert acknowledged), a
 * watched engine whose heartbeat reports every optional field; the canary's summaries come by the second.
 */
async function canary(send: Send, { admin, engine, viewer }: Keys, target: string): Promise<void> {
  const probe = { kind: 'http', intervalMs: 100, timeoutMs: 100, failureThreshold: 1, recoveryThreshold: 1 };
  await send('PUT', '/canary/probes/schema-up', admin, {
    ...probe,
    reason: 'up',
    target: `${target}/up`,
    action: 'alert_only',
  });
  await send('PUT', '/canary/probes/schema-pause', admin, {
    ...probe,
    reason: 'pause',
    target: `${target}/down`,
    action: 'pause_engine',
    engineId: 'canary-target',
  });
  await send('PUT', '/canary/probes/schema-kill', admin, {
    ...probe,
    reason: 'kill',
    target: `${target}/down`,
    action: 'kill_switch',
    engineId: 'canary-target',
    killMode: 'soft',
  });
  await send('POST', '/engine/heartbeat', engine, {
    engineId: ENGINE,
    status: 'ok',
    policyRevision: 'rev-1',
    sdk: '@bifrost/sdk@0.1.0',
    activeSessions: 1,
    uptimeS: 60,
  });
  await waitFor(
    async () => (await send('GET', '/canary/alerts?probeName=schema-pause', viewer)).items.length > 0,
    { what: 'the alert of schema-pause' },
  );
  await send('POST', '/canary/alerts/probe:schema-pause:1/acknowledge', admin, { reason: 'on it' });
  // The newest summary then has probes and engines, so that their schemas are put to the test too.
  await waitFor(
    async () => (await send('GET', '/canary/summaries?limit=1', viewer)).items[0]?.engines.length > 0,
    { what: 'a summary of the probes and the engine' },
  );
}

/**
 * An engine enrolled at L3 with a changed rule; a cycle that proposes L3+, approved; a breaker event
 * resolved and one open. Returns the id of the cycle's report.
 */
async function governance(
  send: Send,
  { admin, engine, viewer }: Keys,
  newOperator: () => Promise<{ id: string; apiKey: string }>,
): Promise<string> {
  const path = `/governance/engines/${ENGINE}`;
  await send('POST', `${path}/enroll`, OWNER_KEY, {
    reason: 'schema test',
    phase: 'L3',
    phaseSince: new Date(Date.now() - 200 * DAY).toISOString(),
  });
  const command = (commandId: string, commandType: string, outcome: string, requiredApproval = false) =>
    send('POST', '/engine/command', engine, {
      engineId: ENGINE,
      commandId,
      commandType,
      outcome,
      requiredApproval,
      ...(requiredApproval ? { approved: true } : {}),
      durationMs: 40,
    });
  for (let i = 0; i < 20; i += 1) await command(`cmd-${i}`, 'SET_POWER', 'success', i === 0);
  await waitFor(async () => (await send('GET', `${path}/metrics?window=5m`, viewer)).commands === 20, {
    what: 'the agent to count 20 commands',
  });
  for (const itemId of ATTESTATION_ITEM_IDS)
    await send('POST', `${path}/readiness/attestations/${itemId}`, admin, {
      passed: true,
      evidence: 'https://wiki/evidence',
    });
  await send('PATCH', `${path}/circuit-breaker/rules/high-rollback-rate`, admin, {
    reason: 'quieter',
    condition: 'rollbackRate > 0.2',
  });
  const cycle = await send('POST', '/governance/run-cycle', admin, { engineId: ENGINE });
  const techLead = await newOperator();
  await send('PUT', `/governance/approvers/${techLead.id}`, admin, {
    roles: ['tech_lead'],
    reason: 'schema test',
  });
  await send('POST', `${path}/proposals/${cycle.proposals[0].proposalId}/approve`, techLead.apiKey, {
    note: 'reviewed',
  });
  for (let i = 0; i < 2; i += 1) await command(`err-${i}`, 'SET_FAN', 'error');
  const tripped = await waitFor(
    async () => (await send('GET', `${path}/state`, viewer)).unresolvedBreakerEvents[0],
    {
      what: 'the error rate breaker',
    },
  );
  await send('POST', `${path}/circuit-breaker/events/${tripped.eventId}/resolve`, admin, { note: 'fixed' });
  await send('POST', '/engine/incident', engine, {
    engineId: ENGINE,
    incidentId: 'inc-1',
    severity: 'critical',
    commandType: 'SET_FAN',
    summary: 'fan stuck',
  });
  return cycle.reports[0].reportId;
}

/** A domain promoted after a refusal and two sandbox trials; an evaluation before and after. Returns the last one's id. */
async function heimdall(send: Send, { admin, engine, viewer }: Keys): Promise<string> {
  await send('PUT', `/heimdall/policies/${DOMAIN}`, admin, {
    reason: 'schema test',
    minConfidence: 0.9,
    minSandboxTrials: 2,
    minSandboxSuccessRate: 0.5,
  });
  const evaluate = (recommendationId: string) =>
    send('POST', '/engine/evaluate', engine, {
      engineId: ENGINE,
      domain: DOMAIN,
      confidence: 0.95,
      recommendationId,
      requestId: `request-${recommendationId}`,
    });
  await evaluate('r-1');
  await send('POST', `/heimdall/policies/${DOMAIN}/prod-use/enable`, admin, { reason: 'too early' });
  for (const [i, success] of [true, false].entries())
    await send('POST', '/engine/sandbox', engine, {
      engineId: ENGINE,
      domain: DOMAIN,
      trialId: `t-${i}`,
      success,
    });
  await waitFor(
    async () =>
      (await send('GET', '/heimdall/policies', viewer)).domains.find(
        (d: { domain: string }) => d.domain === DOMAIN,
      )?.scorecard.trials === 2,
    { what: 'two sandbox trials' },
  );
  await send('POST', `/heimdall/policies/${DOMAIN}/prod-use/enable`, admin, { reason: 'one of two' });
  return (await evaluate('r-2')).evaluationId;
}

/**
 * Two policy revisions, recorded here rather than left to the gate (which records the one in force
 * before its first verdict), so that a diff between them has changes. Returns their revisions.
 */
async function policyRevisions(h: GatewayStack<Peers>): Promise<[string, string]> {
  const revisions: string[] = [];
  for (const global of ['hard', null]) {
    const policies = {
      control: { killSwitches: { global } },
      strategy: { minOutcomesForPromotion: 30 },
      impact: { notional: { amount: 100_000, currency: 'USD' } },
    };
    const revision = sha256Hex(canonicalize(policies));
    const recordedAt = new Date().toISOString();
    await h.probe.publisher.publish(
      createEnvelope({
        type: 'gate.PolicyRevisionRecorded',
        subject: h.ns.naming.eventSubject('gate', 'policy', revision),
        source: 'gate',
        actor: { kind: 'system', id: 'gate' },
        occurredAt: recordedAt,
        data: { revision, policies, bytes: Buffer.byteLength(canonicalize(policies)), recordedAt },
      }),
    );
    revisions.push(revision);
  }
  return revisions as [string, string];
}
