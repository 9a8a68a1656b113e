import { toEvaluationResult } from './fail-closed.mapping';

const NOW = Date.parse('2026-11-21T12:00:00.000Z');
const SUBJECT = { engineId: 'e1', domain: 'WHOLESALE_OFFER', recommendationId: 'r-1' };
const EVALUATION = {
  evaluationId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b',
  outcome: 'ELIGIBLE',
  eligible: true,
};

describe('evaluateRecommendation() fail-closed mapping', () => {
  describe('Given a readable evaluation', () => {
    it('should return it as Heimdall answered', () => {
      expect(toEvaluationResult(SUBJECT, { ok: true, data: EVALUATION }, NOW)).toEqual({
        ...EVALUATION,
        failClosed: false,
      });
    });
  });

  describe('Given no evaluation', () => {
    it.each([
      [
        'an error reply',
        { ok: false as const, code: 'RPC.NO_RESPONDERS', message: 'no responders' },
        'RPC.NO_RESPONDERS',
      ],
      [
        'an unknown outcome',
        { ok: true as const, data: { ...EVALUATION, outcome: 'MAYBE' } },
        'SDK.MALFORMED_REPLY',
      ],
      [
        'eligible without ELIGIBLE',
        { ok: true as const, data: { ...EVALUATION, outcome: 'INCONCLUSIVE' } },
        'SDK.MALFORMED_REPLY',
      ],
      ['no data', { ok: true as const, data: null }, 'SDK.MALFORMED_REPLY'],
    ])('should fail closed on %s: NOT_ELIGIBLE with the reason', (_name, reply, code) => {
      expect(toEvaluationResult(SUBJECT, reply, NOW)).toEqual({
        failClosed: true,
        outcome: 'NOT_ELIGIBLE',
        eligible: false,
        action: 'BLOCK',
        reason: expect.any(String),
        code,
        engineId: 'e1',
        domain: 'WHOLESALE_OFFER',
        recommendationId: 'r-1',
        decidedAt: '2026-11-21T12:00:00.000Z',
        gates: [
          expect.objectContaining({ name: 'sdk.failClosed', result: 'FAIL', outcome: 'BLOCK', value: code }),
        ],
      });
    });
  });
});
