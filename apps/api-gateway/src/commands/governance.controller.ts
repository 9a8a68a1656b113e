import { Body, Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  AUTONOMY_PHASES,
  CommandReply,
  ApproveProposalCommand,
  AssignApproverRolesCommand,
  BreakerRuleId,
  ChecklistItemId,
  CommandType,
  ConfigureLadderCommand,
  CycleReportSchema,
  EnrollEngineCommand,
  EntityId,
  GovernanceId,
  PrincipalId,
  GovernanceStateView,
  METRIC_WINDOWS,
  ProposalSchema,
  READINESS_STATUSES,
  ReadinessReportSchema,
  RecordAttestationCommand,
  RejectProposalCommand,
  ResolveBreakerEventCommand,
  UpdateBreakerRuleCommand,
  WindowMetricsSchema,
  object,
} from '@bifrost/contracts';
import { KeyStore } from '../auth/key-store.service';
import { actorOf, hasRole, type Principal } from '../auth/roles';
import { ProblemError } from '../http/problem';
import { ApiController, CurrentPrincipal, Route, ValidParams, ValidQuery } from '../http/route';
import { EngineParams } from '../http/schemas';
import { GatewayRpc } from './gateway-rpc.service';

const EngineItemParams = object({ engineId: EntityId, itemId: ChecklistItemId });
const EngineRuleParams = object({ engineId: EntityId, ruleId: BreakerRuleId });
const EngineEventParams = object({ engineId: EntityId, eventId: GovernanceId });
const EngineProposalParams = object({ engineId: EntityId, proposalId: GovernanceId });
const PrincipalParams = object({ principalId: PrincipalId });

const EnrollBody = Type.Omit(EnrollEngineCommand, ['actor', 'engineId'], { additionalProperties: false });
const LadderBody = Type.Omit(ConfigureLadderCommand, ['actor', 'engineId', 'allowWidening'], {
  additionalProperties: false,
});
const AttestBody = Type.Omit(RecordAttestationCommand, ['actor', 'engineId', 'itemId'], {
  additionalProperties: false,
});
const RuleBody = Type.Omit(UpdateBreakerRuleCommand, ['actor', 'engineId', 'ruleId'], {
  additionalProperties: false,
});
const ResolveBody = Type.Omit(ResolveBreakerEventCommand, ['actor', 'engineId', 'eventId'], {
  additionalProperties: false,
});
const ApproveBody = Type.Omit(ApproveProposalCommand, ['actor', 'engineId', 'proposalId'], {
  additionalProperties: false,
});
const RejectBody = Type.Omit(RejectProposalCommand, ['actor', 'engineId', 'proposalId'], {
  additionalProperties: false,
});
const RolesBody = Type.Omit(AssignApproverRolesCommand, ['actor', 'principalId'], {
  additionalProperties: false,
});
const RunCycleBody = object({ engineId: Type.Optional(EntityId) });
const MetricsQuery = object({
  window: Type.Union(
    METRIC_WINDOWS.map((w) => Type.Literal(w)),
    { default: '7d' },
  ),
  commandType: Type.Optional(CommandType),
});

type Readiness = Static<typeof ReadinessReportSchema>;

/**
 * The governance agent live (`bifrost.rpc.governance.*`): engine state, metrics and readiness as the
 * agent computes them now, and every operator command (enrol, attest, rules, breaker events,
 * cycles, proposal approvals). Stored history (reports, events, proposals) is in the reads controller.
 */
@ApiController('governance', 'governance')
export class GovernanceController {
  constructor(
    @Inject(GatewayRpc) private readonly rpc: GatewayRpc,
    @Inject(KeyStore) private readonly keys: KeyStore,
  ) {}

  @Route({
    method: 'GET',
    path: 'engines',
    summary: 'Every engine under governance and its autonomy phase, live from the agent',
    access: 'viewer',
    response: object({
      engines: Type.Array(object({ engineId: EntityId, phase: Type.String(), phaseSince: Type.String() })),
    }),
  })
  engines() {
    return this.rpc.call('bifrost.rpc.governance.engines', {});
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/state',
    summary:
      "An engine's governance state: phase, effective whitelist, rules, attestations, open breaker events, pending proposal",
    access: 'viewer',
    params: EngineParams,
    response: GovernanceStateView,
  })
  state(@ValidParams() params: Static<typeof EngineParams>) {
    return this.rpc.call('bifrost.rpc.governance.state', { engineId: params.engineId });
  }

  @Route({
    method: 'POST',
    path: 'engines/:engineId/enroll',
    summary:
      'Bring an engine under governance at an initial phase (default L3) with the seed ladder or its own (above L3, or backdated: owner)',
    access: 'admin',
    params: EngineParams,
    body: EnrollBody,
    response: CommandReply,
    example: { body: { reason: 'new roaster line', phase: 'L3' } },
  })
  enroll(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineParams>,
    @Body() body: Static<typeof EnrollBody>,
  ) {
    // Starting above the first phase, or backdating it, skips the ladder's evidence and approvals.
    const skipsTheLadder =
      (body.phase !== undefined && body.phase !== AUTONOMY_PHASES[0]) || body.phaseSince !== undefined;
    if (skipsTheLadder && !hasRole(p.role, 'owner')) {
      throw new ProblemError(
        'forbidden',
        `enrolling above ${AUTONOMY_PHASES[0]} or backdated (phaseSince) skips the ladder's evidence and approvals: it needs the owner role`,
        'AUTH.FORBIDDEN',
      );
    }
    return this.rpc.call('bifrost.rpc.governance.cmd.enroll', {
      ...body,
      engineId: params.engineId,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'PUT',
    path: 'engines/:engineId/ladder',
    summary:
      "Change an engine's phase ladder (whitelists, validation periods, required approvals; more command types at the engine's current phase: owner)",
    access: 'admin',
    params: EngineParams,
    body: LadderBody,
    response: CommandReply,
  })
  ladder(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineParams>,
    @Body() body: Static<typeof LadderBody>,
  ) {
    return this.rpc.call('bifrost.rpc.governance.cmd.configure-ladder', {
      ...body,
      engineId: params.engineId,
      actor: actorOf(p),
      // Whitelisting more at the engine's current phase skips a promotion's evidence and approvals.
      allowWidening: hasRole(p.role, 'owner'),
    });
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/metrics',
    summary: "Command and incident metrics over a window ending now (default 7d), from the agent's history",
    access: 'viewer',
    params: EngineParams,
    query: MetricsQuery,
    response: WindowMetricsSchema,
  })
  metrics(@ValidParams() params: Static<typeof EngineParams>, @ValidQuery() q: Static<typeof MetricsQuery>) {
    return this.rpc.call('bifrost.rpc.governance.metrics', {
      engineId: params.engineId,
      window: q.window,
      ...(q.commandType !== undefined ? { commandType: q.commandType } : {}),
    });
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/readiness/current',
    summary: 'Run the 80-point readiness assessment now: score per category, status, every item, blockers',
    access: 'viewer',
    params: EngineParams,
    response: ReadinessReportSchema,
  })
  readiness(@ValidParams() params: Static<typeof EngineParams>) {
    return this.rpc.call('bifrost.rpc.governance.readiness', { engineId: params.engineId });
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/readiness/score',
    summary: 'Just the readiness score now (points of 80, ratio, status)',
    access: 'viewer',
    params: EngineParams,
    response: object({
      score: Type.Integer(),
      maxScore: Type.Literal(80),
      ratio: Type.Number({ minimum: 0, maximum: 1 }),
      status: Type.Union(READINESS_STATUSES.map((s) => Type.Literal(s))),
    }),
    example: { response: { score: 74, maxScore: 80, ratio: 0.925, status: 'ALMOST_READY' } },
  })
  async score(@ValidParams() params: Static<typeof EngineParams>) {
    const report = await this.rpc.call<Readiness>('bifrost.rpc.governance.readiness', {
      engineId: params.engineId,
    });
    return {
      score: report.score,
      maxScore: report.maxScore,
      ratio: report.score / report.maxScore,
      status: report.status,
    };
  }

  @Route({
    method: 'POST',
    path: 'engines/:engineId/readiness/attestations/:itemId',
    summary:
      'Attest a readiness checklist item (attestation items only) with evidence and an optional expiry',
    access: 'operator',
    params: EngineItemParams,
    body: AttestBody,
    response: CommandReply,
    example: {
      body: {
        passed: true,
        evidence: 'https://wiki/runbooks/roaster-1',
        expiresAt: '2027-05-20T17:00:00.000Z',
      },
    },
  })
  attest(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineItemParams>,
    @Body() body: Static<typeof AttestBody>,
  ) {
    return this.rpc.call('bifrost.rpc.governance.cmd.attest', {
      ...body,
      engineId: params.engineId,
      itemId: params.itemId,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'PATCH',
    path: 'engines/:engineId/circuit-breaker/rules/:ruleId',
    summary:
      'Create or change a circuit breaker rule (condition in the rule language, window in whole minutes 1m–60m, action)',
    access: 'admin',
    params: EngineRuleParams,
    body: RuleBody,
    response: CommandReply,
    example: { body: { reason: 'tighter after incident', condition: 'errorRate > 0.03', window: '5m' } },
  })
  updateRule(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineRuleParams>,
    @Body() body: Static<typeof RuleBody>,
  ) {
    return this.rpc.call('bifrost.rpc.governance.cmd.update-rule', {
      ...body,
      engineId: params.engineId,
      ruleId: params.ruleId,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'POST',
    path: 'engines/:engineId/circuit-breaker/events/:eventId/resolve',
    summary: 'Resolve a breaker event (resumes a command type it paused; a revert to L3 stays)',
    access: 'operator',
    params: EngineEventParams,
    body: ResolveBody,
    response: CommandReply,
    example: { body: { note: 'drum motor replaced' } },
  })
  resolve(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineEventParams>,
    @Body() body: Static<typeof ResolveBody>,
  ) {
    return this.rpc.call('bifrost.rpc.governance.cmd.resolve-breaker-event', {
      ...body,
      engineId: params.engineId,
      eventId: params.eventId,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'POST',
    path: 'run-cycle',
    summary:
      'Run the governance cycle now (collect → assess → check breakers → decide → report) for one or every engine',
    access: 'operator',
    body: RunCycleBody,
    response: object({ reports: Type.Array(CycleReportSchema), proposals: Type.Array(ProposalSchema) }),
    example: { body: { engineId: 'roaster-1' } },
  })
  runCycle(@CurrentPrincipal() p: Principal, @Body() body: Static<typeof RunCycleBody>) {
    return this.rpc.call('bifrost.rpc.governance.cmd.run-cycle', { ...body, actor: actorOf(p) });
  }

  @Route({
    method: 'POST',
    path: 'engines/:engineId/proposals/:proposalId/approve',
    summary:
      'Approve a pending expansion proposal as one of its required roles (distinct approvers, no self-approval)',
    access: 'operator',
    params: EngineProposalParams,
    body: ApproveBody,
    response: CommandReply,
    example: { body: { role: 'tech_lead', note: 'metrics reviewed' } },
  })
  approve(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineProposalParams>,
    @Body() body: Static<typeof ApproveBody>,
  ) {
    return this.rpc.call('bifrost.rpc.governance.cmd.approve-proposal', {
      ...body,
      engineId: params.engineId,
      proposalId: params.proposalId,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'POST',
    path: 'engines/:engineId/proposals/:proposalId/reject',
    summary: 'Reject a pending expansion proposal (any holder of one of its required roles)',
    access: 'operator',
    params: EngineProposalParams,
    body: RejectBody,
    response: CommandReply,
    example: { body: { reason: 'wait for the Q1 audit' } },
  })
  reject(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineProposalParams>,
    @Body() body: Static<typeof RejectBody>,
  ) {
    return this.rpc.call('bifrost.rpc.governance.cmd.reject-proposal', {
      ...body,
      engineId: params.engineId,
      proposalId: params.proposalId,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'GET',
    path: 'approvers',
    summary:
      'Principals and the approver roles they hold (tech_lead, ops_lead, product_lead, exec_sponsor); canApprove is false once the key is revoked or expired',
    access: 'viewer',
    response: object({
      approvers: Type.Array(
        object({ principalId: Type.String(), roles: Type.Array(Type.String()), canApprove: Type.Boolean() }),
      ),
    }),
  })
  async approvers() {
    const { approvers } = await this.rpc.call<{ approvers: { principalId: string; roles: string[] }[] }>(
      'bifrost.rpc.governance.approvers',
      {},
    );
    // The roles outlive a revoked key: shown, so an admin sees whom to replace, but marked.
    const usable = await this.keys.approverKeyIds(
      approvers.map((a) => a.principalId),
      new Date(),
    );
    return { approvers: approvers.map((a) => ({ ...a, canApprove: usable.has(a.principalId) })) };
  }

  @Route({
    method: 'PUT',
    path: 'approvers/:principalId',
    summary:
      'Set the approver roles a principal (the id of an active, non-engine API key) holds (admin); roles [] clears them for any id, and anyone may clear their own',
    access: 'operator',
    params: PrincipalParams,
    body: RolesBody,
    response: CommandReply,
    example: { body: { roles: ['tech_lead'], reason: 'joined the roaster team' } },
  })
  async assignRoles(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof PrincipalParams>,
    @Body() body: Static<typeof RolesBody>,
  ) {
    const givingUpOwn = params.principalId === p.id && body.roles.length === 0;
    if (!givingUpOwn && !hasRole(p.role, 'admin')) {
      throw new ProblemError(
        'forbidden',
        `setting another principal's approver roles, or taking one, needs the admin role; the caller is ${p.role} (anyone may give up their own: roles [])`,
        'AUTH.FORBIDDEN',
      );
    }
    if (body.roles.length > 0) {
      await this.keys.assertPersonKey(params.principalId, new Date());
      await this.keys.assertNotOwnIssue(p.id, params.principalId);
    }
    return this.rpc.call('bifrost.rpc.governance.cmd.assign-approver-roles', {
      ...body,
      principalId: params.principalId,
      actor: actorOf(p),
    });
  }
}
