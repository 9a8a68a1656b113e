import type {
  Actor,
  CycleReportSchema,
  GateCheckReply,
  GovernanceStateView,
  PhaseLadder,
  ProposalSchema,
  WindowMetricsSchema,
} from '@bifrost/contracts';
import {
  ATTESTATION_ITEM_IDS,
  DEFAULT_PHASE_LADDER,
  GOVERNANCE_AGENT,
  governanceDecider,
  type GovernanceEvent,
} from '@bifrost/domain-governance';
import { fold } from '@bifrost/event-sourcing';
import { Messaging, createEnvelope, decodeJson, toDomainEvent } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, startTestService, waitFor, type TestNamespace } from '@bifrost/testing';
import type { Static } from '@sinclair/typebox';
import { GovernanceCommands } from './commands/governance-commands.service';
import { GovernanceAgentConfig, governanceAgentService } from './governance-agent.service';
import { startGateProcess, type GateProcess } from './testing/gate-process';

const alice: Actor = { kind: 'operator', id: 'alice' };
const bob: Actor = { kind: 'operator', id: 'bob' };
const carol: Actor = { kind: 'operator', id: 'carol' };
const DAY = 86_400_000;
// The gate runs as its own process, compiled at start: on a busy machine that outlasts jest's 5 s.
jest.setTimeout(60_000);

describe('governance-agent over NATS', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let agent: RunningService;
  let gate: GateProcess;

  const startAgent = () =>
    startTestService(GovernanceAgentConfig, governanceAgentService, ns, {
      GOVERNANCE_BREAKER_CHECK_INTERVAL_MS: '200',
    });
  const rpc = <T>(operation: string, body: Record<string, unknown>) =>
    client.rpc.call<T>(`bifrost.rpc.governance.${operation}`, body);
  const state = (engineId: string) => rpc<GovernanceStateView>('state', { engineId });
  const gateCommand = (name: string, body: Record<string, unknown>) =>
    client.rpc.call(`bifrost.rpc.gate.cmd.${name}`, { actor: alice, ...body });
  const gateCheck = (engineId: string, commandType: string) =>
    client.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', {
      engineId,
      strategyId: 's1',
      action: { kind: 'order.place', intent: 'open', commandType },
    });
  const reportCommand = (engineId: string, commandId: string, commandType: string, outcome: string) =>
    client.publisher.publish(
      createEnvelope({
        type: 'ingest.CommandReported',
        subject: ns.naming.ingestSubject('command', engineId),
        source: 'engine',
        actor: { kind: 'engine', id: engineId },
        data: { engineId, commandId, commandType, outcome, requiredApproval: false },
      }),
    );

  const reportIncident = (engineId: string, incidentId: string, severity: string) =>
    client.publisher.publish(
      createEnvelope({
        type: 'ingest.IncidentReported',
        subject: ns.naming.ingestSubject('incident', engineId),
        source: 'engine',
        actor: { kind: 'engine', id: engineId },
        data: { engineId, incidentId, severity, summary: 'drum over temperature' },
      }),
    );
  const eventsOf = async (engineId: string) =>
    (await client.eventStore.read(ns.naming.eventSubject('governance', 'engine', engineId))).events.map(
      (e) => e.envelope,
    );
  /** Enrols an engine at `phase` for 200 days, every item attested, `commands` good SET_FAN records seen. */
  const enrolReady = async (
    engineId: string,
    phase: string,
    commands: number,
    ladder?: PhaseLadder,
  ): Promise<void> => {
    await rpc('cmd.enroll', {
      actor: alice,
      reason: 'governed elsewhere since spring',
      engineId,
      phase,
      phaseSince: new Date(Date.now() - 200 * DAY).toISOString(),
      ...(ladder ? { ladder } : {}),
    });
    for (const itemId of ATTESTATION_ITEM_IDS) {
      await rpc('cmd.attest', {
        actor: alice,
        engineId,
        itemId,
        passed: true,
        evidence: `see wiki/${itemId}`,
      });
    }
    for (let i = 0; i < commands; i += 1) await reportCommand(engineId, `c-${i}`, 'SET_FAN', 'success');
    await waitFor(
      async () =>
        (await rpc<Static<typeof WindowMetricsSchema>>('metrics', { engineId, window: '1h' })).commands ===
        commands,
      { what: `${commands} command records` },
    );
  };

  /** An engine ready at L3 with five good commands: the cycle proposes L3+. */
  const engineWithProposal = async (engineId: string): Promise<ProposalSchema> => {
    await enrolReady(engineId, 'L3', 5);
    const cycle = await rpc<{ proposals: ProposalSchema[] }>('cmd.run-cycle', { actor: alice, engineId });
    expect(cycle.proposals).toEqual([
      expect.objectContaining({ fromPhase: 'L3', targetPhase: 'L3+', whitelist: ['SET_FAN', 'SET_POWER'] }),
    ]);
    return cycle.proposals[0] as ProposalSchema;
  };
  const assignRoles = async () => {
    for (const [principalId, roles] of [
      ['bob', ['tech_lead']],
      ['carol', ['ops_lead']],
    ] as const) {
      await rpc('cmd.assign-approver-roles', { actor: alice, reason: 'org chart', principalId, roles });
    }
  };

  beforeAll(async () => {
    ns = await createTestNamespace('gov');
    client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'probe',
      instanceId: 'p',
      namespace: ns.namespace,
    });
    [agent, gate] = await Promise.all([startAgent(), startGateProcess(ns)]);
    await gateCommand('execution-class', {
      actionKind: 'order.place',
      executionClass: 'SANDBOX_EXEC',
      reason: 'test',
    });
  });
  afterAll(async () => {
    await Promise.all([agent.close(), gate.stop()]);
    await client.drain();
    await ns.cleanup();
  });

  describe('Given an engine at L4 that the gate knows', () => {
    const engineId = 'roaster-l4';

    beforeAll(async () => {
      await gateCommand('strategy.register', { engineId, strategyId: 's1' });
      await gateCommand('strategy.override-maturity', {
        engineId,
        strategyId: 's1',
        level: 'L4',
        reason: 'seasoned',
      });
      await rpc('cmd.enroll', { actor: alice, reason: 'roaster goes live', engineId, phase: 'L4' });
    });

    it('should revert to L3 when failing command records trip the error-rate breaker, and the gate then asks approval for SET_DRUM', async () => {
      await waitFor(async () => (await gateCheck(engineId, 'SET_DRUM')).action === 'ALLOW', {
        what: 'the gate to apply L4',
      });
      // Before any incident, so that the critical-incident alert sees the first one as an increase.
      expect(await (await fetch(`${agent.url}/metrics`)).text()).toContain(
        'bifrost_governance_incidents_total{engine="roaster-l4",severity="critical",service="governance-agent"} 0',
      );

      for (let i = 0; i < 3; i += 1) await reportCommand(engineId, `ok-${i}`, 'SET_DRUM', 'success');
      await reportCommand(engineId, 'bad-1', 'SET_DRUM', 'error');

      await waitFor(async () => (await state(engineId)).phase === 'L3', { what: 'the revert to L3' });
      const view = await state(engineId);
      expect(view.whitelist).toEqual([]);
      expect(view.unresolvedBreakerEvents).toEqual([
        expect.objectContaining({
          ruleId: 'high-error-rate',
          action: 'revert_to_l3',
          observed: expect.objectContaining({ errorRate: 0.25 }),
        }),
      ]);

      await waitFor(async () => (await gateCheck(engineId, 'SET_DRUM')).action === 'REQUIRE_APPROVAL', {
        what: 'the gate to apply L3',
      });
      const verdict = await gateCheck(engineId, 'SET_DRUM');
      expect(verdict.checks).toContainEqual(
        expect.objectContaining({ name: 'autonomyPhase', outcome: 'REQUIRE_APPROVAL', threshold: 'L3' }),
      );
      const metrics = await (await fetch(`${agent.url}/metrics`)).text();
      expect(metrics).toMatch(
        /bifrost_governance_current_phase_info\{engine="roaster-l4",phase="L3",service="governance-agent"\} 1/,
      );
      expect(metrics).toMatch(
        /bifrost_governance_circuit_breaker_events_unresolved\{engine="roaster-l4",service="governance-agent"\} 1/,
      );
      expect(metrics).toMatch(
        /bifrost_governance_commands_total\{engine="roaster-l4",status="failed",service="governance-agent"\} 1/,
      );
      // SET_DRUM was whitelisted when those records came; now it is not: run unapproved, it is a violation.
      expect(metrics).not.toContain(
        'bifrost_governance_safety_constraint_violations_total{engine="roaster-l4"',
      );
      await reportCommand(engineId, 'rogue-1', 'SET_DRUM', 'success');
      await waitFor(
        async () =>
          (await (await fetch(`${agent.url}/metrics`)).text()).includes(
            'bifrost_governance_safety_constraint_violations_total{engine="roaster-l4",command_type="SET_DRUM",service="governance-agent"} 1',
          ),
        { what: 'the safety constraint violation counted' },
      );
      // A type no rung of the ladder names is counted under one label: engines choose these names.
      await reportCommand(engineId, 'rogue-2', 'MADE_UP_9f3a', 'success');
      await waitFor(
        async () =>
          (await (await fetch(`${agent.url}/metrics`)).text()).includes(
            'bifrost_governance_safety_constraint_violations_total{engine="roaster-l4",command_type="_other",service="governance-agent"} 1',
          ),
        { what: 'the unknown command type counted as _other' },
      );
      expect(await (await fetch(`${agent.url}/metrics`)).text()).not.toContain('MADE_UP_9f3a');
    });

    it('should let an operator resolve the breaker event once, and keep L3', async () => {
      const [event] = (await state(engineId)).unresolvedBreakerEvents;
      await rpc('cmd.resolve-breaker-event', {
        actor: alice,
        engineId,
        eventId: event?.eventId,
        note: 'sensor fixed',
      });
      await expect(
        rpc('cmd.resolve-breaker-event', { actor: alice, engineId, eventId: event?.eventId, note: 'again' }),
      ).rejects.toMatchObject({ code: 'GOVERNANCE.ALREADY_RESOLVED' });
      expect(await state(engineId)).toMatchObject({ phase: 'L3', unresolvedBreakerEvents: [] });
    });
  });

  describe('Given an engine at L4 whose error-rate breaker an operator disabled', () => {
    const engineId = 'roaster-pause';

    beforeAll(async () => {
      await gateCommand('strategy.register', { engineId, strategyId: 's1' });
      await gateCommand('strategy.override-maturity', {
        engineId,
        strategyId: 's1',
        level: 'L4',
        reason: 'seasoned',
      });
      await rpc('cmd.enroll', { actor: alice, reason: 'roaster goes live', engineId, phase: 'L4' });
      await rpc('cmd.update-rule', {
        actor: alice,
        reason: 'noisy',
        engineId,
        ruleId: 'high-error-rate',
        enabled: false,
      });
    });

    it('should pause SET_AIRFLOW after three failures: the gate asks approval for it and still allows SET_DRUM', async () => {
      for (let i = 0; i < 3; i += 1) await reportCommand(engineId, `air-${i}`, 'SET_AIRFLOW', 'error');

      await waitFor(async () => (await state(engineId)).pausedCommandTypes.includes('SET_AIRFLOW'), {
        what: 'SET_AIRFLOW to be paused',
      });
      expect(await state(engineId)).toMatchObject({
        phase: 'L4',
        whitelist: ['SET_DRUM', 'SET_FAN', 'SET_POWER'],
      });
      await waitFor(async () => (await gateCheck(engineId, 'SET_AIRFLOW')).action === 'REQUIRE_APPROVAL', {
        what: 'the gate to drop SET_AIRFLOW',
      });
      expect((await gateCheck(engineId, 'SET_DRUM')).action).toBe('ALLOW');

      const [event] = (await state(engineId)).unresolvedBreakerEvents;
      expect(event).toMatchObject({ ruleId: 'repeated-command-failures', commandType: 'SET_AIRFLOW' });
      await rpc('cmd.resolve-breaker-event', {
        actor: alice,
        engineId,
        eventId: event?.eventId,
        note: 'damper fixed',
      });
      await waitFor(async () => (await gateCheck(engineId, 'SET_AIRFLOW')).action === 'ALLOW', {
        what: 'the gate to allow SET_AIRFLOW again',
      });
    });
  });

  describe('Given an engine at L3+ for 200 days with every readiness item in place', () => {
    const engineId = 'roaster-ready';
    let proposal: ProposalSchema;

    beforeAll(async () => {
      await enrolReady(engineId, 'L3+', 10);
      await rpc('cmd.assign-approver-roles', {
        actor: alice,
        reason: 'org chart',
        principalId: 'bob',
        roles: ['tech_lead'],
      });
      await rpc('cmd.assign-approver-roles', {
        actor: alice,
        reason: 'org chart',
        principalId: 'carol',
        roles: ['ops_lead'],
      });
      // Another operator gives alice her role: nobody gives themselves one.
      await rpc('cmd.assign-approver-roles', {
        actor: { kind: 'operator', id: 'dave' },
        reason: 'org chart',
        principalId: 'alice',
        roles: ['ops_lead'],
      });
      await expect(
        rpc('cmd.assign-approver-roles', {
          actor: alice,
          reason: 'org chart',
          principalId: 'alice',
          roles: ['ops_lead', 'exec_sponsor'],
        }),
      ).rejects.toMatchObject({ code: 'GOVERNANCE.SELF_ASSIGNMENT_FORBIDDEN' });
    });

    it('should run a cycle on demand for an operator only, one engine or all', async () => {
      const engine = { kind: 'engine', id: engineId };
      for (const body of [{ actor: engine, engineId }, { actor: engine }]) {
        await expect(rpc('cmd.run-cycle', body)).rejects.toMatchObject({ code: 'GOVERNANCE.OPERATOR_ONLY' });
      }
    });

    it('should propose L4 exactly once when the cycle finds every condition met', async () => {
      const first = await rpc<{ reports: CycleReportSchema[]; proposals: ProposalSchema[] }>(
        'cmd.run-cycle',
        { actor: alice, engineId },
      );
      expect(first.reports).toHaveLength(1);
      expect(first.reports[0]).toMatchObject({
        readiness: { score: 80, status: 'READY' },
        decision: { proposed: true },
      });
      expect(first.proposals).toHaveLength(1);
      proposal = first.proposals[0] as ProposalSchema;
      expect(proposal).toMatchObject({
        fromPhase: 'L3+',
        targetPhase: 'L4',
        whitelistAdditions: ['SET_DRUM', 'SET_AIRFLOW'],
        validationPeriodDays: 21,
        requiredApprovals: ['tech_lead', 'ops_lead'],
        proposedBy: alice,
      });

      const second = await rpc<{ proposals: ProposalSchema[]; reports: CycleReportSchema[] }>(
        'cmd.run-cycle',
        { actor: alice, engineId },
      );
      expect(second.proposals).toEqual([]);
      expect(second.reports[0]?.decision.checks).toContainEqual(
        expect.objectContaining({ condition: 'noPendingProposal', met: false }),
      );
      const { events } = await client.eventStore.read(
        ns.naming.eventSubject('governance', 'engine', engineId),
      );
      expect(events.filter((e) => e.envelope.type === 'governance.ProposalCreated')).toHaveLength(1);
    });

    it('should refuse self-approval and a second signature by the same principal', async () => {
      await expect(
        rpc('cmd.approve-proposal', { actor: alice, engineId, proposalId: proposal.proposalId }),
      ).rejects.toMatchObject({
        code: 'GOVERNANCE.SELF_APPROVAL',
      });
      await rpc('cmd.approve-proposal', { actor: bob, engineId, proposalId: proposal.proposalId });
      await expect(
        rpc('cmd.approve-proposal', { actor: bob, engineId, proposalId: proposal.proposalId }),
      ).rejects.toMatchObject({
        code: 'GOVERNANCE.ALREADY_APPROVED',
      });
      expect((await state(engineId)).pendingProposal).toMatchObject({ outstanding: ['ops_lead'] });
    });

    it('should move the engine to L4 once the required distinct roles approved, and tell the gate', async () => {
      await rpc('cmd.approve-proposal', {
        actor: carol,
        engineId,
        proposalId: proposal.proposalId,
        note: 'ops ok',
      });
      const view = await state(engineId);
      expect(view).toMatchObject({ phase: 'L4', pendingProposal: null, daysAtPhase: 0 });
      expect(view.whitelist).toEqual(['SET_AIRFLOW', 'SET_DRUM', 'SET_FAN', 'SET_POWER']);
      const { events } = await client.eventStore.read(
        ns.naming.eventSubject('governance', 'engine', engineId),
      );
      const changed = events.filter((e) => e.envelope.type === 'governance.PhaseChanged').at(-1);
      expect(changed?.envelope.data).toMatchObject({
        phase: 'L4',
        cause: 'proposal',
        causeId: proposal.proposalId,
      });
      await waitFor(
        async () =>
          (await gateCheck(engineId, 'SET_DRUM')).checks.some(
            (c) => c.name === 'autonomyPhase' && c.outcome === 'ALLOW',
          ),
        { what: 'the gate to apply L4' },
      );
    });
  });

  describe('Given an admin enrolling an engine', () => {
    it('should keep the admin’s reason in EngineEnrolled', async () => {
      await rpc('cmd.enroll', { actor: alice, reason: 'test enrol', engineId: 'govx-e1', phase: 'L3' });
      const [enrolled] = (await eventsOf('govx-e1')).filter((e) => e.type === 'governance.EngineEnrolled');
      expect(enrolled?.data).toMatchObject({ phase: 'L3', actor: alice, reason: 'test enrol' });
    });
  });

  describe('Given an engine already at L3 with a pending L3 → L3+ proposal', () => {
    const engineId = 'roaster-incident';
    let proposal: ProposalSchema;

    beforeAll(async () => {
      await assignRoles();
      proposal = await engineWithProposal(engineId);
    });

    it('should withdraw the proposal when a critical incident trips its breaker, so that a tech lead can no longer approve it', async () => {
      await reportIncident(engineId, 'inc-1', 'critical');
      await waitFor(async () => (await state(engineId)).unresolvedBreakerEvents.length === 1, {
        what: 'the critical-incident breaker event',
      });
      const view = await state(engineId);
      expect(view.unresolvedBreakerEvents[0]).toMatchObject({ ruleId: 'critical-incident' });
      expect(view).toMatchObject({ phase: 'L3', pendingProposal: null });
      const withdrawn = (await eventsOf(engineId)).find((e) => e.type === 'governance.ProposalRejected');
      expect(withdrawn?.data).toMatchObject({
        proposalId: proposal.proposalId,
        reason: expect.stringContaining('Critical Incident tripped'),
      });

      await expect(
        rpc('cmd.approve-proposal', { actor: bob, engineId, proposalId: proposal.proposalId }),
      ).rejects.toMatchObject({ code: 'GOVERNANCE.PROPOSAL_NOT_PENDING' });
      expect((await state(engineId)).phase).toBe('L3');
    });
  });

  describe('Given an engine at L3 whose ladder an admin changes while its L3 → L3+ proposal waits', () => {
    const engineId = 'roaster-ladder';
    let proposal: ProposalSchema;

    beforeAll(async () => {
      await assignRoles();
      proposal = await engineWithProposal(engineId);
      const ladder = (await state(engineId)).ladder.map((r) =>
        r.phase === 'L3+'
          ? { ...r, additions: ['SET_POWER'], requiredApprovals: ['tech_lead', 'ops_lead'] }
          : r,
      );
      await rpc('cmd.configure-ladder', { actor: alice, reason: 'fan firmware recalled', engineId, ladder });
    });

    it('should withdraw the proposal with the reason, and propose against the new ladder in the next cycle', async () => {
      expect((await state(engineId)).pendingProposal).toBeNull();
      await expect(
        rpc('cmd.approve-proposal', { actor: bob, engineId, proposalId: proposal.proposalId }),
      ).rejects.toMatchObject({ code: 'GOVERNANCE.PROPOSAL_NOT_PENDING' });
      const withdrawn = (await eventsOf(engineId)).find((e) => e.type === 'governance.ProposalRejected');
      expect(withdrawn?.data).toMatchObject({
        proposalId: proposal.proposalId,
        reason: expect.stringContaining('the ladder changed (fan firmware recalled)'),
      });

      const cycle = await rpc<{ proposals: ProposalSchema[] }>('cmd.run-cycle', { actor: alice, engineId });
      const [renewed] = cycle.proposals;
      expect(renewed).toMatchObject({
        targetPhase: 'L3+',
        whitelist: ['SET_POWER'],
        requiredApprovals: ['tech_lead', 'ops_lead'],
      });
      await rpc('cmd.approve-proposal', { actor: bob, engineId, proposalId: renewed?.proposalId });
      expect(await state(engineId)).toMatchObject({
        phase: 'L3',
        pendingProposal: { outstanding: ['ops_lead'] },
      });
      await rpc('cmd.approve-proposal', { actor: carol, engineId, proposalId: renewed?.proposalId });
      expect(await state(engineId)).toMatchObject({ phase: 'L3+', whitelist: ['SET_POWER'] });
    });
  });

  describe('Given bad input', () => {
    it('should answer with error replies and keep serving', async () => {
      await expect(rpc('cmd.enroll', { actor: alice, engineId: 'x' })).rejects.toMatchObject({
        code: 'RPC.VALIDATION_FAILED',
      });
      await expect(
        rpc('cmd.enroll', { actor: alice, reason: 'r', engineId: 'x', phase: 'L9' }),
      ).rejects.toMatchObject({
        code: 'RPC.VALIDATION_FAILED',
      });
      await expect(state('nobody')).rejects.toMatchObject({ code: 'GOVERNANCE.ENGINE_NOT_ENROLLED' });
      await expect(
        rpc('cmd.update-rule', {
          actor: alice,
          reason: 'r',
          engineId: 'roaster-l4',
          ruleId: 'high-error-rate',
          condition: 'require("fs")',
        }),
      ).rejects.toMatchObject({ code: 'GOVERNANCE.BAD_CONDITION' });
      await expect(
        rpc('cmd.approve-proposal', { actor: bob, engineId: 'roaster-l4', proposalId: 'prop-nope' }),
      ).rejects.toMatchObject({ code: 'GOVERNANCE.PROPOSAL_NOT_FOUND' });
      await expect(
        rpc('cmd.attest', {
          actor: alice,
          engineId: 'roaster-l4',
          itemId: 'success-rate',
          passed: true,
          evidence: 'trust me',
        }),
      ).rejects.toMatchObject({ code: 'GOVERNANCE.UNKNOWN_CHECKLIST_ITEM' });
      await expect(
        rpc('cmd.enroll', {
          actor: { kind: 'engine', id: 'sneaky' },
          reason: 'r',
          engineId: 'sneaky',
          phase: 'L5',
        }),
      ).rejects.toMatchObject({ code: 'GOVERNANCE.OPERATOR_ONLY' });
    });

    it('should park a malformed and a foreign-engine command record on the DLQ and keep consuming', async () => {
      const subject = ns.naming.ingestSubject('command', 'victim');
      await client.js.publish(subject, new TextEncoder().encode('{"not json'));
      await client.publisher.publish(
        createEnvelope({
          type: 'ingest.CommandReported',
          subject,
          source: 'engine',
          actor: { kind: 'engine', id: 'intruder' },
          data: {
            engineId: 'victim',
            commandId: 'x',
            commandType: 'ABORT',
            outcome: 'error',
            requiredApproval: false,
          },
        }),
      );
      await reportCommand('after-bad', 'ok-1', 'SET_FAN', 'success');
      await waitFor(async () => (await state('after-bad').catch(() => null))?.phase === 'L3', {
        what: 'a later record to be consumed (implicit enrolment at L3)',
      });
      await waitFor(async () => (await deadLetters()).length >= 2, { what: 'two dead letters' });
      await expect(state('victim')).rejects.toMatchObject({ code: 'GOVERNANCE.ENGINE_NOT_ENROLLED' });
    });

    async function deadLetters(): Promise<{ consumer: string }[]> {
      const letters: { consumer: string }[] = [];
      const stream = ns.naming.streams.dlq.name;
      const info = await client.jsm.streams.info(stream);
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
        const msg = await client.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
        if (msg) letters.push(decodeJson(msg.data) as { consumer: string });
      }
      return letters.filter((l) => l.consumer === 'governance-agent__commands');
    }
  });

  describe('Given a scheduled cycle cut short after its report, before its proposal', () => {
    const engineId = 'roaster-cut';

    it('should make that proposal once the agent is back, and only once', async () => {
      await enrolReady(engineId, 'L3', 5);
      await agent.close();
      // The slot's cycle as the agent decided it, stored up to its report: the agent died mid-append.
      const subject = ns.naming.eventSubject('governance', 'engine', engineId);
      const { events, lastSequence } = await client.eventStore.read(subject);
      const decided = governanceDecider.decide(
        {
          type: 'RunCycle',
          data: {
            engineId,
            now: new Date().toISOString(),
            actor: GOVERNANCE_AGENT,
            trigger: 'schedule',
            reportId: `sched-${engineId}-2026-12-04T17:00:00.000Z`,
            proposalId: 'prop-cut',
          },
        },
        fold(
          governanceDecider,
          events.map((e) => toDomainEvent(e.envelope) as GovernanceEvent),
        ),
        { approvers: {} },
      );
      expect(decided.map((e) => e.type)).toEqual(['CycleCompleted', 'ProposalCreated']);
      const [report] = decided;
      await client.eventStore.append(
        subject,
        [
          createEnvelope({
            type: `governance.${report!.type}`,
            subject,
            source: 'governance-agent',
            actor: GOVERNANCE_AGENT,
            data: report!.data,
          }),
        ],
        lastSequence,
      );

      agent = await startAgent();
      const proposals = async () =>
        (await eventsOf(engineId)).filter((e) => e.type === 'governance.ProposalCreated');
      await waitFor(async () => (await proposals()).length > 0, { what: 'the lost proposal made' });
      expect((await proposals()).map((e) => e.data['proposal'])).toEqual([
        expect.objectContaining({
          proposalId: 'prop-cut',
          reportId: `sched-${engineId}-2026-12-04T17:00:00.000Z`,
          targetPhase: 'L3+',
          proposedBy: GOVERNANCE_AGENT,
        }),
      ]);

      // Another restart makes no second one: the next cycle finds it pending.
      await agent.close();
      agent = await startAgent();
      const cycle = await rpc<{ reports: CycleReportSchema[] }>('cmd.run-cycle', { actor: alice, engineId });
      expect(cycle.reports[0]?.decision.checks).toContainEqual(
        expect.objectContaining({ condition: 'noPendingProposal', met: false }),
      );
      expect(await proposals()).toHaveLength(1);
    });
  });

  describe('Given a cut-short cycle whose proposal is owed, and the next slot runs while the breaker tick repairs it', () => {
    const engineId = 'roaster-race';
    const oldReport = `sched-${engineId}-2026-12-04T17:00:00.000Z`;
    const newReport = `sched-${engineId}-2026-12-11T17:00:00.000Z`;

    it('should not run a second cycle under the old report id', async () => {
      await enrolReady(engineId, 'L3', 5);
      await agent.close();
      const subject = ns.naming.eventSubject('governance', 'engine', engineId);
      const { events, lastSequence } = await client.eventStore.read(subject);
      const [report] = governanceDecider.decide(
        {
          type: 'RunCycle',
          data: {
            engineId,
            now: new Date().toISOString(),
            actor: GOVERNANCE_AGENT,
            trigger: 'schedule',
            reportId: oldReport,
            proposalId: 'prop-cut',
          },
        },
        fold(
          governanceDecider,
          events.map((e) => toDomainEvent(e.envelope) as GovernanceEvent),
        ),
        { approvers: {} },
      );
      await client.eventStore.append(
        subject,
        [
          createEnvelope({
            type: `governance.${report!.type}`,
            subject,
            source: 'governance-agent',
            actor: GOVERNANCE_AGENT,
            data: report!.data,
          }),
        ],
        lastSequence,
      );
      // The next slot's cycle lands between the tick's reading of the engine and its repair.
      const engine = GovernanceCommands.prototype.engine;
      let injected = false;
      let checksSince = 0;
      const spy = jest.spyOn(GovernanceCommands.prototype, 'engine').mockImplementation(async function (
        this: GovernanceCommands,
        command,
        actor,
        causation,
      ) {
        const result = await engine.call(this, command, actor, causation);
        const made = typeof command === 'function' ? command() : command;
        if (made.type !== 'CheckBreakers' || made.data.engineId !== engineId) return result;
        if (injected) checksSince += 1;
        else {
          injected = true;
          await engine.call(
            this,
            {
              type: 'RunCycle',
              data: {
                engineId,
                now: new Date().toISOString(),
                actor: GOVERNANCE_AGENT,
                trigger: 'schedule',
                reportId: newReport,
                proposalId: 'prop-next',
              },
            },
            GOVERNANCE_AGENT,
          );
        }
        return result;
      });
      try {
        agent = await startAgent();
        // The next pass's check comes after that pass's repair, whatever it did.
        await waitFor(() => checksSince > 0, { what: 'the breaker tick after the next slot' });
        const reports = (await eventsOf(engineId))
          .filter((e) => e.type === 'governance.CycleCompleted')
          .map((e) => (e.data['report'] as CycleReportSchema).reportId);
        expect(reports).toEqual([oldReport, newReport]);
        expect((await state(engineId)).lastCycle).toMatchObject({ reportId: newReport });
      } finally {
        spy.mockRestore();
      }
    });
  });

  describe('Given a restart', () => {
    it('should come back with every engine, its history, breaker events and proposals', async () => {
      const before = await Promise.all([state('roaster-l4'), state('roaster-ready')]);
      const metricsBefore = await rpc('metrics', { engineId: 'roaster-ready', window: '1h' });
      const eventsBefore = await rpc('breaker-events', { engineId: 'roaster-l4' });
      await agent.close();
      agent = await startAgent();
      const after = await Promise.all([state('roaster-l4'), state('roaster-ready')]);
      expect(after.map(({ nextScheduledCycle: _n, daysAtPhase: _d, ...rest }) => rest)).toEqual(
        before.map(({ nextScheduledCycle: _n, daysAtPhase: _d, ...rest }) => rest),
      );
      expect(await rpc('metrics', { engineId: 'roaster-ready', window: '1h' })).toEqual(metricsBefore);
      expect(await rpc('breaker-events', { engineId: 'roaster-l4' })).toEqual(eventsBefore);
      expect(after[1]?.phase).toBe('L4');
      const { engines } = await rpc<{ engines: { engineId: string; phase: string }[] }>('engines', {});
      expect(engines).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ engineId: 'roaster-l4', phase: 'L3' }),
          expect.objectContaining({ engineId: 'roaster-ready', phase: 'L4' }),
        ]),
      );
    });
  });

  describe('Given a ladder whose whole whitelist would hold more than 500 command types', () => {
    // Proposing its top phases would name more types than a proposal's whitelist holds, and every
    // cycle of the engine would fail: such a ladder is refused up front.
    const types = (prefix: string) => Array.from({ length: 300 }, (_, i) => `${prefix}_${i}`);
    const oversized = DEFAULT_PHASE_LADDER.map((r) =>
      r.phase === 'L3+'
        ? { ...r, additions: types('TUNE') }
        : r.phase === 'L4'
          ? { ...r, additions: types('ROAST') }
          : r,
    );

    it('should refuse to enrol the engine with it, recording nothing', async () => {
      await expect(
        rpc('cmd.enroll', {
          actor: alice,
          reason: 'too many types',
          engineId: 'roaster-oversized',
          phase: 'L3',
          ladder: oversized,
        }),
      ).rejects.toMatchObject({ code: 'GOVERNANCE.BAD_LADDER' });
      expect(await eventsOf('roaster-oversized')).toEqual([]);
    });
  });
});
