import { Body, Headers, Inject } from '@nestjs/common';
import { Type, type Static, type TObject } from '@sinclair/typebox';
import {
  ApprovalId,
  ApproveRequestCommand,
  CommandReply,
  compile,
  FactKey,
  IssueTokenCommand,
  OverrideMaturityCommand,
  PauseStrategyCommand,
  RegisterBaselineCommand,
  RegisterStrategyCommand,
  RejectRequestCommand,
  ResumeStrategyCommand,
  RevokeAllTokensCommand,
  RevokeTokenCommand,
  SetStrategyCapitalCommand,
  TokenId,
  object,
} from '@bifrost/contracts';
import { actorOf, hasRole, type Principal } from '../auth/roles';
import { IDEMPOTENCY_KEY_HEADER } from '../engine/engine.controller';
import { ProblemError } from '../http/problem';
import { ApiController, CurrentPrincipal, Route, ValidParams, type Access } from '../http/route';
import { exampleReply, StrategyParams } from '../http/schemas';
import { GatewayRpc } from './gateway-rpc.service';

const bodyOf = <S extends TObject>(schema: S, extra: string[] = []) =>
  Type.Omit(schema, ['actor', 'engineId', 'strategyId', ...extra]);

const TokenParams = object({
  ...StrategyParams.properties,
  tokenId: TokenId,
});
const ApprovalParams = object({
  ...StrategyParams.properties,
  approvalId: ApprovalId,
});

const MaturityBody = bodyOf(OverrideMaturityCommand);
const BaselineBody = bodyOf(RegisterBaselineCommand, ['mayNotLoosen']);
const CapitalBody = bodyOf(SetStrategyCapitalCommand);
const PauseBody = bodyOf(PauseStrategyCommand);
const ResumeBody = bodyOf(ResumeStrategyCommand);
const IssueTokenBody = bodyOf(IssueTokenCommand);
const RevokeTokenBody = bodyOf(RevokeTokenCommand, ['tokenId']);
const RevokeAllBody = bodyOf(RevokeAllTokensCommand);
const ApproveBody = bodyOf(ApproveRequestCommand, ['approvalId']);
const RejectBody = bodyOf(RejectRequestCommand, ['approvalId']);
const RegisterBody = Type.Omit(RegisterStrategyCommand, ['actor']);

/** The standard header for the body's `idempotencyKey` of a token issue (clients and proxies that retry send it). */
const IssueTokenHeaders = object({
  [IDEMPOTENCY_KEY_HEADER]: Type.Optional({
    ...FactKey,
    description:
      'The same as the body field idempotencyKey (1 to 200 characters, not only spaces), for clients that send ' +
      'it as a header: the token id is derived from it, so an issue sent again with the same key answers with ' +
      'the token first issued, and one with other parameters is 409 GATE.TOKEN_EXISTS. Both given and ' +
      'different: 400 REQUEST.INVALID.',
    examples: ['rotation-2026-11-21'],
  }),
});
const validIssueTokenHeaders = compile(IssueTokenHeaders);

const strategyRoute = (
  path: string,
  summary: string,
  access: Access,
  body: TObject,
  exampleBody: Record<string, unknown>,
  params: TObject = StrategyParams,
  headers?: TObject,
) =>
  Route({
    method: 'POST',
    path: `:engineId/:strategyId/${path}`,
    summary,
    access,
    params,
    ...(headers ? { headers } : {}),
    body,
    response: CommandReply,
    example: { body: exampleBody },
  });

/** Strategy commands: `bifrost.rpc.gate.cmd.strategy.*`, attributed to the caller. */
@ApiController('strategies', 'strategies')
export class StrategiesController {
  constructor(@Inject(GatewayRpc) private readonly rpc: GatewayRpc) {}

  private send(operation: string, principal: Principal, params: object, body: object): Promise<unknown> {
    return this.rpc.call(`bifrost.rpc.gate.cmd.strategy.${operation}`, {
      ...body,
      ...params,
      actor: actorOf(principal),
    });
  }

  @Route({
    method: 'POST',
    path: '',
    summary: 'Register a strategy at L0 before its first check (with its capital: admin only)',
    access: 'operator',
    body: RegisterBody,
    response: CommandReply,
    example: {
      body: {
        engineId: 'wholesale-bot',
        strategyId: 'mean-revert',
        capital: { amount: 10_000_000, currency: 'USD' },
      },
      response: exampleReply('StrategyRegistered', { engineId: 'wholesale-bot', strategyId: 'mean-revert' }),
    },
  })
  register(@CurrentPrincipal() p: Principal, @Body() body: Static<typeof RegisterBody>) {
    // Capital is the admin's to set (a large one shrinks drawdowns and so avoids demotions).
    if (body.capital !== undefined && !hasRole(p.role, 'admin')) {
      throw new ProblemError(
        'forbidden',
        'registering a strategy with its capital needs the admin role: register it without, an admin sets the capital',
        'AUTH.FORBIDDEN',
      );
    }
    return this.send('register', p, {}, body);
  }

  @strategyRoute('maturity', 'Override the maturity level (L0..L4)', 'admin', MaturityBody, {
    level: 'L3',
    reason: 'seasoned on another venue',
  })
  overrideMaturity(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: object,
    @Body() body: Static<typeof MaturityBody>,
  ) {
    return this.send('override-maturity', p, params, body);
  }

  @strategyRoute(
    'baseline',
    'Register the backtest baseline drift is measured against (lowering it: admin)',
    'operator',
    BaselineBody,
    {
      winRate: 0.55,
      profitFactor: 1.4,
      source: 'backtest 2026-10',
    },
  )
  registerBaseline(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: object,
    @Body() body: Static<typeof BaselineBody>,
  ) {
    return this.send('baseline', p, params, { ...body, mayNotLoosen: !hasRole(p.role, 'admin') });
  }

  @strategyRoute('capital', 'Set the capital drawdown is measured on', 'admin', CapitalBody, {
    capital: { amount: 10_000_000, currency: 'USD' },
  })
  setCapital(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: object,
    @Body() body: Static<typeof CapitalBody>,
  ) {
    return this.send('capital', p, params, body);
  }

  @strategyRoute(
    'pause',
    'Pause a strategy until resumed or until the cooldown passes',
    'operator',
    PauseBody,
    {
      reason: 'drift above 50 %',
    },
  )
  pause(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: object,
    @Body() body: Static<typeof PauseBody>,
  ) {
    return this.send('pause', p, params, body);
  }

  @strategyRoute('resume', 'Resume a paused strategy', 'operator', ResumeBody, {
    reason: 'baseline refreshed',
  })
  resume(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: object,
    @Body() body: Static<typeof ResumeBody>,
  ) {
    return this.send('resume', p, params, body);
  }

  @strategyRoute(
    'tokens',
    'Issue an execution token (scope, TTL of at most the gate’s maxTokenTtlMs, 24 h by default, else 422 GATE.TOKEN_TTL_TOO_LONG; optional single use and notional cap; safe to send again with an idempotencyKey or the Idempotency-Key header)',
    'admin',
    IssueTokenBody,
    {
      scope: { actionKinds: ['order.place'] },
      expiresAt: '2026-11-21T23:00:00.000Z',
      singleUse: true,
      idempotencyKey: 'rotation-2026-11-21',
    },
    StrategyParams,
    IssueTokenHeaders,
  )
  issueToken(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: object,
    @Body() body: Static<typeof IssueTokenBody>,
    @Headers(IDEMPOTENCY_KEY_HEADER) header: string | undefined,
  ) {
    return this.send('token.issue', p, params, withIdempotencyKey(body, header));
  }

  @strategyRoute(
    'tokens/:tokenId/revoke',
    'Revoke one execution token',
    'operator',
    RevokeTokenBody,
    { reason: 'leaked' },
    TokenParams,
  )
  revokeToken(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: object,
    @Body() body: Static<typeof RevokeTokenBody>,
  ) {
    return this.send('token.revoke', p, params, body);
  }

  @strategyRoute('tokens/revoke-all', 'Revoke every token of the strategy', 'operator', RevokeAllBody, {
    reason: 'rotation',
  })
  revokeAllTokens(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: object,
    @Body() body: Static<typeof RevokeAllBody>,
  ) {
    return this.send('token.revoke-all', p, params, body);
  }

  @strategyRoute(
    'approvals/:approvalId/approve',
    'Approve a REQUIRE_APPROVAL request: the engine gets a single-use token bound to the action hash (nobody approves their own request)',
    'operator',
    ApproveBody,
    { tokenTtlSeconds: 900 },
    ApprovalParams,
  )
  approve(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: object,
    @Body() body: Static<typeof ApproveBody>,
  ) {
    return this.send('approval.approve', p, params, body);
  }

  @strategyRoute(
    'approvals/:approvalId/reject',
    'Reject an approval request',
    'operator',
    RejectBody,
    { reason: 'too large' },
    ApprovalParams,
  )
  reject(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: object,
    @Body() body: Static<typeof RejectBody>,
  ) {
    return this.send('approval.reject', p, params, body);
  }
}

/**
 * The body with the Idempotency-Key header as its `idempotencyKey` when it has none. A header that is
 * no such key, or that names another key than the body, is refused: either could be the retry's.
 */
function withIdempotencyKey(body: { idempotencyKey?: string }, header: string | undefined): object {
  if (header === undefined) return body;
  const checked = validIssueTokenHeaders({ [IDEMPOTENCY_KEY_HEADER]: header });
  if (!checked.ok) {
    throw new ProblemError(
      'invalid',
      `header ${IDEMPOTENCY_KEY_HEADER} must hold 1 to 200 characters, not only spaces`,
      'REQUEST.INVALID',
      {},
      checked.issues,
    );
  }
  if (body.idempotencyKey !== undefined && body.idempotencyKey !== header) {
    throw new ProblemError(
      'invalid',
      `the ${IDEMPOTENCY_KEY_HEADER} header and the body's idempotencyKey differ: send one, or the same in both`,
      'REQUEST.INVALID',
    );
  }
  return { ...body, idempotencyKey: header };
}
