import { diffPolicies, pointerToken } from './policy-diff';

const policies = () => ({
  control: {
    killSwitches: { global: null as string | null, engines: { 'bot-1': 'soft' } },
    whitelists: { 'bot-1': ['SET_POWER', 'SET_FAN'] },
  },
  strategy: { maxStrategiesPerEngine: 50, minOutcomes: 30 },
  impact: { notional: { amount: 100_000, currency: 'USD' } },
});

describe('policy diff', () => {
  describe('Given two identical policies', () => {
    it('When diffed, Then there are no changes, whatever their key order', () => {
      const reordered = {
        impact: policies().impact,
        strategy: policies().strategy,
        control: policies().control,
      };
      expect(diffPolicies(policies(), policies())).toEqual([]);
      expect(diffPolicies(policies(), reordered)).toEqual([]);
    });
  });

  describe('Given a change deep in an object', () => {
    it('When diffed, Then it is one change at its own path, not a change of the objects holding it', () => {
      const to = policies();
      to.impact.notional.amount = 250_000;
      to.strategy.minOutcomes = 40;

      expect(diffPolicies(policies(), to)).toEqual([
        { path: '/impact/notional/amount', op: 'changed', from: 100_000, to: 250_000 },
        { path: '/strategy/minOutcomes', op: 'changed', from: 30, to: 40 },
      ]);
    });
  });

  describe('Given keys added and removed', () => {
    it('When diffed, Then each is one change with null on the side where it is absent, in sorted key order', () => {
      const from = policies();
      const to: Record<string, Record<string, unknown>> = policies();
      delete to['strategy']?.['maxStrategiesPerEngine'];
      (to['strategy'] as Record<string, unknown>)['aNewLimit'] = { perDay: 3 };

      expect(diffPolicies(from, to)).toEqual([
        { path: '/strategy/aNewLimit', op: 'added', from: null, to: { perDay: 3 } },
        { path: '/strategy/maxStrategiesPerEngine', op: 'removed', from: 50, to: null },
      ]);
      expect(diffPolicies(to, from)).toEqual([
        { path: '/strategy/aNewLimit', op: 'removed', from: { perDay: 3 }, to: null },
        { path: '/strategy/maxStrategiesPerEngine', op: 'added', from: null, to: 50 },
      ]);
    });
  });

  describe('Given an array that changed', () => {
    it('When diffed, Then the whole array is one change', () => {
      const to = policies();
      to.control.whitelists['bot-1'] = ['SET_POWER', 'SET_FAN', 'SET_MODE'];
      const reordered = policies();
      reordered.control.whitelists['bot-1'] = ['SET_FAN', 'SET_POWER'];

      expect(diffPolicies(policies(), to)).toEqual([
        {
          path: '/control/whitelists/bot-1',
          op: 'changed',
          from: ['SET_POWER', 'SET_FAN'],
          to: ['SET_POWER', 'SET_FAN', 'SET_MODE'],
        },
      ]);
      // An array's order is part of its value.
      expect(diffPolicies(policies(), reordered)).toHaveLength(1);
    });
  });

  describe('Given keys holding "~" and "/"', () => {
    it('When diffed, Then their pointer tokens escape them as RFC 6901 does (~0, ~1)', () => {
      const from = { control: { 'a/b': 1, 'm~n': 1, '~1': 1 } };
      const to = { control: { 'a/b': 2, 'm~n': 2, '~1': 2 } };

      expect(diffPolicies(from, to).map((change) => change.path)).toEqual([
        '/control/a~1b',
        '/control/m~0n',
        '/control/~01',
      ]);
      expect(pointerToken('~/')).toBe('~0~1');
    });
  });

  describe('Given a key whose value is null on one side and absent on the other', () => {
    it('When diffed, Then op tells them apart: null to a value is changed, absent to a value is added', () => {
      const engaged = policies();
      engaged.control.killSwitches.global = 'hard';
      const absent: Record<string, unknown> = policies().control.killSwitches;
      delete absent['global'];

      expect(diffPolicies(policies(), engaged)).toEqual([
        { path: '/control/killSwitches/global', op: 'changed', from: null, to: 'hard' },
      ]);
      expect(
        diffPolicies(
          { control: { killSwitches: absent } },
          { control: { killSwitches: { ...absent, global: null } } },
        ),
      ).toEqual([{ path: '/control/killSwitches/global', op: 'added', from: null, to: null }]);
      expect(
        diffPolicies({ control: { killSwitches: { global: null } } }, { control: { killSwitches: {} } }),
      ).toEqual([{ path: '/control/killSwitches/global', op: 'removed', from: null, to: null }]);
    });
  });

  describe('Given an object replaced by another kind of value', () => {
    it('When diffed, Then it is one change of the whole value', () => {
      expect(diffPolicies({ impact: { notional: { amount: 1 } } }, { impact: { notional: null } })).toEqual([
        { path: '/impact/notional', op: 'changed', from: { amount: 1 }, to: null },
      ]);
      expect(diffPolicies({ a: 1 }, [1])).toEqual([{ path: '', op: 'changed', from: { a: 1 }, to: [1] }]);
    });
  });
});
