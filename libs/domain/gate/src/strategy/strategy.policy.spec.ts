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

  describe('When the token lifetime cap is overridden', () => {
    it('should default to 24 h and take a positive whole number of milliseconds only', () => {
      expect(DEFAULT_STRATEGY_POLICY.maxTokenTtlMs).toBe(86_400_000);
      expect(strategyPolicy({ maxTokenTtlMs: 3_600_000 }).maxTokenTtlMs).toBe(3_600_000);
      for (const maxTokenTtlMs of [0, -1, 1.5]) {
        expect(() => strategyPolicy({ maxTokenTtlMs })).toThrow('maxTokenTtlMs must be a positive integer');
      }
    });
  });

  describe('When overrides name settings the policy does not have, or give them another type', () => {
    it('should list every such key instead of ignoring it', () => {
      const overrides = JSON.parse(
        '{"helth":{"floor":0.5},"health":{"flor":0.5,"windowSize":"50"},"drift":1,"approvalTtlMs":{}}',
      );

      expect(() => strategyPolicy(overrides)).toThrow(
        expect.objectContaining({
          code: 'VALIDATION.FAILED',
          details: [
            'helth is not a policy setting',
            'health.flor is not a policy setting',
            'health.windowSize must be a number',
            'drift must be an object',
            'approvalTtlMs must be a number',
          ],
        }),
      );
      expect(() => strategyPolicy(JSON.parse('[]'))).toThrow(/the policy must be an object/);
    });
  });
});
