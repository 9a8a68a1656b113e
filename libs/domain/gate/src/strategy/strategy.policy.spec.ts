import { ValidationError } from '@bifrost/event-sourcing';

import { DEFAULT_STRATEGY_POLICY, strategyPolicy } from './strategy.policy';

describe('Strategy policy', () => {
  describe('When nothing is overridden', () => {
    it('should ship the seed thresholds', () => {
      expect(strategyPolicy()).toEqual(DEFAULT_STRATEGY_POLICY);
      expect(DEFAULT_STRATEGY_POLICY.promotion).toEqual({
        minOutcomes: 50,
        minWinRate: 0.45,
        minProfitFactor: 1.1,
      });
      expect(DEFAULT_STRATEGY_POLICY.drift).toMatchObject({ reduceAbove: 0.3, pauseAbove: 0.5 });
    });
  });

  describe('When one value is overridden', () => {
    it('should keep the other defaults of its group', () => {
      expect(strategyPolicy({ health: { floor: 0.5 } }).health).toEqual({
        windowSize: 50,
        floor: 0.5,
        fullSizeScore: 0.8,
      });
    });
  });

  describe('When values are invalid', () => {
    it('should list every problem', () => {
      expect(() => strategyPolicy({ health: { windowSize: 251, floor: 0 } })).toThrow(ValidationError);
      try {
        strategyPolicy({ health: { windowSize: 251, floor: 0 } });
      } catch (error) {
        expect((error as ValidationError).details).toEqual([
          'health.windowSize must be an integer in [1, 250]',
          'health.floor must be in (0, 1]',
        ]);
      }
    });
  });
});
