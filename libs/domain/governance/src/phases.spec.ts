import { AUTONOMY_PHASES } from '@bifrost/contracts';
import {
  DEFAULT_PHASE_LADDER,
  daysBetween,
  effectiveWhitelist,
  nextPhase,
  stabilizationPeriod,
  validateLadder,
  whitelistOf,
} from './phases';

describe('Phase ladder (seed 003 defaults)', () => {
  it.each([
    ['L3', []],
    ['L3+', ['SET_FAN', 'SET_POWER']],
    ['L4', ['SET_AIRFLOW', 'SET_DRUM', 'SET_FAN', 'SET_POWER']],
    ['L4+', ['COOLING_CYCLE', 'PREHEAT', 'SET_AIRFLOW', 'SET_DRUM', 'SET_FAN', 'SET_POWER']],
    [
      'L5',
      [
        'ABORT',
        'COOLING_CYCLE',
        'EMERGENCY_SHUTDOWN',
        'PREHEAT',
        'SET_AIRFLOW',
        'SET_DRUM',
        'SET_FAN',
        'SET_POWER',
      ],
    ],
  ] as const)('should whitelist at %s the commands of every phase up to it', (phase, expected) => {
    expect(whitelistOf(DEFAULT_PHASE_LADDER, phase)).toEqual(expected);
  });

  it('should carry the seed validation periods and approver roles', () => {
    expect(DEFAULT_PHASE_LADDER.map((r) => [r.phase, r.validationDays, r.requiredApprovals.length])).toEqual([
      ['L3', null, 0],
      ['L3+', 14, 1],
      ['L4', 21, 2],
      ['L4+', 30, 3],
      ['L5', 60, 4],
    ]);
    expect(DEFAULT_PHASE_LADDER[0]?.stabilizationDays).toBe(180);
  });

  it('should step one phase at a time and stop at L5', () => {
    expect(nextPhase('L3')).toBe('L3+');
    expect(nextPhase('L4+')).toBe('L5');
    expect(nextPhase('L5')).toBeNull();
  });

  it('should leave paused command types out of the effective whitelist', () => {
    expect(effectiveWhitelist(DEFAULT_PHASE_LADDER, 'L4', ['SET_DRUM'])).toEqual([
      'SET_AIRFLOW',
      'SET_FAN',
      'SET_POWER',
    ]);
  });

  it('should refuse a ladder out of order, a rung without approvers, or a role twice', () => {
    expect(() => validateLadder([...DEFAULT_PHASE_LADDER].reverse())).toThrow(/in order/);
    const noApprovers = DEFAULT_PHASE_LADDER.map((r) =>
      r.phase === 'L4' ? { ...r, requiredApprovals: [] } : r,
    );
    expect(() => validateLadder(noApprovers)).toThrow(/at least one/);
    const twice = DEFAULT_PHASE_LADDER.map((r) =>
      r.phase === 'L4' ? { ...r, requiredApprovals: ['ops_lead' as const, 'ops_lead' as const] } : r,
    );
    expect(() => validateLadder(twice)).toThrow(/twice/);
  });

  it('should state each stabilization period once: L3 has none to validate and asks 180+ days, above L3 stabilizationDays is validationDays', () => {
    const withRung = (phase: string, change: Record<string, unknown>) =>
      DEFAULT_PHASE_LADDER.map((r) => (r.phase === phase ? { ...r, ...change } : r));
    expect(() => validateLadder(withRung('L3+', { stabilizationDays: 0 }))).toThrow(
      /stabilizationDays must equal its validationDays/,
    );
    expect(() => validateLadder(withRung('L4', { validationDays: null, stabilizationDays: 21 }))).toThrow(
      /needs a validation period/,
    );
    expect(() => validateLadder(withRung('L3', { stabilizationDays: 0 }))).toThrow(/at least 180 days/);
    expect(() => validateLadder(withRung('L3', { validationDays: 14 }))).toThrow(/no validation period/);
    expect(validateLadder(withRung('L3', { stabilizationDays: 365 }))).toHaveLength(5);
  });

  it('should ask to stay at a phase for its validation period, and at L3 for its stabilization period', () => {
    expect(AUTONOMY_PHASES.map((p) => stabilizationPeriod(DEFAULT_PHASE_LADDER, p))).toEqual([
      180, 14, 21, 30, 60,
    ]);
  });

  it('should count whole days', () => {
    expect(daysBetween('2026-01-01T00:00:00.000Z', '2026-01-02T23:59:59.999Z')).toBe(1);
    expect(daysBetween('2026-01-02T00:00:00.000Z', '2026-01-01T00:00:00.000Z')).toBe(0);
  });
});
