import { Registry } from 'prom-client';
import type { CommandRecord, GovernanceEvent } from '@bifrost/domain-governance';
import { GovernanceMetrics } from './governance.metrics';

const ENGINE = 'roaster-1';

describe('GovernanceMetrics', () => {
  it('should count each command record once in commands_total, a rejected one as rejected', async () => {
    const registry = new Registry();
    const metrics = new GovernanceMetrics(registry);
    const record = (
      commandId: string,
      outcome: CommandRecord['outcome'],
      approved?: boolean,
    ): GovernanceEvent => ({
      type: 'CommandRecorded',
      data: {
        engineId: ENGINE,
        record: {
          commandId,
          commandType: 'SET_FAN',
          at: '2026-11-20T17:00:00.000Z',
          outcome,
          requiredApproval: approved !== undefined,
          ...(approved !== undefined ? { approved } : {}),
        },
        ingestId: `i-${commandId}`,
      },
    });

    metrics.recorded(ENGINE, [
      record('c1', 'success'),
      record('c2', 'success', true),
      record('c3', 'error'),
      record('c4', 'rolled_back'),
      record('c5', 'error', false),
    ]);

    const counted = (await registry.getSingleMetric('bifrost_governance_commands_total')!.get()).values;
    expect(Object.fromEntries(counted.map((v) => [v.labels.status, v.value]))).toEqual({
      succeeded: 2,
      failed: 1,
      rolledBack: 1,
      rejected: 1,
    });
  });
});
