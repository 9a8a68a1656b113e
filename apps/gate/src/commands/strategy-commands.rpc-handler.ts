import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ApproveRequestCommand,
  IssueTokenCommand,
  OverrideMaturityCommand,
  RegisterStrategyCommand,
  PauseStrategyCommand,
  RegisterBaselineCommand,
  RejectRequestCommand,
  ResumeStrategyCommand,
  RevokeAllTokensCommand,
  RevokeTokenCommand,
  SetStrategyCapitalCommand,
  derivedId,
  type Actor,
} from '@bifrost/contracts';
import { strategyAggregateId, tokenIssuance, type StrategyCommand } from '@bifrost/domain-gate';
import { rpcRoute, uuidv7, type CommandResult } from '@bifrost/messaging';
import { GATE_POLICIES, type GatePolicies } from '../gate.config';
import { GateState } from '../state/gate-state';
import { GateCommands } from './gate-commands.service';

const DEFAULT_APPROVAL_TOKEN_TTL_SECONDS = 15 * 60;

type Addressed = { actor: Actor; engineId: string; strategyId: string };
type Body<C extends StrategyCommand> = Omit<C, 'type' | 'now' | 'actor'>;

/** Operator commands on one strategy, `bifrost.rpc.gate.cmd.strategy.<name>`. */
@Controller()
export class StrategyCommandsRpcHandler {
  constructor(
    @Inject(GateCommands) private readonly commands: GateCommands,
    @Inject(GATE_POLICIES) private readonly policies: GatePolicies,
    @Inject(GateState) private readonly state: GateState,
  ) {}

  /**
   * The command is made when it is decided, under the strategy's lock: its `now` (and anything
   * `body` derives from it) is that moment, not the request's arrival, so an approval that waited
   * for the lock past its expiry is refused as expired.
   */
  private run<C extends StrategyCommand>(
    request: Addressed,
    type: C['type'],
    body: Body<C> | ((now: Date) => Body<C>),
  ): Promise<CommandResult> {
    const command = () => {
      const now = new Date();
      return {
        ...(typeof body === 'function' ? body(now) : body),
        type,
        now: now.toISOString(),
        actor: request.actor,
      } as unknown as StrategyCommand;
    };
    return this.commands.strategy(request.engineId, request.strategyId, command, request.actor);
  }

  @MessagePattern('bifrost.rpc.gate.cmd.strategy.register', rpcRoute({ request: RegisterStrategyCommand }))
  register(@Payload() r: RegisterStrategyCommand) {
    return this.run(r, 'RegisterStrategy', {
      engineId: r.engineId,
      strategyId: r.strategyId,
      ...(r.capital ? { capital: r.capital } : {}),
    });
  }

  @MessagePattern(
    'bifrost.rpc.gate.cmd.strategy.override-maturity',
    rpcRoute({ request: OverrideMaturityCommand }),
  )
  overrideMaturity(@Payload() r: OverrideMaturityCommand) {
    return this.run(r, 'OverrideMaturity', { level: r.level, reason: r.reason });
  }

  @MessagePattern('bifrost.rpc.gate.cmd.strategy.baseline', rpcRoute({ request: RegisterBaselineCommand }))
  registerBaseline(@Payload() r: RegisterBaselineCommand) {
    return this.run(r, 'RegisterBaseline', {
      winRate: r.winRate,
      profitFactor: r.profitFactor,
      ...(r.avgPnl ? { avgPnl: r.avgPnl } : {}),
      ...(r.source ? { source: r.source } : {}),
      ...(r.mayNotLoosen ? { mayNotLoosen: true } : {}),
    });
  }

  @MessagePattern('bifrost.rpc.gate.cmd.strategy.capital', rpcRoute({ request: SetStrategyCapitalCommand }))
  setCapital(@Payload() r: SetStrategyCapitalCommand) {
    return this.run(r, 'SetStrategyCapital', { capital: r.capital });
  }

  @MessagePattern('bifrost.rpc.gate.cmd.strategy.pause', rpcRoute({ request: PauseStrategyCommand }))
  pause(@Payload() r: PauseStrategyCommand) {
    return this.run(r, 'PauseStrategy', {
      reason: r.reason,
      ...(r.cooldownUntil ? { cooldownUntil: r.cooldownUntil } : {}),
    });
  }

  @MessagePattern('bifrost.rpc.gate.cmd.strategy.resume', rpcRoute({ request: ResumeStrategyCommand }))
  resume(@Payload() r: ResumeStrategyCommand) {
    return this.run(r, 'ResumeStrategy', r.reason ? { reason: r.reason } : {});
  }

  @MessagePattern('bifrost.rpc.gate.cmd.strategy.token.issue', rpcRoute({ request: IssueTokenCommand }))
  async issueToken(@Payload() r: IssueTokenCommand): Promise<CommandResult> {
    const tokenId =
      r.tokenId ??
      (r.idempotencyKey === undefined
        ? uuidv7()
        : derivedId(['token', r.engineId, r.strategyId, r.idempotencyKey]));
    const result = await this.run(r, 'IssueToken', {
      tokenId,
      scope: r.scope,
      expiresAt: r.expiresAt,
      singleUse: r.singleUse,
      ...(r.maxNotional ? { maxNotional: r.maxNotional } : {}),
      ...(r.boundActionHash ? { boundActionHash: r.boundActionHash } : {}),
    });
    if (result.events.length > 0) return result;
    // The same issue again (a retry whose reply was lost): answered with the token it issued.
    const strategy = this.state.strategies.get(strategyAggregateId(r.engineId, r.strategyId)).state;
    const issued = tokenIssuance(strategy, tokenId);
    return issued === undefined ? result : { ...result, events: [issued] };
  }

  @MessagePattern('bifrost.rpc.gate.cmd.strategy.token.revoke', rpcRoute({ request: RevokeTokenCommand }))
  revokeToken(@Payload() r: RevokeTokenCommand) {
    return this.run(r, 'RevokeToken', { tokenId: r.tokenId, ...(r.reason ? { reason: r.reason } : {}) });
  }

  @MessagePattern(
    'bifrost.rpc.gate.cmd.strategy.token.revoke-all',
    rpcRoute({ request: RevokeAllTokensCommand }),
  )
  revokeAllTokens(@Payload() r: RevokeAllTokensCommand) {
    return this.run(r, 'RevokeAllTokens', r.reason ? { reason: r.reason } : {});
  }

  @MessagePattern(
    'bifrost.rpc.gate.cmd.strategy.approval.approve',
    rpcRoute({ request: ApproveRequestCommand }),
  )
  approve(@Payload() r: ApproveRequestCommand) {
    // The default never outlives what the policy allows a token (maxTokenTtlMs may be under 15 min).
    const ttl =
      r.tokenTtlSeconds === undefined
        ? Math.min(DEFAULT_APPROVAL_TOKEN_TTL_SECONDS * 1000, this.policies.strategy.maxTokenTtlMs)
        : r.tokenTtlSeconds * 1000;
    const tokenId = uuidv7();
    return this.run(r, 'ApproveRequest', (now) => ({
      approvalId: r.approvalId,
      approver: r.actor.id,
      tokenId,
      tokenExpiresAt: new Date(now.getTime() + ttl).toISOString(),
    }));
  }

  @MessagePattern(
    'bifrost.rpc.gate.cmd.strategy.approval.reject',
    rpcRoute({ request: RejectRequestCommand }),
  )
  reject(@Payload() r: RejectRequestCommand) {
    return this.run(r, 'RejectRequest', {
      approvalId: r.approvalId,
      rejectedBy: r.actor.id,
      ...(r.reason ? { reason: r.reason } : {}),
    });
  }
}
