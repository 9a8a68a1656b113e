// Three envelopes as published on BIFROST_EVENTS / BIFROST_DECISIONS; their hashes are pinned in
// hash-chain.spec.ts and worked through in docs/audit.md.
export const killSwitchEngaged = {
  id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a51',
  type: 'gate.KillSwitchEngaged',
  version: 1,
  occurredAt: '2026-11-21T20:42:55.123Z',
  source: 'gate',
  subject: 'bifrost.evt.gate.control.global',
  correlationId: 'corr-1',
  actor: { kind: 'operator', id: 'op-7' },
  data: { scope: 'global', hard: false, reason: 'drawdown' },
};

export const capacityReserved = {
  id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a52',
  type: 'risk.CapacityReserved',
  version: 1,
  occurredAt: '2026-11-21T20:42:56.000Z',
  source: 'risk-guard',
  subject: 'bifrost.dec.risk.eng-1',
  correlationId: 'corr-2',
  causationId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a51',
  actor: { kind: 'engine', id: 'eng-1' },
  data: { reservationId: 'r-1', notional: { amount: 125000, currency: 'USD' }, strategyId: 's-123' },
};

export const maturityPromoted = {
  id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a53',
  type: 'gate.MaturityPromoted',
  version: 1,
  occurredAt: '2026-11-21T20:43:00.500Z',
  source: 'gate',
  subject: 'bifrost.evt.gate.strategy.eng-1:s-123',
  actor: { kind: 'system', id: 'gate' },
  data: { from: 'L2', to: 'L3', outcomes: 50, winRate: 0.52, notes: null },
};

/** A distinct, realistic envelope for position `i` of a generated stream. */
export function generatedEnvelope(i: number) {
  const suffix = i.toString(16).padStart(12, '0');
  return {
    id: `0193a1b2-c3d4-7e5f-8a9b-${suffix}`,
    type: 'gate.CheckDecided',
    version: 1,
    occurredAt: new Date(Date.UTC(2026, 10, 21) + i).toISOString(),
    source: 'gate',
    subject: `bifrost.dec.gate.eng-${i % 7}`,
    correlationId: `corr-${i}`,
    actor: { kind: 'engine', id: `eng-${i % 7}` },
    data: {
      action: i % 3 === 0 ? 'REDUCE_SIZE' : 'ALLOW',
      sizeMultiplier: i % 3 === 0 ? 0.5 : 1,
      notional: { amount: 1000 + i, currency: 'EUR' },
      checks: [
        { name: 'go-live', outcome: 'PASS', value: 1, threshold: 1, distanceToTrip: 0 },
        { name: 'maturity', outcome: 'PASS', value: i % 5, threshold: 2, distanceToTrip: 3 - (i % 5) },
        { name: 'health', outcome: 'PASS', value: 0.91, threshold: 0.6, distanceToTrip: 0.31 },
      ],
      reason: `row ${i}: ${'padding '.repeat(40)}`,
    },
  };
}
