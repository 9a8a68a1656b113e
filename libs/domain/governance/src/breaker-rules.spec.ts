import { ValidationError } from '@bifrost/event-sourcing';
import {
  BAD_CONDITION,
  conditionHolds,
  DEFAULT_BREAKER_RULES,
  evaluateRule,
  formatCondition,
  parseCondition,
  type BreakerRule,
} from './breaker-rules';
import {
  appendCommand,
  appendIncident,
  EMPTY_HISTORY,
  windowMetrics,
  type CommandRecord,
  type IncidentRecord,
  type MetricsHistory,
} from './command-metrics';

const NOW = '2026-11-20T17:00:00.000Z';
let sequence = 0;

describe('Circuit breaker rules', () => {
  describe('The defaults', () => {
    it('should be the four rules of seed 003', () => {
      expect(DEFAULT_BREAKER_RULES.map((r) => [r.name, r.condition, r.window, r.action, r.enabled])).toEqual([
        ['High Error Rate', 'errorRate > 0.05', '5m', 'revert_to_l3', true],
        ['Repeated Command Failures', 'failures >= 3', '5m', 'pause_command_type', true],
        ['Critical Incident', 'severity == critical', '1m', 'revert_to_l3', true],
        ['High Rollback Rate', 'rollbackRate > 0.10', '15m', 'alert_only', true],
      ]);
    });
  });

  describe('High Error Rate (errorRate > 0.05 over 5m → revert_to_l3)', () => {
    const rule = defaultRule('high-error-rate');

    it.each([
      ['just below: 4 errors in 100', 4, false],
      ['at: 5 errors in 100', 5, false],
      ['above: 6 errors in 100', 6, true],
    ])('should trip only above the threshold, %s', (_case, errors, tripped) => {
      const history = given(mixed(100, { error: errors }, 60_000));
      const result = evaluateRule(rule, history, NOW);

      expect(result.tripped).toBe(tripped);
      expect(result.observed).toEqual({ window: '5m', commands: 100, errorRate: errors / 100 });
      expect(result.commandTypes).toEqual([]);
    });

    it('should not count errors older than 5 minutes', () => {
      const history = given(mixed(10, { error: 10 }, 5 * 60_000));
      expect(evaluateRule(rule, history, NOW)).toMatchObject({ tripped: false, observed: { commands: 0 } });
    });

    it('should explain what it saw', () => {
      const history = given(mixed(10, { error: 1 }, 60_000));
      expect(evaluateRule(rule, history, NOW).explanation).toBe(
        'High Error Rate: errorRate > 0.05 holds over 5m (commands=10, errorRate=0.1)',
      );
    });
  });

  describe('Repeated Command Failures (failures >= 3 over 5m → pause_command_type)', () => {
    const rule = defaultRule('repeated-command-failures');

    it.each([
      ['just below: 2 failures', 2, false],
      ['at: 3 failures', 3, true],
      ['above: 4 failures', 4, true],
    ])('should trip at 3 failures of one command type, %s', (_case, failures, tripped) => {
      const history = given([
        ...mixed(failures, { error: failures }, 60_000, 'SET_FAN'),
        ...mixed(20, {}, 60_000, 'SET_POWER'),
      ]);
      const result = evaluateRule(rule, history, NOW);

      expect(result.tripped).toBe(tripped);
      expect(result.commandTypes).toEqual(tripped ? ['SET_FAN'] : []);
      expect(result.observed).toMatchObject({ commandType: 'SET_FAN', failures });
    });

    it('should count rollbacks as failures', () => {
      const history = given(mixed(3, { error: 1, rolled_back: 2 }, 60_000, 'SET_DRUM'));
      expect(evaluateRule(rule, history, NOW)).toMatchObject({ tripped: true, commandTypes: ['SET_DRUM'] });
    });

    it('should not add up failures of different command types', () => {
      const history = given([
        ...mixed(2, { error: 2 }, 60_000, 'SET_FAN'),
        ...mixed(2, { error: 2 }, 60_000, 'SET_POWER'),
      ]);
      expect(evaluateRule(rule, history, NOW)).toMatchObject({ tripped: false, commandTypes: [] });
    });

    it('should pause every command type that failed 3 times', () => {
      const history = given([
        ...mixed(3, { error: 3 }, 60_000, 'SET_POWER'),
        ...mixed(3, { error: 3 }, 60_000, 'SET_FAN'),
      ]);
      expect(evaluateRule(rule, history, NOW).commandTypes).toEqual(['SET_FAN', 'SET_POWER']);
    });

    it('should watch only its command type when it names one', () => {
      const pinned: BreakerRule = { ...rule, commandType: 'SET_POWER' };
      const history = given(mixed(3, { error: 3 }, 60_000, 'SET_FAN'));

      expect(evaluateRule(pinned, history, NOW)).toMatchObject({ tripped: false, commandTypes: [] });
      const failing = given(mixed(3, { error: 3 }, 60_000, 'SET_POWER'));
      expect(evaluateRule(pinned, failing, NOW)).toMatchObject({
        tripped: true,
        commandTypes: ['SET_POWER'],
      });
    });
  });

  describe('Critical Incident (severity == critical over 1m → revert_to_l3)', () => {
    const rule = defaultRule('critical-incident');

    it.each([
      ['just below: a high incident', 'high', 30_000, false],
      ['at: a critical incident', 'critical', 30_000, true],
      ['a critical incident older than 1 minute', 'critical', 60_000, false],
    ] as const)(
      'should trip on a critical incident in the last minute, %s',
      (_case, severity, age, tripped) => {
        const history = given([], [incident({ severity, at: ago(age) })]);
        const result = evaluateRule(rule, history, NOW);

        expect(result.tripped).toBe(tripped);
        expect(result.observed).toMatchObject({ window: '1m' });
      },
    );

    it('should not trip without incidents', () => {
      expect(evaluateRule(rule, EMPTY_HISTORY, NOW)).toMatchObject({
        tripped: false,
        observed: { maxSeverity: null },
      });
    });
  });

  describe('High Rollback Rate (rollbackRate > 0.10 over 15m → alert_only)', () => {
    const rule = defaultRule('high-rollback-rate');

    it.each([
      ['just below: 9 in 100', 9, false],
      ['at: 10 in 100', 10, false],
      ['above: 11 in 100', 11, true],
    ])('should trip only above 10 %%, %s', (_case, rollbacks, tripped) => {
      const history = given(mixed(100, { rolled_back: rollbacks }, 10 * 60_000));
      expect(evaluateRule(rule, history, NOW)).toMatchObject({
        tripped,
        observed: { rollbackRate: rollbacks / 100 },
        commandTypes: [],
      });
    });

    it.each([
      ['14 minutes old counts', 14 * 60_000, 100],
      ['15 minutes less 1 ms old counts', 15 * 60_000 - 1, 100],
      ['exactly 15 minutes old does not (the window is (now − 15m, now])', 15 * 60_000, 0],
    ])('should trip only on rollbacks inside its 15-minute window: a record %s', (_case, age, commands) => {
      const history = given(mixed(100, { rolled_back: 11 }, age));
      expect(evaluateRule(rule, history, NOW)).toMatchObject({
        tripped: commands > 0,
        observed: { window: '15m', commands },
      });
    });
  });

  describe('A disabled rule', () => {
    it('should never trip', () => {
      const rule = { ...defaultRule('high-error-rate'), enabled: false };
      const result = evaluateRule(rule, given(mixed(10, { error: 10 }, 1_000)), NOW);
      expect(result).toMatchObject({ tripped: false, explanation: 'High Error Rate: disabled' });
    });
  });

  describe('The condition language', () => {
    const metrics = windowMetrics(
      given(mixed(10, { error: 2, rolled_back: 1 }, 1_000), [incident({ severity: 'high', at: ago(1_000) })]),
      '5m',
      NOW,
    );

    it.each([
      ['errorRate > 0.05', true],
      ['errorRate >= 0.2', true],
      ['errorRate < 0.2', false],
      ['errorRate <= 0.2', true],
      ['errors == 2', true],
      ['errors != 2', false],
      ['errorRate > 5%', true],
      ['errorRate > 20%', false],
      ['failures >= 3 and rollbacks > 0', true],
      ['failures >= 4 and rollbacks > 0', false],
      ['failures >= 4 or rollbacks > 0', true],
      ['commands > 100 or errors > 5 and incidents > 0', false],
      ['(commands > 100 or errors > 1) and incidents > 0', true],
      ['severity >= high', true],
      ['severity == critical', false],
      ['severity != critical', true],
      ['maxSeverity < critical', true],
      ['criticalIncidents == 0', true],
      ['  successRate<0.8  ', true],
      ['approvalRate == 0', true],
    ])('should evaluate "%s" as %s', (text, expected) => {
      expect(conditionHolds(parseCondition(text), metrics)).toBe(expected);
    });

    it.each([
      ['4.1%', '0.041'],
      ['1.1%', '0.011'],
      ['0.7%', '0.007'],
      ['33.3%', '0.333'],
      ['.5%', '0.005'],
      ['100%', '1'],
    ])('should read %s as exactly %s', (percent, decimal) => {
      expect(parseCondition(`errorRate > ${percent}`)).toEqual(parseCondition(`errorRate > ${decimal}`));
    });

    it('should bind "and" tighter than "or"', () => {
      expect(parseCondition('errors > 1 or failures > 2 and incidents > 0')).toEqual({
        kind: 'or',
        left: { kind: 'compare', metric: 'errors', op: '>', value: 1 },
        right: {
          kind: 'and',
          left: { kind: 'compare', metric: 'failures', op: '>', value: 2 },
          right: { kind: 'compare', metric: 'incidents', op: '>', value: 0 },
        },
      });
    });

    it('should write a parsed condition back', () => {
      expect(formatCondition(parseCondition('(errors>1 or failures>2) and severity==high'))).toBe(
        '(errors > 1 or failures > 2) and severity == high',
      );
    });

    it('should rank "no incident" below low', () => {
      expect(conditionHolds(parseCondition('severity < low'), windowMetrics(EMPTY_HISTORY, '1m', NOW))).toBe(
        true,
      );
    });
  });

  describe('A bad condition', () => {
    it.each([
      ['', 'empty condition', 0],
      ['   ', 'empty condition', 0],
      ['errorRate', 'expected one of > >= < <= == != but the condition ended', 9],
      ['errorRate >', 'expected a number but the condition ended', 11],
      ['errorRate > high', 'expected a number but found "high"', 12],
      ['errorRat > 0.05', 'unknown metric "errorRat"', 0],
      ['window > 1', 'unknown metric "window"', 0],
      ['severity == fatal', 'expected a severity (low, medium, high, critical) but found "fatal"', 12],
      ['severity == 3', 'expected a severity (low, medium, high, critical) but found "3"', 12],
      ['errorRate = 0.05', 'unexpected character "="', 10],
      ['errorRate > 0.05 and', 'expected a metric but the condition ended', 20],
      ['errorRate > 0.05 errors > 1', 'unexpected "errors"', 17],
      ['(errorRate > 0.05', 'expected ")" but the condition ended', 17],
      ['errorRate > 0.05)', 'unexpected ")"', 16],
      ['process.exit(1) > 0', 'unexpected character "."', 7],
      ['errorRate > 1e3', 'unexpected character "1"', 12],
      ['errorRate > -1', 'unexpected character "-"', 12],
      ['and > 1', 'expected a metric but found "and"', 0],
      ['((((((((((( errors > 1 )))))))))))', 'parentheses nested too deeply', 10],
    ])('should refuse "%s" with GOVERNANCE.BAD_CONDITION: %s', (text, problem, position) => {
      const attempt = () => parseCondition(text);

      expect(attempt).toThrow(ValidationError);
      expect(attempt).toThrow(
        expect.objectContaining({
          code: BAD_CONDITION,
          message: expect.stringContaining(`bad breaker condition at position ${position}: ${problem}`),
          details: { condition: text, position },
        }),
      );
    });

    it('should name every metric a condition may use, maxSeverity included, when it meets an unknown one', () => {
      expect(() => parseCondition('errorRat > 0.05')).toThrow(
        'unknown metric "errorRat" (known: commands, successes, errors, rollbacks, failures, successRate, ' +
          'errorRate, rollbackRate, approvalRate, approvalsRequired, approvalsGranted, incidents, ' +
          'criticalIncidents, severity, maxSeverity)',
      );
    });

    it('should refuse a condition longer than 500 characters', () => {
      const text = Array.from({ length: 60 }, () => 'errors > 1').join(' or ');
      expect(() => parseCondition(text)).toThrow(expect.objectContaining({ code: BAD_CONDITION }));
    });

    it('should make evaluating a rule with it fail the same way', () => {
      const rule = { ...defaultRule('high-error-rate'), condition: 'errorRate >> 1' };
      expect(() => evaluateRule(rule, EMPTY_HISTORY, NOW)).toThrow(
        expect.objectContaining({ code: BAD_CONDITION }),
      );
    });
  });
});

function defaultRule(ruleId: string): BreakerRule {
  const rule = DEFAULT_BREAKER_RULES.find((r) => r.ruleId === ruleId);
  if (!rule) throw new Error(`no default rule ${ruleId}`);
  return rule;
}

function ago(ms: number): string {
  return new Date(Date.parse(NOW) - ms).toISOString();
}

/** `n` commands of one type, `age` ms old; the first ones take the given outcomes, the rest succeed. */
function mixed(
  n: number,
  outcomes: Partial<Record<'error' | 'rolled_back', number>>,
  age: number,
  commandType = 'SET_POWER',
): CommandRecord[] {
  const errors = outcomes.error ?? 0;
  const rollbacks = outcomes.rolled_back ?? 0;
  return Array.from({ length: n }, (_, i) => ({
    commandId: `c-${(sequence += 1)}`,
    commandType,
    at: ago(age),
    outcome: i < errors ? 'error' : i < errors + rollbacks ? 'rolled_back' : 'success',
    requiredApproval: false,
  }));
}

function incident(overrides: Partial<IncidentRecord>): IncidentRecord {
  return {
    incidentId: `i-${(sequence += 1)}`,
    at: ago(1_000),
    severity: 'low',
    summary: 'smoke',
    ...overrides,
  };
}

function given(cs: readonly CommandRecord[], is: readonly IncidentRecord[] = []): MetricsHistory {
  const withCommands = cs.reduce((h, c) => appendCommand(h, c, NOW), EMPTY_HISTORY);
  return is.reduce((h, i) => appendIncident(h, i, NOW), withCommands);
}
