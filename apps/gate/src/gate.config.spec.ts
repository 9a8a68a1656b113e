import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { loadConfig } from '@bifrost/config';
import { DEFAULT_IMPACT_CONFIG, DEFAULT_STRATEGY_POLICY, classifyImpact } from '@bifrost/domain-gate';
import { GateConfig, gatePoliciesOf, impactConfigOf } from './gate.config';

const env = (value?: string, name = 'GATE_IMPACT_NOTIONAL') => ({
  NATS_URL: 'nats://127.0.0.1:4222',
  ...(value === undefined ? {} : { [name]: value }),
});

describe('GATE_IMPACT_NOTIONAL', () => {
  describe('Given no value', () => {
    it('should keep the default table (USD only)', () => {
      expect(impactConfigOf(loadConfig(GateConfig, env()))).toEqual(DEFAULT_IMPACT_CONFIG);
    });
  });

  describe('Given thresholds for EUR beside USD', () => {
    const impact = impactConfigOf(
      loadConfig(GateConfig, env('USD=100000/1000000/10000000,EUR=200000/2000000/20000000')),
    );

    it('should classify a EUR notional by its own thresholds', () => {
      // Harmless on every other dimension, so the notional alone decides the tier.
      const harmless = { irreversible: false, blastRadius: 'single', concentration: 0 } as const;
      const euros = (amount: number) => classifyImpact(harmless, { amount, currency: 'EUR' }, impact).tier;
      expect(euros(199_999)).toBe('LOW');
      expect(euros(200_000)).toBe('MEDIUM');
      expect(euros(2_000_000)).toBe('HIGH');
      expect(euros(20_000_000)).toBe('CRITICAL');
    });

    it('should leave a currency it does not list CRITICAL (fail safe)', () => {
      expect(classifyImpact(undefined, { amount: 1, currency: 'GBP' }, impact).tier).toBe('CRITICAL');
    });

    it('should change nothing else in the impact configuration', () => {
      expect({ ...impact, notional: DEFAULT_IMPACT_CONFIG.notional }).toEqual(DEFAULT_IMPACT_CONFIG);
    });
  });

  describe('Given a malformed value', () => {
    it.each(['usd=1/2/3', 'EUR=1/2', 'EUR=1/2/3,', 'EUR 1/2/3', 'EUR=1.5/2/3'])(
      'should refuse %j when the configuration is loaded',
      (value) => {
        expect(() => loadConfig(GateConfig, env(value))).toThrow(/GATE_IMPACT_NOTIONAL/);
      },
    );

    it.each([
      ['EUR=3/2/1', /"EUR=3\/2\/1" needs 0 < medium < high < critical/],
      ['EUR=0/2/3', /needs 0 < medium/],
      ['EUR=1/2/2', /needs 0 < medium < high < critical/],
      ['EUR=1/2/99999999999999999', /needs 0 < medium < high < critical ≤ 9007199254740991/],
      ['EUR=1/2/3,EUR=4/5/6', /EUR is listed twice/],
    ])('should refuse %j with the entry named', (value, message) => {
      expect(() => impactConfigOf(loadConfig(GateConfig, env(value)))).toThrow(message);
    });

    it('should name every bad variable at once, as a configuration error', () => {
      const config = loadConfig(GateConfig, {
        ...env('EUR=3/2/1'),
        GATE_STRATEGY_POLICY: '{"health":{"floor":0}}',
      });
      expect(() => gatePoliciesOf(config)).toThrow(
        expect.objectContaining({
          name: 'ConfigError',
          problems: [
            { variable: 'GATE_STRATEGY_POLICY', message: expect.stringMatching(/health\.floor must be in/) },
            {
              variable: 'GATE_IMPACT_NOTIONAL',
              message: '"EUR=3/2/1" needs 0 < medium < high < critical ≤ 9007199254740991',
            },
          ],
        }),
      );
    });
  });
});

describe('GATE_STRATEGY_POLICY', () => {
  const policiesOf = (value?: string) =>
    gatePoliciesOf(loadConfig(GateConfig, env(value, 'GATE_STRATEGY_POLICY')));

  describe('Given no value', () => {
    it('should judge by the default strategy policy', () => {
      expect(policiesOf().strategy).toEqual(DEFAULT_STRATEGY_POLICY);
    });
  });

  describe('Given overrides', () => {
    it('should apply them over the defaults of their group', () => {
      const { strategy } = policiesOf('{"health":{"floor":0.3},"promotion":{"minOutcomes":100}}');
      expect(strategy.health).toEqual({ ...DEFAULT_STRATEGY_POLICY.health, floor: 0.3 });
      expect(strategy.promotion).toEqual({ ...DEFAULT_STRATEGY_POLICY.promotion, minOutcomes: 100 });
      expect(strategy.drift).toEqual(DEFAULT_STRATEGY_POLICY.drift);
    });
  });

  describe('Given a bad value', () => {
    it.each([
      ['{"health":', /GATE_STRATEGY_POLICY: not JSON/],
      ['42', /GATE_STRATEGY_POLICY: invalid strategy policy: the policy must be an object/],
      ['{"health":{"flor":0.3}}', /GATE_STRATEGY_POLICY: .*health\.flor is not a policy setting/],
      ['{"health":{"floor":0}}', /GATE_STRATEGY_POLICY: .*health\.floor must be in \(0, 1\]/],
    ])('should refuse %j, saying what is wrong', (value, message) => {
      expect(() => policiesOf(value)).toThrow(message);
    });
  });
});

describe('Given the gate started with bad policies', () => {
  it('should refuse to start, naming every bad variable and without a stack trace', () => {
    const run = spawnSync(process.execPath, ['-r', '@swc-node/register', 'apps/gate/src/main.ts'], {
      cwd: resolve(__dirname, '../../..'),
      env: {
        ...process.env,
        NATS_URL: 'nats://127.0.0.1:1',
        GATE_STRATEGY_POLICY: '{"health":{"flor":1}}',
        GATE_IMPACT_NOTIONAL: 'EUR=3/2/1',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });

    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      [
        'gate: invalid configuration',
        'Invalid configuration (2 problems):',
        'GATE_STRATEGY_POLICY: invalid strategy policy: health.flor is not a policy setting',
        'GATE_IMPACT_NOTIONAL: "EUR=3/2/1" needs 0 < medium < high < critical ≤ 9007199254740991',
        '',
      ].join('\n'),
    );
  }, 60_000);
});
