import { type Envelope, type Naming } from '@bifrost/contracts';
import { DEFAULT_BREAKER_RULES, DEFAULT_PHASE_LADDER } from '@bifrost/domain-governance';
import { createEnvelope } from '@bifrost/messaging';

const T0 = Date.UTC(2026, 10, 20, 17, 0, 0, 0);
const SEED_LADDER = DEFAULT_PHASE_LADDER;
/** The seed's first two breaker rules (error rate → revert, repeated failures → pause). */
const RULES = DEFAULT_BREAKER_RULES.slice(0, 2);
const METRICS = {
  window: '7d',
  commands: 3,
  successes: 2,
  errors: 1,
  rollbacks: 0,
  failures: 1,
  successRate: 0.666667,
  errorRate: 0.333333,
  rollbackRate: 0,
  approvalsRequired: 0,
  approvalsGranted: 0,
  approvalRate: 0,
  incidents: 1,
  criticalIncidents: 0,
  maxSeverity: 'high',
};

/**
 * Governance-agent events as it publishes them (valid against the catalogue), for the projector's
 * and the gateway's specs. `at(n)` is T0 + n minutes.
 */
export function governanceEvents(naming: Naming) {
  const at = (minutes = 0) => new Date(T0 + minutes * 60_000).toISOString();
  const operator = { kind: 'operator' as const, id: 'op-7' };
  const agent = { kind: 'system' as const, id: 'governance-agent' };
  const event = (engineId: string, type: string, data: Record<string, unknown>, minutes = 0): Envelope =>
    createEnvelope({
      type: `governance.${type}`,
      subject: naming.eventSubject('governance', 'engine', engineId),
      source: 'governance-agent',
      actor: agent,
      data: { engineId, ...data },
      occurredAt: at(minutes),
    });
  const proposal = (proposalId: string, fromPhase: string, targetPhase: string, minutes: number) => ({
    proposalId,
    fromPhase,
    targetPhase,
    whitelistAdditions: ['SET_POWER', 'SET_FAN'],
    whitelist: ['SET_POWER', 'SET_FAN'],
    validationPeriodDays: 14,
    achievements: ['readiness 80/80'],
    riskAssessment: { level: 'low', factors: ['low-risk commands'], mitigations: ['breakers armed'] },
    requiredApprovals: ['tech_lead'],
    reportId: `rep-${proposalId}`,
    proposedBy: agent,
    createdAt: at(minutes),
    expiresAt: at(minutes + 14 * 24 * 60),
  });
  const report = (reportId: string, minutes: number, proposalId: string | null) => ({
    reportId,
    trigger: 'operator',
    ranAt: at(minutes),
    periodStart: at(minutes - 7 * 24 * 60),
    periodEnd: at(minutes),
    phase: 'L3',
    phaseSince: at(-200 * 24 * 60),
    daysAtPhase: 200,
    metrics: METRICS,
    readiness: {
      score: 80,
      maxScore: 80,
      byCategory: {
        technical: { score: 35, max: 35 },
        process: { score: 25, max: 25 },
        organizational: { score: 20, max: 20 },
      },
      status: 'READY',
      items: [
        {
          id: 'success-rate',
          category: 'technical',
          points: 5,
          required: true,
          kind: 'metric',
          passed: true,
          detail: '100% of 3 commands',
        },
      ],
      blockers: [],
    },
    breakers: { unresolved: 0, trippedInPeriod: 1, unresolvedEventIds: [] },
    decision: {
      proposed: proposalId !== null,
      proposalId,
      checks: [{ condition: 'readinessScore', met: true, detail: '80 ≥ 76' }],
      summary: proposalId ? 'proposed L3+' : 'no proposal',
    },
  });
  return {
    at,
    enrolled: (engineId: string) =>
      event(engineId, 'EngineEnrolled', {
        phase: 'L3',
        phaseSince: at(-200 * 24 * 60),
        ladder: SEED_LADDER,
        rules: RULES,
        actor: operator,
        at: at(),
      }),
    ladderConfigured: (engineId: string) =>
      event(engineId, 'LadderConfigured', {
        ladder: SEED_LADDER.map((r) => (r.phase === 'L3+' ? { ...r, validationDays: 7 } : r)),
        previous: SEED_LADDER,
        actor: operator,
        reason: 'shorter validation',
        at: at(1),
      }),
    phaseChanged: (engineId: string, phase: string, whitelist: string[], minutes = 0) =>
      event(
        engineId,
        'PhaseChanged',
        { phase, whitelist, reason: 'initial phase', cause: 'initial' },
        minutes,
      ),
    command: (
      engineId: string,
      commandId: string,
      outcome: 'success' | 'error' | 'rolled_back',
      minutes = 2,
      commandType = 'SET_FAN',
    ) =>
      event(
        engineId,
        'CommandRecorded',
        {
          record: {
            commandId,
            commandType,
            at: at(minutes),
            outcome,
            requiredApproval: true,
            approved: true,
          },
          ingestId: `ing-${commandId}`,
        },
        minutes,
      ),
    incident: (engineId: string, incidentId: string, severity: string, minutes = 3) =>
      event(
        engineId,
        'IncidentRecorded',
        {
          record: { incidentId, at: at(minutes), severity, commandType: 'SET_FAN', summary: 'fan stalled' },
          ingestId: `ing-${incidentId}`,
        },
        minutes,
      ),
    attested: (engineId: string, itemId: string, passed: boolean, minutes = 4) =>
      event(
        engineId,
        'AttestationRecorded',
        {
          attestation: {
            itemId,
            passed,
            evidence: `https://wiki/${itemId}`,
            by: 'op-7',
            at: at(minutes),
            expiresAt: at(minutes + 90 * 24 * 60),
          },
        },
        minutes,
      ),
    ruleUpdated: (engineId: string) =>
      event(engineId, 'BreakerRuleUpdated', {
        rule: { ...RULES[0], condition: 'errorRate > 0.03' },
        previous: RULES[0],
        actor: operator,
        reason: 'tighter',
        at: at(5),
      }),
    breakerTripped: (engineId: string, eventId: string, minutes = 6) =>
      event(
        engineId,
        'BreakerTripped',
        {
          breakerEvent: {
            eventId,
            ruleId: 'repeated-command-failures',
            ruleName: 'Repeated Command Failures',
            condition: 'failures >= 3',
            window: '5m',
            action: 'pause_command_type',
            commandType: 'SET_FAN',
            observed: { window: '5m', commandType: 'SET_FAN', commands: 3, failures: 3 },
            explanation: 'Repeated Command Failures: failures >= 3 holds over 5m for SET_FAN',
            trippedAt: at(minutes),
          },
        },
        minutes,
      ),
    paused: (engineId: string, eventId: string) =>
      event(engineId, 'CommandTypePaused', { commandType: 'SET_FAN', eventId, at: at(6) }, 6),
    resolved: (engineId: string, eventId: string) =>
      event(
        engineId,
        'BreakerResolved',
        { eventId, actor: operator, note: 'fan replaced', resolvedAt: at(7) },
        7,
      ),
    resumed: (engineId: string, eventId: string) =>
      event(
        engineId,
        'CommandTypeResumed',
        { commandType: 'SET_FAN', eventId, actor: operator, at: at(7) },
        7,
      ),
    cycleCompleted: (engineId: string, reportId: string, minutes: number, proposalId: string | null = null) =>
      event(engineId, 'CycleCompleted', { report: report(reportId, minutes, proposalId) }, minutes),
    proposalCreated: (engineId: string, proposalId: string, minutes: number) =>
      event(engineId, 'ProposalCreated', { proposal: proposal(proposalId, 'L3', 'L3+', minutes) }, minutes),
    approvalRecorded: (engineId: string, proposalId: string, principalId: string, minutes: number) =>
      event(
        engineId,
        'ProposalApprovalRecorded',
        {
          proposalId,
          approver: { kind: 'operator', id: principalId },
          role: 'tech_lead',
          note: 'looks good',
          outstanding: [],
          at: at(minutes),
        },
        minutes,
      ),
    approved: (engineId: string, proposalId: string, principalId: string, minutes: number) =>
      event(
        engineId,
        'ProposalApproved',
        { proposalId, targetPhase: 'L3+', approvals: [{ principalId, role: 'tech_lead' }], at: at(minutes) },
        minutes,
      ),
    rejected: (engineId: string, proposalId: string, minutes: number) =>
      event(
        engineId,
        'ProposalRejected',
        { proposalId, by: operator, reason: 'not now', at: at(minutes) },
        minutes,
      ),
    expired: (engineId: string, proposalId: string, minutes: number) =>
      event(engineId, 'ProposalExpired', { proposalId, at: at(minutes) }, minutes),
    approverRoles: (principalId: string, roles: string[]) =>
      createEnvelope({
        type: 'governance.ApproverRolesAssigned',
        subject: naming.eventSubject('governance', 'approvers', 'global'),
        source: 'governance-agent',
        actor: operator,
        data: { principalId, roles, previous: [], actor: operator, reason: 'on the team', at: at(8) },
        occurredAt: at(8),
      }),
  };
}

/** One engine's whole governance story: every governance event type at least once. */
export function governanceStory(naming: Naming, engineId: string): Envelope[] {
  const g = governanceEvents(naming);
  return [
    g.enrolled(engineId),
    g.phaseChanged(engineId, 'L3', []),
    g.ladderConfigured(engineId),
    g.command(engineId, 'c-1', 'success', 2),
    g.command(engineId, 'c-2', 'error', 2),
    g.command(engineId, 'c-3', 'success', 10),
    g.incident(engineId, 'inc-1', 'high'),
    g.attested(engineId, 'runbooks', true),
    g.attested(engineId, 'runbooks', false, 5),
    g.ruleUpdated(engineId),
    g.breakerTripped(engineId, 'brk-1'),
    g.paused(engineId, 'brk-1'),
    g.resolved(engineId, 'brk-1'),
    g.resumed(engineId, 'brk-1'),
    g.breakerTripped(engineId, 'brk-2', 9),
    g.cycleCompleted(engineId, 'rep-1', 20),
    g.cycleCompleted(engineId, 'rep-2', 30, 'p-1'),
    g.proposalCreated(engineId, 'p-1', 30),
    g.approvalRecorded(engineId, 'p-1', 'alice', 31),
    g.approved(engineId, 'p-1', 'alice', 31),
    g.proposalCreated(engineId, 'p-2', 40),
    g.rejected(engineId, 'p-2', 41),
    g.proposalCreated(engineId, 'p-3', 50),
    g.expired(engineId, 'p-3', 51),
    g.proposalCreated(engineId, 'p-4', 60),
    g.approverRoles('alice', ['tech_lead', 'ops_lead']),
  ];
}
