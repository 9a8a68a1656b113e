import type { Actor } from '@bifrost/contracts';
import { GOVERNANCE_AGENT, type GovernanceCommand } from '@bifrost/domain-governance';
import type { Logger } from '@bifrost/observability';
import type { GovernanceCommands } from '../commands/governance-commands.service';
import type { GovernanceAgentConfig } from '../governance-agent.config';
import type { GovernanceMetrics } from '../governance.metrics';
import type { GovernanceState } from '../state/governance-state';
import { GovernanceCycles } from './governance-cycles.service';

const OPERATOR: Actor = { kind: 'operator', id: 'alice' };
const OLD = '2026-10-01T00:00:00.000Z';

type Asked = GovernanceCommand | (() => GovernanceCommand);
/** The command as decided: one made when its turn comes is made then. */
const made = (command: Asked): GovernanceCommand => (typeof command === 'function' ? command() : command);

describe('GovernanceCycles clockwork', () => {
  const issued: GovernanceCommand[] = [];
  const commands = {
    engine: (asked: Asked) => {
      issued.push(made(asked));
      return Promise.resolve({ events: [], lastSequence: 0 });
    },
  } as unknown as GovernanceCommands;
  const state = {
    onModuleInit: () => Promise.resolve(),
    enrolled: () => [
      { engineId: 'e1', proposals: [], lastCycle: null, enrolledAt: '2026-11-19T11:00:00.000Z' },
      { engineId: 'e2', proposals: [], lastCycle: null, enrolledAt: '2026-11-19T11:30:00.000Z' },
    ],
  } as unknown as GovernanceState;
  const metrics = { observe: () => undefined } as unknown as GovernanceMetrics;
  const logger = { error: () => undefined, warn: () => undefined } as unknown as Logger;
  const config = (schedule: string) =>
    ({
      GOVERNANCE_CYCLE_SCHEDULE: schedule,
      GOVERNANCE_BREAKER_CHECK_INTERVAL_MS: 60_000,
      GOVERNANCE_PROPOSAL_TTL_DAYS: 14,
    }) as GovernanceAgentConfig;

  beforeEach(() => {
    issued.length = 0;
    jest.useFakeTimers({ now: new Date('2026-11-19T12:00:00.000Z') }); // a Thursday
  });
  afterEach(() => jest.useRealTimers());

  it('should run every engine cycle at Friday 17:00 UTC with the slot as report id, then arm next week', async () => {
    const cycles = new GovernanceCycles(commands, state, config('FRI 17:00'), logger, metrics);
    await cycles.onApplicationBootstrap();
    expect(cycles.nextRun()?.toISOString()).toBe('2026-11-20T17:00:00.000Z');

    await jest.advanceTimersByTimeAsync(29 * 3_600_000 - 1);
    expect(issued.filter((c) => c.type === 'RunCycle')).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);

    const runs = issued.filter((c) => c.type === 'RunCycle');
    expect(runs.map((c) => [c.data.engineId, (c.data as { reportId: string }).reportId])).toEqual([
      ['e1', 'sched-e1-2026-11-20T17:00:00.000Z'],
      ['e2', 'sched-e2-2026-11-20T17:00:00.000Z'],
    ]);
    expect(cycles.nextRun()?.toISOString()).toBe('2026-11-27T17:00:00.000Z');
    cycles.beforeApplicationShutdown();
  });

  it('should run at start the last slot missed by an engine whose cycle has not run since', async () => {
    const missed = {
      ...state,
      enrolled: () => [
        {
          engineId: 'e1',
          proposals: [],
          lastCycle: { reportId: 'r', ranAt: '2026-11-13T17:00:00.000Z' },
          enrolledAt: OLD,
        },
        // The agent was down at that slot: its last cycle is a week older.
        {
          engineId: 'e2',
          proposals: [],
          lastCycle: { reportId: 'r', ranAt: '2026-11-06T17:00:00.000Z' },
          enrolledAt: OLD,
        },
        { engineId: 'e3', proposals: [], lastCycle: null, enrolledAt: OLD },
        // Enrolled after the slot: it missed nothing.
        { engineId: 'e4', proposals: [], lastCycle: null, enrolledAt: '2026-11-14T09:00:00.000Z' },
      ],
    } as unknown as GovernanceState;
    const cycles = new GovernanceCycles(commands, missed, config('FRI 17:00'), logger, metrics);
    await cycles.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);

    const runs = issued.filter((c) => c.type === 'RunCycle');
    expect(runs.map((c) => [c.data.engineId, (c.data as { reportId: string }).reportId])).toEqual([
      ['e2', 'sched-e2-2026-11-13T17:00:00.000Z'],
      ['e3', 'sched-e3-2026-11-13T17:00:00.000Z'],
    ]);
    expect(cycles.nextRun()?.toISOString()).toBe('2026-11-20T17:00:00.000Z');
    cycles.beforeApplicationShutdown();
  });

  it('should check every engine breakers on the interval', async () => {
    const cycles = new GovernanceCycles(commands, state, config('off'), logger, metrics);
    await cycles.onApplicationBootstrap();
    expect(cycles.nextRun()).toBeNull();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(issued.map((c) => [c.type, c.data.engineId])).toEqual([
      ['CheckBreakers', 'e1'],
      ['CheckBreakers', 'e2'],
    ]);
    cycles.beforeApplicationShutdown();
  });

  it('should skip the intervals that come while a breaker check is still running, not run them beside it', async () => {
    let running = 0;
    let most = 0;
    const finish: (() => void)[] = [];
    const slow = {
      engine: (asked: Asked) => {
        const command = made(asked);
        issued.push(command);
        running += 1;
        most = Math.max(most, running);
        return new Promise((resolve) =>
          finish.push(() => {
            running -= 1;
            resolve({ events: [], lastSequence: 0 });
          }),
        );
      },
    } as unknown as GovernanceCommands;
    const cycles = new GovernanceCycles(slow, state, config('off'), logger, metrics);
    await cycles.onApplicationBootstrap();

    // e1's check outlasts three intervals.
    await jest.advanceTimersByTimeAsync(3 * 60_000);
    expect(most).toBe(1);
    expect(issued.map((c) => c.data.engineId)).toEqual(['e1']);

    finish.shift()?.();
    await jest.advanceTimersByTimeAsync(0);
    finish.shift()?.();
    await jest.advanceTimersByTimeAsync(0);
    expect(issued.map((c) => c.data.engineId)).toEqual(['e1', 'e2']);
    // Done: the next interval checks again.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(issued.map((c) => c.data.engineId)).toEqual(['e1', 'e2', 'e1']);
    expect(most).toBe(1);
    cycles.beforeApplicationShutdown();
    finish.shift()?.();
  });

  it('should time a breaker check when its turn on the engine comes, not when the pass began', async () => {
    const turns: (() => void)[] = [];
    const queued = {
      engine: (asked: Asked) =>
        new Promise((resolve) =>
          turns.push(() => {
            issued.push(made(asked));
            resolve({ events: [], lastSequence: 0 });
          }),
        ),
    } as unknown as GovernanceCommands;
    const cycles = new GovernanceCycles(queued, state, config('off'), logger, metrics);
    await cycles.onApplicationBootstrap();

    await jest.advanceTimersByTimeAsync(60_000);
    // The engine's lock is held for 5 s by another command.
    await jest.advanceTimersByTimeAsync(5_000);
    turns.shift()?.();
    await jest.advanceTimersByTimeAsync(0);
    expect(issued).toEqual([
      { type: 'CheckBreakers', data: { engineId: 'e1', now: '2026-11-19T12:01:05.000Z' } },
    ]);
    cycles.beforeApplicationShutdown();
    turns.shift()?.();
  });

  describe('When the cycle of one engine fails', () => {
    const failing = {
      engine: (asked: Asked) => {
        const command = made(asked);
        issued.push(command);
        return command.type === 'RunCycle' && command.data.engineId === 'e1'
          ? Promise.reject(new Error('publish refused'))
          : Promise.resolve({ events: [], lastSequence: 0 });
      },
    } as unknown as GovernanceCommands;
    const failed: string[] = [];
    const logged: unknown[] = [];
    const counting = {
      ...metrics,
      cycleFailed: (engine: string) => failed.push(engine),
    } as unknown as GovernanceMetrics;
    const logging = { ...logger, error: (fields: unknown) => logged.push(fields) } as unknown as Logger;

    beforeEach(() => {
      failed.length = 0;
      logged.length = 0;
    });

    it('should still run the cycles of the engines after it, logging and counting the failure', async () => {
      const cycles = new GovernanceCycles(failing, state, config('off'), logging, counting);
      await cycles.run('schedule', GOVERNANCE_AGENT);

      expect(issued.map((c) => [c.type, c.data.engineId])).toEqual([
        ['RunCycle', 'e1'],
        ['RunCycle', 'e2'],
      ]);
      expect(failed).toEqual(['e1']);
      expect(logged).toEqual([{ err: new Error('publish refused'), engineId: 'e1' }]);
    });

    it('should give an operator who asked for that engine alone its failure', async () => {
      const cycles = new GovernanceCycles(failing, state, config('off'), logging, counting);
      await expect(cycles.run('operator', OPERATOR, 'e1')).rejects.toThrow('publish refused');
      expect(failed).toEqual([]);
    });
  });

  it('should refuse a schedule it cannot read', () => {
    expect(() => new GovernanceCycles(commands, state, config('Fridays at five'), logger, metrics)).toThrow(
      expect.objectContaining({ code: 'GOVERNANCE.BAD_SCHEDULE' }),
    );
  });
});
