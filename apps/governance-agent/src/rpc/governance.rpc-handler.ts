import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ApproveProposalCommand,
  AssignApproverRolesCommand,
  BreakerEventsQuery,
  ConfigureLadderCommand,
  EnrollEngineCommand,
  GovernanceEngineQuery,
  GovernanceMetricsQuery,
  ProposalsQuery,
  RecordAttestationCommand,
  RejectProposalCommand,
  ResolveBreakerEventCommand,
  RunCycleCommand,
  UpdateBreakerRuleCommand,
  type GovernanceStateView,
  type ProposalView,
  object,
} from '@bifrost/contracts';
import {
  assessReadiness,
  daysBetween,
  effectiveWhitelist,
  windowMetrics,
  type EnrolledGovernance,
  type GovernanceCommand,
  type ProposalState,
} from '@bifrost/domain-governance';
import { NotFoundError } from '@bifrost/event-sourcing';
import { rpcRoute, type CommandResult } from '@bifrost/messaging';
import type { Static } from '@sinclair/typebox';
import { GovernanceCommands } from '../commands/governance-commands.service';
import { GovernanceCycles } from '../schedule/governance-cycles.service';
import { GovernanceState } from '../state/governance-state';

type Op<T extends GovernanceCommand['type']> = Omit<Extract<GovernanceCommand, { type: T }>['data'], 'now'>;

/**
 * `bifrost.rpc.governance.*`: operator commands (`cmd.*`, the caller puts the authenticated
 * principal in `actor`) and reads of the agent's in-memory state.
 */
@Controller()
export class GovernanceRpcHandler {
  constructor(
    @Inject(GovernanceCommands) private readonly commands: GovernanceCommands,
    @Inject(GovernanceState) private readonly state: GovernanceState,
    @Inject(GovernanceCycles) private readonly cycles: GovernanceCycles,
  ) {}

  private run<T extends GovernanceCommand['type']>(
    type: T,
    data: Op<T> & { actor: { kind: 'engine' | 'operator' | 'system'; id: string } },
  ): Promise<CommandResult> {
    // Timed when decided, under the engine's lock, not when the request arrived.
    const command = () => ({ type, data: { ...data, now: new Date().toISOString() } }) as GovernanceCommand;
    return this.commands.engine(command, data.actor);
  }

  @MessagePattern('bifrost.rpc.governance.cmd.enroll', rpcRoute({ request: EnrollEngineCommand }))
  enroll(@Payload() c: EnrollEngineCommand) {
    return this.run('EnrollEngine', c);
  }

  @MessagePattern(
    'bifrost.rpc.governance.cmd.configure-ladder',
    rpcRoute({ request: ConfigureLadderCommand }),
  )
  configureLadder(@Payload() c: ConfigureLadderCommand) {
    return this.run('ConfigureLadder', c);
  }

  @MessagePattern('bifrost.rpc.governance.cmd.attest', rpcRoute({ request: RecordAttestationCommand }))
  attest(@Payload() c: RecordAttestationCommand) {
    return this.run('RecordAttestation', c);
  }

  @MessagePattern('bifrost.rpc.governance.cmd.update-rule', rpcRoute({ request: UpdateBreakerRuleCommand }))
  updateRule(@Payload() c: UpdateBreakerRuleCommand) {
    return this.run('UpdateBreakerRule', c);
  }

  @MessagePattern(
    'bifrost.rpc.governance.cmd.resolve-breaker-event',
    rpcRoute({ request: ResolveBreakerEventCommand }),
  )
  resolveBreakerEvent(@Payload() c: ResolveBreakerEventCommand) {
    return this.run('ResolveBreakerEvent', c);
  }

  @MessagePattern(
    'bifrost.rpc.governance.cmd.approve-proposal',
    rpcRoute({ request: ApproveProposalCommand }),
  )
  approve(@Payload() c: ApproveProposalCommand) {
    return this.run('ApproveProposal', c);
  }

  @MessagePattern('bifrost.rpc.governance.cmd.reject-proposal', rpcRoute({ request: RejectProposalCommand }))
  reject(@Payload() c: RejectProposalCommand) {
    return this.run('RejectProposal', c);
  }

  @MessagePattern('bifrost.rpc.governance.cmd.run-cycle', rpcRoute({ request: RunCycleCommand }))
  runCycle(@Payload() c: RunCycleCommand) {
    return this.cycles.run('operator', c.actor, c.engineId);
  }

  @MessagePattern(
    'bifrost.rpc.governance.cmd.assign-approver-roles',
    rpcRoute({ request: AssignApproverRolesCommand }),
  )
  assignApproverRoles(@Payload() c: AssignApproverRolesCommand) {
    return this.commands.approvers(
      { type: 'AssignApproverRoles', data: { ...c, now: new Date().toISOString() } },
      c.actor,
    );
  }

  @MessagePattern('bifrost.rpc.governance.state', rpcRoute({ request: GovernanceEngineQuery }))
  view(@Payload() q: { engineId: string }): GovernanceStateView {
    const s = this.enrolled(q.engineId);
    const now = new Date().toISOString();
    const pending = s.proposals.find((p) => p.status === 'PENDING');
    return {
      engineId: s.engineId,
      phase: s.phase,
      phaseSince: s.phaseSince,
      daysAtPhase: daysBetween(s.phaseSince, now),
      whitelist: effectiveWhitelist(s.ladder, s.phase, Object.keys(s.paused)),
      pausedCommandTypes: Object.keys(s.paused).sort(),
      ladder: s.ladder,
      rules: s.rules.map((r) => ({ ...r })),
      attestations: Object.values(s.attestations).map((a) => ({ ...a })),
      unresolvedBreakerEvents: s.breakerEvents.filter((e) => e.resolved === null).map((e) => ({ ...e })),
      pendingProposal: pending ? proposalView(pending) : null,
      lastCycle: s.lastCycle,
      nextScheduledCycle: this.cycles.nextRun()?.toISOString() ?? null,
    };
  }

  @MessagePattern('bifrost.rpc.governance.engines', rpcRoute({ request: object({}) }))
  engines() {
    return {
      engines: this.state
        .enrolled()
        .map((s) => ({ engineId: s.engineId, phase: s.phase, phaseSince: s.phaseSince }))
        .sort((a, b) => a.engineId.localeCompare(b.engineId)),
    };
  }

  @MessagePattern('bifrost.rpc.governance.metrics', rpcRoute({ request: GovernanceMetricsQuery }))
  metrics(@Payload() q: Static<typeof GovernanceMetricsQuery>) {
    const s = this.enrolled(q.engineId);
    return windowMetrics(s.history, q.window ?? '7d', new Date().toISOString(), q.commandType);
  }

  @MessagePattern('bifrost.rpc.governance.readiness', rpcRoute({ request: GovernanceEngineQuery }))
  readiness(@Payload() q: { engineId: string }) {
    const s = this.enrolled(q.engineId);
    return assessReadiness({
      history: s.history,
      phase: s.phase,
      phaseSince: s.phaseSince,
      attestations: s.attestations,
      breakerRules: s.rules,
      now: new Date().toISOString(),
    });
  }

  @MessagePattern('bifrost.rpc.governance.breaker-events', rpcRoute({ request: BreakerEventsQuery }))
  breakerEvents(@Payload() q: Static<typeof BreakerEventsQuery>) {
    const s = this.enrolled(q.engineId);
    const events = s.breakerEvents.filter((e) => !q.unresolvedOnly || e.resolved === null);
    return { events: [...events].reverse().map((e) => ({ ...e })) };
  }

  @MessagePattern('bifrost.rpc.governance.proposals', rpcRoute({ request: ProposalsQuery }))
  proposals(@Payload() q: Static<typeof ProposalsQuery>) {
    const s = this.enrolled(q.engineId);
    const proposals = s.proposals.filter((p) => !q.pendingOnly || p.status === 'PENDING');
    return { proposals: [...proposals].reverse().map(proposalView) };
  }

  @MessagePattern('bifrost.rpc.governance.approvers', rpcRoute({ request: object({}) }))
  approvers() {
    return {
      approvers: Object.entries(this.state.approverRoles())
        .map(([principalId, roles]) => ({ principalId, roles: [...roles] }))
        .sort((a, b) => a.principalId.localeCompare(b.principalId)),
    };
  }

  private enrolled(engineId: string): EnrolledGovernance {
    const s = this.state.engine(engineId);
    if (s.status !== 'enrolled') {
      throw new NotFoundError(`engine ${engineId} is not under governance`, {
        code: 'GOVERNANCE.ENGINE_NOT_ENROLLED',
      });
    }
    return s;
  }
}

function proposalView(p: ProposalState): ProposalView {
  const signed = new Set(p.approvals.map((a) => a.role));
  return {
    ...p.proposal,
    status: p.status,
    approvals: p.approvals.map((a) => ({ ...a })),
    outstanding: p.proposal.requiredApprovals.filter((r) => !signed.has(r)),
    closedAt: p.closedAt,
  };
}
