import type { GateCheckRequest, RiskLevel, VerdictAction } from '@bifrost/contracts';
import {
  CONFIDENCE_BUCKETS,
  RISK_DISPOSITIONS,
  classifyRisk,
  confidenceBucket,
  riskDisposition,
  verdictRiskLevel,
  type ConfidenceBucket,
  type RiskDisposition,
  type RiskInput,
} from './risk-level';

describe('Risk classifier', () => {
  describe('Decision table (seed 004 A3), without session tags', () => {
    it.each<[string, RiskDisposition, ConfidenceBucket, boolean, RiskLevel]>([
      ['execute with LOW confidence', 'execute', 'LOW', false, 'CRITICAL'],
      ['execute with MEDIUM confidence', 'execute', 'MEDIUM', false, 'CRITICAL'],
      ['destructive, whatever the disposition', 'skip', 'HIGH', true, 'CRITICAL'],
      ['execute with HIGH confidence', 'execute', 'HIGH', false, 'HIGH'],
      ['auto_respond with MEDIUM confidence', 'auto_respond', 'MEDIUM', false, 'HIGH'],
      ['auto_respond with HIGH confidence', 'auto_respond', 'HIGH', false, 'MEDIUM'],
      ['require_human with LOW confidence', 'require_human', 'LOW', false, 'MEDIUM'],
      ['require_human with MEDIUM confidence', 'require_human', 'MEDIUM', false, 'LOW'],
      ['skip', 'skip', 'LOW', false, 'LOW'],
      ['log_only', 'log_only', 'HIGH', false, 'NONE'],
    ])('should classify %s', (_, disposition, confidence, destructive, level) => {
      expect(classifyRisk(input({ disposition, confidence, destructive }))).toBe(level);
    });

    it('should classify a destructive log_only action as CRITICAL (the destructive row comes first)', () => {
      expect(classifyRisk(input({ disposition: 'log_only', destructive: true }))).toBe('CRITICAL');
    });

    it('should classify require_human with HIGH confidence as LOW', () => {
      expect(classifyRisk(input({ disposition: 'require_human', confidence: 'HIGH' }))).toBe('LOW');
    });
  });

  describe('When the session is tagged critical_session', () => {
    it.each<[RiskDisposition, ConfidenceBucket, RiskLevel]>([
      ['log_only', 'HIGH', 'HIGH'],
      ['skip', 'LOW', 'HIGH'],
      ['auto_respond', 'HIGH', 'HIGH'],
      ['execute', 'LOW', 'CRITICAL'],
    ])('should raise %s / %s to at least HIGH (%s)', (disposition, confidence, level) => {
      expect(classifyRisk(input({ disposition, confidence, sessionTags: ['critical_session'] }))).toBe(level);
    });
  });

  describe('When the session is tagged safe_session', () => {
    it.each<[RiskDisposition, ConfidenceBucket, boolean, RiskLevel]>([
      ['execute', 'LOW', false, 'MEDIUM'],
      ['execute', 'HIGH', false, 'MEDIUM'],
      ['skip', 'LOW', true, 'MEDIUM'],
      ['skip', 'LOW', false, 'LOW'],
      ['log_only', 'LOW', false, 'NONE'],
    ])(
      'should cap %s / %s (destructive %s) at MEDIUM (%s)',
      (disposition, confidence, destructive, level) => {
        expect(
          classifyRisk(input({ disposition, confidence, destructive, sessionTags: ['safe_session'] })),
        ).toBe(level);
      },
    );
  });

  describe('When the session has both tags', () => {
    it('should let critical_session win: floor HIGH, no ceiling', () => {
      const tags = ['safe_session', 'critical_session'];
      expect(classifyRisk(input({ disposition: 'log_only', sessionTags: tags }))).toBe('HIGH');
      expect(classifyRisk(input({ disposition: 'execute', confidence: 'LOW', sessionTags: tags }))).toBe(
        'CRITICAL',
      );
    });

    it('should ignore unknown tags', () => {
      expect(classifyRisk(input({ disposition: 'skip', sessionTags: ['night', 'Critical_Session'] }))).toBe(
        'LOW',
      );
    });
  });

  describe('Confidence buckets (MEDIUM from 0.6, HIGH from 0.9)', () => {
    it.each<[number | undefined, ConfidenceBucket]>([
      [undefined, 'LOW'],
      [Number.NaN, 'LOW'],
      [0, 'LOW'],
      [0.5999, 'LOW'],
      [0.6, 'MEDIUM'],
      [0.8999, 'MEDIUM'],
      [0.9, 'HIGH'],
      [1, 'HIGH'],
    ])('should bucket %s as %s', (confidence, bucket) => {
      expect(confidenceBucket(confidence)).toBe(bucket);
    });
  });

  describe('Disposition from the composed verdict', () => {
    it.each<[VerdictAction, boolean, RiskDisposition]>([
      ['ALLOW', false, 'execute'],
      ['REDUCE_SIZE', false, 'execute'],
      ['ALLOW', true, 'auto_respond'],
      ['REDUCE_SIZE', true, 'auto_respond'],
      ['REQUIRE_APPROVAL', false, 'require_human'],
      ['REQUIRE_APPROVAL', true, 'require_human'],
      ['BLOCK', false, 'skip'],
      ['DEMOTE', false, 'skip'],
      ['PAUSE', true, 'skip'],
      ['KILL', false, 'skip'],
    ])('should map %s (command %s) in enforce mode to %s', (action, isCommand, disposition) => {
      expect(riskDisposition(action, 'enforce', isCommand)).toBe(disposition);
    });

    it.each(['observe', 'off'] as const)(
      'should map every action but KILL in %s mode to log_only',
      (mode) => {
        expect(riskDisposition('BLOCK', mode, false)).toBe('log_only');
        expect(riskDisposition('ALLOW', mode, true)).toBe('log_only');
      },
    );

    it.each(['observe', 'off'] as const)(
      'should map KILL in %s mode to skip: the kill switch binds in every mode (ADR 0015)',
      (mode) => {
        expect(riskDisposition('KILL', mode, false)).toBe('skip');
      },
    );
  });

  describe('Risk level of a verdict', () => {
    it('should classify an allowed order without confidence as CRITICAL', () => {
      expect(verdictRiskLevel(request(), 'ALLOW', 'enforce')).toBe('CRITICAL');
    });

    it('should classify an allowed whitelisted command with confidence 0.95 as MEDIUM', () => {
      expect(
        verdictRiskLevel(request({ commandType: 'SET_FAN', confidence: 0.95 }), 'ALLOW', 'enforce'),
      ).toBe('MEDIUM');
    });

    it('should classify an observed action as NONE', () => {
      expect(verdictRiskLevel(request({ confidence: 0.1 }), 'ALLOW', 'observe')).toBe('NONE');
    });

    it('should classify a destructive action as CRITICAL even when killed', () => {
      expect(verdictRiskLevel(request({ destructive: true }), 'KILL', 'enforce')).toBe('CRITICAL');
    });

    it('should apply session tags from the request', () => {
      expect(verdictRiskLevel(request({ sessionTags: ['safe_session'] }), 'ALLOW', 'enforce')).toBe('MEDIUM');
    });
  });

  describe('Determinism', () => {
    it('should give 100 generated inputs the same fixed levels on every run', () => {
      const inputs = generatedInputs(100, 20260301);
      const levels = inputs.map((i) => classifyRisk(i));
      // Worked out from the table in docs/gate-control.md, not from classifyRisk: e.g. the first is
      // auto_respond / HIGH under safe_session (MEDIUM), the third require_human / HIGH under
      // critical_session (LOW raised to HIGH), the fifth a destructive execute (CRITICAL).
      expect(levels.slice(0, 10)).toEqual([
        'MEDIUM',
        'MEDIUM',
        'HIGH',
        'LOW',
        'CRITICAL',
        'LOW',
        'CRITICAL',
        'CRITICAL',
        'HIGH',
        'HIGH',
      ]);
      expect(tally(levels)).toEqual({ NONE: 9, LOW: 18, MEDIUM: 16, HIGH: 27, CRITICAL: 30 });
      // The generator must cover the table, or the pinned levels say little.
      expect(new Set(levels).size).toBe(5);
      expect(new Set(inputs.map((i) => i.disposition)).size).toBe(RISK_DISPOSITIONS.length);
    });
  });
});

// Fixtures

function input(overrides: Partial<RiskInput>): RiskInput {
  return { disposition: 'skip', confidence: 'LOW', destructive: false, sessionTags: [], ...overrides };
}

function request(
  o: { commandType?: string; confidence?: number; destructive?: boolean; sessionTags?: string[] } = {},
): GateCheckRequest {
  return {
    engineId: 'bot-a',
    strategyId: 'momentum',
    action: {
      kind: 'order.place',
      intent: 'open',
      ...(o.commandType === undefined ? {} : { commandType: o.commandType }),
    },
    ...(o.confidence === undefined ? {} : { confidence: o.confidence }),
    ...(o.destructive === undefined
      ? {}
      : {
          impact: { irreversible: true, blastRadius: 'single', concentration: 0, destructive: o.destructive },
        }),
    ...(o.sessionTags === undefined ? {} : { sessionTags: o.sessionTags }),
  };
}

function tally(levels: readonly RiskLevel[]): Record<RiskLevel, number> {
  const counts: Record<RiskLevel, number> = { NONE: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 };
  for (const level of levels) counts[level] += 1;
  return counts;
}

/** A fixed linear congruential generator (Numerical Recipes constants): the same inputs every run. */
function generatedInputs(count: number, seed: number): RiskInput[] {
  let state = seed >>> 0;
  const next = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const tagSets: string[][] = [
    [],
    ['critical_session'],
    ['safe_session'],
    ['safe_session', 'critical_session'],
    ['x'],
  ];
  return Array.from({ length: count }, () => ({
    disposition: RISK_DISPOSITIONS[next(RISK_DISPOSITIONS.length)] as RiskDisposition,
    confidence: CONFIDENCE_BUCKETS[next(CONFIDENCE_BUCKETS.length)] as ConfidenceBucket,
    destructive: next(5) === 0,
    sessionTags: tagSets[next(tagSets.length)] as string[],
  }));
}
