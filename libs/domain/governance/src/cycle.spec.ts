import { fold } from '@bifrost/event-sourcing';
import type { Actor, AutonomyPhase, PhaseLadder } from '@bifrost/contracts';
import { DEFAULT_BREAKER_RULES } from './breaker-rules';
import { runGovernanceCycle, type Proposal } from './cycle';
import {
  GOVERNANCE_AGENT,
  governanceDecider,
  type EnrolledGovernance,
  type GovernanceCommand,
  type GovernanceEvent,
} from './governance.decider';
import { DEFAULT_PHASE_LADDER, addDays, whitelistOf } from './phases';
import { ATTESTATION_ITEM_IDS } from './readiness';

const NOW = '2026-11-20T17:00:00.000Z';
const ENGINE = 'roaster-1';
const alice: Actor = { kind: 'operator', id: 'alice' };
/** Half of a surrogate pair without the other: what cutting an emoji in two leaves. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('Governance cycle', () => {
  describe('Given an L3 engine meeting every expansion condition', () => {
    const history = ready();

    it('should report, and propose L3+ with its whitelist, validation period, approvals and risk', () => {
      const events = runCycle(history);
      expect(events.map((e) => e.type)).toEqual(['CycleCompleted', 'ProposalCreated']);
      const report = (events[0] as Extract<GovernanceEvent, { type: 'CycleCompleted' }>).data.report;
      expect(report).toMatchObject({
        reportId: 'r-1',
        trigger: 'schedule',
        phase: 'L3',
        daysAtPhase: 200,
        periodStart: addDays(NOW, -7),
        metrics: { window: '7d', commands: 10, successRate: 1 },
        readiness: { score: 80, status: 'READY' },
        breakers: { unresolved: 0 },
        decision: { proposed: true, proposalId: 'p-1' },
      });
      expect(report.decision.checks.every((c) => c.met)).toBe(true);
      const proposal = (events[1] as Extract<GovernanceEvent, { type: 'ProposalCreated' }>).data.proposal;
      expect(proposal).toMatchObject({
        proposalId: 'p-1',
        fromPhase: 'L3',
        targetPhase: 'L3+',
        whitelistAdditions: ['SET_POWER', 'SET_FAN'],
        whitelist: ['SET_FAN', 'SET_POWER'],
        validationPeriodDays: 14,
        requiredApprovals: ['tech_lead'],
        riskAssessment: { level: 'low' },
        reportId: 'r-1',
        proposedBy: GOVERNANCE_AGENT,
        createdAt: NOW,
        expiresAt: addDays(NOW, 14),
      });
      expect(proposal.achievements).toEqual(
        expect.arrayContaining(['200 days at L3', 'readiness 80/80 (READY)']),
      );
    });

    it('should expire a proposal at its TTL and propose afresh, though the periodic expiry has not marked it yet', () => {
      const created = pendingProposal() as Extract<GovernanceEvent, { type: 'ProposalCreated' }>;
      const due = {
        ...created,
        data: {
          ...created.data,
          proposal: { ...created.data.proposal, createdAt: addDays(NOW, -14), expiresAt: NOW },
        },
      };
      const events = runCycle([...history, due]);
      expect(events.map((e) => e.type)).toEqual(['ProposalExpired', 'CycleCompleted', 'ProposalCreated']);
      expect(events[0]?.data).toEqual({ engineId: ENGINE, proposalId: 'p-0', at: NOW });
    });

    it('should propose exactly once: the next cycle finds the proposal pending', () => {
      const first = runCycle(history);
      const second = runCycle([...history, ...first], 'r-2', 'p-2');
      expect(second.map((e) => e.type)).toEqual(['CycleCompleted']);
    });

    it('should keep report texts within the event schema, however long the evidence', () => {
      const long: GovernanceEvent = {
        type: 'AttestationRecorded',
        data: {
          engineId: ENGINE,
          attestation: {
            itemId: 'runbooks',
            passed: true,
            evidence: 'x'.repeat(2000),
            by: 'a'.repeat(200),
            at: NOW,
          },
        },
      };
      const [completed] = runCycle([...history, long]);
      const report = (completed as Extract<GovernanceEvent, { type: 'CycleCompleted' }>).data.report;
      expect(Math.max(...report.readiness.items.map((i) => i.detail.length))).toBeLessThanOrEqual(2000);
    });

    it('should keep evidence with emoji whole where it fits, never cutting an emoji in two', () => {
      // 1,501 code points (what the schema counts), 3,001 UTF-16 code units.
      const evidence = `a${'😀'.repeat(1500)}`;
      const [completed] = runCycle([...history, attested('runbooks', evidence)]);
      const report = (completed as Extract<GovernanceEvent, { type: 'CycleCompleted' }>).data.report;
      const runbooks = report.readiness.items.find((i) => i.id === 'runbooks');
      expect(runbooks?.detail).toBe(`attested passing by alice at ${NOW}: ${evidence}`);
      expect(report.readiness.items.map((i) => i.detail).join('\n')).not.toMatch(LONE_SURROGATE);
    });

    it('should clip a longer text with emoji to 2,000 code points, ending with … after a whole emoji', () => {
      const [completed] = runCycle([...history, attested('runbooks', '😀'.repeat(2000))]);
      const report = (completed as Extract<GovernanceEvent, { type: 'CycleCompleted' }>).data.report;
      const detail = report.readiness.items.find((i) => i.id === 'runbooks')?.detail ?? '';
      expect(Array.from(detail)).toHaveLength(2000);
      expect(detail).toMatch(/😀…$/u);
      expect(detail).not.toMatch(LONE_SURROGATE);
    });

    it('should run a scheduled slot once, whichever instance gets there first', () => {
      const first = runCycle(history, 'sched-roaster-1-2026-11-20T17:00:00.000Z');
      expect(runCycle([...history, ...first], 'sched-roaster-1-2026-11-20T17:00:00.000Z', 'p-2')).toEqual([]);
    });

    it('should rate the risk higher with incidents in the period', () => {
      const incident: GovernanceEvent = {
        type: 'IncidentRecorded',
        data: {
          engineId: ENGINE,
          record: { incidentId: 'inc-1', at: addDays(NOW, -2), severity: 'low', summary: 'fan noise' },
          ingestId: 'inc-1',
        },
      };
      const proposal = proposalOf(runCycle([...history, incident]));
      expect(proposal?.riskAssessment.level).toBe('medium');
      expect(proposal?.riskAssessment.factors).toEqual(
        expect.arrayContaining([expect.stringContaining('1 incident(s) over the last 7 days (max low)')]),
      );
    });

    it('should rate the risk higher with recent rollbacks', () => {
      // 1 rollback in the 11 commands of the last 7 days; over 30 days the success rate stays above 99.5 %.
      const proposal = proposalOf(
        runCycle([...history, ...olderSuccesses(), recorded('rb-1', 'rolled_back')]),
      );
      expect(proposal?.riskAssessment.level).toBe('medium');
      expect(proposal?.riskAssessment.factors).toContain('rollback rate 9.09% over the last 7 days');
    });
  });

  describe("Given an engine ready to leave each phase (risk from the target phase's command family)", () => {
    it.each([
      ['L3', 'L3+', 'low'],
      ['L3+', 'L4', 'medium'],
      ['L4', 'L4+', 'high'],
      ['L4+', 'L5', 'high'],
    ] as const)('should rate a proposal from %s to %s %s', (phase, target, level) => {
      expect(proposalOf(runCycle(ready({ phase })))).toMatchObject({
        targetPhase: target,
        riskAssessment: { level },
      });
    });

    it('should not rate a risk above high (L4 with recent rollbacks and an incident)', () => {
      const incident: GovernanceEvent = {
        type: 'IncidentRecorded',
        data: {
          engineId: ENGINE,
          record: { incidentId: 'inc-1', at: addDays(NOW, -2), severity: 'low', summary: 'fan noise' },
          ingestId: 'inc-1',
        },
      };
      const events = [
        ...ready({ phase: 'L3+' }),
        ...olderSuccesses(),
        recorded('rb-1', 'rolled_back'),
        incident,
      ];
      expect(proposalOf(runCycle(events))).toMatchObject({
        targetPhase: 'L4',
        riskAssessment: { level: 'high' },
      });
    });
  });

  describe('each expansion condition failing alone blocks the proposal', () => {
    const cases: [string, GovernanceEvent[], string][] = [
      // 74 points: two optional attestations missing, every required item passed.
      [
        'readiness score below 76',
        ready({ skip: ['incident-playbooks', 'security-review'] }),
        'readinessScore',
      ],
      // 77 points, but a required item is missing.
      ['a required item not passed', ready({ skip: ['monitoring'] }), 'requiredItems'],
      ['an unresolved breaker event', [...ready(), openBreakerEvent()], 'noUnresolvedBreakerEvents'],
      ['a proposal awaiting approval', [...ready(), pendingProposal()], 'noPendingProposal'],
      [
        'the stabilization period not met (ladder asks 365 days at L3)',
        ready({ ladder: ladderWith('L3', 365) }),
        'stabilizationPeriod',
      ],
      ['no phase above L5', ready({ phase: 'L5' }), 'nextPhaseExists'],
    ];

    it.each(cases)('should not propose with %s', (_name, history, failing) => {
      const events = runCycle(history);
      expect(events.map((e) => e.type)).toEqual(['CycleCompleted']);
      const checks = (events[0] as Extract<GovernanceEvent, { type: 'CycleCompleted' }>).data.report.decision
        .checks;
      expect(checks.filter((c) => !c.met).map((c) => c.condition)).toEqual([failing]);
    });
  });

  describe('Given an L3 engine meeting every other condition, at the readiness bar (≥ 76)', () => {
    it('should propose with exactly 76 points (two optional 2-point attestations missing)', () => {
      const events = runCycle(ready({ skip: ['kill-switch-tested', 'chaos-testing'] }));
      expect(events.map((e) => e.type)).toEqual(['CycleCompleted', 'ProposalCreated']);
      const report = (events[0] as Extract<GovernanceEvent, { type: 'CycleCompleted' }>).data.report;
      expect(report.readiness.score).toBe(76);
    });

    it('should not propose with 75 points, failing only readinessScore', () => {
      const events = runCycle(ready({ skip: ['kill-switch-tested', 'incident-playbooks'] }));
      expect(events.map((e) => e.type)).toEqual(['CycleCompleted']);
      const report = (events[0] as Extract<GovernanceEvent, { type: 'CycleCompleted' }>).data.report;
      expect(report.readiness.score).toBe(75);
      expect(report.decision.checks.filter((c) => !c.met)).toEqual([
        { condition: 'readinessScore', met: false, detail: 'readiness 75/80 (needs ≥ 76)' },
      ]);
    });
  });

  describe('Given an L3 engine missing two required attestations', () => {
    it('should report every blocker whole', () => {
      const [completed] = runCycle(ready({ skip: ['runbooks', 'ops-approval'] }));
      const report = (completed as Extract<GovernanceEvent, { type: 'CycleCompleted' }>).data.report;
      expect(report.readiness.blockers).toEqual([
        'Runbooks complete (required): not attested',
        'Ops approval (required): not attested',
        'score 71/80 is below 76',
      ]);
    });
  });

  describe('Given an L3 engine whose proposal an operator withdrew by changing the ladder', () => {
    const ladder = DEFAULT_PHASE_LADDER.map((r) =>
      r.phase === 'L3+'
        ? { ...r, additions: ['SET_POWER'], requiredApprovals: ['tech_lead' as const, 'ops_lead' as const] }
        : r,
    );
    const history = [...ready(), pendingProposal()];
    const changed = [
      ...history,
      ...governanceDecider.decide(
        {
          type: 'ConfigureLadder',
          data: { engineId: ENGINE, now: NOW, actor: alice, ladder, reason: 'fan firmware recalled' },
        },
        state(history),
        { approvers: {} },
      ),
    ];

    it('should propose against the new ladder: its whitelist and its required approvals', () => {
      expect(proposalOf(runCycle(changed))).toMatchObject({
        fromPhase: 'L3',
        targetPhase: 'L3+',
        whitelistAdditions: ['SET_POWER'],
        whitelist: ['SET_POWER'],
        requiredApprovals: ['tech_lead', 'ops_lead'],
      });
    });
  });

  describe('Given an engine at L3+ since 20 days, past its 14-day validation period', () => {
    const history = ready({ phase: 'L3+', since: addDays(NOW, -20) });

    it('should not propose L4: readiness asks 180 days at the current phase (phase-tenure, required)', () => {
      const events = runCycle(history);
      const report = (events[0] as Extract<GovernanceEvent, { type: 'CycleCompleted' }>).data.report;
      expect(events.map((e) => e.type)).toEqual(['CycleCompleted']);
      expect(report.readiness).toMatchObject({ score: 75, status: 'ALMOST_READY' });
      expect(report.readiness.items.filter((i) => !i.passed).map((i) => i.id)).toEqual(['phase-tenure']);
      expect(report.decision.checks.filter((c) => !c.met).map((c) => c.condition)).toEqual([
        'readinessScore',
        'requiredItems',
      ]);
      expect(report.decision.checks).toContainEqual({
        condition: 'stabilizationPeriod',
        met: true,
        detail: '20 day(s) at L3+ (needs ≥ 14)',
      });
    });
  });

  describe('Given an engine at L3+ since 10 days under a ladder stored with stabilizationDays 0', () => {
    const legacy = DEFAULT_PHASE_LADDER.map((r) => (r.phase === 'L3+' ? { ...r, stabilizationDays: 0 } : r));
    const history = ready({ phase: 'L3+', since: addDays(NOW, -10), ladder: legacy });

    it('should hold it to the validation period its proposal showed (14 days), not to 0', () => {
      const [completed] = runCycle(history);
      const report = (completed as Extract<GovernanceEvent, { type: 'CycleCompleted' }>).data.report;
      expect(report.decision.checks).toContainEqual({
        condition: 'stabilizationPeriod',
        met: false,
        detail: '10 day(s) at L3+ (needs ≥ 14)',
      });
    });
  });

  describe('Given an engine at exactly the days its stabilisation period needs, or one day less', () => {
    const stabilization = (history: GovernanceEvent[]) =>
      (
        runCycle(history)[0] as Extract<GovernanceEvent, { type: 'CycleCompleted' }>
      ).data.report.decision.checks.find((c) => c.condition === 'stabilizationPeriod');

    it.each([
      ['L3 (180 days by default)', 'L3', DEFAULT_PHASE_LADDER, 180],
      ['L3+ (its 14-day validation period)', 'L3+', DEFAULT_PHASE_LADDER, 14],
      ['L4 (its 21-day validation period)', 'L4', DEFAULT_PHASE_LADDER, 21],
      ['L3 under a ladder asking 365 days', 'L3', ladderWith('L3', 365), 365],
    ] as const)('should be met at %s exactly, and not one day earlier', (_name, phase, ladder, needed) => {
      const at = (days: number) => ready({ phase, ladder, since: addDays(NOW, -days) });
      expect(stabilization(at(needed))).toEqual({
        condition: 'stabilizationPeriod',
        met: true,
        detail: `${needed} day(s) at ${phase} (needs ≥ ${needed})`,
      });
      expect(stabilization(at(needed - 1))).toEqual({
        condition: 'stabilizationPeriod',
        met: false,
        detail: `${needed - 1} day(s) at ${phase} (needs ≥ ${needed})`,
      });
    });

    it('should propose at exactly 365 days under that ladder, and block only on stabilizationPeriod at 364', () => {
      const ladder = ladderWith('L3', 365);
      expect(proposalOf(runCycle(ready({ ladder, since: addDays(NOW, -365) })))).toMatchObject({
        targetPhase: 'L3+',
      });
      const [completed] = runCycle(ready({ ladder, since: addDays(NOW, -364) }));
      const report = (completed as Extract<GovernanceEvent, { type: 'CycleCompleted' }>).data.report;
      expect(report.decision.checks.filter((c) => !c.met).map((c) => c.condition)).toEqual([
        'stabilizationPeriod',
      ]);
    });
  });

  describe('Given a scheduled cycle whose append was cut short after its report', () => {
    const cut = [...ready(), ...runCycle(ready()).slice(0, 1)];
    const later = addDays(NOW, 1);

    it('should make the proposal its report names when its slot is run again, and only once', () => {
      expect(state(cut).proposalDue).toBe('p-1');

      const events = runCycle(cut, 'r-1', 'p-other', later);
      expect(events.map((e) => e.type)).toEqual(['ProposalCreated']);
      expect(proposalOf(events)).toMatchObject({
        proposalId: 'p-1',
        reportId: 'r-1',
        fromPhase: 'L3',
        targetPhase: 'L3+',
        proposedBy: GOVERNANCE_AGENT,
        createdAt: later,
      });
      expect(runCycle([...cut, ...events], 'r-1', 'p-other', later)).toEqual([]);
    });

    it('should not make it once a breaker trip would have withdrawn it', () => {
      const tripped: GovernanceEvent = {
        type: 'BreakerTripped',
        data: {
          engineId: ENGINE,
          breakerEvent: {
            eventId: 'brk-1-critical-incident',
            ruleId: 'critical-incident',
            ruleName: 'Critical incident',
            condition: 'critical_incidents > 0',
            window: '1m',
            action: 'revert_to_l3',
            observed: { criticalIncidents: 1 },
            explanation: 'a critical incident',
            trippedAt: NOW,
          },
        },
      };
      const resolved: GovernanceEvent = {
        type: 'BreakerResolved',
        data: {
          engineId: ENGINE,
          eventId: 'brk-1-critical-incident',
          actor: alice,
          note: 'ok',
          resolvedAt: NOW,
        },
      };

      expect(runCycle([...cut, tripped, resolved], 'r-1', 'p-other', later)).toEqual([]);
    });

    it('should leave the proposal of an operator cycle cut short to the operator, who runs another', () => {
      const operatorCut = [...ready(), ...runCycle(ready(), 'r-op', 'p-op', NOW, alice).slice(0, 1)];
      expect(state(operatorCut).proposalDue).toBeNull();
    });
  });

  it('should name the operator who ran it as the proposer, and expire the proposal after the TTL given', () => {
    const { report, proposal } = runGovernanceCycle({
      state: state(ready()),
      now: NOW,
      trigger: 'operator',
      reportId: 'r',
      proposalId: 'p',
      proposedBy: alice,
      proposalTtlDays: 7,
    });
    expect(report).toMatchObject({ reportId: 'r', trigger: 'operator', decision: { proposalId: 'p' } });
    expect(proposal).toMatchObject({ proposalId: 'p', proposedBy: alice, expiresAt: addDays(NOW, 7) });
  });

  it('should run on demand for an operator only', () => {
    const onDemand = (actor: Actor): GovernanceCommand => ({
      type: 'RunCycle',
      data: { engineId: ENGINE, now: NOW, actor, trigger: 'operator', reportId: 'r', proposalId: 'p' },
    });
    const decide = (actor: Actor) =>
      governanceDecider.decide(onDemand(actor), state(ready()), { approvers: {} });

    expect(() => decide({ kind: 'engine', id: ENGINE })).toThrow(
      expect.objectContaining({ code: 'GOVERNANCE.OPERATOR_ONLY' }),
    );
    expect(() => decide(GOVERNANCE_AGENT)).toThrow(
      expect.objectContaining({ code: 'GOVERNANCE.OPERATOR_ONLY' }),
    );
    expect(decide(alice).map((e) => e.type)).toEqual(['CycleCompleted', 'ProposalCreated']);
  });
});

// ── fixtures ──────────────────────────────────────────────────────────────────────────────────

function ready(
  options: { skip?: string[]; ladder?: PhaseLadder; phase?: AutonomyPhase; since?: string } = {},
): GovernanceEvent[] {
  const phase = options.phase ?? 'L3';
  const ladder = options.ladder ?? DEFAULT_PHASE_LADDER;
  const since = options.since ?? addDays(NOW, -200);
  const events: GovernanceEvent[] = [
    {
      type: 'EngineEnrolled',
      data: {
        engineId: ENGINE,
        phase,
        phaseSince: since,
        ladder,
        rules: DEFAULT_BREAKER_RULES.map((r) => ({ ...r })),
        actor: alice,
        at: since,
      },
    },
    {
      type: 'PhaseChanged',
      data: { engineId: ENGINE, phase, whitelist: whitelistOf(ladder, phase), reason: 'initial', at: since },
    },
  ];
  for (const itemId of ATTESTATION_ITEM_IDS) {
    if (options.skip?.includes(itemId)) continue;
    events.push({
      type: 'AttestationRecorded',
      data: {
        engineId: ENGINE,
        attestation: {
          itemId,
          passed: true,
          evidence: `evidence for ${itemId}`,
          by: 'alice',
          at: addDays(NOW, -1),
        },
      },
    });
  }
  for (let i = 0; i < 10; i += 1) events.push(recorded(`ok-${i}`, 'success'));
  return events;
}

function attested(itemId: string, evidence: string): GovernanceEvent {
  return {
    type: 'AttestationRecorded',
    data: { engineId: ENGINE, attestation: { itemId, passed: true, evidence, by: 'alice', at: NOW } },
  };
}

function recorded(
  commandId: string,
  outcome: 'success' | 'error' | 'rolled_back',
  at = addDays(NOW, -1),
): GovernanceEvent {
  return {
    type: 'CommandRecorded',
    data: {
      engineId: ENGINE,
      record: { commandId, commandType: 'SET_POWER', at, outcome, requiredApproval: false },
      ingestId: commandId,
    },
  };
}

/** 300 successes 10 days ago: in the 30-day checklist, not in the cycle's 7-day period. */
function olderSuccesses(): GovernanceEvent[] {
  return Array.from({ length: 300 }, (_, i) => recorded(`old-${i}`, 'success', addDays(NOW, -10)));
}

function ladderWith(phase: AutonomyPhase, stabilizationDays: number): PhaseLadder {
  return DEFAULT_PHASE_LADDER.map((r) => (r.phase === phase ? { ...r, stabilizationDays } : r));
}

function openBreakerEvent(): GovernanceEvent {
  return {
    type: 'BreakerTripped',
    data: {
      engineId: ENGINE,
      breakerEvent: {
        eventId: 'brk-1-high-rollback-rate',
        ruleId: 'high-rollback-rate',
        ruleName: 'High Rollback Rate',
        condition: 'rollbackRate > 0.10',
        window: '15m',
        action: 'alert_only',
        observed: {},
        explanation: 'earlier',
        trippedAt: addDays(NOW, -20),
      },
    },
  };
}

function pendingProposal(): GovernanceEvent {
  const proposal: Proposal = {
    proposalId: 'p-0',
    fromPhase: 'L3',
    targetPhase: 'L3+',
    whitelistAdditions: ['SET_POWER', 'SET_FAN'],
    whitelist: ['SET_FAN', 'SET_POWER'],
    validationPeriodDays: 14,
    achievements: [],
    riskAssessment: { level: 'low', factors: [], mitigations: [] },
    requiredApprovals: ['tech_lead'],
    reportId: 'r-0',
    proposedBy: GOVERNANCE_AGENT,
    createdAt: addDays(NOW, -2),
    expiresAt: addDays(NOW, 12),
  };
  return { type: 'ProposalCreated', data: { engineId: ENGINE, proposal } };
}

function state(history: readonly GovernanceEvent[]): EnrolledGovernance {
  return fold(governanceDecider, history) as EnrolledGovernance;
}

function runCycle(
  history: readonly GovernanceEvent[],
  reportId = 'r-1',
  proposalId = 'p-1',
  now = NOW,
  actor: Actor = GOVERNANCE_AGENT,
): GovernanceEvent[] {
  const trigger = actor.kind === 'operator' ? 'operator' : 'schedule';
  const command: GovernanceCommand = {
    type: 'RunCycle',
    data: { engineId: ENGINE, now, actor, trigger, reportId, proposalId },
  };
  return governanceDecider.decide(command, state(history), { approvers: {} });
}

function proposalOf(events: GovernanceEvent[]): Proposal | null {
  const created = events.find((e) => e.type === 'ProposalCreated');
  return created ? (created as Extract<GovernanceEvent, { type: 'ProposalCreated' }>).data.proposal : null;
}
