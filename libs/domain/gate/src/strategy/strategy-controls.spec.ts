import type { TokenRefusalReason } from '@bifrost/contracts';
import {
  fold,
  ForbiddenError,
  IllegalStateError,
  NotFoundError,
  ValidationError,
} from '@bifrost/event-sourcing';

import { strategyDecider } from './strategy.decider';
import type { StrategyEvent, StrategyEventOf } from './strategy.events';
import { approvalStatus, tokenIssuance } from './strategy.tokens';

import {
  ENGINE_ID,
  HASH_A,
  HASH_B,
  STRATEGY_ID,
  T0,
  approvalRequested,
  at,
  checkRequest,
  engine,
  operator,
  orderAction,
  otherOperator,
  paused,
  registered,
  spec,
  system,
  tokenIssued,
  usd,
} from './strategy.fixtures';

describe('Strategy pauses', () => {
  const pause = (cooldownUntil?: string, actor = operator) => ({
    type: 'PauseStrategy' as const,
    reason: 'news event',
    ...(cooldownUntil === undefined ? {} : { cooldownUntil }),
    now: T0,
    actor,
  });
  const resume = (now = T0) => ({ type: 'ResumeStrategy' as const, now, actor: operator });

  describe('When an operator pauses a running strategy', () => {
    it('should pause it until resumed', () => {
      spec().given([registered()]).when(pause()).then([paused()]);
    });

    it('should pause it with a cooldown', () => {
      spec()
        .given([registered()])
        .when(pause(at(600)))
        .then([paused(at(600))]);
    });
  });

  describe('When the cooldown is not in the future', () => {
    it('should refuse the pause', () => {
      spec().given([registered()]).when(pause(T0)).thenThrows(ValidationError);
    });
  });

  describe('When a caller sends a time that is not a timestamp', () => {
    // Unreachable through the gate: every time it passes is its clock's, or a request's or an
    // event's validated as a Timestamp. A broken caller, refused with no code of its own.
    it('should refuse it as invalid with the generic code', () => {
      spec()
        .given([registered()])
        .when(pause('tomorrow'))
        .thenThrows(
          ValidationError,
          (e) =>
            e.code === 'VALIDATION.FAILED' &&
            e.message === 'cooldownUntil "tomorrow" is not an RFC 3339 timestamp',
        );
    });
  });

  describe('When an engine asks to pause', () => {
    it('should refuse it', () => {
      spec().given([registered()]).when(pause(undefined, engine)).thenThrows(ForbiddenError);
    });
  });

  describe('When the same pause is already in force', () => {
    it('should change nothing', () => {
      spec().given([registered(), paused()]).when(pause()).thenNothingHappened();
    });
  });

  describe('When a pause is already in force', () => {
    it('should not let a pause with a cooldown shorten an open-ended one', () => {
      spec()
        .given([registered(), paused()])
        .when(pause(at(60), system))
        .thenNothingHappened();
    });

    it('should not let an earlier cooldown shorten a later one', () => {
      spec()
        .given([registered(), paused(at(600))])
        .when(pause(at(300)))
        .thenNothingHappened();
    });

    it('should let a later cooldown extend it', () => {
      spec()
        .given([registered(), paused(at(600))])
        .when(pause(at(900), system))
        .then([
          {
            type: 'StrategyPaused',
            data: {
              reason: 'news event',
              drift: null,
              cooldownUntil: at(900),
              pausedBy: 'gate',
              pausedAt: T0,
            },
          },
        ]);
    });

    it('should let an open-ended pause extend one with a cooldown', () => {
      spec()
        .given([registered(), paused(at(600))])
        .when(pause())
        .then([paused()]);
    });
  });

  describe('When an operator resumes a paused strategy', () => {
    it('should resume it', () => {
      spec()
        .given([registered(), paused()])
        .when(resume())
        .then([{ type: 'StrategyResumed', data: { reason: null, resumedBy: 'alice', resumedAt: T0 } }]);
    });

    it('should refuse the system', () => {
      spec()
        .given([registered(), paused()])
        .when({ ...resume(), actor: system })
        .thenThrows(ForbiddenError);
    });
  });

  describe('When the cooldown has passed', () => {
    it('should need no resume: the pause lifted itself at exactly cooldownUntil', () => {
      spec()
        .given([registered(), paused(at(600))])
        .when(resume(at(600)))
        .thenNothingHappened();
    });

    it('should still be resumable one millisecond before', () => {
      spec()
        .given([registered(), paused(at(600))])
        .when(resume(at(599.999)))
        .then([
          { type: 'StrategyResumed', data: { reason: null, resumedBy: 'alice', resumedAt: at(599.999) } },
        ]);
    });
  });

  describe('When the strategy is unknown', () => {
    it('should refuse operator commands', () => {
      spec().when(pause()).thenThrows(NotFoundError);
    });
  });
});

describe('Execution tokens', () => {
  const consume = (
    tokenId: string,
    overrides: Partial<{ actionHash: string; kind: string; notional: number; now: string }> = {},
  ) => ({
    type: 'ConsumeToken' as const,
    tokenId,
    actionHash: overrides.actionHash ?? HASH_A,
    action: {
      kind: overrides.kind ?? 'order.place',
      ...(overrides.notional === undefined ? {} : { notional: usd(overrides.notional) }),
    },
    now: overrides.now ?? at(60),
    actor: engine,
  });
  const consumed = (tokenId: string, singleUse = true, consumedAt = at(60)) => ({
    type: 'TokenConsumed' as const,
    data: { tokenId, actionHash: HASH_A, singleUse, consumedAt },
  });
  const refused = (
    tokenId: string,
    reason: TokenRefusalReason,
    detail: string,
    refusedAt = at(60),
  ): StrategyEventOf<'TokenRefused'> => ({
    type: 'TokenRefused',
    data: { tokenId, actionHash: HASH_A, reason, detail, refusedAt },
  });

  describe('When an operator issues a token', () => {
    it('should record it with its scope, cap, expiry and binding', () => {
      spec()
        .given([registered()])
        .when({
          type: 'IssueToken',
          tokenId: 't-1',
          scope: { actionKinds: ['order.place'] },
          maxNotional: usd(1000),
          expiresAt: at(3600),
          singleUse: true,
          boundActionHash: HASH_A,
          now: T0,
          actor: operator,
        })
        .then([tokenIssued('t-1', { maxNotional: usd(1000), boundActionHash: HASH_A })]);
    });

    it('should refuse an engine', () => {
      spec()
        .given([registered()])
        .when({
          type: 'IssueToken',
          tokenId: 't-1',
          scope: { actionKinds: ['*'] },
          expiresAt: at(3600),
          singleUse: false,
          now: T0,
          actor: engine,
        })
        .thenThrows(ForbiddenError);
    });

    describe('When the same issue is sent again (a retry after a lost reply)', () => {
      const issue = {
        type: 'IssueToken' as const,
        tokenId: 't-1',
        scope: { actionKinds: ['order.place'] },
        maxNotional: usd(1000),
        expiresAt: at(3600),
        singleUse: true,
        now: T0,
        actor: operator,
      };
      const issued = tokenIssued('t-1', { maxNotional: usd(1000) });

      it('should issue nothing more', () => {
        spec()
          .given([registered(), issued])
          .when({ ...issue, now: at(5), actor: otherOperator })
          .thenNothingHappened();
      });

      it('should still have the token as it was issued, to answer the retry with', () => {
        const state = fold(strategyDecider, [registered(), issued]);
        expect(tokenIssuance(state, 't-1')).toEqual(issued);
        expect(tokenIssuance(state, 't-2')).toBeUndefined();
      });

      it('should refuse it with other parameters, saying they must be repeated', () => {
        spec()
          .given([registered(), issued])
          .when({ ...issue, maxNotional: usd(2000) })
          .thenThrows(
            IllegalStateError,
            (e) => e.code === 'GATE.TOKEN_EXISTS' && e.message.includes('must repeat them'),
          );
      });
    });

    it('should refuse a reused id for a different token', () => {
      spec()
        .given([registered(), tokenIssued('t-1')])
        .when({
          type: 'IssueToken',
          tokenId: 't-1',
          scope: { actionKinds: ['*'] },
          expiresAt: at(3600),
          singleUse: true,
          now: T0,
          actor: operator,
        })
        .thenThrows(IllegalStateError, (e) => e.code === 'GATE.TOKEN_EXISTS');
    });

    it('should refuse a reused id for a token of other action kinds, however they would join', () => {
      spec()
        .given([registered(), tokenIssued('t-1', { scope: { actionKinds: ['a\nb'] } })])
        .when({
          type: 'IssueToken',
          tokenId: 't-1',
          scope: { actionKinds: ['a', 'b'] },
          expiresAt: at(3600),
          singleUse: true,
          now: T0,
          actor: operator,
        })
        .thenThrows(IllegalStateError, (e) => e.code === 'GATE.TOKEN_EXISTS');
    });
  });

  describe('When a valid single-use token is consumed', () => {
    it('should consume it', () => {
      spec()
        .given([registered(), tokenIssued('t-1')])
        .when(consume('t-1'))
        .then([consumed('t-1')]);
    });

    it('should refuse it the second time', () => {
      spec()
        .given([registered(), tokenIssued('t-1'), consumed('t-1')])
        .when(consume('t-1'))
        .then([refused('t-1', 'consumed', 'single-use token t-1 was already used')]);
    });
  });

  describe('When a multi-use token is used twice', () => {
    it('should allow both uses', () => {
      spec()
        .given([registered(), tokenIssued('t-1', { singleUse: false }), consumed('t-1', false)])
        .when(consume('t-1'))
        .then([consumed('t-1', false)]);
    });
  });

  describe('When the token cannot be used', () => {
    it('should refuse an unknown token', () => {
      spec()
        .given([registered()])
        .when(consume('t-x'))
        .then([refused('t-x', 'unknown', 'no token t-x for this strategy')]);
    });

    it('should refuse a revoked token', () => {
      spec()
        .given([
          registered(),
          tokenIssued('t-1'),
          { type: 'TokenRevoked', data: { tokenId: 't-1', reason: null, revokedBy: 'alice', revokedAt: T0 } },
        ])
        .when(consume('t-1'))
        .then([refused('t-1', 'revoked', 'token t-1 was revoked')]);
    });

    it('should refuse it at exactly its expiry', () => {
      spec()
        .given([registered(), tokenIssued('t-1', { expiresAt: at(60) })])
        .when(consume('t-1'))
        .then([refused('t-1', 'expired', `token t-1 expired at ${at(60)}`)]);
    });

    it('should accept it one millisecond before its expiry', () => {
      spec()
        .given([registered(), tokenIssued('t-1', { expiresAt: at(60.001) })])
        .when(consume('t-1'))
        .then([consumed('t-1')]);
    });

    it('should refuse an action kind outside its scope', () => {
      spec()
        .given([registered(), tokenIssued('t-1')])
        .when(consume('t-1', { kind: 'order.cancel' }))
        .then([refused('t-1', 'out-of-scope', 'token t-1 does not cover action kind order.cancel')]);
    });

    it('should refuse an action bound to another hash', () => {
      spec()
        .given([registered(), tokenIssued('t-1', { boundActionHash: HASH_B })])
        .when(consume('t-1'))
        .then([refused('t-1', 'wrong-hash', 'token t-1 is bound to another action')]);
    });
  });

  describe('When the token caps notional at 1000', () => {
    const history = [registered(), tokenIssued('t-1', { maxNotional: usd(1000) })];

    it('should accept exactly 1000', () => {
      spec()
        .given(history)
        .when(consume('t-1', { notional: 1000 }))
        .then([consumed('t-1')]);
    });

    it('should refuse 1001', () => {
      spec()
        .given(history)
        .when(consume('t-1', { notional: 1001 }))
        .then([refused('t-1', 'over-notional', "notional 1001 exceeds the token's cap 1000 USD")]);
    });

    it('should refuse an action without a notional', () => {
      spec()
        .given(history)
        .when(consume('t-1'))
        .then([refused('t-1', 'over-notional', 'token t-1 caps notional but the action declares none')]);
    });
  });

  describe('When every token of the strategy is revoked', () => {
    it('should revoke the usable ones in one event', () => {
      spec()
        .given([
          registered(),
          tokenIssued('t-1'),
          tokenIssued('t-2', { singleUse: false }),
          tokenIssued('t-spent'),
          consumed('t-spent'),
          tokenIssued('t-old', { expiresAt: at(10) }),
        ])
        .when({ type: 'RevokeAllTokens', reason: 'incident', now: at(60), actor: operator })
        .then([
          {
            type: 'TokensRevoked',
            data: { tokenIds: ['t-1', 't-2'], reason: 'incident', revokedBy: 'alice', revokedAt: at(60) },
          },
        ]);
    });

    it('should change nothing when none is usable', () => {
      spec()
        .given([registered()])
        .when({ type: 'RevokeAllTokens', now: T0, actor: operator })
        .thenNothingHappened();
    });

    describe('while approval requests are open', () => {
      const history = [
        registered(),
        tokenIssued('t-1'),
        approvalRequested('ap-open'),
        approvalRequested('ap-lapsed', HASH_B, at(30)),
        approvalRequested('ap-rejected', HASH_B),
        {
          type: 'ApprovalRejected' as const,
          data: { approvalId: 'ap-rejected', rejectedBy: 'bob', reason: null, rejectedAt: at(10) },
        },
      ];
      const closed = (reason: string) => ({
        type: 'ApprovalRejected' as const,
        data: { approvalId: 'ap-open', rejectedBy: 'alice', reason, rejectedAt: at(60) },
      });
      const revokeAll = {
        type: 'RevokeAllTokens' as const,
        reason: 'incident',
        now: at(60),
        actor: operator,
      };

      it('should close the open ones too: nothing asked before the revoke may be granted after it', () => {
        spec()
          .given(history)
          .when(revokeAll)
          .then([
            {
              type: 'TokensRevoked',
              data: { tokenIds: ['t-1'], reason: 'incident', revokedBy: 'alice', revokedAt: at(60) },
            },
            closed('every token revoked: incident'),
          ]);
      });

      it('should refuse a later approval of a request it closed, so no token is issued', () => {
        spec()
          .given([...history, closed('every token revoked: incident')])
          .when({
            type: 'ApproveRequest',
            approvalId: 'ap-open',
            approver: otherOperator.id,
            tokenId: 't-late',
            tokenExpiresAt: at(600),
            now: at(70),
            actor: otherOperator,
          })
          .thenThrows(IllegalStateError, (e) => e.code === 'GATE.APPROVAL_NOT_PENDING');
      });

      it('should close them when no token is usable (as a retry finds after an append cut after TokensRevoked)', () => {
        spec()
          .given([registered(), approvalRequested('ap-open')])
          .when({ type: 'RevokeAllTokens', now: at(60), actor: operator })
          .then([closed('every token revoked')]);
      });
    });
  });

  describe('When one token is revoked', () => {
    it('should revoke it', () => {
      spec()
        .given([registered(), tokenIssued('t-1')])
        .when({ type: 'RevokeToken', tokenId: 't-1', now: T0, actor: operator })
        .then([
          { type: 'TokenRevoked', data: { tokenId: 't-1', reason: null, revokedBy: 'alice', revokedAt: T0 } },
        ]);
    });

    it('should refuse an unknown token', () => {
      spec()
        .given([registered()])
        .when({ type: 'RevokeToken', tokenId: 't-x', now: T0, actor: operator })
        .thenThrows(NotFoundError);
    });

    it.each(['constructor', 'toString', '__proto__'])(
      'should refuse the token %p as unknown, not find a member every object has',
      (tokenId) => {
        spec()
          .given([registered()])
          .when({ type: 'RevokeToken', tokenId, now: T0, actor: operator })
          .thenThrows(NotFoundError, (e) => e.code === 'GATE.TOKEN_UNKNOWN');
      },
    );
  });
});

describe('Approvals', () => {
  const approve = (approver = otherOperator, now = at(60)) => ({
    type: 'ApproveRequest' as const,
    approvalId: 'ap-1',
    approver: approver.id,
    tokenId: 't-ap-1',
    tokenExpiresAt: at(600),
    now,
    actor: approver,
  });
  const granted = [
    {
      type: 'ApprovalGranted' as const,
      data: {
        approvalId: 'ap-1',
        approver: 'bob',
        tokenId: 't-ap-1',
        tokenExpiresAt: at(600),
        grantedAt: at(60),
      },
    },
    tokenIssued('t-ap-1', {
      expiresAt: at(600),
      boundActionHash: HASH_A,
      approvalId: 'ap-1',
      issuedBy: 'bob',
      issuedAt: at(60),
    }),
  ];

  describe('When a check is answered REQUIRE_APPROVAL', () => {
    // The only way a request is opened: by the check (`decideCheckEffects`), under the decision's id.
    it('should open a request bound to the action hash, asked by the engine, for approvalTtlMs', () => {
      spec()
        .given([registered()])
        .when({
          type: 'RecordGateCheck',
          request: checkRequest(),
          actionHash: HASH_A,
          verdict: 'REQUIRE_APPROVAL',
          approvalId: 'ap-1',
          now: T0,
          actor: engine,
        })
        .then([approvalRequested('ap-1')]);
    });
  });

  describe('When another operator approves a pending request', () => {
    it('should grant it and issue a single-use token bound to the hash', () => {
      spec()
        .given([registered(), approvalRequested('ap-1')])
        .when(approve())
        .then(granted);
    });

    it.each(['constructor', 'valueOf'])(
      'should refuse the approval request %p as unknown, not find a member every object has',
      (approvalId) => {
        spec()
          .given([registered(), approvalRequested('ap-1')])
          .when({ ...approve(), approvalId })
          .thenThrows(NotFoundError, (e) => e.code === 'GATE.APPROVAL_UNKNOWN');
      },
    );

    it('should issue the token of a grant stored without it (an append cut between its two events) when the grant is repeated', () => {
      spec()
        .given([registered(), approvalRequested('ap-1'), granted[0] as StrategyEvent])
        .when(approve())
        .then([granted[1] as StrategyEvent]);
    });

    it('should issue it under the token id the grant named when the repeat brings another (the RPC mints one per request)', () => {
      spec()
        .given([registered(), approvalRequested('ap-1'), granted[0] as StrategyEvent])
        .when({ ...approve(), tokenId: 't-retry' })
        .then([granted[1] as StrategyEvent]);
      spec()
        .given([registered(), approvalRequested('ap-1'), ...granted])
        .when({ ...approve(), tokenId: 't-retry' })
        .thenThrows(IllegalStateError, (e) => e.code === 'GATE.APPROVAL_NOT_PENDING');
    });

    it('should change nothing when the same grant is repeated', () => {
      spec()
        .given([registered(), approvalRequested('ap-1'), ...granted])
        .when(approve())
        .thenNothingHappened();
    });

    it("should complete a grant stored without its token with the grant's expiry, and only before it", () => {
      const halfStored = [registered(), approvalRequested('ap-1'), granted[0] as StrategyEvent];
      spec()
        .given(halfStored)
        .when({ ...approve(), tokenExpiresAt: at(900) })
        .then([granted[1] as StrategyEvent]);
      spec()
        .given(halfStored)
        .when(approve(otherOperator, at(600)))
        .thenThrows(IllegalStateError, (e) => e.code === 'GATE.APPROVAL_NOT_PENDING');
    });

    it.each([
      [
        'used',
        {
          type: 'TokenConsumed',
          data: { tokenId: 't-ap-1', actionHash: HASH_A, singleUse: true, consumedAt: at(90) },
        },
      ],
      [
        'revoked',
        {
          type: 'TokenRevoked',
          data: { tokenId: 't-ap-1', reason: null, revokedBy: 'alice', revokedAt: at(90) },
        },
      ],
    ] as const)(
      'should not issue again a token %s and since pruned (a day past its expiry) when the grant is repeated',
      (_, ended) => {
        // A token issued a day after the approval token's expiry drops it from the state.
        const later = at(600 + 86_400 + 1);
        spec()
          .given([
            registered(),
            approvalRequested('ap-1'),
            ...granted,
            ended as StrategyEvent,
            tokenIssued('t-later', { issuedAt: later, expiresAt: at(600 + 86_400 + 3600) }),
          ])
          .when(approve(otherOperator, later))
          .thenThrows(IllegalStateError, (e) => e.code === 'GATE.APPROVAL_NOT_PENDING');
      },
    );

    it('should revoke, with every token of the strategy, the token of a grant stored without it', () => {
      const halfStored = [registered(), approvalRequested('ap-1'), granted[0] as StrategyEvent];
      const revoked = {
        type: 'TokensRevoked' as const,
        data: { tokenIds: ['t-ap-1'], reason: null, revokedBy: 'alice', revokedAt: at(70) },
      };
      spec()
        .given(halfStored)
        .when({ type: 'RevokeAllTokens', now: at(70), actor: operator })
        .then([revoked]);
      spec()
        .given([...halfStored, revoked])
        .when(approve(otherOperator, at(80)))
        .thenThrows(IllegalStateError, (e) => e.code === 'GATE.APPROVAL_NOT_PENDING');
    });
  });

  describe('When the requester approves their own request', () => {
    it('should refuse it', () => {
      spec()
        .given([
          registered(),
          { ...approvalRequested('ap-1'), data: { ...approvalRequested('ap-1').data, requestedBy: 'alice' } },
        ])
        .when(approve(operator))
        .thenThrows(ForbiddenError, (e) => e.code === 'GATE.SELF_APPROVAL');
    });
  });

  describe('When the request is one millisecond from its expiry', () => {
    it('should grant it', () => {
      const now = at(59.999);
      spec()
        .given([registered(), approvalRequested('ap-1', HASH_A, at(60))])
        .when(approve(otherOperator, now))
        .then([
          {
            type: 'ApprovalGranted',
            data: {
              approvalId: 'ap-1',
              approver: 'bob',
              tokenId: 't-ap-1',
              tokenExpiresAt: at(600),
              grantedAt: now,
            },
          },
          tokenIssued('t-ap-1', {
            expiresAt: at(600),
            boundActionHash: HASH_A,
            approvalId: 'ap-1',
            issuedBy: 'bob',
            issuedAt: now,
          }),
        ]);
    });
  });

  describe('When the request has expired', () => {
    it('should refuse the approval at exactly its expiry', () => {
      spec()
        .given([registered(), approvalRequested('ap-1', HASH_A, at(60))])
        .when(approve())
        .thenThrows(IllegalStateError, (e) => e.code === 'GATE.APPROVAL_EXPIRED');
    });

    it('should refuse a rejection too: it lapsed, nobody decided it', () => {
      spec()
        .given([registered(), approvalRequested('ap-1', HASH_A, at(60))])
        .when({
          type: 'RejectRequest',
          approvalId: 'ap-1',
          rejectedBy: 'bob',
          now: at(60),
          actor: otherOperator,
        })
        .thenThrows(IllegalStateError, (e) => e.code === 'GATE.APPROVAL_EXPIRED');
    });
  });

  describe('When the request was rejected', () => {
    const rejected = {
      type: 'ApprovalRejected' as const,
      data: { approvalId: 'ap-1', rejectedBy: 'bob', reason: 'too big', rejectedAt: at(30) },
    };

    it('should record the rejection', () => {
      spec()
        .given([registered(), approvalRequested('ap-1')])
        .when({
          type: 'RejectRequest',
          approvalId: 'ap-1',
          rejectedBy: 'bob',
          reason: 'too big',
          now: at(30),
          actor: otherOperator,
        })
        .then([rejected]);
    });

    it('should refuse a later approval', () => {
      spec()
        .given([registered(), approvalRequested('ap-1'), rejected])
        .when(approve())
        .thenThrows(IllegalStateError, (e) => e.code === 'GATE.APPROVAL_NOT_PENDING');
    });
  });

  describe('When the approval token is used', () => {
    const history = [registered(), approvalRequested('ap-1'), ...granted];
    const use = (actionHash: string) => ({
      type: 'ConsumeToken' as const,
      tokenId: 't-ap-1',
      actionHash,
      action: { kind: 'order.place' },
      now: at(120),
      actor: engine,
    });

    it('should be consumed by the approved action', () => {
      spec()
        .given(history)
        .when(use(HASH_A))
        .then([
          {
            type: 'TokenConsumed',
            data: { tokenId: 't-ap-1', actionHash: HASH_A, singleUse: true, consumedAt: at(120) },
          },
        ]);
    });

    it('should be refused for a different action', () => {
      spec()
        .given(history)
        .when(use(HASH_B))
        .then([
          {
            type: 'TokenRefused',
            data: {
              tokenId: 't-ap-1',
              actionHash: HASH_B,
              reason: 'wrong-hash',
              detail: 'token t-ap-1 is bound to another action',
              refusedAt: at(120),
            },
          },
        ]);
    });
  });

  describe('When the engine asks where its request stands', () => {
    const statusAfter = (events: StrategyEvent[], now: string, approvalId = 'ap-1') =>
      approvalStatus(fold(strategyDecider, events), approvalId, now);
    const used = {
      type: 'TokenConsumed' as const,
      data: { tokenId: 't-ap-1', actionHash: HASH_A, singleUse: true, consumedAt: at(120) },
    };

    it('should answer pending, with the action it is bound to and no token', () => {
      expect(statusAfter([registered(), approvalRequested('ap-1')], at(60))).toEqual({
        approvalId: 'ap-1',
        engineId: ENGINE_ID,
        strategyId: STRATEGY_ID,
        status: 'pending',
        actionHash: HASH_A,
        action: orderAction,
        requestedBy: engine.id,
        requestedAt: T0,
        expiresAt: at(900),
        decidedBy: null,
        token: null,
      });
    });

    it('should answer expired at exactly its expiry, and pending one millisecond before', () => {
      const history = [registered(), approvalRequested('ap-1')];
      expect(statusAfter(history, at(900))?.status).toBe('expired');
      const before = new Date(Date.parse(at(900)) - 1).toISOString();
      expect(statusAfter(history, before)?.status).toBe('pending');
    });

    it('should answer granted with the token to present', () => {
      const history = [registered(), approvalRequested('ap-1'), ...granted];
      expect(statusAfter(history, at(300))).toMatchObject({
        status: 'granted',
        decidedBy: 'bob',
        token: { tokenId: 't-ap-1', status: 'active', expiresAt: at(600) },
      });
      // A decided request does not expire: only a pending one does.
      expect(statusAfter(history, at(901))?.status).toBe('granted');
    });

    it('should say when the token was used, revoked or has expired', () => {
      const history = [registered(), approvalRequested('ap-1'), ...granted];
      expect(statusAfter([...history, used], at(130))?.token?.status).toBe('consumed');
      const revoked = {
        type: 'TokenRevoked' as const,
        data: { tokenId: 't-ap-1', revokedBy: 'alice', reason: null, revokedAt: at(90) },
      };
      expect(statusAfter([...history, revoked], at(130))?.token?.status).toBe('revoked');
      expect(statusAfter(history, at(600))?.token?.status).toBe('expired');
    });

    it('should answer rejected, by whom, without a token', () => {
      const rejected = {
        type: 'ApprovalRejected' as const,
        data: { approvalId: 'ap-1', rejectedBy: 'bob', reason: null, rejectedAt: at(30) },
      };
      expect(statusAfter([registered(), approvalRequested('ap-1'), rejected], at(60))).toMatchObject({
        status: 'rejected',
        decidedBy: 'bob',
        token: null,
      });
    });

    it('should not know a request of another strategy or of an unknown one', () => {
      expect(statusAfter([registered(), approvalRequested('ap-1')], at(60), 'ap-2')).toBeUndefined();
      expect(statusAfter([], at(60))).toBeUndefined();
    });
  });
});
