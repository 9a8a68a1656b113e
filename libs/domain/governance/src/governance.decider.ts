import type {
  Actor,
  ApproverRole,
  AutonomyPhase,
  BreakerEventSchema,
  DataOf,
  GovernanceApproverRolesAssigned,
  GovernanceAttestationRecorded,
  GovernanceBreakerResolved,
  GovernanceBreakerRuleUpdated,
  GovernanceBreakerTripped,
  GovernanceCommandRecorded,
  GovernanceCommandTypePaused,
  GovernanceCommandTypeResumed,
  GovernanceCycleCompleted,
  GovernanceEngineEnrolled,
  GovernanceIncidentRecorded,
  GovernanceLadderConfigured,
  GovernancePhaseChanged,
  GovernanceProposalApprovalRecorded,
  GovernanceProposalApproved,
  GovernanceProposalCreated,
  GovernanceProposalExpired,
  GovernanceProposalRejected,
  PhaseLadder,
} from '@bifrost/contracts';
import { AUTONOMY_PHASES, clipText, REASON_MAX_LENGTH } from '@bifrost/contracts';
import {
  ForbiddenError,
  IllegalStateError,
  NotFoundError,
  ValidationError,
  type Decider,
} from '@bifrost/event-sourcing';
import { DEFAULT_BREAKER_RULES, evaluateRule, parseCondition, type BreakerRule } from './breaker-rules';
import {
  appendCommand,
  appendIncident,
  commandTypesIn,
  historyAfter,
  type CommandRecord,
  type IncidentRecord,
  type MetricsHistory,
} from './command-metrics';
import {
  runGovernanceCycle,
  TEXT_MAX_LENGTH,
  DEFAULT_PROPOSAL_TTL_DAYS,
  type CycleReport,
  type Proposal,
} from './cycle';
import {
  BASELINE_PHASE,
  DEFAULT_PHASE_LADDER,
  effectiveWhitelist,
  validateLadder,
  whitelistOf,
} from './phases';
import { READINESS_CHECKLIST, type Attestation } from './readiness';

/** Who the agent acts as when nobody asked (implicit enrolment, breakers, schedule, expiry). */
export const GOVERNANCE_AGENT: Actor = { kind: 'system', id: 'governance-agent' };
/** Resolved breaker events and closed proposals kept in memory (the projector keeps them all). */
const KEPT_CLOSED = 50;
/**
 * The longest breaker window (the contract's `BreakerWindow`): a rule counts only what happened
 * after its last resolution, so a resolution this recent is kept beyond `KEPT_CLOSED`.
 */
const LONGEST_BREAKER_WINDOW_MS = 60 * 60_000;

export type BreakerEvent = BreakerEventSchema;
export interface BreakerEventState extends BreakerEvent {
  readonly resolved: null | { readonly by: Actor; readonly note: string; readonly at: string };
}
export interface ProposalState {
  readonly proposal: Proposal;
  readonly status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';
  readonly approvals: readonly {
    readonly principalId: string;
    readonly role: ApproverRole;
    readonly at: string;
  }[];
  readonly closedAt: string | null;
}

export interface EnrolledGovernance {
  readonly status: 'enrolled';
  readonly engineId: string;
  readonly phase: AutonomyPhase;
  readonly phaseSince: string;
  readonly ladder: PhaseLadder;
  readonly rules: readonly BreakerRule[];
  readonly history: MetricsHistory;
  readonly attestations: Readonly<Record<string, Attestation>>;
  /** Oldest first: every unresolved event, those resolved within the longest window, the last others. */
  readonly breakerEvents: readonly BreakerEventState[];
  /** Breaker trips so far: numbers breaker event ids. */
  readonly trips: number;
  /** Paused command type → the breaker event that paused it. */
  readonly paused: Readonly<Record<string, string>>;
  /** Oldest first: every pending proposal and the last closed ones. */
  readonly proposals: readonly ProposalState[];
  /**
   * The approved proposal, and the revert_to_l3 breaker event that tripped above L3, whose phase
   * change is not stored yet (an append cut short), or null. Kept by event order, not by time: a
   * decision may be timed before the one stored ahead of it.
   */
  readonly promotionDue: string | null;
  readonly revertDue: string | null;
  readonly lastCycle: null | { readonly reportId: string; readonly ranAt: string };
  /**
   * The proposal the last cycle's report names, a scheduled cycle's, whose `ProposalCreated` is not
   * stored (an append cut short after the `CycleCompleted`), or null. Kept by event order: cleared
   * by that proposal, or by what would have withdrawn it (a breaker trip, a ladder change) or made
   * it stale (a phase change).
   */
  readonly proposalDue: string | null;
  /** When it was (last) enrolled: a scheduled slot before it is not one it missed. */
  readonly enrolledAt: string;
}

/** One engine's governance (`bifrost.evt.governance.engine.<engineId>`). */
export type GovernanceState = { readonly status: 'unenrolled' } | EnrolledGovernance;

type Data<M> = DataOf<M>;
export type GovernanceEvent =
  | { type: 'EngineEnrolled'; data: Data<typeof GovernanceEngineEnrolled> }
  | { type: 'LadderConfigured'; data: Data<typeof GovernanceLadderConfigured> }
  | { type: 'PhaseChanged'; data: Data<typeof GovernancePhaseChanged> }
  | { type: 'CommandRecorded'; data: Data<typeof GovernanceCommandRecorded> }
  | { type: 'IncidentRecorded'; data: Data<typeof GovernanceIncidentRecorded> }
  | { type: 'AttestationRecorded'; data: Data<typeof GovernanceAttestationRecorded> }
  | { type: 'BreakerRuleUpdated'; data: Data<typeof GovernanceBreakerRuleUpdated> }
  | { type: 'BreakerTripped'; data: Data<typeof GovernanceBreakerTripped> }
  | { type: 'BreakerResolved'; data: Data<typeof GovernanceBreakerResolved> }
  | { type: 'CommandTypePaused'; data: Data<typeof GovernanceCommandTypePaused> }
  | { type: 'CommandTypeResumed'; data: Data<typeof GovernanceCommandTypeResumed> }
  | { type: 'CycleCompleted'; data: Data<typeof GovernanceCycleCompleted> }
  | { type: 'ProposalCreated'; data: Data<typeof GovernanceProposalCreated> }
  | { type: 'ProposalApprovalRecorded'; data: Data<typeof GovernanceProposalApprovalRecorded> }
  | { type: 'ProposalApproved'; data: Data<typeof GovernanceProposalApproved> }
  | { type: 'ProposalRejected'; data: Data<typeof GovernanceProposalRejected> }
  | { type: 'ProposalExpired'; data: Data<typeof GovernanceProposalExpired> };

interface Timed {
  readonly engineId: string;
  readonly now: string;
}
interface ByOperator extends Timed {
  readonly actor: Actor;
}

export type GovernanceCommand =
  | {
      type: 'EnrollEngine';
      data: ByOperator & {
        phase?: AutonomyPhase;
        phaseSince?: string;
        ladder?: PhaseLadder;
        reason: string;
      };
    }
  | {
      type: 'ConfigureLadder';
      data: ByOperator & {
        ladder: PhaseLadder;
        reason: string;
        /**
         * false: a ladder that whitelists, at the engine's current phase, a command type the current
         * ladder does not is refused (GOVERNANCE.LADDER_WIDENS): it grants autonomy at once, without
         * the evidence and approvals a promotion needs. Absent: allowed.
         */
        allowWidening?: boolean;
      };
    }
  | { type: 'RecordCommand'; data: Timed & { record: CommandRecord; ingestId: string } }
  | { type: 'RecordIncident'; data: Timed & { record: IncidentRecord; ingestId: string } }
  | {
      type: 'RecordAttestation';
      data: ByOperator & { itemId: string; passed: boolean; evidence: string; expiresAt?: string };
    }
  | {
      type: 'UpdateBreakerRule';
      data: ByOperator & {
        reason: string;
        ruleId: string;
        name?: string;
        condition?: string;
        window?: BreakerRule['window'];
        action?: BreakerRule['action'];
        commandType?: string | null;
        enabled?: boolean;
      };
    }
  | { type: 'CheckBreakers'; data: Timed }
  | { type: 'ResolveBreakerEvent'; data: ByOperator & { eventId: string; note: string } }
  | {
      type: 'RunCycle';
      data: ByOperator & {
        trigger: 'schedule' | 'operator';
        reportId: string;
        proposalId: string;
        proposalTtlDays?: number;
      };
    }
  | { type: 'ApproveProposal'; data: ByOperator & { proposalId: string; role?: ApproverRole; note?: string } }
  | { type: 'RejectProposal'; data: ByOperator & { proposalId: string; reason: string } }
  | { type: 'ExpireProposals'; data: Timed };

/** Collaborators' answers: who holds which approver role (the approvers directory). */
export interface GovernanceContext {
  readonly approvers: Readonly<Record<string, readonly ApproverRole[]>>;
}

/** Decides on a working state: each emitted event is folded at once, so later steps see it. */
class Emitter {
  readonly events: GovernanceEvent[] = [];
  constructor(public state: GovernanceState) {}

  emit(event: GovernanceEvent): void {
    this.events.push(event);
    this.state = evolve(this.state, event);
  }

  get enrolled(): EnrolledGovernance {
    return this.state as EnrolledGovernance;
  }
}

function enrolled(state: GovernanceState, engineId: string): EnrolledGovernance {
  if (state.status !== 'enrolled') {
    throw new NotFoundError(`engine ${engineId} is not under governance`, {
      code: 'GOVERNANCE.ENGINE_NOT_ENROLLED',
    });
  }
  return state;
}

function enroll(
  out: Emitter,
  engineId: string,
  phase: AutonomyPhase,
  phaseSince: string,
  ladder: PhaseLadder,
  actor: Actor,
  now: string,
  reason: string,
): void {
  out.emit({
    type: 'EngineEnrolled',
    data: {
      engineId,
      phase,
      phaseSince,
      ladder,
      rules: DEFAULT_BREAKER_RULES.map((r) => ({ ...r })),
      actor,
      reason,
      at: now,
    },
  });
  out.emit({
    type: 'PhaseChanged',
    data: {
      engineId,
      phase,
      whitelist: effectiveWhitelist(ladder, phase, []),
      reason: `enrolled at ${phase}`,
      previousPhase: null,
      cause: 'initial',
      at: phaseSince,
    },
  });
}

/**
 * Emits a PhaseChanged when the engine moves to `phase` or its effective whitelist differs from
 * what the gate was last told (`before`).
 */
function announcePhase(
  out: Emitter,
  before: { phase: AutonomyPhase; whitelist: string[] },
  phase: AutonomyPhase,
  cause: 'proposal' | 'breaker' | 'pause' | 'resume' | 'ladder',
  reason: string,
  now: string,
  causeId?: string,
): void {
  const s = out.enrolled;
  const whitelist = effectiveWhitelist(s.ladder, phase, Object.keys(s.paused));
  if (phase === before.phase && sameList(whitelist, before.whitelist)) return;
  out.emit({
    type: 'PhaseChanged',
    data: {
      engineId: s.engineId,
      phase,
      whitelist,
      reason: clipText(reason, REASON_MAX_LENGTH),
      previousPhase: before.phase,
      cause,
      ...(causeId ? { causeId } : {}),
      at: now,
    },
  });
}

function gateView(s: EnrolledGovernance): { phase: AutonomyPhase; whitelist: string[] } {
  return { phase: s.phase, whitelist: effectiveWhitelist(s.ladder, s.phase, Object.keys(s.paused)) };
}

/** The rules to evaluate now: a pause rule without a command type runs once per command type seen in its window. */
function candidates(s: EnrolledGovernance, now: string): BreakerRule[] {
  const out: BreakerRule[] = [];
  for (const rule of s.rules) {
    if (!rule.enabled) continue;
    if (rule.action !== 'pause_command_type' || rule.commandType !== undefined) {
      out.push(rule);
      continue;
    }
    for (const commandType of commandTypesIn(s.history, rule.window, now)) out.push({ ...rule, commandType });
  }
  return out;
}

/** Marks every pending proposal past its TTL expired. */
function expireProposals(out: Emitter, now: string): void {
  const s = out.enrolled;
  for (const p of s.proposals) {
    if (p.status === 'PENDING' && p.proposal.expiresAt <= now) {
      out.emit({
        type: 'ProposalExpired',
        data: { engineId: s.engineId, proposalId: p.proposal.proposalId, at: now },
      });
    }
  }
}

/**
 * Carries out what an append cut short left undone. The events of one decision are stored one
 * message at a time (nats-server 2.9 has no atomic batch), so a publish that fails after the first
 * can leave a breaker tripped but its phase not reverted or its type not paused, a resolution whose
 * type stays paused, or an approval whose phase never came; and the command that decided them is
 * not decided again (a redelivered record is a duplicate, a resolved event or closed proposal
 * refuses a retry). Each case is read off the state, so this emits nothing once they are done.
 */
function completeInterrupted(out: Emitter, now: string): void {
  const s = out.enrolled;
  // Only while its phase change is missing (once stored, a later revert to L3 is not undone), and
  // only as approved: from its phase, to exactly its whitelist (a ladder changed since gives another).
  const approved = s.proposals.find((p) => p.proposal.proposalId === s.promotionDue);
  if (
    approved?.closedAt &&
    staleness(s, approved.proposal) === null &&
    s.breakerEvents.every((e) => e.resolved !== null || e.trippedAt < approved.closedAt!)
  ) {
    announcePhase(
      out,
      gateView(s),
      approved.proposal.targetPhase,
      'proposal',
      `proposal ${approved.proposal.proposalId} approved (its phase change completed after an interrupted append)`,
      now,
      approved.proposal.proposalId,
    );
  }
  for (const e of out.enrolled.breakerEvents) {
    const current = out.enrolled;
    const { commandType } = e;
    if (e.resolved === null) {
      if (
        e.action === 'revert_to_l3' &&
        e.eventId === current.revertDue &&
        AUTONOMY_PHASES.indexOf(current.phase) > AUTONOMY_PHASES.indexOf(BASELINE_PHASE)
      ) {
        withdrawPending(out, `breaker ${e.ruleName} tripped (${e.eventId})`, now);
        announcePhase(
          out,
          gateView(current),
          BASELINE_PHASE,
          'breaker',
          `breaker ${e.ruleName}: ${e.explanation}`,
          now,
          e.eventId,
        );
      } else if (
        e.action === 'pause_command_type' &&
        commandType !== undefined &&
        !Object.hasOwn(current.paused, commandType)
      ) {
        const before = gateView(current);
        withdrawPending(out, `breaker ${e.ruleName} tripped (${e.eventId})`, now);
        out.emit({
          type: 'CommandTypePaused',
          data: { engineId: current.engineId, commandType, eventId: e.eventId, at: now },
        });
        announcePhase(
          out,
          before,
          current.phase,
          'pause',
          `breaker ${e.ruleName} paused ${commandType}: ${e.explanation}`,
          now,
          e.eventId,
        );
      }
    } else if (commandType !== undefined && current.paused[commandType] === e.eventId) {
      releasePause(out, e.eventId, commandType, e.resolved.by, now);
      announcePhase(
        out,
        gateView(current),
        out.enrolled.phase,
        'resume',
        `breaker event ${e.eventId} resolved: ${e.resolved.note}`,
        now,
        e.eventId,
      );
    }
  }
}

/**
 * The pause `eventId` held on `commandType` ends: handed to another open event that pauses the
 * type, if there is one, else the type is resumed.
 */
function releasePause(out: Emitter, eventId: string, commandType: string, actor: Actor, now: string): void {
  const s = out.enrolled;
  const holding = s.breakerEvents.find(
    (e) =>
      e.eventId !== eventId &&
      e.resolved === null &&
      e.action === 'pause_command_type' &&
      e.commandType === commandType,
  );
  out.emit(
    holding
      ? {
          type: 'CommandTypePaused',
          data: { engineId: s.engineId, commandType, eventId: holding.eventId, at: now },
        }
      : { type: 'CommandTypeResumed', data: { engineId: s.engineId, commandType, eventId, actor, at: now } },
  );
}

/** Evaluates every enabled rule; each trip opens a breaker event and carries out its action. */
function checkBreakers(out: Emitter, now: string): void {
  completeInterrupted(out, now);
  for (const rule of candidates(out.enrolled, now)) {
    const s = out.enrolled;
    const own = s.breakerEvents.filter((e) => e.ruleId === rule.ruleId && e.commandType === rule.commandType);
    if (own.some((e) => e.resolved === null)) continue;
    // After a resolution the rule counts only what happened since: the operator dealt with the rest.
    const resolvedAt = own.at(-1)?.resolved?.at;
    const result = evaluateRule(rule, resolvedAt ? historyAfter(s.history, resolvedAt) : s.history, now);
    if (!result.tripped) continue;
    const eventId = `brk-${s.trips + 1}-${rule.ruleId}${rule.commandType ? `-${rule.commandType}` : ''}`;
    const before = gateView(s);
    out.emit({
      type: 'BreakerTripped',
      data: {
        engineId: s.engineId,
        breakerEvent: {
          eventId,
          ruleId: rule.ruleId,
          ruleName: rule.name,
          condition: rule.condition,
          window: rule.window,
          action: rule.action,
          ...(rule.commandType !== undefined ? { commandType: rule.commandType } : {}),
          observed: { ...result.observed },
          explanation: clipText(result.explanation, TEXT_MAX_LENGTH),
          trippedAt: now,
        },
      },
    });
    // Seed 003 proposes only without unresolved breaker events: a trip of any action voids that premise.
    withdrawPending(out, `breaker ${rule.name} tripped (${eventId})`, now);
    if (rule.action === 'revert_to_l3') {
      announcePhase(
        out,
        before,
        BASELINE_PHASE,
        'breaker',
        `breaker ${rule.name}: ${result.explanation}`,
        now,
        eventId,
      );
    } else if (
      rule.action === 'pause_command_type' &&
      rule.commandType &&
      !Object.hasOwn(s.paused, rule.commandType)
    ) {
      out.emit({
        type: 'CommandTypePaused',
        data: { engineId: s.engineId, commandType: rule.commandType, eventId, at: now },
      });
      announcePhase(
        out,
        before,
        s.phase,
        'pause',
        `breaker ${rule.name} paused ${rule.commandType}: ${result.explanation}`,
        now,
        eventId,
      );
    }
  }
}

/**
 * The agent withdraws every pending proposal (a `ProposalRejected` by the agent) when what it was
 * made against no longer holds; the next cycle proposes afresh if every condition holds again.
 */
function withdrawPending(out: Emitter, why: string, now: string): void {
  const s = out.enrolled;
  for (const p of s.proposals.filter((x) => x.status === 'PENDING')) {
    out.emit({
      type: 'ProposalRejected',
      data: {
        engineId: s.engineId,
        proposalId: p.proposal.proposalId,
        by: GOVERNANCE_AGENT,
        reason: clipText(`withdrawn: ${why}`, REASON_MAX_LENGTH),
        at: now,
      },
    });
  }
}

function pendingProposal(s: EnrolledGovernance, proposalId: string, now: string): ProposalState {
  const p = s.proposals.find((x) => x.proposal.proposalId === proposalId);
  if (!p) throw new NotFoundError(`no proposal ${proposalId}`, { code: 'GOVERNANCE.PROPOSAL_NOT_FOUND' });
  if (p.status !== 'PENDING') {
    throw new IllegalStateError(`proposal ${proposalId} is ${p.status}`, {
      code: 'GOVERNANCE.PROPOSAL_NOT_PENDING',
    });
  }
  if (p.proposal.expiresAt <= now) {
    throw new IllegalStateError(`proposal ${proposalId} expired at ${p.proposal.expiresAt}`, {
      code: 'GOVERNANCE.PROPOSAL_EXPIRED',
    });
  }
  return p;
}

function outstandingRoles(p: ProposalState): ApproverRole[] {
  const signed = new Set(p.approvals.map((a) => a.role));
  return p.proposal.requiredApprovals.filter((r) => !signed.has(r));
}

/** Refuses a ladder whose whitelist at `phase` holds a command type that of `current` does not. */
function requireNoWidening(current: PhaseLadder, ladder: PhaseLadder, phase: AutonomyPhase): void {
  const now = new Set(whitelistOf(current, phase));
  const added = whitelistOf(ladder, phase).filter((type) => !now.has(type));
  if (added.length > 0) {
    throw new ForbiddenError(
      `this ladder whitelists ${added.join(', ')} at the engine's phase ${phase}, which grants autonomy at once ` +
        "without a promotion's evidence and approvals: only an owner may (a change above the engine's phase is an admin's)",
      { code: 'GOVERNANCE.LADDER_WIDENS', details: { phase, added } },
    );
  }
}

function requireOperator(actor: Actor, what: string): void {
  if (actor.kind !== 'operator') {
    throw new ForbiddenError(`only an operator may ${what}`, { code: 'GOVERNANCE.OPERATOR_ONLY' });
  }
}

function approve(
  out: Emitter,
  c: Extract<GovernanceCommand, { type: 'ApproveProposal' }>['data'],
  ctx: GovernanceContext,
): void {
  const s = enrolled(out.state, c.engineId);
  const p = pendingProposal(s, c.proposalId, c.now);
  requireOperator(c.actor, 'approve a proposal');
  const unresolved = s.breakerEvents.filter((e) => e.resolved === null).map((e) => e.eventId);
  if (unresolved.length > 0) {
    throw new IllegalStateError(
      `breaker event(s) ${unresolved.join(', ')} unresolved: no expansion is approved until they are resolved`,
      { code: 'GOVERNANCE.UNRESOLVED_BREAKER_EVENTS', details: { unresolvedEventIds: unresolved } },
    );
  }
  const stale = staleness(s, p.proposal);
  if (stale !== null) {
    throw new IllegalStateError(`${c.proposalId} no longer applies: ${stale}`, {
      code: 'GOVERNANCE.PROPOSAL_STALE',
    });
  }
  if (p.proposal.proposedBy.kind === 'operator' && p.proposal.proposedBy.id === c.actor.id) {
    throw new ForbiddenError(
      `${c.actor.id} ran the cycle that proposed ${c.proposalId} and may not approve it`,
      {
        code: 'GOVERNANCE.SELF_APPROVAL',
      },
    );
  }
  if (p.approvals.some((a) => a.principalId === c.actor.id)) {
    throw new IllegalStateError(
      `${c.actor.id} already approved ${c.proposalId}: each role needs a distinct principal`,
      {
        code: 'GOVERNANCE.ALREADY_APPROVED',
      },
    );
  }
  const held = ctx.approvers[c.actor.id] ?? [];
  const outstanding = outstandingRoles(p);
  let role: ApproverRole | undefined;
  if (c.role !== undefined) {
    if (!held.includes(c.role)) {
      throw new ForbiddenError(`${c.actor.id} does not hold the role ${c.role}`, {
        code: 'GOVERNANCE.ROLE_NOT_HELD',
      });
    }
    if (!outstanding.includes(c.role)) {
      throw new IllegalStateError(`${c.proposalId} does not need (or already has) ${c.role}`, {
        code: 'GOVERNANCE.ROLE_NOT_OUTSTANDING',
      });
    }
    role = c.role;
  } else {
    role = outstanding.find((r) => held.includes(r));
    // Holding a role the proposal needs that someone signed already is a conflict, not a refusal.
    const signed = p.proposal.requiredApprovals.filter((r) => held.includes(r));
    if (role === undefined && signed.length > 0) {
      throw new IllegalStateError(
        `${c.proposalId} already has ${signed.join(', ')}, the role ${c.actor.id} holds`,
        {
          code: 'GOVERNANCE.ROLE_NOT_OUTSTANDING',
          details: { outstanding, held },
        },
      );
    }
  }
  if (role === undefined) {
    throw new ForbiddenError(
      `${c.actor.id} holds none of the outstanding roles of ${c.proposalId}: ${outstanding.join(', ')}`,
      { code: 'GOVERNANCE.NOT_AN_APPROVER', details: { outstanding, held } },
    );
  }
  const remaining = outstanding.filter((r) => r !== role);
  out.emit({
    type: 'ProposalApprovalRecorded',
    data: {
      engineId: s.engineId,
      proposalId: c.proposalId,
      approver: c.actor,
      role,
      ...(c.note ? { note: c.note } : {}),
      outstanding: remaining,
      at: c.now,
    },
  });
  if (remaining.length > 0) return;
  const before = gateView(s);
  const approved = out.enrolled.proposals.find(
    (x) => x.proposal.proposalId === c.proposalId,
  ) as ProposalState;
  out.emit({
    type: 'ProposalApproved',
    data: {
      engineId: s.engineId,
      proposalId: c.proposalId,
      targetPhase: p.proposal.targetPhase,
      approvals: approved.approvals.map(({ principalId, role: r }) => ({ principalId, role: r })),
      at: c.now,
    },
  });
  announcePhase(
    out,
    before,
    p.proposal.targetPhase,
    'proposal',
    `proposal ${c.proposalId} approved by ${approved.approvals.map((a) => `${a.principalId} (${a.role})`).join(', ')}`,
    c.now,
    c.proposalId,
  );
}

/**
 * Why approving `proposal` would not do what its approvers were shown, or null: the engine must still
 * be at its starting phase, and entering the target must give the gate exactly the proposal's whitelist.
 */
function staleness(s: EnrolledGovernance, proposal: Proposal): string | null {
  if (s.phase !== proposal.fromPhase) return `the engine left ${proposal.fromPhase}`;
  const applied = effectiveWhitelist(s.ladder, proposal.targetPhase, Object.keys(s.paused));
  if (!sameList(applied, proposal.whitelist)) {
    return `${proposal.targetPhase} would now whitelist [${applied.join(', ')}], the proposal showed [${proposal.whitelist.join(', ')}]`;
  }
  return null;
}

function updateRule(
  out: Emitter,
  c: Extract<GovernanceCommand, { type: 'UpdateBreakerRule' }>['data'],
): void {
  const s = enrolled(out.state, c.engineId);
  const previous = s.rules.find((r) => r.ruleId === c.ruleId) ?? null;
  const name = c.name ?? previous?.name;
  const condition = c.condition ?? previous?.condition;
  const window = c.window ?? previous?.window;
  const action = c.action ?? previous?.action;
  if (name === undefined || condition === undefined || window === undefined || action === undefined) {
    throw new ValidationError(`a new rule ${c.ruleId} needs name, condition, window and action`, {
      code: 'GOVERNANCE.INCOMPLETE_RULE',
    });
  }
  parseCondition(condition);
  const commandType = c.commandType === undefined ? previous?.commandType : (c.commandType ?? undefined);
  const rule: BreakerRule = {
    ruleId: c.ruleId,
    name,
    condition,
    window,
    action,
    ...(commandType !== undefined ? { commandType } : {}),
    enabled: c.enabled ?? previous?.enabled ?? true,
  };
  if (previous && JSON.stringify(canonicalRule(previous)) === JSON.stringify(canonicalRule(rule))) return;
  out.emit({
    type: 'BreakerRuleUpdated',
    data: {
      engineId: s.engineId,
      rule,
      previous: previous ? { ...previous } : null,
      actor: c.actor,
      reason: c.reason,
      at: c.now,
    },
  });
}

function canonicalRule(r: BreakerRule): unknown[] {
  return [r.ruleId, r.name, r.condition, r.window, r.action, r.commandType ?? null, r.enabled];
}

function decideInto(out: Emitter, command: GovernanceCommand, ctx: GovernanceContext): void {
  const c = command.data;
  switch (command.type) {
    case 'EnrollEngine': {
      const d = command.data;
      requireOperator(d.actor, 'enroll an engine');
      if (out.state.status === 'enrolled') {
        throw new IllegalStateError(`engine ${d.engineId} is already under governance`, {
          code: 'GOVERNANCE.ALREADY_ENROLLED',
        });
      }
      const since = d.phaseSince ?? d.now;
      if (since > d.now) {
        throw new ValidationError('phaseSince may not be in the future', {
          code: 'GOVERNANCE.BAD_PHASE_SINCE',
        });
      }
      enroll(
        out,
        d.engineId,
        d.phase ?? BASELINE_PHASE,
        since,
        validateLadder(d.ladder ?? DEFAULT_PHASE_LADDER),
        d.actor,
        d.now,
        d.reason,
      );
      return;
    }
    case 'ConfigureLadder': {
      const d = command.data;
      requireOperator(d.actor, 'configure a ladder');
      const s = enrolled(out.state, d.engineId);
      const ladder = validateLadder(d.ladder);
      if (JSON.stringify(ladder) === JSON.stringify(s.ladder)) return;
      if (d.allowWidening === false) requireNoWidening(s.ladder, ladder, s.phase);
      const before = gateView(s);
      out.emit({
        type: 'LadderConfigured',
        data: {
          engineId: d.engineId,
          ladder,
          previous: s.ladder,
          actor: d.actor,
          reason: d.reason,
          at: d.now,
        },
      });
      // Approvers sign a proposal's whitelist and roles: a new ladder needs a new proposal.
      withdrawPending(
        out,
        `the ladder changed (${d.reason}); the next cycle proposes against the new one`,
        d.now,
      );
      announcePhase(out, before, s.phase, 'ladder', `ladder changed: ${d.reason}`, d.now);
      return;
    }
    case 'RecordCommand':
    case 'RecordIncident': {
      if (out.state.status === 'unenrolled') {
        enroll(
          out,
          c.engineId,
          BASELINE_PHASE,
          c.now,
          DEFAULT_PHASE_LADDER,
          GOVERNANCE_AGENT,
          c.now,
          'first record of an engine not under governance',
        );
      }
      const s = out.enrolled;
      if (command.type === 'RecordCommand') {
        const { record, ingestId } = command.data;
        if (s.history.commands.some((r) => r.commandId === record.commandId)) return;
        // Run without approval although the phase does not whitelist it: a safety constraint violation.
        const outsideAutonomy =
          !record.requiredApproval && !gateView(s).whitelist.includes(record.commandType);
        out.emit({
          type: 'CommandRecorded',
          data: {
            engineId: c.engineId,
            record: { ...record },
            ingestId,
            ...(outsideAutonomy ? { outsideAutonomy: true as const } : {}),
          },
        });
      } else {
        const { record, ingestId } = command.data;
        if (s.history.incidents.some((r) => r.incidentId === record.incidentId)) return;
        out.emit({
          type: 'IncidentRecorded',
          data: { engineId: c.engineId, record: { ...record }, ingestId },
        });
      }
      checkBreakers(out, c.now);
      return;
    }
    case 'RecordAttestation': {
      const d = command.data;
      requireOperator(d.actor, 'attest a checklist item');
      const s = enrolled(out.state, d.engineId);
      const item = READINESS_CHECKLIST.find((i) => i.id === d.itemId);
      if (!item || item.kind !== 'attestation') {
        throw new ValidationError(`${d.itemId} is not an attestation item of the readiness checklist`, {
          code: 'GOVERNANCE.UNKNOWN_CHECKLIST_ITEM',
          details: {
            attestable: READINESS_CHECKLIST.filter((i) => i.kind === 'attestation').map((i) => i.id),
          },
        });
      }
      if (d.expiresAt !== undefined && d.expiresAt <= d.now) {
        throw new ValidationError('expiresAt must be in the future', { code: 'GOVERNANCE.BAD_EXPIRY' });
      }
      out.emit({
        type: 'AttestationRecorded',
        data: {
          engineId: s.engineId,
          attestation: {
            itemId: d.itemId,
            passed: d.passed,
            evidence: d.evidence,
            by: d.actor.id,
            at: d.now,
            ...(d.expiresAt ? { expiresAt: d.expiresAt } : {}),
          },
        },
      });
      return;
    }
    case 'UpdateBreakerRule':
      requireOperator(command.data.actor, 'change a breaker rule');
      updateRule(out, command.data);
      return;
    case 'CheckBreakers':
      enrolled(out.state, c.engineId);
      checkBreakers(out, c.now);
      return;
    case 'ResolveBreakerEvent': {
      const d = command.data;
      requireOperator(d.actor, 'resolve a breaker event');
      const s = enrolled(out.state, d.engineId);
      const event = s.breakerEvents.find((e) => e.eventId === d.eventId);
      if (!event)
        throw new NotFoundError(`no breaker event ${d.eventId}`, {
          code: 'GOVERNANCE.BREAKER_EVENT_NOT_FOUND',
        });
      if (event.resolved) {
        throw new IllegalStateError(`breaker event ${d.eventId} is already resolved`, {
          code: 'GOVERNANCE.ALREADY_RESOLVED',
        });
      }
      const before = gateView(s);
      out.emit({
        type: 'BreakerResolved',
        data: { engineId: s.engineId, eventId: d.eventId, actor: d.actor, note: d.note, resolvedAt: d.now },
      });
      for (const [commandType, eventId] of Object.entries(s.paused)) {
        // Another open event that pauses the type keeps it paused: the pause is that event's now.
        if (eventId === d.eventId) releasePause(out, eventId, commandType, d.actor, d.now);
      }
      announcePhase(
        out,
        before,
        s.phase,
        'resume',
        `breaker event ${d.eventId} resolved: ${d.note}`,
        d.now,
        d.eventId,
      );
      return;
    }
    case 'RunCycle': {
      const d = command.data;
      // On demand only for an operator: a cycle checks the breakers, which can change the phase.
      if (d.trigger === 'operator') requireOperator(d.actor, 'run a governance cycle');
      // A scheduled slot runs once, whichever instance gets there first. Run again, it only
      // completes the proposal its report names, when an append cut short left it unstored.
      const again = enrolled(out.state, d.engineId).lastCycle?.reportId === d.reportId;
      if (again && out.enrolled.proposalDue === null) return;
      // A proposal past its TTL awaits nothing, though the periodic expiry may not have marked it yet.
      expireProposals(out, d.now);
      checkBreakers(out, d.now);
      // A breaker that trips now withdraws the due proposal, as it would have withdrawn it stored.
      const proposalId = again ? out.enrolled.proposalDue : d.proposalId;
      if (proposalId === null) return;
      // The proposal is made against the state now: only if every expansion condition still holds.
      const { report, proposal } = runGovernanceCycle({
        state: out.enrolled,
        now: d.now,
        trigger: d.trigger,
        reportId: d.reportId,
        proposalId,
        proposedBy: d.actor,
        proposalTtlDays: d.proposalTtlDays ?? DEFAULT_PROPOSAL_TTL_DAYS,
      });
      if (!again) out.emit({ type: 'CycleCompleted', data: { engineId: d.engineId, report } });
      if (proposal) out.emit({ type: 'ProposalCreated', data: { engineId: d.engineId, proposal } });
      return;
    }
    case 'ApproveProposal':
      approve(out, command.data, ctx);
      return;
    case 'RejectProposal': {
      const d = command.data;
      const s = enrolled(out.state, d.engineId);
      const p = pendingProposal(s, d.proposalId, d.now);
      requireOperator(d.actor, 'reject a proposal');
      const held = ctx.approvers[d.actor.id] ?? [];
      if (!p.proposal.requiredApprovals.some((r) => held.includes(r))) {
        throw new ForbiddenError(`${d.actor.id} holds none of the roles ${d.proposalId} requires`, {
          code: 'GOVERNANCE.NOT_AN_APPROVER',
        });
      }
      out.emit({
        type: 'ProposalRejected',
        data: { engineId: s.engineId, proposalId: d.proposalId, by: d.actor, reason: d.reason, at: d.now },
      });
      return;
    }
    case 'ExpireProposals':
      enrolled(out.state, c.engineId);
      expireProposals(out, c.now);
      return;
    default: {
      const unknown: never = command;
      throw new ValidationError(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

export function decide(
  command: GovernanceCommand,
  state: GovernanceState,
  ctx: GovernanceContext,
): GovernanceEvent[] {
  const out = new Emitter(state);
  decideInto(out, command, ctx);
  return out.events;
}

/** Every item `keep` holds on to, and the last `KEPT_CLOSED` others. */
function keepRecent<T>(items: readonly T[], keep: (item: T) => boolean): T[] {
  const closed = items.filter((i) => !keep(i)).length;
  let drop = Math.max(0, closed - KEPT_CLOSED);
  return items.filter((i) => {
    if (drop > 0 && !keep(i)) {
      drop -= 1;
      return false;
    }
    return true;
  });
}

/** Open breaker events, and those resolved within the longest window before `at`. */
function keepBreakerEvents(events: readonly BreakerEventState[], at: string): BreakerEventState[] {
  const since = Date.parse(at) - LONGEST_BREAKER_WINDOW_MS;
  return keepRecent(events, (e) => e.resolved === null || Date.parse(e.resolved.at) > since);
}

function withProposal(
  s: EnrolledGovernance,
  proposalId: string,
  change: (p: ProposalState) => ProposalState,
): EnrolledGovernance {
  const proposals = s.proposals.map((p) => (p.proposal.proposalId === proposalId ? change(p) : p));
  return { ...s, proposals: keepRecent(proposals, (p) => p.status === 'PENDING') };
}

export function evolve(state: GovernanceState, event: GovernanceEvent): GovernanceState {
  if (event.type === 'EngineEnrolled') {
    const d = event.data;
    return {
      status: 'enrolled',
      engineId: d.engineId,
      phase: d.phase,
      phaseSince: d.phaseSince,
      ladder: d.ladder,
      rules: d.rules,
      history: { commands: [], incidents: [] },
      attestations: {},
      breakerEvents: [],
      trips: 0,
      paused: {},
      proposals: [],
      promotionDue: null,
      revertDue: null,
      lastCycle: null,
      proposalDue: null,
      enrolledAt: d.at,
    };
  }
  if (state.status !== 'enrolled') return state;
  switch (event.type) {
    case 'LadderConfigured':
      return { ...state, ladder: event.data.ladder, proposalDue: null };
    case 'PhaseChanged': {
      const d = event.data;
      // The phase set anew: nothing owed from before.
      const owed =
        d.cause === 'proposal' || d.cause === 'breaker'
          ? { promotionDue: null, revertDue: null }
          : { promotionDue: state.promotionDue, revertDue: state.revertDue };
      if (d.phase === state.phase) return { ...state, ...owed };
      return { ...state, phase: d.phase, phaseSince: d.at ?? state.phaseSince, ...owed, proposalDue: null };
    }
    case 'CommandRecorded':
      return { ...state, history: appendCommand(state.history, event.data.record, event.data.record.at) };
    case 'IncidentRecorded':
      return { ...state, history: appendIncident(state.history, event.data.record, event.data.record.at) };
    case 'AttestationRecorded': {
      const a = event.data.attestation;
      return { ...state, attestations: { ...state.attestations, [a.itemId]: a } };
    }
    case 'BreakerRuleUpdated': {
      const rule = event.data.rule;
      const exists = state.rules.some((r) => r.ruleId === rule.ruleId);
      return {
        ...state,
        rules: exists
          ? state.rules.map((r) => (r.ruleId === rule.ruleId ? rule : r))
          : [...state.rules, rule],
      };
    }
    case 'BreakerTripped': {
      const e = event.data.breakerEvent;
      const reverts =
        e.action === 'revert_to_l3' &&
        AUTONOMY_PHASES.indexOf(state.phase) > AUTONOMY_PHASES.indexOf(BASELINE_PHASE);
      return {
        ...state,
        revertDue: reverts ? e.eventId : state.revertDue,
        proposalDue: null,
        trips: state.trips + 1,
        breakerEvents: keepBreakerEvents(
          [...state.breakerEvents, { ...event.data.breakerEvent, resolved: null }],
          event.data.breakerEvent.trippedAt,
        ),
      };
    }
    case 'BreakerResolved': {
      const d = event.data;
      const breakerEvents = state.breakerEvents.map((e) =>
        e.eventId === d.eventId ? { ...e, resolved: { by: d.actor, note: d.note, at: d.resolvedAt } } : e,
      );
      return { ...state, breakerEvents: keepBreakerEvents(breakerEvents, d.resolvedAt) };
    }
    case 'CommandTypePaused':
      return { ...state, paused: { ...state.paused, [event.data.commandType]: event.data.eventId } };
    case 'CommandTypeResumed': {
      const paused = { ...state.paused };
      delete paused[event.data.commandType];
      return { ...state, paused };
    }
    case 'CycleCompleted': {
      const r: CycleReport = event.data.report;
      return {
        ...state,
        lastCycle: { reportId: r.reportId, ranAt: r.ranAt },
        // An operator whose cycle failed runs another; a scheduled slot is not run twice.
        proposalDue: r.trigger === 'schedule' ? r.decision.proposalId : null,
      };
    }
    case 'ProposalCreated':
      return {
        ...state,
        proposalDue: null,
        proposals: [
          ...state.proposals,
          { proposal: event.data.proposal, status: 'PENDING', approvals: [], closedAt: null },
        ],
      };
    case 'ProposalApprovalRecorded': {
      const d = event.data;
      return withProposal(state, d.proposalId, (p) => ({
        ...p,
        approvals: [...p.approvals, { principalId: d.approver.id, role: d.role, at: d.at }],
      }));
    }
    case 'ProposalApproved':
      return {
        ...withProposal(state, event.data.proposalId, (p) => ({
          ...p,
          status: 'APPROVED',
          closedAt: event.data.at,
        })),
        promotionDue: event.data.proposalId,
      };
    case 'ProposalRejected':
      return withProposal(state, event.data.proposalId, (p) => ({
        ...p,
        status: 'REJECTED',
        closedAt: event.data.at,
      }));
    case 'ProposalExpired':
      return withProposal(state, event.data.proposalId, (p) => ({
        ...p,
        status: 'EXPIRED',
        closedAt: event.data.at,
      }));
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** One engine's governance: phase, whitelist, history, breakers, attestations, proposals. */
export const governanceDecider: Decider<
  GovernanceState,
  GovernanceCommand,
  GovernanceEvent,
  GovernanceContext
> = {
  // 2: enrolledAt (2026-12-07). 3: resolved breaker events kept for the longest window. 4: promotionDue,
  // revertDue. 5: proposalDue.
  stateVersion: 5,
  initialState: () => ({ status: 'unenrolled' }),
  decide,
  evolve,
};

// ── The approvers directory: `bifrost.evt.governance.approvers.global` ──────────────────────────

export const APPROVERS_DIRECTORY_ID = 'global';
export interface ApproversState {
  readonly roles: Readonly<Record<string, readonly ApproverRole[]>>;
}
export type ApproversEvent = {
  type: 'ApproverRolesAssigned';
  data: Data<typeof GovernanceApproverRolesAssigned>;
};
export type ApproversCommand = {
  type: 'AssignApproverRoles';
  data: { principalId: string; roles: ApproverRole[]; actor: Actor; reason: string; now: string };
};

/** Who may sign proposals as which role; an operator (an admin, at the gateway) keeps it. */
export const approversDecider: Decider<ApproversState, ApproversCommand, ApproversEvent, void> = {
  stateVersion: 1,
  initialState: () => ({ roles: {} }),
  decide(command, state) {
    const d = command.data;
    requireOperator(d.actor, 'assign approver roles');
    const roles = [...new Set(d.roles)].sort();
    const previous = [...(state.roles[d.principalId] ?? [])];
    if (sameList(roles, previous)) return [];
    // Separation of duties: who keeps the directory does not sign as a role they gave themselves.
    // Giving up one's own roles is fine.
    const gained = roles.filter((role) => !previous.includes(role));
    if (d.principalId === d.actor.id && gained.length > 0) {
      throw new ForbiddenError(
        `${d.actor.id} may not give itself approver roles (${gained.join(', ')}): another admin assigns them`,
        { code: 'GOVERNANCE.SELF_ASSIGNMENT_FORBIDDEN' },
      );
    }
    return [
      {
        type: 'ApproverRolesAssigned',
        data: { principalId: d.principalId, roles, previous, actor: d.actor, reason: d.reason, at: d.now },
      },
    ];
  },
  evolve(state, event) {
    const roles = { ...state.roles };
    if (event.data.roles.length === 0) delete roles[event.data.principalId];
    else roles[event.data.principalId] = event.data.roles;
    return { roles };
  },
};

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
