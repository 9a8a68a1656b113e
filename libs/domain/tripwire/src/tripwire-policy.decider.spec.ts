import type { TripwirePolicyConfig } from '@bifrost/contracts';
import { DeciderSpecification, NotFoundError, ValidationError } from '@bifrost/event-sourcing';
import { evaluateWindow, upperTail } from './kpi-window';
import {
  SEED_TRIPWIRE_POLICIES,
  evaluateEngine,
  seedTripwireCommands,
  tripwireDecider,
  tripwirePolicyView,
  type EngineWindow,
  type IngestPosition,
  type TripwireEvent,
  type TripwirePolicy,
  type TripwireState,
} from './tripwire-policy.decider';

const T0 = '2026-11-21T12:00:00.000Z';
const OPERATOR = { kind: 'operator' as const, id: 'alice' };
const ID = 'WHOLESALE-contract_rate';

describe('Tripwire policy', () => {
  const spec = DeciderSpecification.for(tripwireDecider, undefined);

  describe('Given no policy', () => {
    it('should seed the four policies of seed 000, every one disabled until an operator enables it', () => {
      const commands = seedTripwireCommands(T0);
      expect(commands.map((c) => c.data.policyId)).toEqual([
        'WHOLESALE-contract_rate',
        'WHOLESALE-offer_accept_rate',
        'BUYER_MATCH-match_success',
        'CAPITAL-roi_event',
      ]);
      expect(commands.map((c) => c.type === 'DefinePolicy' && c.data.policy.enabled)).toEqual([
        false,
        false,
        false,
        false,
      ]);
    });

    it.each([
      ['recent', { recentWindow: 10, baselineWindow: 20, minEvents: 11 }],
      ['baseline', { recentWindow: 100, baselineWindow: 20, minEvents: 21 }],
    ])('should refuse a policy whose minEvents is more than the %s window holds', (_, sizes) => {
      const policy = { ...(SEED_TRIPWIRE_POLICIES[0] as TripwirePolicyConfig), ...sizes };
      spec
        .given([])
        .when({
          type: 'DefinePolicy',
          data: { policyId: ID, actor: OPERATOR, reason: 'test', now: T0, policy },
        })
        .thenThrows(ValidationError);
    });

    it('should accept minEvents equal to the smaller window', () => {
      const policy = {
        ...(SEED_TRIPWIRE_POLICIES[0] as TripwirePolicyConfig),
        recentWindow: 10,
        baselineWindow: 20,
        minEvents: 10,
      };
      spec
        .given([])
        .when({
          type: 'DefinePolicy',
          data: { policyId: ID, actor: OPERATOR, reason: 'test', now: T0, policy },
        })
        .then([
          {
            type: 'PolicyDefined',
            data: { policyId: ID, policy, previous: null, actor: OPERATOR, reason: 'test', at: T0 },
          },
        ]);
    });

    it('should define a policy sent without enabled and confidence disabled, at confidence 0.95', () => {
      const settings = seedSettings();
      spec
        .given([])
        .when({
          type: 'DefinePolicy',
          data: { policyId: ID, actor: OPERATOR, reason: 'test', now: T0, policy: settings },
        })
        .then([
          {
            type: 'PolicyDefined',
            data: {
              policyId: ID,
              policy: { ...settings, enabled: false, confidence: 0.95 },
              previous: null,
              actor: OPERATOR,
              reason: 'test',
              at: T0,
            },
          },
        ]);
    });

    it('should refuse a KPI for it', () => {
      spec
        .given([])
        .when(kpi('E1', true, 'k1'))
        .thenThrows(NotFoundError);
    });
  });

  describe('Given the seeded policy (N=100, M=500, 30 %), not enabled, and a regressed engine', () => {
    const history = [seeded(), ...kpis('WHOLESALE', 500, true), ...kpis('WHOLESALE', 40, false, 500)];

    it('should record the next failure but trip nothing, not even on evaluate', () => {
      // The windows have regressed: only the policy being disabled keeps it from tripping.
      const state = fold(history);
      expect(evaluateEngine(policyOf(state), engineOf(state, 'WHOLESALE')).result).toBe('TRIPPED');
      spec
        .given(history)
        .when(kpi('WHOLESALE', false, 'f-540'))
        .then([recorded('WHOLESALE', false, 'f-540')]);
      spec
        .given(history)
        .when({ type: 'EvaluatePolicy', data: { policyId: ID, now: T0 } })
        .thenNothingHappened();
    });

    it('should trip on the next KPI once an operator has enabled it', () => {
      spec
        .given(history)
        .when({ type: 'EnablePolicy', data: { policyId: ID, actor: OPERATOR, reason: 'on', now: T0 } })
        .then([enabled()]);
      const events = tripwireDecider.decide(
        kpi('WHOLESALE', false, 'f-540'),
        fold([...history, enabled()]),
        undefined,
      );
      expect(events.map((e) => e.type)).toEqual(['KpiRecorded', 'TripwireTriggered']);
      expect(events[1]?.data).toMatchObject({ engineId: 'WHOLESALE', action: 'THROTTLE' });
    });
  });

  describe('Given an enabled policy (N=100, M=500, 30 %) and 500 successes', () => {
    const history = [seeded(), enabled(), ...kpis('WHOLESALE', 500, true)];

    it('should record a failure without tripping while the drop is at most 30 %', () => {
      spec
        .given([...history, ...kpis('WHOLESALE', 29, false, 500)])
        .when(kpi('WHOLESALE', false, 'f-30'))
        .then([recorded('WHOLESALE', false, 'f-30')]); // recent 70/100 = exactly 30 %
    });

    it('should trip with THROTTLE and the evidence on the 31st failure', () => {
      const events = tripwireDecider.decide(
        kpi('WHOLESALE', false, 'f-31'),
        fold([...history, ...kpis('WHOLESALE', 30, false, 500)]),
        undefined,
      );
      expect(events.map((e) => e.type)).toEqual(['KpiRecorded', 'TripwireTriggered']);
      const trigger = events[1]?.data as { action: string; evidence: unknown };
      expect(trigger.action).toBe('THROTTLE');
      // docs/tripwire.md, "Example of the evidence"
      expect(trigger.evidence).toEqual({
        baseline: { from: 1, to: 431, count: 431, successes: 431, rate: 1 },
        recent: { from: 432, to: 531, count: 100, successes: 69, rate: 0.69 },
        dropPct: 31,
        maxDropPct: 30,
        zScore: 11.911919,
        pValue: 0,
        confidence: 0.95,
        minEvents: 50,
      });
    });

    it('should ignore a redelivered KPI', () => {
      spec
        .given([...history])
        .when(kpi('WHOLESALE', true, 'k-499'))
        .thenNothingHappened();
    });

    it('should append the trip a redelivered KPI lost when its append stopped after KpiRecorded', () => {
      const cut = [...history, ...kpis('WHOLESALE', 31, false, 500)]; // f-530 stored, its trip not
      const events = tripwireDecider.decide(kpi('WHOLESALE', false, 'f-530'), fold(cut), undefined);
      expect(events.map((e) => e.type)).toEqual(['TripwireTriggered']);
      expect(events[0]?.data).toMatchObject({ engineId: 'WHOLESALE', action: 'THROTTLE', triggeredAt: T0 });
      // Only the last KPI recorded completes its decision: an older one's is decided already.
      spec
        .given(cut)
        .when(kpi('WHOLESALE', false, 'f-529'))
        .thenNothingHappened();
    });
  });

  describe('Given KPIs recorded with their ingest stream positions', () => {
    const STREAM = '2026-11-20T08:00:00.123456789Z';
    const RECREATED = '2026-11-21T11:00:00.987654321Z';
    const at = (sequence: number, streamCreated = STREAM) => ({ sequence, streamCreated });
    // k-0 … k-39 at ingest sequences 1 … 40.
    const forty = [
      seeded(),
      enabled(),
      ...Array.from({ length: 40 }, (_, i) => recorded('WHOLESALE', true, `k-${i}`, at(i + 1))),
    ];

    it.each([1, 8, 40])(
      'should not record again the KPI at sequence %i replayed after its id was forgotten (the consumer lost)',
      (sequence) => {
        spec
          .given(forty)
          .when(kpi('WHOLESALE', true, `k-${sequence - 1}`, at(sequence)))
          .thenNothingHappened();
      },
    );

    it('should record the next KPI of the stream with its position', () => {
      spec
        .given(forty)
        .when(kpi('WHOLESALE', false, 'f-0', at(41)))
        .then([recorded('WHOLESALE', false, 'f-0', at(41))]);
    });

    it("should record a recreated stream's KPIs although it numbers them from 1 again, then know their replay", () => {
      spec
        .given(forty)
        .when(kpi('WHOLESALE', false, 'f-0', at(1, RECREATED)))
        .then([recorded('WHOLESALE', false, 'f-0', at(1, RECREATED))]);
      spec
        .given([
          ...forty,
          recorded('WHOLESALE', false, 'f-0', at(1, RECREATED)),
          ...kpis('WHOLESALE', 40, true, 100),
        ])
        .when(kpi('WHOLESALE', false, 'f-0', at(1, RECREATED)))
        .thenNothingHappened();
    });

    it('should still append the trip a redelivered KPI lost when its append stopped after KpiRecorded', () => {
      const cut = [
        seeded(),
        enabled(),
        ...Array.from({ length: 531 }, (_, i) => recorded('WHOLESALE', i < 500, `kpi-${i}`, at(i + 1))),
      ];
      const events = tripwireDecider.decide(
        kpi('WHOLESALE', false, 'kpi-530', at(531)),
        fold(cut),
        undefined,
      );
      expect(events.map((e) => e.type)).toEqual(['TripwireTriggered']);
    });

    it('should keep the last position across a reset: a replay after it is not recorded either', () => {
      spec
        .given([...forty, reset('WHOLESALE')])
        .when(kpi('WHOLESALE', true, 'k-0', at(1)))
        .thenNothingHappened();
    });
  });

  describe('Given a tripped engine', () => {
    const history = [
      seeded(),
      enabled(),
      ...kpis('WHOLESALE', 500, true),
      ...kpis('WHOLESALE', 31, false, 500),
    ];
    const tripped = [
      ...history,
      ...tripwireDecider.decide(kpi('WHOLESALE', false, 'f-32'), fold(history), undefined),
    ];

    it('should stay tripped without a second trigger', () => {
      spec
        .given(tripped)
        .when(kpi('WHOLESALE', false, 'f-33'))
        .then([recorded('WHOLESALE', false, 'f-33')]);
    });

    it('should re-baseline on reset: the windows start empty and nothing trips', () => {
      const state = fold([...tripped, reset('WHOLESALE')]);
      expect(state.status === 'defined' && state.engines['WHOLESALE']).toMatchObject({
        outcomes: '',
        observed: 0,
        triggered: null,
      });
      spec
        .given([...tripped, reset('WHOLESALE')])
        .when(kpi('WHOLESALE', false, 'after'))
        .then([recorded('WHOLESALE', false, 'after')]);
    });

    it('should trip a second time on a fresh regression after a reset', () => {
      const rebaselined = [
        ...tripped,
        reset('WHOLESALE'),
        ...kpis('WHOLESALE', 500, true, 1_000),
        ...kpis('WHOLESALE', 30, false, 2_000),
      ];
      const events = tripwireDecider.decide(kpi('WHOLESALE', false, 'again'), fold(rebaselined), undefined);
      expect(events.map((e) => e.type)).toEqual(['KpiRecorded', 'TripwireTriggered']);
      expect(events[1]?.data).toMatchObject({
        engineId: 'WHOLESALE',
        evidence: { baseline: { from: 1, to: 431 }, recent: { from: 432, to: 531, successes: 69 } },
      });
      const triggers = [...rebaselined, ...events].filter((e) => e.type === 'TripwireTriggered');
      expect(triggers).toHaveLength(2);
    });

    it('should reset an engine already reset as nothing happened', () => {
      spec
        .given([...tripped, reset('WHOLESALE')])
        .when(resetCommand('WHOLESALE'))
        .thenNothingHappened();
    });

    it('should refuse to reset an engine the policy never saw, with a stable code', () => {
      spec
        .given(tripped)
        .when(resetCommand('NEVER-SEEN'))
        .thenThrows(NotFoundError, (error) => {
          expect(error).toMatchObject({
            code: 'TRIPWIRE.ENGINE_UNKNOWN',
            details: { policyId: ID, engineId: 'NEVER-SEEN' },
          });
        });
    });
  });

  describe('Given a disabled policy with a regressed engine', () => {
    it('should record but not trip, and trip on evaluate once enabled', () => {
      const history = [
        defined({ enabled: false }),
        ...kpis('E1', 500, true),
        ...kpis('E1', 60, false, 500),
        enabled(),
      ];
      const events = tripwireDecider.decide(
        { type: 'EvaluatePolicy', data: { policyId: ID, now: T0 } },
        fold(history),
        undefined,
      );
      expect(events.map((e) => e.type)).toEqual(['TripwireTriggered']);
    });
  });
});

describe('Policy view', () => {
  it("should show the settings and each engine's count, trip and current evaluation, engines sorted", () => {
    const state = fold([defined(), ...kpis('E2', 3, true), ...kpis('E1', 2, false, 3)]);
    if (state.status !== 'defined') throw new Error('unreachable');
    const view = tripwirePolicyView(state.policy, state.engines);
    expect(view).toMatchObject({ policyId: ID, domain: 'WHOLESALE', recentWindow: 100, updatedAt: T0 });
    expect(view).not.toHaveProperty('status');
    expect(view.engines.map((e) => [e.engineId, e.observed, e.triggered, e.evaluation.result])).toEqual([
      ['E1', 2, null, 'INSUFFICIENT_DATA'],
      ['E2', 3, null, 'INSUFFICIENT_DATA'],
    ]);
    expect(view.engines[1]?.evaluation.evidence.recent).toEqual({
      from: 1,
      to: 3,
      count: 3,
      successes: 3,
      rate: 1,
    });
  });
});

describe('Window arithmetic', () => {
  const settings = { recentWindow: 3, baselineWindow: 4, maxDropPct: 30, minEvents: 2, confidence: 0.95 };

  it('should take the last N as recent and the M before as baseline', () => {
    const { evidence } = evaluateWindow('1111000', 9, settings);
    expect(evidence.recent).toEqual({ from: 7, to: 9, count: 3, successes: 0, rate: 0 });
    expect(evidence.baseline).toEqual({ from: 3, to: 6, count: 4, successes: 4, rate: 1 });
    expect(evidence.dropPct).toBe(100);
  });

  it('should give the recent window first while there are fewer than N + M events', () => {
    const { result, evidence } = evaluateWindow('1110', 4, settings);
    expect(evidence.recent.count).toBe(3);
    expect(evidence.baseline.count).toBe(1);
    expect(result).toBe('INSUFFICIENT_DATA');
  });

  it('should not trip a drop that small samples cannot show to be significant', () => {
    // baseline 3/4, recent 1/3: a 55.6 % drop, but the exact p = 13/35 (the z-test's was 0.135)
    const { result, evidence } = evaluateWindow('1110010', 7, settings);
    expect(result).toBe('DROP_NOT_SIGNIFICANT');
    expect(evidence).toMatchObject({
      baseline: { count: 4, successes: 3 },
      recent: { count: 3, successes: 1 },
      zScore: null,
      pValue: 0.371428571,
    });
    expect(evidence.dropPct).toBeCloseTo(55.56, 2);
  });

  it('should not trip a drop of exactly maxDropPct whose rates have no finite decimals (5/7 to 1/2 is 30 %)', () => {
    const seed = SEED_TRIPWIRE_POLICIES[0] as TripwirePolicyConfig; // N 100, M 500, 30 %
    const baseline = '1'.repeat(250) + '0'.repeat(100); // 5/7, rounded 0.714286
    const exactly = evaluateWindow(baseline + '1'.repeat(50) + '0'.repeat(50), 450, seed);
    expect(exactly.evidence.dropPct).toBe(30);
    expect(exactly.result).toBe('NO_DROP');
    const beyond = evaluateWindow(baseline + '1'.repeat(49) + '0'.repeat(51), 450, seed);
    expect(beyond.evidence.dropPct).toBe(31.4);
    expect(beyond.result).toBe('TRIPPED');
  });

  it('should not trip a drop of exactly a maxDropPct with decimals (625/1000 to 42/100 is 32.8 %)', () => {
    const policy = {
      ...(SEED_TRIPWIRE_POLICIES[0] as TripwirePolicyConfig),
      baselineWindow: 1000,
      maxDropPct: 32.8,
    };
    const baseline = '1'.repeat(625) + '0'.repeat(375);
    const exactly = evaluateWindow(baseline + '1'.repeat(42) + '0'.repeat(58), 1100, policy);
    expect(exactly.evidence).toMatchObject({ dropPct: 32.8, maxDropPct: 32.8 });
    expect(exactly.result).toBe('NO_DROP');
    const beyond = evaluateWindow(baseline + '1'.repeat(41) + '0'.repeat(59), 1100, policy);
    expect(beyond.result).toBe('TRIPPED');
  });

  it('should have nothing to drop from a zero baseline', () => {
    const { result, evidence } = evaluateWindow('0000000', 7, settings);
    expect(evidence.dropPct).toBeNull();
    expect(result).toBe('NO_DROP');
  });

  it('should trip a large significant drop', () => {
    const big = { ...settings, recentWindow: 100, baselineWindow: 500, minEvents: 50 };
    const outcomes = '1'.repeat(500) + '1'.repeat(69) + '0'.repeat(31);
    expect(evaluateWindow(outcomes, 600, big)).toMatchObject({
      result: 'TRIPPED',
      evidence: { dropPct: 31 },
    });
    expect(evaluateWindow(outcomes, 600, big).evidence).toMatchObject({ zScore: 12.784547, pValue: 0 });
  });

  it('should trip at the minimum baseline count and call one event fewer insufficient data', () => {
    // minEvents 20 < N 30: the recent window is full, only the baseline count decides.
    const sized = { ...settings, recentWindow: 30, baselineWindow: 40, minEvents: 20 };
    const atMinimum = evaluateWindow('1'.repeat(20) + '0'.repeat(30), 50, sized);
    expect(atMinimum).toMatchObject({ result: 'TRIPPED', evidence: { baseline: { count: 20 } } });
    const oneShort = evaluateWindow('1'.repeat(19) + '0'.repeat(30), 49, sized);
    expect(oneShort).toMatchObject({ result: 'INSUFFICIENT_DATA', evidence: { baseline: { count: 19 } } });
    // Not for want of a drop or of significance: only the count is short.
    expect(oneShort.evidence.dropPct).toBe(100);
    expect(oneShort.evidence.pValue).toBeLessThan(0.001);
  });

  it('should trip at confidence 0.95 but not at 0.99 when the one-sided p-value lies between 0.01 and 0.05', () => {
    // baseline 70/100, recent 55/100: a 21.4 % drop, z ≈ 2.19, p ≈ 0.0142
    const wide = { recentWindow: 100, baselineWindow: 100, maxDropPct: 10, minEvents: 50 };
    const outcomes = '1'.repeat(70) + '0'.repeat(30) + '1'.repeat(55) + '0'.repeat(45);
    const at95 = evaluateWindow(outcomes, 200, { ...wide, confidence: 0.95 });
    expect(at95.evidence).toMatchObject({ dropPct: 21.428571, zScore: 2.19089, pValue: 0.014229867 });
    expect(at95.result).toBe('TRIPPED');
    expect(evaluateWindow(outcomes, 200, { ...wide, confidence: 0.99 }).result).toBe('DROP_NOT_SIGNIFICANT');
  });

  it('should call a recent rate above the baseline no drop, however significant the rise (one-sided)', () => {
    // baseline 50/100, recent 100/100
    const wide = { recentWindow: 100, baselineWindow: 100, maxDropPct: 10, minEvents: 50, confidence: 0.95 };
    const outcomes = '10'.repeat(50) + '1'.repeat(100);
    expect(evaluateWindow(outcomes, 200, wide)).toMatchObject({
      result: 'NO_DROP',
      evidence: { dropPct: -100, zScore: -8.164966, pValue: 1 },
    });
  });
});

describe('Significance of small samples (an expected count below 5: Fisher exact, one-sided)', () => {
  const tiny = { recentWindow: 2, baselineWindow: 2, maxDropPct: 30, minEvents: 2, confidence: 0.95 };
  /** The windows as a table: `successes/count` of the baseline, then of the recent window. */
  const table = (bs: number, bn: number, rs: number, rn: number, confidence = 0.95) =>
    evaluateWindow('1'.repeat(bs) + '0'.repeat(bn - bs) + '1'.repeat(rs) + '0'.repeat(rn - rs), bn + rn, {
      recentWindow: rn,
      baselineWindow: bn,
      maxDropPct: 1,
      minEvents: 1,
      confidence,
    });

  it('should not trip 0/2 against 2/2 at minEvents 2: the exact p is 1/6 (the z-test said 0.023)', () => {
    const { result, evidence } = evaluateWindow('1100', 4, tiny);
    expect(evidence).toMatchObject({ dropPct: 100, zScore: null, pValue: 0.166666667 });
    expect(upperTail(2)).toBeLessThan(0.05); // z = 2 for this table: what used to trip
    expect(result).toBe('DROP_NOT_SIGNIFICANT');
  });

  it('should record the second failure of an engine under a minEvents 2 policy without tripping it', () => {
    const history = [defined({ ...tiny, enabled: true }), ...kpis('E1', 2, true), ...kpis('E1', 1, false, 2)];
    DeciderSpecification.for(tripwireDecider, undefined)
      .given(history)
      .when(kpi('E1', false, 'f-3'))
      .then([recorded('E1', false, 'f-3')]);
  });

  it("should give Fisher's tea-tasting p-value, 17/70, for 3/4 against 1/4", () => {
    // Fisher (1935): 3 of 4 cups right, one-sided p = (16 + 1) / 70
    expect(table(3, 4, 1, 4).evidence.pValue).toBeCloseTo(17 / 70, 6);
    expect(table(3, 4, 1, 4).result).toBe('DROP_NOT_SIGNIFICANT');
  });

  it('should trip 0/8 against 8/8 as the z-test did: the exact p is 1/12 870', () => {
    const { result, evidence } = table(8, 8, 0, 8);
    expect(evidence.zScore).toBeNull();
    expect(evidence.pValue).toBeCloseTo(1 / 12_870, 9);
    expect(upperTail(4)).toBeLessThan(0.05); // z = 4: the approximation agrees
    expect(result).toBe('TRIPPED');
  });

  it('should name the exact test in the reason of a trip it decided', () => {
    const eight = { recentWindow: 8, baselineWindow: 8, minEvents: 8, enabled: true };
    const history = [defined(eight), ...kpis('E1', 8, true), ...kpis('E1', 7, false, 8)];
    const events = tripwireDecider.decide(kpi('E1', false, 'f-16'), fold(history), undefined);
    expect(events[1]).toMatchObject({
      type: 'TripwireTriggered',
      data: {
        reason: 'WHOLESALE contract_rate dropped 100.0 % (1.000 → 0.000, Fisher exact p=7.77e-5) > 30 %',
      },
    });
  });

  it('should keep the z-test from an expected count of exactly 5 (0/10 against 10/10), exact just below (0/9 against 9/9)', () => {
    expect(table(10, 10, 0, 10)).toMatchObject({
      result: 'TRIPPED',
      evidence: { zScore: 4.472136, pValue: 0.000003872 },
    });
    expect(table(9, 9, 0, 9).evidence).toMatchObject({ zScore: null, pValue: 0.000020568 });
  });

  it('should take the exact test for rare failures in large windows, where the normal tail is far too thin', () => {
    // baseline 999/1000, recent 97/100: 4 failures in all, 0.36 expected in the recent window;
    // z = 4.59 (p ≈ 2.2e-6) would trip even at 0.999, the exact p is 0.0027
    const { result, evidence } = table(999, 1000, 97, 100, 0.999);
    expect(evidence.zScore).toBeNull();
    expect(evidence.pValue).toBeCloseTo(0.0027297815, 8); // scipy.stats.fisher_exact, 'greater'
    expect(result).toBe('DROP_NOT_SIGNIFICANT');
    expect(table(999, 1000, 97, 100, 0.99).result).toBe('TRIPPED');
  });

  it('should give p = 1 to windows without a failure: nothing can be lower', () => {
    expect(table(500, 500, 100, 100).evidence).toMatchObject({ zScore: null, pValue: 1 });
  });
});

describe('Stationary data (deterministic PRNG)', () => {
  it('should trip no seeded policy on 100 000 events at a constant 70 % rate', () => {
    const random = mulberry32(42);
    for (const policy of SEED_TRIPWIRE_POLICIES) {
      let outcomes = '';
      let trips = 0;
      const capacity = policy.recentWindow + policy.baselineWindow;
      for (let i = 1; i <= 100_000; i += 1) {
        outcomes = (outcomes + (random() < 0.7 ? '1' : '0')).slice(-capacity);
        if (i % 10 === 0 && evaluateWindow(outcomes, i, policy).result === 'TRIPPED') trips += 1;
      }
      expect(trips).toBe(0);
    }
  });

  it('should keep the false-positive rate of a sensitive 5 % policy near α and under the seed 10 %', () => {
    const random = mulberry32(7);
    const sensitive = {
      recentWindow: 100,
      baselineWindow: 500,
      maxDropPct: 5,
      minEvents: 50,
      confidence: 0.95,
    };
    let outcomes = '';
    let evaluations = 0;
    let dropsOver = 0;
    let trips = 0;
    for (let i = 1; i <= 100_000; i += 1) {
      outcomes = (outcomes + (random() < 0.7 ? '1' : '0')).slice(-600);
      if (i < 600 || i % 100 !== 0) continue;
      evaluations += 1;
      const { result, evidence } = evaluateWindow(outcomes, i, sensitive);
      if ((evidence.dropPct ?? 0) > 5) dropsOver += 1;
      if (result === 'TRIPPED') trips += 1;
    }
    // Drop alone fires on ~24 % of evaluations of pure noise; with the z-test ~5.7 % (α = 5 %, the
    // normal approximation is slightly anti-conservative): docs/tripwire.md reports these numbers.
    expect(dropsOver / evaluations).toBeGreaterThan(0.2);
    expect(trips / evaluations).toBeGreaterThan(0.03);
    expect(trips / evaluations).toBeLessThan(0.07);
  });
});

describe('Tripwire policy changed while it is switched', () => {
  const spec = DeciderSpecification.for(tripwireDecider, undefined);

  it('should keep the flag and confidence the policy has when the change leaves them out', () => {
    const disabled: TripwireEvent = {
      type: 'PolicyDisabled',
      data: { policyId: ID, actor: OPERATOR, reason: 'off', at: T0 },
    };
    const settings = seedSettings();
    // Defined, enabled, then disabled by another operator before this change took the lock.
    spec
      .given([defined({ confidence: 0.99 }), enabled(), disabled])
      .when({
        type: 'DefinePolicy',
        data: {
          policyId: ID,
          actor: OPERATOR,
          reason: 'tune',
          now: T0,
          policy: { ...settings, maxDropPct: 40 },
        },
      })
      .then([
        {
          type: 'PolicyDefined',
          data: {
            policyId: ID,
            policy: { ...settings, maxDropPct: 40, enabled: false, confidence: 0.99 },
            previous: { ...settings, enabled: false, confidence: 0.99 },
            actor: OPERATOR,
            reason: 'tune',
            at: T0,
          },
        },
      ]);
  });
});

describe('Tripwire kill scope (seed 000: "auto-KILL_SWITCH (engage global kill)")', () => {
  const spec = DeciderSpecification.for(tripwireDecider, undefined);

  it('should seed CAPITAL roi_event to kill globally, and the THROTTLE policies with the engine scope', () => {
    expect(SEED_TRIPWIRE_POLICIES.map((p) => [p.action, p.killScope])).toEqual([
      ['THROTTLE', 'engine'],
      ['THROTTLE', 'engine'],
      ['THROTTLE', 'engine'],
      ['KILL_SWITCH', 'global'],
    ]);
  });

  it('should name the scope on a KILL_SWITCH trigger, and none on a THROTTLE one', () => {
    const tripped = (action: 'THROTTLE' | 'KILL_SWITCH', killScope: 'engine' | 'global') => {
      const history = [defined({ action, killScope, enabled: true }), ...kpis('WHOLESALE', 500, true)];
      const events = tripwireDecider.decide(
        kpi('WHOLESALE', false, 'last'),
        fold([...history, ...kpis('WHOLESALE', 30, false, 500)]),
        undefined,
      );
      return events.find((e) => e.type === 'TripwireTriggered')?.data as Record<string, unknown>;
    };
    expect(tripped('KILL_SWITCH', 'global')).toMatchObject({ action: 'KILL_SWITCH', killScope: 'global' });
    expect(tripped('KILL_SWITCH', 'engine')).toMatchObject({ action: 'KILL_SWITCH', killScope: 'engine' });
    expect(tripped('THROTTLE', 'global')).not.toHaveProperty('killScope');
  });

  it('should keep the scope a change leaves out, and record a change of the scope alone', () => {
    const settings = seedSettings();
    const define = (policy: Record<string, unknown>) =>
      tripwireDecider.decide(
        {
          type: 'DefinePolicy',
          data: { policyId: ID, actor: OPERATOR, reason: 'x', now: T0, policy: policy as never },
        },
        fold([defined({ killScope: 'global' })]),
        undefined,
      );
    const { killScope: _scope, ...withoutScope } = settings;
    expect(define(withoutScope)).toEqual([]);
    expect(define({ ...withoutScope, killScope: 'engine' })).toMatchObject([
      { type: 'PolicyDefined', data: { policy: { killScope: 'engine' }, previous: { killScope: 'global' } } },
    ]);
  });

  it('should take a policy defined before kill scopes existed as the engine scope', () => {
    const { killScope: _scope, ...before } = SEED_TRIPWIRE_POLICIES[0] as TripwirePolicyConfig;
    spec
      .given([{ ...defined(), data: { ...(defined().data as object), policy: before } } as TripwireEvent])
      .when({
        type: 'DefinePolicy',
        data: {
          policyId: ID,
          actor: OPERATOR,
          reason: 'x',
          now: T0,
          policy: { ...before, killScope: 'engine' },
        },
      })
      .thenNothingHappened();
  });
});

// ── fixtures ────────────────────────────────────────────────────────────────────────────────────

/** The first seeded policy's settings, without `enabled` and `confidence`: a change that leaves them out. */
function seedSettings() {
  const {
    enabled: _enabled,
    confidence: _confidence,
    ...settings
  } = SEED_TRIPWIRE_POLICIES[0] as TripwirePolicyConfig;
  return settings;
}

function defined(overrides: Partial<TripwirePolicyConfig> = {}): TripwireEvent {
  const policy = { ...(SEED_TRIPWIRE_POLICIES[0] as TripwirePolicyConfig), ...overrides };
  return {
    type: 'PolicyDefined',
    data: { policyId: ID, policy, previous: null, actor: OPERATOR, reason: 'test', at: T0 },
  };
}

/** WHOLESALE contract_rate as the first start defines it. */
function seeded(): TripwireEvent {
  const [seed] = seedTripwireCommands(T0);
  const [defined] = seed ? tripwireDecider.decide(seed, tripwireDecider.initialState(), undefined) : [];
  if (defined?.type !== 'PolicyDefined') throw new Error('unreachable');
  return defined;
}

function enabled(): TripwireEvent {
  return { type: 'PolicyEnabled', data: { policyId: ID, actor: OPERATOR, reason: 'on', at: T0 } };
}

function policyOf(state: TripwireState): TripwirePolicy {
  if (state.status !== 'defined') throw new Error('no policy');
  return state.policy;
}

function engineOf(state: TripwireState, engineId: string): EngineWindow {
  const window = state.status === 'defined' ? state.engines[engineId] : undefined;
  if (!window) throw new Error(`no window of ${engineId}`);
  return window;
}

function kpi(engineId: string, success: boolean, kpiId: string, ingest?: IngestPosition) {
  return {
    type: 'RecordKpi' as const,
    data: { policyId: ID, engineId, success, kpiId, ...(ingest ? { ingest } : {}), now: T0 },
  };
}

function recorded(engineId: string, success: boolean, kpiId: string, ingest?: IngestPosition): TripwireEvent {
  const position = ingest
    ? { ingestSequence: ingest.sequence, ingestStreamCreated: ingest.streamCreated }
    : {};
  return { type: 'KpiRecorded', data: { policyId: ID, engineId, success, kpiId, ...position, at: T0 } };
}

function kpis(engineId: string, count: number, success: boolean, offset = 0): TripwireEvent[] {
  return Array.from({ length: count }, (_, i) =>
    recorded(engineId, success, `${success ? 'k' : 'f'}-${offset + i}`),
  );
}

function reset(engineId: string): TripwireEvent {
  return {
    type: 'TripwireReset',
    data: { policyId: ID, engineId, wasTriggered: true, actor: OPERATOR, reason: 'fixed', at: T0 },
  };
}

function resetCommand(engineId: string) {
  return {
    type: 'ResetTripwire' as const,
    data: { policyId: ID, engineId, actor: OPERATOR, reason: 'fixed', now: T0 },
  };
}

function fold(events: TripwireEvent[]): TripwireState {
  return events.reduce(tripwireDecider.evolve, tripwireDecider.initialState());
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
