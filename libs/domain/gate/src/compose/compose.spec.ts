import { VERDICT_ACTIONS, type ActionIntent, type Check, type VerdictAction } from '@bifrost/contracts';
import { fold } from '@bifrost/event-sourcing';
import { classifyImpact, impactCheck } from '../classifiers';
import { controlChecks, controlPlane, type ControlEvent } from '../control';
import {
  decideCheckEffects,
  maturityIndex,
  strategyChecks,
  strategyDecider,
  type StrategyEvent,
} from '../strategy';
import {
  ENGINE_ID,
  HASH_A,
  at,
  checkRequest,
  engine,
  operator,
  orderAction,
  overridden,
  paused,
  registered,
} from '../strategy/strategy.fixtures';
import { composeVerdict } from './compose';

describe('Verdict composition', () => {
  describe('When every check allows', () => {
    it('should ALLOW at full size', () => {
      expect(composeVerdict([check('ALLOW'), check('ALLOW')], 'enforce')).toEqual({
        action: 'ALLOW',
        sizeMultiplier: 1,
      });
    });
  });

  describe('Ranking', () => {
    it('should rank the actions ALLOW < REDUCE_SIZE < REQUIRE_APPROVAL < BLOCK < DEMOTE < PAUSE < KILL', () => {
      // Written out: the cases below derive from VERDICT_ACTIONS, as the code does, so they cannot catch a reordering.
      expect(VERDICT_ACTIONS).toEqual([
        'ALLOW',
        'REDUCE_SIZE',
        'REQUIRE_APPROVAL',
        'BLOCK',
        'DEMOTE',
        'PAUSE',
        'KILL',
      ]);
    });

    // Every neighbouring pair of the ranking, through the real composition, in both orders.
    it.each<[VerdictAction, VerdictAction, VerdictAction]>([
      ['ALLOW', 'REDUCE_SIZE', 'REDUCE_SIZE'],
      ['REDUCE_SIZE', 'REQUIRE_APPROVAL', 'REQUIRE_APPROVAL'],
      ['BLOCK', 'REQUIRE_APPROVAL', 'BLOCK'],
      ['DEMOTE', 'BLOCK', 'DEMOTE'],
      ['DEMOTE', 'PAUSE', 'PAUSE'],
      ['KILL', 'PAUSE', 'KILL'],
    ])('should compose %s with %s into %s', (a, b, expected) => {
      expect(composeVerdict([check(a), check(b)], 'enforce').action).toBe(expected);
      expect(composeVerdict([check(b), check(a)], 'enforce').action).toBe(expected);
    });
  });

  describe('When checks disagree', () => {
    it.each(VERDICT_ACTIONS.map((action) => [action]))(
      'should let %s win over everything more permissive',
      (action) => {
        const permissive = VERDICT_ACTIONS.slice(0, VERDICT_ACTIONS.indexOf(action)).map((a) => check(a));
        expect(composeVerdict([...permissive, check(action), ...permissive], 'enforce').action).toBe(action);
      },
    );

    it('should not depend on the order of the checks', () => {
      const checks = [check('PAUSE'), check('REDUCE_SIZE', 0.5), check('REQUIRE_APPROVAL')];
      expect(composeVerdict(checks, 'enforce')).toEqual(composeVerdict([...checks].reverse(), 'enforce'));
    });
  });

  describe('Size multiplier', () => {
    it('should take the minimum of the multipliers', () => {
      expect(
        composeVerdict([check('REDUCE_SIZE', 0.5), check('REDUCE_SIZE', 0.25), check('ALLOW')], 'enforce'),
      ).toEqual({
        action: 'REDUCE_SIZE',
        sizeMultiplier: 0.25,
      });
    });

    it('should keep exactly 1 as ALLOW', () => {
      expect(composeVerdict([check('ALLOW', 1)], 'enforce')).toEqual({ action: 'ALLOW', sizeMultiplier: 1 });
    });

    it('should turn an ALLOW with a multiplier below 1 into REDUCE_SIZE', () => {
      expect(composeVerdict([check('ALLOW', 0.9999)], 'enforce')).toEqual({
        action: 'REDUCE_SIZE',
        sizeMultiplier: 0.9999,
      });
    });

    it('should carry the multiplier with REQUIRE_APPROVAL', () => {
      expect(composeVerdict([check('REQUIRE_APPROVAL'), check('REDUCE_SIZE', 0.1)], 'enforce')).toEqual({
        action: 'REQUIRE_APPROVAL',
        sizeMultiplier: 0.1,
      });
    });

    it.each<VerdictAction>(['BLOCK', 'DEMOTE', 'PAUSE', 'KILL'])('should be 0 under %s', (action) => {
      expect(composeVerdict([check('REDUCE_SIZE', 0.5), check(action)], 'enforce').sizeMultiplier).toBe(0);
    });

    it.each([0, -0.5, Number.NaN])('should BLOCK on a multiplier of %s (fail safe)', (multiplier) => {
      expect(composeVerdict([check('REDUCE_SIZE', multiplier)], 'enforce')).toEqual({
        action: 'BLOCK',
        sizeMultiplier: 0,
      });
    });
  });

  describe('When a check has an outcome outside the vocabulary', () => {
    // Names an ordinary object inherits are outside the vocabulary too.
    it.each(['MAYBE', 'toString', 'constructor', '__proto__', 'hasOwnProperty'])(
      'should BLOCK on %s (fail safe)',
      (outcome) => {
        expect(composeVerdict([check('ALLOW'), check(outcome as VerdictAction)], 'enforce')).toEqual({
          action: 'BLOCK',
          sizeMultiplier: 0,
        });
      },
    );
  });

  describe('When there are no checks', () => {
    it('should BLOCK (no evidence, no action)', () => {
      expect(composeVerdict([], 'enforce')).toEqual({ action: 'BLOCK', sizeMultiplier: 0 });
    });
  });

  describe('When the engine is in observe mode', () => {
    it('should ALLOW at full size with the would-be verdict', () => {
      expect(composeVerdict([check('PAUSE')], 'observe')).toEqual({
        action: 'ALLOW',
        sizeMultiplier: 1,
        wouldBe: { action: 'PAUSE', sizeMultiplier: 0 },
      });
    });

    it('should still KILL: the kill switch binds in every mode', () => {
      expect(composeVerdict([check('ALLOW'), check('KILL')], 'observe')).toEqual({
        action: 'KILL',
        sizeMultiplier: 0,
      });
    });

    it('should carry a would-be reduction', () => {
      expect(composeVerdict([check('REDUCE_SIZE', 0.3)], 'observe').wouldBe).toEqual({
        action: 'REDUCE_SIZE',
        sizeMultiplier: 0.3,
      });
    });
  });

  describe('When the engine is off', () => {
    it('should ALLOW at full size without a would-be verdict', () => {
      expect(composeVerdict([check('PAUSE'), check('BLOCK')], 'off')).toEqual({
        action: 'ALLOW',
        sizeMultiplier: 1,
      });
    });

    it('should still KILL: the kill switch binds in every mode', () => {
      expect(composeVerdict([check('KILL'), check('REDUCE_SIZE', 0.5)], 'off')).toEqual({
        action: 'KILL',
        sizeMultiplier: 0,
      });
    });
  });

  describe('When the engine or the strategy is paused (checks built from state, as the gate service does)', () => {
    const now = at(60);
    const sandbox: ControlEvent = {
      type: 'ExecutionClassSet',
      data: {
        actor: operator,
        actionKind: orderAction.kind,
        executionClass: 'SANDBOX_EXEC',
        reason: 'policy',
        setAt: at(0),
      },
    };
    const enginePaused: ControlEvent = {
      type: 'EnginePaused',
      data: { actor: operator, engineId: ENGINE_ID, reason: 'heartbeat lost', pausedAt: at(0) },
    };
    const autonomous: StrategyEvent[] = [registered(), overridden('L0', 'L4')];

    const verdictOf = (control: ControlEvent[], strategy: StrategyEvent[], intent: ActionIntent) => {
      const request = checkRequest({ action: { ...orderAction, intent } });
      return composeVerdict(
        [
          ...controlChecks(fold(controlPlane, control), request, now),
          ...strategyChecks(fold(strategyDecider, strategy), request, HASH_A, now),
          impactCheck(classifyImpact(request.impact, request.action.notional).tier, maturityIndex('L4')),
        ],
        'enforce',
      );
    };

    it('should ALLOW an open action at full size while nothing is paused', () => {
      expect(verdictOf([sandbox], autonomous, 'open')).toEqual({ action: 'ALLOW', sizeMultiplier: 1 });
    });

    describe.each<[string, ControlEvent[], StrategyEvent[]]>([
      ['the strategy', [sandbox], [...autonomous, paused()]],
      ['the engine', [sandbox, enginePaused], autonomous],
    ])('When %s is paused', (_, control, strategy) => {
      it.each<ActionIntent>(['reduce', 'close'])('should ALLOW a %s action at full size', (intent) => {
        expect(verdictOf(control, strategy, intent)).toEqual({ action: 'ALLOW', sizeMultiplier: 1 });
      });

      it.each<ActionIntent>(['open', 'increase'])('should PAUSE an %s action', (intent) => {
        expect(verdictOf(control, strategy, intent)).toEqual({ action: 'PAUSE', sizeMultiplier: 0 });
      });
    });
  });

  describe('When a demoted strategy is under a kill switch (verdict and effects decided as the gate service does)', () => {
    const now = at(60);
    const sandbox: ControlEvent = {
      type: 'ExecutionClassSet',
      data: {
        actor: operator,
        actionKind: orderAction.kind,
        executionClass: 'SANDBOX_EXEC',
        reason: 'policy',
        setAt: at(0),
      },
    };
    const engaged = (mode: 'soft' | 'hard'): ControlEvent => ({
      type: 'KillSwitchEngaged',
      data: { actor: operator, engineId: ENGINE_ID, mode, reason: 'incident', engagedAt: at(1) },
    });
    const released: ControlEvent = {
      type: 'KillSwitchReleased',
      data: { actor: operator, engineId: ENGINE_ID, reason: 'resolved', releasedAt: at(2) },
    };
    const demoted: StrategyEvent[] = [registered(), overridden('L0', 'L4'), overridden('L4', 'L3')];

    /** The answered verdict and the events the check leaves on the strategy. */
    const checkOf = (control: ControlEvent[], strategy: StrategyEvent[], intent: ActionIntent = 'open') => {
      const request = checkRequest({ action: { ...orderAction, intent } });
      const state = fold(strategyDecider, strategy);
      const verdict = composeVerdict(
        [
          ...controlChecks(fold(controlPlane, control), request, now),
          ...strategyChecks(state, request, HASH_A, now),
          impactCheck(classifyImpact(request.impact, request.action.notional).tier, maturityIndex('L3')),
        ],
        'enforce',
      );
      const { events } = decideCheckEffects(state, {
        request,
        actionHash: HASH_A,
        verdict: verdict.action,
        wouldBe: verdict.wouldBe?.action,
        approvalId: 'ap-1',
        now,
        actor: engine,
      });
      return { action: verdict.action, events: events.map((e) => e.type) };
    };

    it.each<['soft' | 'hard', ActionIntent]>([
      ['soft', 'open'],
      ['hard', 'open'],
      ['hard', 'reduce'],
    ])('should answer KILL under a %s kill (intent %s) and keep the demotion for later', (mode, intent) => {
      expect(checkOf([sandbox, engaged(mode)], demoted, intent)).toEqual({ action: 'KILL', events: [] });
    });

    it('should answer DEMOTE to a reduce-only action a soft kill lets through, and acknowledge it', () => {
      expect(checkOf([sandbox, engaged('soft')], demoted, 'reduce')).toEqual({
        action: 'DEMOTE',
        events: ['DemotionAcknowledged'],
      });
    });

    it('should answer DEMOTE to the first check after the release, then answer at the new level', () => {
      const control = [sandbox, engaged('hard'), released];
      expect(checkOf(control, demoted)).toEqual({ action: 'DEMOTE', events: ['DemotionAcknowledged'] });
      const acknowledged: StrategyEvent = {
        type: 'DemotionAcknowledged',
        data: { from: 'L4', to: 'L3', demotedAt: at(0), acknowledgedAt: now },
      };
      expect(checkOf(control, [...demoted, acknowledged])).toEqual({ action: 'REDUCE_SIZE', events: [] });
    });
  });

  describe('Performance shape', () => {
    it('should not modify the checks', () => {
      const checks = [check('REDUCE_SIZE', 0.5), check('BLOCK')];
      const copy = structuredClone(checks);
      composeVerdict(checks, 'observe');
      expect(checks).toEqual(copy);
    });
  });
});

// Fixtures

function check(outcome: VerdictAction, sizeMultiplier?: number): Check {
  return {
    name: `component-${outcome.toLowerCase()}`,
    outcome,
    value: null,
    threshold: null,
    distanceToTrip: null,
    ...(sizeMultiplier === undefined ? {} : { sizeMultiplier }),
  };
}
