import { ValidationError } from '@bifrost/event-sourcing';

import { strategyPolicy } from './strategy.policy';
import {
  HASH_A,
  T0,
  approvalRequested,
  engine,
  operator,
  otherOperator,
  registered,
  spec,
  tokenIssued,
} from './strategy.fixtures';

const DAY_MS = 24 * 60 * 60 * 1000;
const YEAR_9999 = '9999-12-31T23:59:59.999Z';

/** `T0` plus `ms` milliseconds. */
const afterT0 = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

const tooLong = (e: ValidationError) => e.code === 'GATE.TOKEN_TTL_TOO_LONG';

describe('Execution token lifetime', () => {
  const issue = (expiresAt: string, singleUse = false) => ({
    type: 'IssueToken' as const,
    tokenId: 't-1',
    scope: { actionKinds: ['*'] },
    expiresAt,
    singleUse,
    now: T0,
    actor: operator,
  });
  const issued = (expiresAt: string) =>
    tokenIssued('t-1', { scope: { actionKinds: ['*'] }, expiresAt, singleUse: false });

  describe('When an operator issues a token under the default policy (24 h at most)', () => {
    it('should issue one that lives exactly 24 h', () => {
      spec()
        .given([registered()])
        .when(issue(afterT0(DAY_MS)))
        .then([issued(afterT0(DAY_MS))]);
    });

    it('should refuse one that lives 24 h and one millisecond, naming the latest expiry allowed', () => {
      spec()
        .given([registered()])
        .when(issue(afterT0(DAY_MS + 1)))
        .thenThrows(ValidationError, (e) => {
          expect(e.code).toBe('GATE.TOKEN_TTL_TOO_LONG');
          expect(e.message).toBe(
            `expiresAt ${afterT0(DAY_MS + 1)} is too far ahead: a token lives at most ${DAY_MS} ms (maxTokenTtlMs), so expiresAt may be ${afterT0(DAY_MS)} at the latest`,
          );
          expect(e.details).toEqual({ maxTokenTtlMs: DAY_MS, latestExpiresAt: afterT0(DAY_MS) });
        });
    });

    it('should refuse a multi-use token until the year 9999', () => {
      spec().given([registered()]).when(issue(YEAR_9999)).thenThrows(ValidationError, tooLong);
    });
  });

  describe('When the policy caps tokens at one hour', () => {
    const hourly = strategyPolicy({ maxTokenTtlMs: 3_600_000 });

    it('should issue one that lives exactly one hour', () => {
      spec(hourly)
        .given([registered()])
        .when(issue(afterT0(3_600_000)))
        .then([issued(afterT0(3_600_000))]);
    });

    it('should refuse one millisecond more', () => {
      spec(hourly)
        .given([registered()])
        .when(issue(afterT0(3_600_001)))
        .thenThrows(ValidationError, tooLong);
    });
  });

  describe('When an operator approves a request', () => {
    const hourly = strategyPolicy({ maxTokenTtlMs: 3_600_000 });
    const approve = (tokenExpiresAt: string) => ({
      type: 'ApproveRequest' as const,
      approvalId: 'ap-1',
      approver: otherOperator.id,
      tokenId: 't-ap-1',
      tokenExpiresAt,
      now: T0,
      actor: otherOperator,
    });

    it('should grant a token that lives exactly the maximum', () => {
      spec(hourly)
        .given([registered(), approvalRequested('ap-1')])
        .when(approve(afterT0(3_600_000)))
        .then([
          {
            type: 'ApprovalGranted',
            data: {
              approvalId: 'ap-1',
              approver: otherOperator.id,
              tokenId: 't-ap-1',
              tokenExpiresAt: afterT0(3_600_000),
              grantedAt: T0,
            },
          },
          tokenIssued('t-ap-1', {
            expiresAt: afterT0(3_600_000),
            boundActionHash: HASH_A,
            approvalId: 'ap-1',
            issuedBy: otherOperator.id,
          }),
        ]);
    });

    it('should refuse the grant when its token would live one millisecond more', () => {
      spec(hourly)
        .given([registered(), approvalRequested('ap-1')])
        .when(approve(afterT0(3_600_001)))
        .thenThrows(ValidationError, tooLong);
    });
  });

  describe('When the policy lets tokens live three days, longer than approvals are kept once expired', () => {
    const threeDays = strategyPolicy({ maxTokenTtlMs: 3 * DAY_MS });
    const tokenExpiresAt = afterT0(3 * DAY_MS);
    const granted = {
      type: 'ApprovalGranted' as const,
      data: {
        approvalId: 'ap-1',
        approver: otherOperator.id,
        tokenId: 't-ap-1',
        tokenExpiresAt,
        grantedAt: T0,
      },
    };
    // Two days on (its request expired 15 min after T0), another request prunes what ended a day ago.
    const later = {
      type: 'ApprovalRequested' as const,
      data: {
        ...approvalRequested('ap-2').data,
        expiresAt: afterT0(2 * DAY_MS + 900_000),
        requestedAt: afterT0(2 * DAY_MS),
      },
    };
    const approveAgain = {
      type: 'ApproveRequest' as const,
      approvalId: 'ap-1',
      approver: otherOperator.id,
      tokenId: 't-ap-1',
      tokenExpiresAt,
      now: afterT0(2 * DAY_MS + 1000),
      actor: otherOperator,
    };

    it('should keep the approval while its token lives: the grant again is answered, not unknown', () => {
      spec(threeDays)
        .given([
          registered(),
          approvalRequested('ap-1'),
          granted,
          tokenIssued('t-ap-1', {
            expiresAt: tokenExpiresAt,
            boundActionHash: HASH_A,
            approvalId: 'ap-1',
            issuedBy: otherOperator.id,
          }),
          later,
        ])
        .when(approveAgain)
        .then([]);
    });

    it('should still complete a grant stored without its token two days later', () => {
      spec(threeDays)
        .given([registered(), approvalRequested('ap-1'), granted, later])
        .when(approveAgain)
        .then([
          tokenIssued('t-ap-1', {
            expiresAt: tokenExpiresAt,
            boundActionHash: HASH_A,
            approvalId: 'ap-1',
            issuedBy: otherOperator.id,
            issuedAt: afterT0(2 * DAY_MS + 1000),
          }),
        ]);
    });
  });

  describe('When a token issued before the cap lives until the year 9999', () => {
    const history = [registered(), issued(YEAR_9999)];

    it('should still be usable: events are facts, the cap applies to new commands', () => {
      spec()
        .given(history)
        .when({
          type: 'ConsumeToken',
          tokenId: 't-1',
          actionHash: HASH_A,
          action: { kind: 'order.place' },
          now: afterT0(400 * DAY_MS),
          actor: engine,
        })
        .then([
          {
            type: 'TokenConsumed',
            data: { tokenId: 't-1', actionHash: HASH_A, singleUse: false, consumedAt: afterT0(400 * DAY_MS) },
          },
        ]);
    });

    it('should be revocable', () => {
      spec()
        .given(history)
        .when({ type: 'RevokeToken', tokenId: 't-1', now: T0, actor: operator })
        .then([
          { type: 'TokenRevoked', data: { tokenId: 't-1', reason: null, revokedBy: 'alice', revokedAt: T0 } },
        ]);
    });

    it('should answer the same issue command sent again with nothing, not a refusal', () => {
      spec().given(history).when(issue(YEAR_9999)).thenNothingHappened();
    });
  });
});
