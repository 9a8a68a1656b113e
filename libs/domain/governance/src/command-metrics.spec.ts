import { ValidationError } from '@bifrost/event-sourcing';
import {
  appendCommand,
  appendIncident,
  commandTypesIn,
  durationMs,
  EMPTY_HISTORY,
  HISTORY_LIMITS,
  windowMetrics,
  type CommandRecord,
  type IncidentRecord,
  type MetricsHistory,
} from './command-metrics';

const NOW = '2026-11-20T17:00:00.000Z';

describe('Command metrics', () => {
  describe('Given no history', () => {
    it('should report zero counts, zero rates and no severity', () => {
      expect(windowMetrics(EMPTY_HISTORY, '5m', NOW)).toEqual({
        window: '5m',
        commands: 0,
        successes: 0,
        errors: 0,
        rollbacks: 0,
        failures: 0,
        successRate: 0,
        errorRate: 0,
        rollbackRate: 0,
        approvalsRequired: 0,
        approvalsGranted: 0,
        approvalRate: 0,
        incidents: 0,
        criticalIncidents: 0,
        maxSeverity: null,
      });
    });
  });

  describe('Given 10 commands in the last minute: 7 successes, 2 errors, 1 rollback', () => {
    const history = given([
      ...commands(7, { outcome: 'success' }),
      ...commands(2, { outcome: 'error' }, 'e'),
      ...commands(1, { outcome: 'rolled_back' }, 'r'),
    ]);

    it('should count outcomes and rates, failures being errors plus rollbacks', () => {
      expect(windowMetrics(history, '1m', NOW)).toMatchObject({
        commands: 10,
        successes: 7,
        errors: 2,
        rollbacks: 1,
        failures: 3,
        successRate: 0.7,
        errorRate: 0.2,
        rollbackRate: 0.1,
      });
    });
  });

  describe('Given commands that needed approval', () => {
    const history = given([
      ...commands(4, { requiredApproval: true, approved: true }),
      ...commands(1, { requiredApproval: true, approved: false }, 'x'),
      ...commands(5, { requiredApproval: false }, 'auto'),
    ]);

    it('should rate approvals among the commands that needed one', () => {
      expect(windowMetrics(history, '5m', NOW)).toMatchObject({
        approvalsRequired: 5,
        approvalsGranted: 4,
        approvalRate: 0.8,
      });
    });
  });

  describe('Given records at the window edges', () => {
    const history = given([
      command({ commandId: 'on-start', at: minus(5 * 60_000) }),
      command({ commandId: 'inside', at: minus(5 * 60_000 - 1) }),
      command({ commandId: 'at-now', at: NOW }),
      command({ commandId: 'future', at: minus(-1) }),
    ]);

    it('should count (now − window, now]: not the start instant, not the future', () => {
      expect(windowMetrics(history, '5m', NOW).commands).toBe(2);
    });

    it.each([
      ['1m', 1],
      ['10m', 3],
      ['15m', 3],
      ['1h', 3],
      ['24h', 3],
      ['7d', 3],
      ['30d', 3],
    ] as const)('should count %s windows', (window, expected) => {
      expect(windowMetrics(history, window, NOW).commands).toBe(expected);
    });

    it('should take a window of whole minutes, and refuse what is none', () => {
      expect(durationMs('10m')).toBe(600_000);
      expect(durationMs('60m')).toBe(3_600_000);
      for (const window of ['0m', '1.5m', 'm', '10 m', '2w'])
        expect(() => durationMs(window)).toThrow(ValidationError);
    });
  });

  describe('Given commands of two types and incidents attributed to one', () => {
    const history = given(
      [
        ...commands(3, { commandType: 'SET_FAN', outcome: 'error' }, 'fan'),
        ...commands(2, { commandType: 'SET_POWER' }, 'pow'),
      ],
      [
        incident({ incidentId: 'i1', severity: 'high', commandType: 'SET_FAN' }),
        incident({ incidentId: 'i2', severity: 'critical' }),
      ],
    );

    it('should filter commands and incidents by command type', () => {
      expect(windowMetrics(history, '5m', NOW, 'SET_FAN')).toMatchObject({
        commands: 3,
        errors: 3,
        incidents: 1,
        criticalIncidents: 0,
        maxSeverity: 'high',
      });
    });

    it('should see every incident without a filter, and the most severe one', () => {
      expect(windowMetrics(history, '5m', NOW)).toMatchObject({
        commands: 5,
        incidents: 2,
        criticalIncidents: 1,
        maxSeverity: 'critical',
      });
    });

    it('should list the command types in the window', () => {
      expect(commandTypesIn(history, '5m', NOW)).toEqual(['SET_FAN', 'SET_POWER']);
    });
  });

  describe('When a command or incident is redelivered', () => {
    it('should count it once and return the same history', () => {
      const once = appendCommand(EMPTY_HISTORY, command({ commandId: 'c1' }), NOW);
      expect(appendCommand(once, command({ commandId: 'c1', outcome: 'error' }), NOW)).toBe(once);

      const withIncident = appendIncident(once, incident({ incidentId: 'i1' }), NOW);
      expect(appendIncident(withIncident, incident({ incidentId: 'i1' }), NOW)).toBe(withIncident);
      expect(windowMetrics(withIncident, '5m', NOW)).toMatchObject({ commands: 1, errors: 0, incidents: 1 });
    });
  });

  describe('When records get older than the retention', () => {
    it('should drop them on the next append', () => {
      const old = given(
        [command({ commandId: 'old', at: minus(HISTORY_LIMITS.retentionMs) })],
        [incident({ incidentId: 'old-i', at: minus(HISTORY_LIMITS.retentionMs) })],
      );
      const next = appendCommand(old, command({ commandId: 'new' }), NOW);
      expect(next.commands.map((c) => c.commandId)).toEqual(['new']);
      expect(next.incidents).toEqual([]);
    });
  });

  describe('When more commands arrive than the cap', () => {
    it('should keep the newest ones', () => {
      let h: MetricsHistory = EMPTY_HISTORY;
      for (let i = 0; i < HISTORY_LIMITS.maxCommands + 2; i += 1) {
        h = appendCommand(h, command({ commandId: `c${i}` }), NOW);
      }
      expect(h.commands).toHaveLength(HISTORY_LIMITS.maxCommands);
      expect(h.commands[0]?.commandId).toBe('c2');
    });
  });
});

function minus(ms: number): string {
  return new Date(Date.parse(NOW) - ms).toISOString();
}

function given(cs: readonly CommandRecord[], is: readonly IncidentRecord[] = []): MetricsHistory {
  const withCommands = cs.reduce((h, c) => appendCommand(h, c, NOW), EMPTY_HISTORY);
  return is.reduce((h, i) => appendIncident(h, i, NOW), withCommands);
}

function command(overrides: Partial<CommandRecord> = {}): CommandRecord {
  return {
    commandId: 'c',
    commandType: 'SET_POWER',
    at: minus(10_000),
    outcome: 'success',
    requiredApproval: false,
    ...overrides,
  };
}

function commands(n: number, overrides: Partial<CommandRecord>, prefix = 'c'): CommandRecord[] {
  return Array.from({ length: n }, (_, i) => command({ ...overrides, commandId: `${prefix}-${i}` }));
}

function incident(overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return { incidentId: 'i', at: minus(10_000), severity: 'low', summary: 'something', ...overrides };
}
