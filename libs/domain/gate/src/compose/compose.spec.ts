import { VERDICT_ACTIONS, type Check, type VerdictAction } from '@bifrost/contracts';
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
