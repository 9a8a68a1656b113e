import type { BlastRadius, ImpactFactors, Money } from '@bifrost/contracts';
import { DEFAULT_IMPACT_CONFIG, classifyImpact, impactCheck, type ImpactTier } from './impact';

describe('Impact classifier', () => {
  describe('When the action is small, reversible and contained', () => {
    it('should be LOW with score 0', () => {
      expect(classifyImpact(factors(), usd(0))).toEqual({
        tier: 'LOW',
        score: 0,
        dimensions: { irreversibility: 0, blastRadius: 0, concentration: 0, notional: 0 },
      });
    });
  });

  describe('Blast radius', () => {
    it.each<[BlastRadius, ImpactTier]>([
      ['single', 'LOW'],
      ['strategy', 'MEDIUM'],
      ['engine', 'HIGH'],
      ['portfolio', 'CRITICAL'],
      ['global', 'CRITICAL'],
    ])('should classify a %s blast radius as %s', (blastRadius, tier) => {
      expect(classifyImpact(factors({ blastRadius }), undefined).tier).toBe(tier);
    });
  });

  describe('Concentration (thresholds 0.10 / 0.25 / 0.50)', () => {
    it.each<[number, ImpactTier]>([
      [0.0999, 'LOW'],
      [0.1, 'MEDIUM'],
      [0.2499, 'MEDIUM'],
      [0.25, 'HIGH'],
      [0.4999, 'HIGH'],
      [0.5, 'CRITICAL'],
      [1, 'CRITICAL'],
    ])('should classify concentration %s as %s', (concentration, tier) => {
      expect(classifyImpact(factors({ concentration }), undefined).tier).toBe(tier);
    });

    it('should score exactly 0.25 at the medium threshold and 1 at full concentration', () => {
      expect(classifyImpact(factors({ concentration: 0.1 }), undefined).dimensions.concentration).toBe(0.25);
      expect(classifyImpact(factors({ concentration: 1 }), undefined).dimensions.concentration).toBe(1);
    });
  });

  describe('Notional in USD (thresholds $1,000 / $10,000 / $100,000 in cents)', () => {
    it.each<[number, ImpactTier]>([
      [99_999, 'LOW'],
      [100_000, 'MEDIUM'],
      [999_999, 'MEDIUM'],
      [1_000_000, 'HIGH'],
      [9_999_999, 'HIGH'],
      [10_000_000, 'CRITICAL'],
    ])('should classify %s cents as %s', (amount, tier) => {
      expect(classifyImpact(factors(), usd(amount)).tier).toBe(tier);
    });

    it('should score a sell (negative amount) like a buy of the same size', () => {
      expect(classifyImpact(factors(), usd(-1_000_000))).toEqual(classifyImpact(factors(), usd(1_000_000)));
    });

    it('should score 1 from twice the critical threshold', () => {
      expect(classifyImpact(factors(), usd(20_000_000)).dimensions.notional).toBe(1);
      expect(classifyImpact(factors(), usd(15_000_000)).dimensions.notional).toBe(0.875);
    });

    it('should score 0 without a notional', () => {
      expect(classifyImpact(factors(), undefined).dimensions.notional).toBe(0);
    });
  });

  describe('When the currency has no thresholds', () => {
    it('should take the notional dimension at its maximum (fail safe)', () => {
      const result = classifyImpact(factors(), { amount: 1, currency: 'EUR' });
      expect(result.dimensions.notional).toBe(1);
      expect(result.tier).toBe('CRITICAL');
    });

    it('should use thresholds configured for it', () => {
      const config = {
        ...DEFAULT_IMPACT_CONFIG,
        notional: { EUR: { medium: 100_000, high: 1_000_000, critical: 10_000_000 } },
      };
      expect(classifyImpact(factors(), { amount: 1, currency: 'EUR' }, config).tier).toBe('LOW');
    });

    it('should not take Object.prototype members for currencies', () => {
      const config = { ...DEFAULT_IMPACT_CONFIG, notional: {} };
      expect(classifyImpact(factors(), { amount: 1, currency: 'USD' }, config).dimensions.notional).toBe(1);
    });
  });

  describe('Irreversibility', () => {
    it('should raise a reversible LOW action to MEDIUM when irreversible', () => {
      expect(classifyImpact(factors({ irreversible: true }), undefined)).toMatchObject({
        tier: 'MEDIUM',
        score: 0.25,
      });
    });

    it('should raise HIGH to CRITICAL', () => {
      expect(classifyImpact(factors({ irreversible: true }), usd(1_000_000)).tier).toBe('CRITICAL');
    });

    it('should treat a destructive action as irreversible', () => {
      expect(classifyImpact(factors({ destructive: true }), undefined).dimensions.irreversibility).toBe(1);
    });

    it('should cap the score at 1', () => {
      expect(classifyImpact(factors({ irreversible: true, blastRadius: 'global' }), undefined).score).toBe(1);
    });
  });

  describe('Composite', () => {
    it('should take the worst dimension, not the average', () => {
      expect(classifyImpact(factors({ concentration: 0.3 }), usd(100_000)).tier).toBe('HIGH');
    });
  });

  describe('When the engine declared no impact factors', () => {
    it('should floor the tier at MEDIUM and report the declared dimensions as unknown', () => {
      expect(classifyImpact(undefined, usd(10))).toMatchObject({
        tier: 'MEDIUM',
        score: 0.25,
        dimensions: { irreversibility: null, blastRadius: null, concentration: null },
      });
    });

    it('should still escalate with the notional', () => {
      expect(classifyImpact(undefined, usd(10_000_000)).tier).toBe('CRITICAL');
    });
  });

  describe('Fixed cases (scores from the bands of docs/gate-control.md)', () => {
    it('should classify the worked example of the docs as MEDIUM, score 0.2917', () => {
      // Concentration 0.12 → 0.25 + 0.25 × 0.02 / 0.15; $2 500 → 0.25 + 0.25 × 150 000 / 900 000.
      const result = classifyImpact(factors({ concentration: 0.12 }), usd(250_000));
      expect(result.tier).toBe('MEDIUM');
      expect(result.score).toBeCloseTo(0.2917, 4);
      expect(result.dimensions.concentration).toBeCloseTo(0.2833, 4);
    });

    it('should classify an engine-wide action with concentration 0.33 and $1 234.56 as HIGH, score 0.58', () => {
      // Blast radius 0.5, concentration 0.5 + 0.25 × 0.08 / 0.25 = 0.58, notional 0.2565: the worst wins.
      const result = classifyImpact(factors({ concentration: 0.33, blastRadius: 'engine' }), usd(123_456));
      expect(result.tier).toBe('HIGH');
      expect(result.score).toBeCloseTo(0.58, 10);
      expect(result.dimensions.notional).toBeCloseTo(0.2565, 4);
    });

    it('should classify the same action, irreversible, as CRITICAL, score 0.83', () => {
      const input = factors({ concentration: 0.33, blastRadius: 'engine', irreversible: true });
      const result = classifyImpact(input, usd(123_456));
      expect(result.tier).toBe('CRITICAL');
      expect(result.score).toBeCloseTo(0.83, 10);
    });
  });
});

describe('Impact check (minimum maturity per tier)', () => {
  describe.each<[ImpactTier, number]>([
    ['LOW', 2],
    ['MEDIUM', 2],
    ['HIGH', 3],
  ])('When the tier is %s (minimum L%s)', (tier, min) => {
    it('should BLOCK one level below the minimum', () => {
      expect(impactCheck(tier, min - 1)).toMatchObject({
        name: 'impact',
        outcome: 'BLOCK',
        value: tier,
        threshold: `L${min}`,
        distanceToTrip: 0,
      });
    });

    it('should ALLOW exactly at the minimum, one demotion from tripping', () => {
      expect(impactCheck(tier, min)).toMatchObject({ outcome: 'ALLOW', distanceToTrip: 1 });
    });

    it('should ALLOW at L4 with more headroom', () => {
      expect(impactCheck(tier, 4)).toMatchObject({ outcome: 'ALLOW', distanceToTrip: 5 - min });
    });
  });

  describe('When the tier is CRITICAL (minimum L4, always approved by a human)', () => {
    it('should BLOCK at L3', () => {
      expect(impactCheck('CRITICAL', 3)).toMatchObject({
        outcome: 'BLOCK',
        threshold: 'L4',
        distanceToTrip: 0,
      });
    });

    it('should REQUIRE_APPROVAL at L4', () => {
      expect(impactCheck('CRITICAL', 4)).toMatchObject({ outcome: 'REQUIRE_APPROVAL', distanceToTrip: 0 });
    });
  });

  describe('When the strategy is at L0 (shadow)', () => {
    it('should BLOCK even a LOW action, two levels short', () => {
      expect(impactCheck('LOW', 0)).toMatchObject({ outcome: 'BLOCK', distanceToTrip: -1 });
    });
  });
});

// Fixtures

function factors(overrides: Partial<ImpactFactors> = {}): ImpactFactors {
  return { irreversible: false, blastRadius: 'single', concentration: 0, ...overrides };
}

function usd(amount: number): Money {
  return { amount, currency: 'USD' };
}
