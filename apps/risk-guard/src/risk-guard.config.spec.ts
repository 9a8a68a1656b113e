import { ConfigError, loadConfig } from '@bifrost/config';
import { RiskGuardConfig, assertRiskGuardConfig } from './risk-guard.config';

describe('risk-guard configuration', () => {
  it('should accept the defaults and a default TTL equal to the maximum', () => {
    expect(() => assertRiskGuardConfig(loadConfig(RiskGuardConfig, {}))).not.toThrow();
    expect(() => assertRiskGuardConfig({ RISK_DEFAULT_TTL_MS: 5_000, RISK_MAX_TTL_MS: 5_000 })).not.toThrow();
  });

  it('should refuse a default TTL above the maximum, which every reserve without a ttlMs would exceed', () => {
    let error: unknown;
    try {
      assertRiskGuardConfig({ RISK_DEFAULT_TTL_MS: 5_001, RISK_MAX_TTL_MS: 5_000 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.objectContaining({
        variable: 'RISK_DEFAULT_TTL_MS',
        message: expect.stringContaining('RISK_MAX_TTL_MS (5000)'),
      }),
    ]);
  });
});
