import { DeciderSpecification, NotFoundError } from '@bifrost/event-sourcing';
import { evaluateRecommendation } from './evaluation';
import {
  domainView,
  heimdallDecider,
  SEED_HEIMDALL_POLICIES,
  seedHeimdallCommands,
  type HeimdallCommand,
  type HeimdallEvent,
  type HeimdallDomainState,
} from './heimdall-domain.decider';

const T0 = '2026-11-21T12:00:00.000Z';
const T1 = '2026-11-21T13:00:00.000Z';
const OPERATOR = { kind: 'operator' as const, id: 'alice' };
const DOMAIN = 'WHOLESALE_OFFER';
const THRESHOLDS = { minConfidence: 0.92, minSandboxTrials: 10, minSandboxSuccessRate: 0.8 };

describe('Heimdall domain', () => {
  const spec = DeciderSpecification.for(heimdallDecider, undefined);

  describe('Given no domain', () => {
    it('should seed the four domains of seed 000 lever 3 with prod use disabled', () => {
      expect(SEED_HEIMDALL_POLICIES.map((p) => [p.domain, p.thresholds.minConfidence])).toEqual([
        ['WHOLESALE_OFFER', 0.92],
        ['BUYER_MATCH', 0.9],
        ['CAPITAL_ROUTE', 0.95],
        ['FOLLOWUP', 0.9],
      ]);
      for (const command of seedHeimdallCommands(T0)) {
        const view = domainView(
          fold(heimdallDecider.decide(command, { status: 'absent' }, undefined)),
          command.data.domain,
        );
        expect(view.policy).toMatchObject({
          minSandboxTrials: 50,
          minSandboxSuccessRate: 0.8,
          prodUseEnabled: false,
        });
      }
    });

    it('should define a policy with prod use disabled', () => {
      spec
        .given([])
        .when(definePolicy())
        .then([policyDefined(null)]);
      expect(domainView(fold([policyDefined(null)]), DOMAIN).policy).toEqual({
        ...THRESHOLDS,
        prodUseEnabled: false,
        updatedAt: T0,
      });
    });

    it("should let the seed define a domain without a policy, and never replace an operator's", () => {
      const [seed] = seedHeimdallCommands(T1);
      expect(seed?.data.domain).toBe(DOMAIN);
      const seeded = heimdallDecider.decide(seed!, fold([trialRecorded('t-1', true)]), undefined);
      expect(seeded.map((e) => e.type)).toEqual(['PolicyDefined']);
      spec
        .given([policyDefined(null)])
        .when(seed!)
        .thenNothingHappened();
    });

    it('should refuse to promote it with POLICY_UNKNOWN', () => {
      spec
        .given([])
        .when(enableProdUse())
        .thenThrows(NotFoundError, (e) => e.code === 'HEIMDALL.POLICY_UNKNOWN');
    });

    it('should still record a trial for it (the scorecard exists before the policy)', () => {
      spec
        .given([])
        .when(recordTrial('t-1', true))
        .then([trialRecorded('t-1', true)]);
      const view = domainView(fold([trialRecorded('t-1', true)]), DOMAIN);
      expect(view).toMatchObject({ policy: null, scorecard: { trials: 1, successes: 1, successRate: 1 } });
    });
  });

  describe('Given a defined policy', () => {
    const history = [policyDefined(null)];

    it('should change nothing when the same thresholds are defined again', () => {
      spec.given(history).when(definePolicy()).thenNothingHappened();
    });

    it('should record new thresholds with the previous ones', () => {
      const raised = { ...THRESHOLDS, minConfidence: 0.95 };
      spec
        .given(history)
        .when(definePolicy(raised))
        .then([policyDefined(THRESHOLDS, raised)]);
    });

    it('should count trials per day and cumulatively', () => {
      const events = [
        ...history,
        trialRecorded('a', true, '2026-11-20T23:59:59.999Z'),
        trialRecorded('b', false, '2026-11-21T00:00:00.000Z'),
        trialRecorded('c', true, '2026-11-21T08:00:00.000Z'),
      ];
      const view = domainView(fold(events), DOMAIN);
      expect(view.scorecard).toEqual({ trials: 3, successes: 2, successRate: 2 / 3 });
      expect(view.days).toEqual([
        { day: '2026-11-21', trials: 2, successes: 1, successRate: 0.5 },
        { day: '2026-11-20', trials: 1, successes: 1, successRate: 1 },
      ]);
    });

    it('should carry the confidence and detail the engine reported', () => {
      const reported = recordTrial('t-9', false);
      if (reported.type !== 'RecordTrial') throw new Error('expected RecordTrial');
      const [event] = heimdallDecider.decide(
        { ...reported, data: { ...reported.data, confidence: 0.42, detail: 'declined' } },
        fold(history),
        undefined,
      );

      expect(event).toMatchObject({
        type: 'SandboxTrialRecorded',
        data: { trialId: 't-9', confidence: 0.42, detail: 'declined' },
      });
    });

    it('should ignore a redelivered trial id', () => {
      spec
        .given([...history, trialRecorded('t-1', true)])
        .when(recordTrial('t-1', true))
        .thenNothingHappened();
    });

    it('should count another engine’s trial with the same trial id (trial ids are each engine’s own)', () => {
      const other = recordTrial('t-1', false);
      if (other.type !== 'RecordTrial') throw new Error('expected RecordTrial');
      const [event] = heimdallDecider.decide(
        { ...other, data: { ...other.data, engineId: 'other-bot' } },
        fold([...history, trialRecorded('t-1', true)]),
        undefined,
      );

      expect(event).toMatchObject({
        type: 'SandboxTrialRecorded',
        data: { engineId: 'other-bot', trialId: 't-1', success: false },
      });
    });

    it('should remember only the last 1 024 trial ids and the 90 most recent days', () => {
      const many = Array.from({ length: 1_025 }, (_, i) => trialRecorded(`t-${i}`, true, dayOffset(i % 95)));
      const state = fold([...history, ...many]);
      if (state.status !== 'tracked') throw new Error('expected a tracked domain');
      expect(state.scorecard.trials).toBe(1_025);
      expect(state.scorecard.recentTrialIds).toHaveLength(1_024);
      const days = Object.keys(state.scorecard.days).sort();
      expect(days).toHaveLength(90);
      expect(days[0]).toBe(dayOffset(89).slice(0, 10));
    });

    describe('When an operator promotes it to prod use', () => {
      it('should refuse with both sandbox gates while there are no trials', () => {
        const [event] = heimdallDecider.decide(enableProdUse(), fold(history), undefined);
        expect(event?.type).toBe('ProdUseRefused');
        const data = event?.data as { failing: { name: string; value: unknown; distanceToTrip: unknown }[] };
        expect(data.failing).toEqual([
          expect.objectContaining({
            name: 'heimdall.sandboxTrials',
            value: 0,
            threshold: 10,
            distanceToTrip: -10,
          }),
          expect.objectContaining({ name: 'heimdall.sandboxSuccessRate', value: null, distanceToTrip: null }),
        ]);
        expect(domainView(fold([...history, event as HeimdallEvent]), DOMAIN).policy?.prodUseEnabled).toBe(
          false,
        );
      });

      it('should refuse one trial short of the minimum (9 of 10, all successes)', () => {
        const [event] = heimdallDecider.decide(
          enableProdUse(),
          fold([...history, ...trials(9, 9)]),
          undefined,
        );
        expect(event?.type).toBe('ProdUseRefused');
        expect((event?.data as { failing: { name: string }[] }).failing.map((g) => g.name)).toEqual([
          'heimdall.sandboxTrials',
          'heimdall.sandboxSuccessRate',
        ]);
      });

      it('should refuse at the minimum trials with a success rate below the bar (7 of 10)', () => {
        const [event] = heimdallDecider.decide(
          enableProdUse(),
          fold([...history, ...trials(10, 7)]),
          undefined,
        );
        expect(event?.type).toBe('ProdUseRefused');
        expect((event?.data as { failing: unknown[] }).failing).toEqual([
          expect.objectContaining({ name: 'heimdall.sandboxSuccessRate', value: 0.7, distanceToTrip: -0.1 }),
        ]);
      });

      it('should promote at exactly the minimum trials and exactly the success rate (8 of 10)', () => {
        spec
          .given([...history, ...trials(10, 8)])
          .when(enableProdUse())
          .then([
            {
              type: 'ProdUseEnabled',
              data: {
                domain: DOMAIN,
                scorecard: { trials: 10, successes: 8, successRate: 0.8 },
                thresholds: THRESHOLDS,
                actor: OPERATOR,
                reason: 'scorecard reviewed',
                at: T1,
              },
            },
          ]);
      });
    });
  });

  describe('Given a domain in prod use', () => {
    const promoted = [
      policyDefined(null),
      ...trials(10, 10),
      ...heimdallDecider.decide(enableProdUse(), fold([policyDefined(null), ...trials(10, 10)]), undefined),
    ];

    it('should be in prod use', () => {
      expect(domainView(fold(promoted), DOMAIN).policy?.prodUseEnabled).toBe(true);
    });

    it('should change nothing when promoted again', () => {
      spec.given(promoted).when(enableProdUse()).thenNothingHappened();
    });

    it('should keep prod use when the thresholds change', () => {
      const raised = { ...THRESHOLDS, minSandboxTrials: 20 };
      const events = heimdallDecider.decide(definePolicy(raised), fold(promoted), undefined);
      expect(domainView(fold([...promoted, ...events]), DOMAIN).policy).toMatchObject({
        minSandboxTrials: 20,
        prodUseEnabled: true,
      });
    });

    it('should make an evaluation NOT_ELIGIBLE once the confidence bar is raised above it', () => {
      expect(evaluate(promoted, 0.95)).toBe('ELIGIBLE');
      const raised = { ...THRESHOLDS, minConfidence: 0.96 };
      const events = heimdallDecider.decide(definePolicy(raised), fold(promoted), undefined);
      expect(evaluate([...promoted, ...events], 0.95)).toBe('NOT_ELIGIBLE');
    });

    it('should make an evaluation INCONCLUSIVE once the trial minimum is raised above its scorecard', () => {
      const raised = { ...THRESHOLDS, minSandboxTrials: 11 };
      const events = heimdallDecider.decide(definePolicy(raised), fold(promoted), undefined);
      expect(evaluate([...promoted, ...events], 0.95)).toBe('INCONCLUSIVE');
    });

    it('should make an evaluation NOT_ELIGIBLE once prod use is disabled', () => {
      const events = heimdallDecider.decide(disableProdUse(), fold(promoted), undefined);
      expect(evaluate([...promoted, ...events], 0.95)).toBe('NOT_ELIGIBLE');
    });

    it('should take it out of prod use on an operator command', () => {
      spec
        .given(promoted)
        .when(disableProdUse())
        .then([
          { type: 'ProdUseDisabled', data: { domain: DOMAIN, actor: OPERATOR, reason: 'incident', at: T1 } },
        ]);
    });
  });

  describe('Given a domain out of prod use', () => {
    it('should change nothing when disabled again', () => {
      spec
        .given([policyDefined(null)])
        .when(disableProdUse())
        .thenNothingHappened();
    });
  });
});

// ── fixtures ───────────────────────────────────────────────────────────────────────────────────

function fold(events: readonly HeimdallEvent[]): HeimdallDomainState {
  return events.reduce((s, e) => heimdallDecider.evolve(s, e), heimdallDecider.initialState());
}

/** The outcome of a recommendation at `confidence` against the domain the events build. */
function evaluate(events: readonly HeimdallEvent[], confidence: number) {
  const state = fold(events);
  if (state.status !== 'tracked') throw new Error('expected a tracked domain');
  return evaluateRecommendation(state, { confidence }).outcome;
}

function definePolicy(thresholds = THRESHOLDS): HeimdallCommand {
  return {
    type: 'DefinePolicy',
    data: { domain: DOMAIN, thresholds, actor: OPERATOR, reason: 'charter', now: T0 },
  };
}

function policyDefined(previous: typeof THRESHOLDS | null, thresholds = THRESHOLDS): HeimdallEvent {
  return {
    type: 'PolicyDefined',
    data: { domain: DOMAIN, thresholds, previous, actor: OPERATOR, reason: 'charter', at: T0 },
  };
}

function enableProdUse(): HeimdallCommand {
  return {
    type: 'EnableProdUse',
    data: { domain: DOMAIN, actor: OPERATOR, reason: 'scorecard reviewed', now: T1 },
  };
}

function disableProdUse(): HeimdallCommand {
  return { type: 'DisableProdUse', data: { domain: DOMAIN, actor: OPERATOR, reason: 'incident', now: T1 } };
}

function recordTrial(trialId: string, success: boolean, occurredAt = T0): HeimdallCommand {
  return {
    type: 'RecordTrial',
    data: { domain: DOMAIN, engineId: 'offer-bot', trialId, success, occurredAt, now: T1 },
  };
}

function trialRecorded(trialId: string, success: boolean, occurredAt = T0): HeimdallEvent {
  return {
    type: 'SandboxTrialRecorded',
    data: {
      domain: DOMAIN,
      engineId: 'offer-bot',
      trialId,
      success,
      day: occurredAt.slice(0, 10),
      occurredAt,
      at: T1,
    },
  };
}

/** `count` trials, the first `successes` of them successful. */
function trials(count: number, successes: number): HeimdallEvent[] {
  return Array.from({ length: count }, (_, i) => trialRecorded(`trial-${i}`, i < successes));
}

function dayOffset(days: number): string {
  return new Date(Date.parse(T0) - days * 86_400_000).toISOString();
}
