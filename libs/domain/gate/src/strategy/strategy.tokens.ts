import { own } from '../own';
import type { ApprovalStatus, GateAction, GateApprovalReply, TokenRefusalReason } from '@bifrost/contracts';

import type { StrategyEventOf } from './strategy.events';
import type { StrategyState, TokenRecord } from './strategy.state';
import { millis } from './strategy.time';

export type TokenAssessment =
  | { readonly valid: true; readonly token: TokenRecord }
  | { readonly valid: false; readonly reason: TokenRefusalReason; readonly detail: string };

const refuse = (reason: TokenRefusalReason, detail: string): TokenAssessment => ({
  valid: false,
  reason,
  detail,
});

/**
 * Whether `tokenId` may authorise this action now. The order of the tests makes the reason the
 * most fundamental one (a revoked token is reported revoked even if it also expired). A token
 * expires at `expiresAt` exactly.
 */
export function assessToken(
  state: StrategyState,
  tokenId: string,
  action: Pick<GateAction, 'kind' | 'notional'>,
  actionHash: string,
  now: string,
): TokenAssessment {
  const token = state.status === 'registered' ? own(state.tokens, tokenId) : undefined;
  if (token === undefined) return refuse('unknown', `no token ${tokenId} for this strategy`);
  if (token.status === 'revoked') return refuse('revoked', `token ${tokenId} was revoked`);
  if (token.status === 'consumed') return refuse('consumed', `single-use token ${tokenId} was already used`);
  if (millis(now, 'now') >= millis(token.expiresAt)) {
    return refuse('expired', `token ${tokenId} expired at ${token.expiresAt}`);
  }
  if (token.boundActionHash !== null && token.boundActionHash !== actionHash) {
    return refuse('wrong-hash', `token ${tokenId} is bound to another action`);
  }
  if (!token.actionKinds.includes('*') && !token.actionKinds.includes(action.kind)) {
    return refuse('out-of-scope', `token ${tokenId} does not cover action kind ${action.kind}`);
  }
  const max = token.maxNotional;
  if (max !== null) {
    const notional = action.notional;
    if (notional === undefined) {
      return refuse('over-notional', `token ${tokenId} caps notional but the action declares none`);
    }
    if (notional.currency !== max.currency) {
      return refuse(
        'over-notional',
        `token ${tokenId} caps notional in ${max.currency}, action is in ${notional.currency}`,
      );
    }
    if (Math.abs(notional.amount) > max.amount) {
      return refuse(
        'over-notional',
        `notional ${Math.abs(notional.amount)} exceeds the token's cap ${max.amount} ${max.currency}`,
      );
    }
  }
  return { valid: true, token };
}

/**
 * Where approval `approvalId` of this strategy stands at `now`, with the token a grant issued:
 * what an engine asks after a REQUIRE_APPROVAL verdict. Undefined when the strategy does not know
 * it (never requested, or dropped a day after it expired).
 */
export function approvalStatus(
  state: StrategyState,
  approvalId: string,
  now: string,
): GateApprovalReply | undefined {
  if (state.status !== 'registered') return undefined;
  const approval = own(state.approvals, approvalId);
  if (approval === undefined) return undefined;
  const past = (instant: string) => millis(now, 'now') >= millis(instant);
  const status: ApprovalStatus =
    approval.status === 'pending' ? (past(approval.expiresAt) ? 'expired' : 'pending') : approval.status;
  const token = approval.tokenId === null ? undefined : own(state.tokens, approval.tokenId);
  return {
    approvalId,
    engineId: state.engineId,
    strategyId: state.strategyId,
    status,
    actionHash: approval.actionHash,
    action: approval.action,
    requestedBy: approval.requestedBy,
    requestedAt: approval.requestedAt,
    expiresAt: approval.expiresAt,
    decidedBy: approval.decidedBy,
    token:
      token === undefined
        ? null
        : {
            tokenId: token.tokenId,
            status: token.status === 'active' && past(token.expiresAt) ? 'expired' : token.status,
            expiresAt: token.expiresAt,
          },
  };
}

/**
 * The `TokenIssued` that issued `tokenId` on this strategy, rebuilt from state (undefined when the
 * strategy does not have it): what a repeated issue, which appends nothing, is answered with.
 */
export function tokenIssuance(
  state: StrategyState,
  tokenId: string,
): StrategyEventOf<'TokenIssued'> | undefined {
  const token = state.status === 'registered' ? own(state.tokens, tokenId) : undefined;
  if (token === undefined) return undefined;
  const { actionKinds, maxNotional, expiresAt, singleUse, boundActionHash, approvalId, issuedBy, issuedAt } =
    token;
  return {
    type: 'TokenIssued',
    data: {
      tokenId,
      scope: { actionKinds: [...actionKinds] },
      maxNotional,
      expiresAt,
      singleUse,
      boundActionHash,
      approvalId,
      issuedBy,
      issuedAt,
    },
  };
}
