import type { Check, MaturityLevel, VerdictAction } from '@bifrost/contracts';
import { fold } from '@bifrost/event-sourcing';

import { decideCheckEffects, strategyChecks } from './strategy.checks';
import { strategyDecider } from './strategy.decider';
import type { StrategyEvent } from './strategy.events';
import {
  CAPITAL,
  HASH_A,
  HASH_B,
  T0,
  approvalRequested,
  at,
  checkRequest,
  engine,
  mixed,
  outcomeRecorded,
  outcomes,
  overridden,
  paused,
  registered,
  spec,
  tokenIssued,
} from './strategy.fixtures';
import { SETTLED_RETENTION_MS } from './strategy.state';

const stateOf = (history: StrategyEvent[]) => fold(strategyDecider, history);
const checksOf = (history: StrategyEvent[], request = checkRequest(), now = T0, hash = HASH_A) =>
  strategyChecks(stateOf(history), request, hash, now);
const check = (checks: Check[], name: string) => checks.find((c) => c.name === name);
const atLevel = (level: MaturityLevel): StrategyEvent[] =>
  level === 'L0' ? [registered()] : [registered(), overridden('L0', level)];

describe('Strategy checks: maturity', () => {
  describe('When the strategy is unknown', () => {
    it('should check it as a fresh L0 strategy', () => {
      expect(check(strategyChecks(stateOf([]), checkRequest(), HASH_A, T0), 'maturity')).toMatchObject({
        outcome: 'BLOCK',
        value: 'L0',
        threshold: 'L1',
        distanceToTrip: 50,
      });
    });
  });

  describe.each([
    ['L0', 'BLOCK', undefined, /^shadow/],
    ['L1', 'BLOCK', undefined, /^paper/],
    ['L2', 'REQUIRE_APPROVAL', 0.1, /^gated/],
    ['L3', 'REDUCE_SIZE', 0.25, /^constrained/],
    ['L4', 'ALLOW', undefined, /^autonomous/],
  ] as const)('When at %s', (level, outcome, sizeMultiplier, reason) => {
    it(`should answer ${outcome}`, () => {
      const maturity = check(checksOf(atLevel(level)), 'maturity');
      expect(maturity).toMatchObject({ outcome, value: level, reason: expect.stringMatching(reason) });
      expect(maturity?.sizeMultiplier).toBe(sizeMultiplier);
    });
  });

  describe('When at L2 with a valid token bound to this action', () => {
    it('should reduce size to 10 % without approval', () => {
      const history = [...atLevel('L2'), tokenIssued('t-1', { boundActionHash: HASH_A })];
      expect(check(checksOf(history, checkRequest({ tokenId: 't-1' })), 'maturity')).toMatchObject({
        outcome: 'REDUCE_SIZE',
        sizeMultiplier: 0.1,
      });
    });
  });

  describe('When at L2 and the action only reduces exposure', () => {
    it('should require approval with the size the approval grants: not sized, as with the token', () => {
      const request = checkRequest({ action: { kind: 'order.place', intent: 'reduce' } });
      const asked = check(checksOf(atLevel('L2'), request), 'maturity');
      expect(asked).toMatchObject({
        outcome: 'REQUIRE_APPROVAL',
        reason: expect.stringContaining('not sized'),
      });
      expect(asked?.sizeMultiplier).toBeUndefined();
    });
  });

  describe('When at L2 with a valid token not bound to any action', () => {
    it('should still require approval', () => {
      const history = [...atLevel('L2'), tokenIssued('t-1')];
      expect(check(checksOf(history, checkRequest({ tokenId: 't-1' })), 'maturity')?.outcome).toBe(
        'REQUIRE_APPROVAL',
      );
    });
  });

  describe('When at L3 and the action closes exposure', () => {
    it('should not size it', () => {
      const request = checkRequest({ action: { kind: 'order.place', intent: 'close' } });
      expect(check(checksOf(atLevel('L3'), request), 'maturity')?.outcome).toBe('ALLOW');
    });
  });

  describe('When at L1 with 12 outcomes at the level', () => {
    it('should show the outcomes still needed for promotion', () => {
      const history = [...atLevel('L1'), ...outcomes(mixed(6, 100, 6, 50), 'L1')];
      expect(check(checksOf(history), 'maturity')).toMatchObject({
        threshold: 'L2',
        distanceToTrip: 38,
        reason:
          'paper: L1 trades on paper only; promotion to L2: 12/50 outcomes, win rate 0.5000 (needs > 0.45), profit factor 2.0000 (needs > 1.1)',
      });
    });
  });

  describe('When the strategy was demoted and the engine has not been told', () => {
    const history = [
      ...atLevel('L3'),
      outcomeRecorded('o-1', -10_001, 'L3'),
      {
        type: 'MaturityDemoted' as const,
        data: {
          from: 'L3' as const,
          to: 'L2' as const,
          reason: 'drawdown' as const,
          drawdown: 10_001 / CAPITAL,
          lossStreak: 1,
          detail: 'drawdown 10.001 % > 10 %',
          demotedAt: at(1),
        },
      },
    ];

    it('should answer DEMOTE once', () => {
      expect(check(checksOf(history, checkRequest(), at(2)), 'maturity')).toMatchObject({
        outcome: 'DEMOTE',
        value: 'L2',
      });
    });

    const acknowledgement: StrategyEvent = {
      type: 'DemotionAcknowledged',
      data: { from: 'L3', to: 'L2', demotedAt: at(1), acknowledgedAt: at(2) },
    };
    const recordCheck = (verdict: VerdictAction, wouldBe?: VerdictAction) => ({
      type: 'RecordGateCheck' as const,
      request: checkRequest(),
      actionHash: HASH_A,
      verdict,
      ...(wouldBe === undefined ? {} : { wouldBe }),
      approvalId: 'ap-1',
      now: at(2),
      actor: engine,
    });

    it('should acknowledge the demotion with a check answered DEMOTE', () => {
      spec().given(history).when(recordCheck('DEMOTE')).then([acknowledgement]);
    });

    it('should acknowledge it in observe mode too, where the engine is told ALLOW with wouldBe DEMOTE', () => {
      spec().given(history).when(recordCheck('ALLOW', 'DEMOTE')).then([acknowledgement]);
    });

    // The engine is not told of the demotion by a verdict that outranks DEMOTE: the first check
    // after the kill switch is released (or the pause lifted) answers DEMOTE.
    it.each<VerdictAction>(['PAUSE', 'KILL'])(
      'should leave it unacknowledged by a check answered %s',
      (verdict) => {
        spec().given(history).when(recordCheck(verdict)).then([]);
      },
    );

    it('should leave it unacknowledged in observe mode when the would-be verdict is PAUSE', () => {
      spec().given(history).when(recordCheck('ALLOW', 'PAUSE')).then([]);
    });

    it('should leave it unacknowledged in off mode, where the engine is told ALLOW and nothing else', () => {
      spec().given(history).when(recordCheck('ALLOW')).then([]);
    });

    it('should answer at the new level once acknowledged', () => {
      expect(check(checksOf([...history, acknowledgement], checkRequest(), at(3)), 'maturity')?.outcome).toBe(
        'REQUIRE_APPROVAL',
      );
    });
  });

  describe('When an operator lowered the level by hand', () => {
    it('should answer DEMOTE once too', () => {
      expect(check(checksOf([...atLevel('L4'), overridden('L4', 'L1')]), 'maturity')?.outcome).toBe('DEMOTE');
    });
  });
});

describe('Strategy checks: demotions before the engine was told', () => {
  // Under a kill switch or a pause no check answers DEMOTE, so a second lowering can come first.
  const demoted = (from: MaturityLevel, to: MaturityLevel, seconds: number): StrategyEvent => ({
    type: 'MaturityDemoted',
    data: {
      from,
      to,
      reason: 'drawdown',
      drawdown: 15_000 / CAPITAL,
      lossStreak: 1,
      detail: 'drawdown 15 % > 10 %',
      demotedAt: at(seconds),
    },
  });
  const overriddenAt = (from: MaturityLevel, to: MaturityLevel, seconds: number): StrategyEvent => ({
    type: 'MaturityOverridden',
    data: { ...overridden(from, to).data, overriddenAt: at(seconds) },
  });
  const promoted = (from: MaturityLevel, to: MaturityLevel, seconds: number): StrategyEvent => ({
    type: 'MaturityPromoted',
    data: { from, to, evidence: { outcomes: 50, winRate: 0.6, profitFactor: 2 }, promotedAt: at(seconds) },
  });
  const acknowledged = (from: MaturityLevel, to: MaturityLevel, seconds: number): StrategyEvent => ({
    type: 'DemotionAcknowledged',
    data: { from, to, demotedAt: at(seconds), acknowledgedAt: at(9) },
  });
  const recordCheck = {
    type: 'RecordGateCheck' as const,
    request: checkRequest(),
    actionHash: HASH_A,
    verdict: 'DEMOTE' as const,
    approvalId: 'ap-1',
    now: at(9),
    actor: engine,
  };
  const twice = [
    ...atLevel('L4'),
    outcomeRecorded('o-1', -15_000, 'L4', at(1)),
    demoted('L4', 'L3', 1),
    outcomeRecorded('o-2', -15_000, 'L3', at(2)),
    demoted('L3', 'L2', 2),
  ];

  describe('When demoted L4 → L3, then L3 → L2', () => {
    it('should answer DEMOTE from the level the engine last knew, with the latest demotion', () => {
      expect(check(checksOf(twice, checkRequest(), at(9)), 'maturity')).toMatchObject({
        outcome: 'DEMOTE',
        value: 'L2',
        reason: expect.stringMatching(new RegExp(`^demoted L4 → L2 \\(drawdown\\) at ${at(2)};`)),
      });
    });

    it('should acknowledge it as L4 → L2', () => {
      spec()
        .given(twice)
        .when(recordCheck)
        .then([acknowledged('L4', 'L2', 2)]);
    });
  });

  describe('When an operator then lowers it further', () => {
    it('should acknowledge it from the level the engine knew, as an override', () => {
      const history = [...twice, overriddenAt('L2', 'L0', 3)];
      expect(check(checksOf(history, checkRequest(), at(9)), 'maturity')?.reason).toMatch(
        /^demoted L4 → L0 \(override\)/,
      );
      spec()
        .given(history)
        .when(recordCheck)
        .then([acknowledged('L4', 'L0', 3)]);
    });
  });

  describe('When then promoted, still below the level the engine knew', () => {
    it('should keep the demotion pending, to the new level, with its reason and time', () => {
      spec()
        .given([...twice, promoted('L2', 'L3', 3)])
        .when(recordCheck)
        .then([acknowledged('L4', 'L3', 2)]);
    });
  });

  describe('When then raised back to the level the engine knew', () => {
    it('should have nothing to tell', () => {
      const history = [...twice, overriddenAt('L2', 'L4', 3)];
      expect(check(checksOf(history, checkRequest(), at(9)), 'maturity')?.outcome).toBe('ALLOW');
      spec().given(history).when(recordCheck).thenNothingHappened();
    });
  });
});

describe('Strategy checks: demotion headroom', () => {
  describe('When at L3 with a 4 % drawdown and 3 losses in a row', () => {
    const checks = checksOf([...atLevel('L3'), ...outcomes([-1000, -1000, -2000], 'L3')]);

    it('should show the drawdown distance to 10 %', () => {
      expect(check(checks, 'maturity.drawdown')).toMatchObject({
        outcome: 'ALLOW',
        value: 0.04,
        threshold: 0.1,
        distanceToTrip: 0.06,
      });
    });

    it('should show the losses left before the streak trips', () => {
      expect(check(checks, 'maturity.loss-streak')).toMatchObject({
        outcome: 'ALLOW',
        value: 3,
        threshold: 10,
        distanceToTrip: 7,
      });
    });
  });
});

describe('Strategy checks: pause', () => {
  describe('When paused until resumed', () => {
    it('should pause an opening action', () => {
      expect(check(checksOf([registered(), paused()]), 'pause')).toMatchObject({
        outcome: 'PAUSE',
        value: true,
      });
    });

    it.each(['reduce', 'close'] as const)('should let a %s action through', (intent) => {
      const request = checkRequest({ action: { kind: 'order.place', intent } });
      expect(check(checksOf([registered(), paused()], request), 'pause')?.outcome).toBe('ALLOW');
    });
  });

  describe('When paused with a cooldown', () => {
    const history = [registered(), paused(at(600))];

    it('should pause one millisecond before it ends', () => {
      expect(check(checksOf(history, checkRequest(), at(599.999)), 'pause')?.outcome).toBe('PAUSE');
    });

    it('should allow from exactly its end, without a resume', () => {
      expect(check(checksOf(history, checkRequest(), at(600)), 'pause')).toMatchObject({
        outcome: 'ALLOW',
        value: false,
      });
    });
  });
});

describe('Strategy checks: token', () => {
  describe('When no token is presented', () => {
    it('should have no token check', () => {
      expect(check(checksOf([registered()]), 'token')).toBeUndefined();
    });
  });

  describe('When a valid token is presented', () => {
    it('should allow', () => {
      const checks = checksOf([registered(), tokenIssued('t-1')], checkRequest({ tokenId: 't-1' }));
      expect(check(checks, 'token')).toMatchObject({ outcome: 'ALLOW', value: 't-1' });
    });
  });

  describe('When a token bound to another action is presented', () => {
    it('should block with the reason', () => {
      const history = [...atLevel('L2'), tokenIssued('t-1', { boundActionHash: HASH_B })];
      const checks = checksOf(history, checkRequest({ tokenId: 't-1' }));
      expect(check(checks, 'token')).toMatchObject({
        outcome: 'BLOCK',
        reason: 'token refused (wrong-hash): token t-1 is bound to another action',
      });
      expect(check(checks, 'maturity')?.outcome).toBe('REQUIRE_APPROVAL');
    });
  });
});

describe('Check effects', () => {
  const effects = (
    history: StrategyEvent[],
    verdict: Parameters<typeof decideCheckEffects>[1]['verdict'],
    tokenId?: string,
    now = T0,
  ) =>
    decideCheckEffects(stateOf(history), {
      request: checkRequest(tokenId === undefined ? {} : { tokenId }),
      actionHash: HASH_A,
      verdict,
      approvalId: 'ap-new',
      now,
      actor: engine,
    });

  describe('When the strategy is unknown', () => {
    it('should register it at L0', () => {
      expect(effects([], 'BLOCK')).toEqual({ events: [registered(null)], approvalId: null });
    });
  });

  describe('When the action goes ahead on a valid token', () => {
    it.each(['ALLOW', 'REDUCE_SIZE'] as const)('should consume the token on %s', (verdict) => {
      expect(effects([registered(), tokenIssued('t-1')], verdict, 't-1').events).toEqual([
        {
          type: 'TokenConsumed',
          data: { tokenId: 't-1', actionHash: HASH_A, singleUse: true, consumedAt: T0 },
        },
      ]);
    });
  });

  describe('When the action is stopped', () => {
    it.each(['BLOCK', 'PAUSE', 'KILL'] as const)('should keep the token on %s', (verdict) => {
      expect(effects([registered(), tokenIssued('t-1')], verdict, 't-1').events).toEqual([]);
    });
  });

  describe('When a token of the strategy is presented for what it does not cover', () => {
    it('should record the refusal on the token, whatever the verdict', () => {
      const outOfScope = tokenIssued('t-1', { scope: { actionKinds: ['order.cancel'] } });
      expect(effects([registered(), outOfScope], 'BLOCK', 't-1').events).toEqual([
        {
          type: 'TokenRefused',
          data: {
            tokenId: 't-1',
            actionHash: HASH_A,
            reason: 'out-of-scope',
            detail: expect.any(String),
            refusedAt: T0,
          },
        },
      ]);
    });

    it('should record nothing for a token id the strategy never issued', () => {
      expect(effects([registered()], 'BLOCK', 't-made-up').events).toEqual([]);
    });
  });

  describe('When the verdict is REQUIRE_APPROVAL', () => {
    it('should open an approval request for the action hash', () => {
      expect(effects([registered()], 'REQUIRE_APPROVAL')).toEqual({
        events: [{ ...approvalRequested('ap-new', HASH_A, at(900)) }],
        approvalId: 'ap-new',
      });
    });

    it('should reuse the pending request for the same action', () => {
      expect(
        effects([registered(), approvalRequested('ap-1')], 'REQUIRE_APPROVAL', undefined, at(60)),
      ).toEqual({
        events: [],
        approvalId: 'ap-1',
      });
    });

    it('should open its own request for an action other than the pending one', () => {
      const opened = effects([registered(), approvalRequested('ap-1', HASH_B)], 'REQUIRE_APPROVAL');
      expect(opened).toEqual({
        events: [{ ...approvalRequested('ap-new', HASH_A, at(900)) }],
        approvalId: 'ap-new',
      });
    });

    it('should open a new one once the pending one expired', () => {
      expect(
        effects([registered(), approvalRequested('ap-1')], 'REQUIRE_APPROVAL', undefined, at(900)).approvalId,
      ).toBe('ap-new');
    });
  });
});

describe('Settled tokens and approvals', () => {
  describe('When a token has been expired for longer than the retention', () => {
    it('should be dropped from state when a newer token is issued', () => {
      const later = new Date(Date.parse(at(3600)) + SETTLED_RETENTION_MS).toISOString();
      const state = stateOf([registered(), tokenIssued('t-old'), tokenIssued('t-new', { issuedAt: later })]);
      expect(state.status === 'registered' && Object.keys(state.tokens)).toEqual(['t-new']);
    });
  });
});
