import { ATTESTATION_ITEM_IDS, DEFAULT_PHASE_LADDER } from '@bifrost/domain-governance';
import { waitFor } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { GovernanceAgentConfig, governanceAgentService } from '@bifrost/governance-agent';
import {
  OWNER_KEY,
  peer,
  projectorPeer,
  startGatewayStack,
  type GatewayStack,
} from '../testing/gateway.fixtures';

const ENGINE = 'gw-roaster';
const DAY = 86_400_000;

describe('governance routes', () => {
  let h: GatewayStack<'agent' | 'projector'>;
  let techLead: { id: string; apiKey: string };
  let sent = 0;

  beforeAll(async () => {
    h = await startGatewayStack('gwgov', {
      engineId: ENGINE,
      peers: {
        agent: peer(GovernanceAgentConfig, governanceAgentService, {
          GOVERNANCE_BREAKER_CHECK_INTERVAL_MS: '100',
          GOVERNANCE_CYCLE_SCHEDULE: 'off',
        }),
        projector: projectorPeer,
      },
    });
    techLead = await h.createKey('operator');
  });
  afterAll(() => h?.close());

  const get = (path: string, key = h.keys.viewer) => h.http('GET', `/api/v1/governance${path}`, { key });
  const send = (method: string, path: string, key: string, body: unknown) =>
    h.http(method, `/api/v1/governance${path}`, { key, body });
  const commands = async (count: number, outcome: 'success' | 'error', commandType = 'SET_POWER') => {
    for (let i = 0; i < count; i += 1) {
      sent += 1;
      const response = await h.http('POST', '/api/v1/engine/command', {
        key: h.keys.engine,
        body: { engineId: ENGINE, commandId: `cmd-${sent}`, commandType, outcome, requiredApproval: false },
      });
      expect(response.status).toBe(202);
    }
  };
  /** Waits until the agent's 5-minute window holds `count` commands (the ingest consumer is asynchronous). */
  const agentSees = (count: number) =>
    waitFor(
      async () => {
        const m = await get(`/engines/${ENGINE}/metrics?window=5m`);
        return m.status === 200 && m.body.commands === count ? m.body : undefined;
      },
      { what: `the agent to see ${count} commands` },
    );
  /** Waits until a read route answers 200 with a body the predicate accepts (the projector is asynchronous). */
  const projected = (path: string, accept: (body: never) => boolean) =>
    waitFor(
      async () => {
        const response = await get(path);
        return response.status === 200 && accept(response.body as never) ? response.body : undefined;
      },
      { what: `${path} projected` },
    );

  describe('Given an engine enrolled 200 days ago at L3', () => {
    beforeAll(async () => {
      // Backdated: the owner's call (it skips the 180 days at L3 the ladder asks for).
      const enrolled = await send('POST', `/engines/${ENGINE}/enroll`, OWNER_KEY, {
        reason: 'roaster line 1',
        phase: 'L3',
        phaseSince: new Date(Date.now() - 200 * DAY).toISOString(),
      });
      expect(enrolled.status).toBe(200);
    });

    it('should refuse enrolment to an operator and answer the state live to a viewer', async () => {
      const refused = await send('POST', `/engines/other/enroll`, h.keys.operator, { reason: 'x' });
      expect(refused.status).toBe(403);
      // Above the first phase, or backdated, skips the ladder: not an admin's alone.
      for (const skipping of [
        { phase: 'L5' },
        { phaseSince: new Date(Date.now() - 200 * DAY).toISOString() },
      ])
        expect(
          await send('POST', `/engines/other/enroll`, h.keys.admin, { reason: 'x', ...skipping }),
        ).toMatchObject({
          status: 403,
          body: { code: 'AUTH.FORBIDDEN' },
        });
      expect(
        await send('POST', `/engines/${ENGINE}/enroll`, h.keys.admin, { reason: 'again' }),
      ).toMatchObject({
        status: 409,
        body: { code: 'GOVERNANCE.ALREADY_ENROLLED' },
      });

      const state = await get(`/engines/${ENGINE}/state`);
      expect(state).toMatchObject({ status: 200, body: { engineId: ENGINE, phase: 'L3', whitelist: [] } });
      expect((await get('/engines')).body.engines).toEqual(
        expect.arrayContaining([expect.objectContaining({ engineId: ENGINE, phase: 'L3' })]),
      );
    });

    it('should show the default breaker rules from the read model, and only the enabled ones on request', async () => {
      const rules = await projected(
        `/engines/${ENGINE}/circuit-breaker/rules`,
        (b: { items: unknown[] }) => b.items.length === 4,
      );
      expect(rules.items.map((r: { ruleId: string; window: string }) => [r.ruleId, r.window])).toEqual([
        ['critical-incident', '1m'],
        ['high-error-rate', '5m'],
        ['high-rollback-rate', '15m'],
        ['repeated-command-failures', '5m'],
      ]);
      expect((await get(`/engines/${ENGINE}/circuit-breaker/rules/enabled`)).body.items).toHaveLength(4);
    });

    it('should refuse a rule condition that does not parse with the parser’s error, and accept a valid change', async () => {
      const bad = await send(
        'PATCH',
        `/engines/${ENGINE}/circuit-breaker/rules/high-rollback-rate`,
        h.keys.admin,
        {
          reason: 'typo',
          condition: 'rollbackRate >> 0.1',
        },
      );
      expect(bad).toMatchObject({ status: 422, body: { code: 'GOVERNANCE.BAD_CONDITION' } });
      expect(
        (
          await send(
            'PATCH',
            `/engines/${ENGINE}/circuit-breaker/rules/high-rollback-rate`,
            h.keys.operator,
            {
              reason: 'x',
              enabled: false,
            },
          )
        ).status,
      ).toBe(403);

      const changed = await send(
        'PATCH',
        `/engines/${ENGINE}/circuit-breaker/rules/high-rollback-rate`,
        h.keys.admin,
        {
          reason: 'quieter alerts',
          condition: 'rollbackRate > 0.2',
        },
      );
      expect(changed.status).toBe(200);
      await projected(
        `/engines/${ENGINE}/circuit-breaker/rules`,
        (b: { items: { ruleId: string; condition: string }[] }) =>
          b.items.some((r) => r.ruleId === 'high-rollback-rate' && r.condition === 'rollbackRate > 0.2'),
      );
    });

    it('should take a window of whole minutes up to 60m, as the seed adds its own rule (10m)', async () => {
      const rule = (window: string) =>
        send('PATCH', `/engines/${ENGINE}/circuit-breaker/rules/my-rule`, h.keys.admin, {
          reason: 'the seed example',
          name: 'My Rule',
          condition: 'errorRate > 0.03',
          window,
          action: 'alert_only',
          enabled: false,
        });
      for (const window of ['61m', '0m', '1h', '10'])
        expect(await rule(window)).toMatchObject({ status: 400, body: { code: 'REQUEST.INVALID' } });
      expect((await rule('10m')).status).toBe(200);
      await projected(
        `/engines/${ENGINE}/circuit-breaker/rules`,
        (b: { items: { ruleId: string; window: string }[] }) =>
          b.items.some((r) => r.ruleId === 'my-rule' && r.window === '10m'),
      );
    });

    it('should count the engine’s command records live and over a time range from the read model', async () => {
      await commands(20, 'success');
      const live = await agentSees(20);
      expect(live).toMatchObject({ window: '5m', commands: 20, successRate: 1, errorRate: 0 });

      const range = await projected(
        `/engines/${ENGINE}/metrics/current`,
        (b: { metrics: { commands: number } }) => b.metrics.commands === 20,
      );
      expect(range.metrics).toMatchObject({ successes: 20, failures: 0, maxSeverity: null });
      const start = new Date(Date.now() - 2 * DAY).toISOString();
      const end = new Date(Date.now() - DAY).toISOString();
      expect(
        (await get(`/engines/${ENGINE}/metrics/current?start=${start}&end=${end}`)).body.metrics.commands,
      ).toBe(0);
      expect((await get(`/engines/${ENGINE}/metrics/current?start=${end}&end=${start}`)).status).toBe(400);
      // An end in the first day of year 1: the default start is not before it (Postgres has no year 0).
      expect(await get(`/engines/${ENGINE}/metrics/current?end=0001-01-01T12:00:00.000Z`)).toMatchObject({
        status: 200,
        body: { start: '0001-01-01T00:00:00.000Z', metrics: { commands: 0 } },
      });
      // An empty range, as a list's from = to: nothing counted, not a refusal.
      const now = new Date().toISOString();
      expect(await get(`/engines/${ENGINE}/metrics/current?start=${now}&end=${now}`)).toMatchObject({
        status: 200,
        body: { start: now, end: now, metrics: { commands: 0 } },
      });

      const weekly = await get(`/engines/${ENGINE}/metrics/weekly`);
      expect(weekly.body.metrics.commands).toBe(20);
      expect(weekly.body.days).toHaveLength(7);
      const perDay = weekly.body.days.map((d: { metrics: { commands: number } }) => d.metrics.commands);
      expect(perDay.reduce((a: number, b: number) => a + b, 0)).toBe(20);
    });

    it('should assess readiness: computed items pass, unattested items block', async () => {
      const readiness = await get(`/engines/${ENGINE}/readiness/current`);
      expect(readiness.status).toBe(200);
      expect(readiness.body).toMatchObject({ score: 23, status: 'NEEDS_WORK' });
      expect(readiness.body.blockers).toContain('Runbooks complete (required): not attested');

      expect((await get(`/engines/${ENGINE}/readiness/score`)).body).toEqual({
        score: 23,
        maxScore: 80,
        ratio: 23 / 80,
        status: 'NEEDS_WORK',
      });
    });

    it('should take attestations from operators only, for attestation items only', async () => {
      const evidence = { passed: true, evidence: 'https://wiki/roaster/evidence' };
      expect(
        (await send('POST', `/engines/${ENGINE}/readiness/attestations/runbooks`, h.keys.viewer, evidence))
          .status,
      ).toBe(403);
      expect(
        (
          await send('POST', `/engines/${ENGINE}/readiness/attestations/runbooks`, h.keys.operator, {
            passed: true,
          })
        ).status,
      ).toBe(400);
      // The path names the item: a metric item, or none at all, is no attestation item to attest.
      for (const itemId of ['success-rate', 'no-such-item']) {
        expect(
          await send(
            'POST',
            `/engines/${ENGINE}/readiness/attestations/${itemId}`,
            h.keys.operator,
            evidence,
          ),
        ).toMatchObject({
          status: 404,
          body: { code: 'GOVERNANCE.UNKNOWN_CHECKLIST_ITEM', details: { attestable: ATTESTATION_ITEM_IDS } },
        });
      }
      for (const itemId of ATTESTATION_ITEM_IDS) {
        const attested = await send(
          'POST',
          `/engines/${ENGINE}/readiness/attestations/${itemId}`,
          h.keys.operator,
          evidence,
        );
        expect(attested.status).toBe(200);
      }

      expect((await get(`/engines/${ENGINE}/readiness/score`)).body).toMatchObject({
        score: 80,
        status: 'READY',
      });
    });

    it('should run a cycle that proposes L3+ and list the proposal and report from the read models', async () => {
      expect((await send('POST', '/run-cycle', h.keys.viewer, { engineId: ENGINE })).status).toBe(403);
      const cycle = await send('POST', '/run-cycle', h.keys.operator, { engineId: ENGINE });
      expect(cycle.status).toBe(200);
      expect(cycle.body.proposals).toHaveLength(1);
      const proposal = cycle.body.proposals[0];
      expect(proposal).toMatchObject({
        fromPhase: 'L3',
        targetPhase: 'L3+',
        whitelistAdditions: ['SET_POWER', 'SET_FAN'],
        requiredApprovals: ['tech_lead'],
      });
      const reportId = cycle.body.reports[0].reportId;

      const pending = await projected(
        `/engines/${ENGINE}/proposals`,
        (b: { items: unknown[] }) => b.items.length === 1,
      );
      expect(pending.items[0]).toMatchObject({
        proposalId: proposal.proposalId,
        status: 'PENDING',
        outstanding: ['tech_lead'],
      });
      const reports = await projected(
        `/engines/${ENGINE}/reports`,
        (b: { items: unknown[] }) => b.items.length === 1,
      );
      expect(reports.items[0]).toMatchObject({
        reportId,
        readinessScore: 80,
        proposed: true,
        trigger: 'operator',
      });
      expect((await get(`/engines/${ENGINE}/reports/latest`)).body).toMatchObject({ reportId, phase: 'L3' });
      expect((await get(`/engines/${ENGINE}/reports/${reportId}`)).body.decision).toMatchObject({
        proposed: true,
      });
      expect((await get(`/engines/${ENGINE}/reports/nope`)).status).toBe(404);
      expect((await get(`/engines/${ENGINE}/metrics/latest`)).body).toMatchObject({
        reportId,
        metrics: { window: '7d' },
      });
      expect((await get(`/engines/${ENGINE}/readiness/latest`)).body).toMatchObject({
        reportId,
        readiness: { score: 80, status: 'READY' },
      });
    });

    it('should let the tech lead (and nobody without the role) approve, moving the engine to L3+', async () => {
      const [proposal] = (await get(`/engines/${ENGINE}/proposals`)).body.items;
      const path = `/engines/${ENGINE}/proposals/${proposal.proposalId}`;

      const unassigned = await send('POST', `${path}/approve`, techLead.apiKey, {});
      expect(unassigned).toMatchObject({ status: 403, body: { code: 'GOVERNANCE.NOT_AN_APPROVER' } });
      expect(
        (
          await send('PUT', `/approvers/${techLead.id}`, h.keys.operator, {
            roles: ['tech_lead'],
            reason: 'x',
          })
        ).status,
      ).toBe(403);
      // Roles go to people with an active key: not to an id nobody holds, not to an engine.
      expect(
        await send('PUT', '/approvers/ghost-principal', h.keys.admin, { roles: ['tech_lead'], reason: 'x' }),
      ).toMatchObject({ status: 404, body: { code: 'KEYS.NOT_FOUND' } });
      const engineKey = await h.createKey('engine', { engineId: ENGINE });
      expect(
        (await send('PUT', `/approvers/${engineKey.id}`, h.keys.admin, { roles: ['tech_lead'], reason: 'x' }))
          .body,
      ).toMatchObject({ code: 'KEYS.ENGINE_KEY' });
      const viewerKey = await h.createKey('viewer');
      expect(
        (await send('PUT', `/approvers/${viewerKey.id}`, h.keys.admin, { roles: ['tech_lead'], reason: 'x' }))
          .body,
      ).toMatchObject({ code: 'KEYS.VIEWER_KEY' });
      // Nobody gives themselves a role: the admin's own key is refused, another admin's is not.
      const admin = await h.createKey('admin');
      expect(
        await send('PUT', `/approvers/${admin.id}`, admin.apiKey, { roles: ['exec_sponsor'], reason: 'me' }),
      ).toMatchObject({ status: 403, body: { code: 'GOVERNANCE.SELF_ASSIGNMENT_FORBIDDEN' } });
      expect(
        (await send('PUT', `/approvers/${admin.id}`, h.keys.admin, { roles: ['exec_sponsor'], reason: 'x' }))
          .status,
      ).toBe(200);
      expect(
        (await send('PUT', `/approvers/${admin.id}`, admin.apiKey, { roles: [], reason: 'stepping down' }))
          .status,
      ).toBe(200);
      expect(
        (await send('PUT', '/approvers/ghost-principal', h.keys.admin, { roles: [], reason: 'cleanup' }))
          .status,
      ).toBe(200);
      const assigned = await send('PUT', `/approvers/${techLead.id}`, h.keys.admin, {
        roles: ['tech_lead'],
        reason: 'roaster tech lead',
      });
      expect(assigned.status).toBe(200);
      expect((await get('/approvers')).body.approvers).toEqual([
        { principalId: techLead.id, roles: ['tech_lead'], canApprove: true },
      ]);

      const approved = await send('POST', `${path}/approve`, techLead.apiKey, { note: 'metrics reviewed' });
      expect(approved.status).toBe(200);
      expect((await get(`/engines/${ENGINE}/state`)).body).toMatchObject({
        phase: 'L3+',
        pendingProposal: null,
      });
      expect((await get(`/engines/${ENGINE}/state`)).body.whitelist.sort()).toEqual(['SET_FAN', 'SET_POWER']);
      const all = await projected(
        `/engines/${ENGINE}/proposals?status=ALL`,
        (b: { items: { status: string }[] }) => b.items[0]?.status === 'APPROVED',
      );
      expect(all.items[0].approvals).toEqual([
        expect.objectContaining({ principalId: techLead.id, role: 'tech_lead' }),
      ]);
      expect((await get(`/engines/${ENGINE}/proposals`)).body.items).toEqual([]);
      expect(await send('POST', `${path}/approve`, techLead.apiKey, {})).toMatchObject({
        status: 409,
        body: { code: 'GOVERNANCE.PROPOSAL_NOT_PENDING' },
      });

      // A revoked key keeps its roles (an admin sees whom to replace), marked as unable to approve.
      expect((await h.http('DELETE', `/api/v1/keys/${techLead.id}`, { key: h.keys.admin })).status).toBe(200);
      expect((await get('/approvers')).body.approvers).toEqual([
        { principalId: techLead.id, roles: ['tech_lead'], canApprove: false },
      ]);
    });

    it('should revert to L3 when failing commands trip the error-rate breaker, and let an operator resolve the event', async () => {
      await commands(2, 'error', 'SET_FAN');
      await waitFor(async () => (await get(`/engines/${ENGINE}/state`)).body.phase === 'L3', {
        what: 'revert to L3',
      });

      const open = await projected(
        `/engines/${ENGINE}/circuit-breaker/events/unresolved`,
        (b: { items: { ruleId: string }[] }) => b.items.some((e) => e.ruleId === 'high-error-rate'),
      );
      const event = open.items.find((e: { ruleId: string }) => e.ruleId === 'high-error-rate');
      expect(event).toMatchObject({ action: 'revert_to_l3', window: '5m', resolvedAt: null });
      expect(event.observed.errorRate).toBeGreaterThan(0.05);

      const path = `/engines/${ENGINE}/circuit-breaker/events/${event.eventId}/resolve`;
      expect((await send('POST', path, h.keys.viewer, { note: 'x' })).status).toBe(403);
      expect((await send('POST', path, h.keys.operator, {})).status).toBe(400);
      expect((await send('POST', path, h.keys.operator, { note: 'fan controller replaced' })).status).toBe(
        200,
      );
      await projected(
        `/engines/${ENGINE}/circuit-breaker/events?limit=20`,
        (b: { items: { eventId: string; resolutionNote: string | null }[] }) =>
          b.items.some((e) => e.eventId === event.eventId && e.resolutionNote === 'fan controller replaced'),
      );
      expect((await get(`/engines/${ENGINE}/state`)).body.phase).toBe('L3');
      expect(await send('POST', path, h.keys.operator, { note: 'again' })).toMatchObject({
        status: 409,
        body: { code: 'GOVERNANCE.ALREADY_RESOLVED' },
      });
    });

    it('should answer an unknown engine, proposal or breaker event with 404 and a bad path parameter with 400', async () => {
      // Live from the agent or from the read models: an engine not under governance is 404 alike.
      for (const path of [
        'state',
        'metrics',
        'metrics/current',
        'metrics/weekly',
        'readiness/current',
        'readiness/score',
      ])
        expect(await get(`/engines/nobody/${path}`)).toMatchObject({
          status: 404,
          body: { code: 'GOVERNANCE.ENGINE_NOT_ENROLLED' },
        });
      expect(
        await send('POST', `/engines/${ENGINE}/proposals/prop-nope/approve`, h.keys.operator, {}),
      ).toMatchObject({ status: 404, body: { code: 'GOVERNANCE.PROPOSAL_NOT_FOUND' } });
      expect(
        await send('POST', `/engines/${ENGINE}/proposals/prop-nope/reject`, h.keys.operator, { reason: 'x' }),
      ).toMatchObject({ status: 404, body: { code: 'GOVERNANCE.PROPOSAL_NOT_FOUND' } });
      expect(
        await send('POST', `/engines/${ENGINE}/circuit-breaker/events/brk-nope/resolve`, h.keys.operator, {
          note: 'x',
        }),
      ).toMatchObject({ status: 404, body: { code: 'GOVERNANCE.BREAKER_EVENT_NOT_FOUND' } });
      expect((await get('/engines/bad%20id/state')).status).toBe(400);
      expect((await get(`/engines/${ENGINE}/metrics?window=2h`)).status).toBe(400);
    });

    it('should answer a week whose days add up to it while the projector commits commands', async () => {
      const sum = (w: { days: { metrics: { commands: number } }[] }) =>
        w.days.reduce((n, d) => n + d.metrics.commands, 0);
      let posted = false;
      const posting = commands(40, 'success').finally(() => {
        posted = true;
      });
      const disagreeing: string[] = [];
      for (let polls = 0; !posted || polls < 10; polls += 1) {
        const { body } = await get(`/engines/${ENGINE}/metrics/weekly`);
        if (body.metrics.commands !== sum(body)) disagreeing.push(`${body.metrics.commands} ≠ ${sum(body)}`);
      }
      await posting;
      expect(disagreeing).toEqual([]);
    });
  });

  describe('When an approver who is an operator steps down', () => {
    it('should let them give up their own roles, and nobody but an admin change another’s', async () => {
      const approver = await h.createKey('operator');
      expect(
        (await send('PUT', `/approvers/${approver.id}`, h.keys.admin, { roles: ['ops_lead'], reason: 'x' }))
          .status,
      ).toBe(200);

      const others = await send('PUT', `/approvers/${approver.id}`, h.keys.operator, {
        roles: [],
        reason: 'x',
      });
      const ownRole = await send('PUT', `/approvers/${approver.id}`, approver.apiKey, {
        roles: ['tech_lead'],
        reason: 'x',
      });
      const steppedDown = await send('PUT', `/approvers/${approver.id}`, approver.apiKey, {
        roles: [],
        reason: 'leaving the team',
      });

      expect(others).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });
      expect(ownRole).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });
      expect(steppedDown.status).toBe(200);
      expect(
        (await get('/approvers')).body.approvers.filter(
          (a: { principalId: string }) => a.principalId === approver.id,
        ),
      ).toEqual([]);
    });
  });

  describe('When an admin mints keys and would make approvers of them', () => {
    it('should refuse roles for keys the admin, or a key it created, minted: another admin vouches for them', async () => {
      const admin = await h.createKey('admin');
      const mint = async (by: string, role: string) =>
        (await h.http('POST', '/api/v1/keys', { key: by, body: { name: `minted-${role}`, role } })).body as {
          id: string;
          apiKey: string;
        };
      const minted = await mint(admin.apiKey, 'operator');
      const secondAdmin = await mint(admin.apiKey, 'admin');
      const thirdAdmin = await mint(admin.apiKey, 'admin');
      const mintedBySecond = await mint(secondAdmin.apiKey, 'operator');
      const mintedByThird = await mint(thirdAdmin.apiKey, 'operator');
      const otherAdmin = await h.createKey('admin');
      const assign = (to: { id: string }, by: string) =>
        send('PUT', `/approvers/${to.id}`, by, { roles: ['tech_lead'], reason: 'x' });

      const refused = [
        await assign(minted, admin.apiKey),
        await assign(minted, secondAdmin.apiKey),
        await assign(mintedBySecond, admin.apiKey),
        await assign(mintedByThird, secondAdmin.apiKey),
        await assign(admin, secondAdmin.apiKey),
      ];
      const byAnother = await assign(mintedBySecond, otherAdmin.apiKey);

      for (const answer of refused)
        expect(answer).toMatchObject({ status: 403, body: { code: 'GOVERNANCE.SELF_ASSIGNMENT_FORBIDDEN' } });
      expect(byAnother.status).toBe(200);
      await send('PUT', `/approvers/${mintedBySecond.id}`, otherAdmin.apiKey, {
        roles: [],
        reason: 'cleanup',
      });
    });
  });

  describe('When an admin changes the ladder of an engine at L3+', () => {
    const engine = 'gw-ladder';
    // SET_DRUM moves from L4 down to L3+: autonomous at once for an engine at L3+.
    const widening = DEFAULT_PHASE_LADDER.map((r) =>
      r.phase === 'L3+'
        ? { ...r, additions: [...r.additions, 'SET_DRUM'] }
        : r.phase === 'L4'
          ? { ...r, additions: r.additions.filter((c) => c !== 'SET_DRUM') }
          : r,
    );
    const whitelist = async () => {
      const state = await get(`/engines/${engine}/state`);
      // A failed read says why (status and problem), rather than showing an undefined whitelist.
      expect({ status: state.status, body: state.status === 200 ? 'ok' : state.body }).toEqual({
        status: 200,
        body: 'ok',
      });
      return state.body.whitelist;
    };

    beforeAll(async () => {
      expect(
        await send('POST', `/engines/${engine}/enroll`, OWNER_KEY, { reason: 'line 2', phase: 'L3+' }),
      ).toMatchObject({ status: 200 });
    });

    it('should refuse a ladder that whitelists more at its phase to an admin, and take it from an owner', async () => {
      const before = await whitelist();

      const refused = await send('PUT', `/engines/${engine}/ladder`, h.keys.admin, {
        reason: 'drum is safe',
        ladder: widening,
      });

      expect(refused).toMatchObject({ status: 403, body: { code: 'GOVERNANCE.LADDER_WIDENS' } });
      expect(refused.body.detail).toMatch(/SET_DRUM at the engine's phase L3\+/);
      expect(await whitelist()).toEqual(before);
      expect(
        await send('PUT', `/engines/${engine}/ladder`, OWNER_KEY, {
          reason: 'drum is safe',
          ladder: widening,
        }),
      ).toMatchObject({ status: 200 });
      expect(await whitelist()).toContain('SET_DRUM');
    });

    it('should take from an admin a ladder that narrows its phase', async () => {
      const narrowing = widening.map((r) => (r.phase === 'L3+' ? { ...r, additions: ['SET_POWER'] } : r));

      expect(
        await send('PUT', `/engines/${engine}/ladder`, h.keys.admin, {
          reason: 'fan recalled',
          ladder: narrowing,
        }),
      ).toMatchObject({ status: 200 });
      expect(await whitelist()).toEqual(['SET_POWER']);
    });
  });
});
