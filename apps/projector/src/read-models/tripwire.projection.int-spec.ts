import { type Envelope } from '@bifrost/contracts';
import { createEnvelope } from '@bifrost/messaging';
import { publishAll, startProjectorHarness, type ProjectorHarness } from '../testing/projector.fixtures';

const POLICY = 'WHOLESALE-contract_rate';
const OPERATOR = { kind: 'operator' as const, id: 'alice' };
const TRIPWIRE = { kind: 'system' as const, id: 'tripwire' };
const T = (second: number) => `2026-11-21T12:00:${String(second).padStart(2, '0')}.000Z`;

describe('tripwire read models against real NATS and Postgres', () => {
  let h: ProjectorHarness;

  beforeAll(async () => {
    h = await startProjectorHarness('projtrip');
    // Small batches: the KPIs of one engine are counted across batches as well as within one.
    h.startProjector({ batchSize: 4 });
    await publishAll(h.client, story(h.ns.naming.eventSubject('tripwire', 'policy', POLICY)));
    await h.caughtUp();
  });
  afterAll(() => h?.stop());

  it('should keep the policy with its settings and the last toggle', async () => {
    expect(
      await h.rows(
        `SELECT policy_id, config->>'action' AS action, enabled, updated_at FROM tripwire_policies`,
      ),
    ).toEqual([{ policy_id: POLICY, action: 'THROTTLE', enabled: false, updated_at: new Date(T(30)) }]);
  });

  it('should count every KPI per engine once, with the latest time and the reset', async () => {
    expect(
      await h.rows(`SELECT engine_id, kpis, last_kpi_at, reset_at FROM tripwire_engines ORDER BY engine_id`),
    ).toEqual([
      { engine_id: 'e1', kpis: 7, last_kpi_at: new Date(T(20)), reset_at: new Date(T(15)) },
      { engine_id: 'e2', kpis: 2, last_kpi_at: new Date(T(12)), reset_at: null },
    ]);
  });
});

function story(subject: string): Envelope[] {
  const event = (type: string, actor: typeof OPERATOR | typeof TRIPWIRE, data: Record<string, unknown>) =>
    createEnvelope({ type: `tripwire.${type}`, subject, source: 'tripwire', actor, data });
  const kpi = (engineId: string, second: number, success = true) =>
    event('KpiRecorded', TRIPWIRE, {
      policyId: POLICY,
      engineId,
      success,
      kpiId: `${engineId}-${second}`,
      at: T(second),
    });
  const config = {
    domain: 'WHOLESALE',
    metric: 'contract_rate',
    recentWindow: 50,
    baselineWindow: 500,
    maxDropPct: 30,
    minEvents: 20,
    action: 'THROTTLE',
    enabled: false,
    confidence: 0.95,
  };
  return [
    event('PolicyDefined', OPERATOR, {
      policyId: POLICY,
      policy: config,
      previous: null,
      actor: OPERATOR,
      reason: 'seed',
      at: T(0),
    }),
    // Seeded disabled (seed 000): an operator enables it, and later disables it again.
    event('PolicyEnabled', OPERATOR, { policyId: POLICY, actor: OPERATOR, reason: 'watch it', at: T(0) }),
    ...[1, 2, 3, 4, 5].map((s) => kpi('e1', s)),
    kpi('e2', 11),
    kpi('e2', 12, false),
    event('TripwireReset', OPERATOR, {
      policyId: POLICY,
      engineId: 'e1',
      wasTriggered: false,
      actor: OPERATOR,
      reason: 're-baseline',
      at: T(15),
    }),
    kpi('e1', 18),
    kpi('e1', 20, false),
    event('PolicyDisabled', OPERATOR, {
      policyId: POLICY,
      actor: OPERATOR,
      reason: 'quiet season',
      at: T(30),
    }),
  ];
}
