import type { GovernanceCommand } from '@bifrost/domain-governance';
import type { Logger } from '@bifrost/observability';
import type { GovernanceCommands } from '../commands/governance-commands.service';
import type { GovernanceAgentConfig } from '../governance-agent.config';
import type { GovernanceMetrics } from '../governance.metrics';
import type { GovernanceState } from '../state/governance-state';
import { GovernanceCycles } from './governance-cycles.service';

describe('GovernanceCycles clockwork', () => {
  const issued: GovernanceCommand[] = [];
  const commands = {
    engine: (command: GovernanceCommand) => {
      issued.push(command);
      return Promise.resolve({ events: [], lastSequence: 0 });
    },
  } as unknown as GovernanceCommands;
  const state = {
    onModuleInit: () => Promise.resolve(),
    enrolled: () => [
      { engineId: 'e1', proposals: [] },
      { engineId: 'e2', proposals: [] },
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

  it('should refuse a schedule it cannot read', () => {
    expect(() => new GovernanceCycles(commands, state, config('Fridays at five'), logger, metrics)).toThrow(
      expect.objectContaining({ code: 'GOVERNANCE.BAD_SCHEDULE' }),
    );
  });
});
