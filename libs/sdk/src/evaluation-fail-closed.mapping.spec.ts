import { toEvaluationResult } from './fail-closed.mapping';
import { evaluationReply } from './replies.fixtures';

const NOW = Date.parse('2026-11-21T12:00:00.000Z');
const SUBJECT = { engineId: 'e1', domain: 'WHOLESALE_OFFER', recommendationId: 'r-1' };

describe('evaluateRecommendation() fail-closed mapping', () => {
  describe('Given an evaluation', () => {
    it('should return it as Heimdall answered', () => {
      const evaluation = evaluationReply({ recommendationId: 'r-1' });

      expect(toEvaluationResult(SUBJECT, { ok: true, data: evaluation }, NOW)).toEqual({
        ...evaluation,
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
        'a reply that breaks its contract',
        { ok: false as const, code: 'SDK.MALFORMED_REPLY', message: 'not an evaluation' },
        'SDK.MALFORMED_REPLY',
      ],
      [
        'eligible without ELIGIBLE',
        {
          ok: true as const,
          data: evaluationReply({
            outcome: 'INCONCLUSIVE',
            action: 'REQUIRE_APPROVAL',
            recommendationId: 'r-1',
          }),
        },
        'SDK.MALFORMED_REPLY',
      ],
      [
        'an evaluation of another domain',
        { ok: true as const, data: evaluationReply({ domain: 'BUYER_MATCH', recommendationId: 'r-1' }) },
        'SDK.MALFORMED_REPLY',
      ],
      [
        'an evaluation of another recommendation',
        { ok: true as const, data: evaluationReply({ recommendationId: 'r-2' }) },
        'SDK.MALFORMED_REPLY',
      ],
      [
        'an evaluation without the recommendation asked about',
        { ok: true as const, data: evaluationReply() },
        'SDK.MALFORMED_REPLY',
      ],
      [
        'an evaluation for another engine',
        { ok: true as const, data: evaluationReply({ engineId: 'e2', recommendationId: 'r-1' }) },
        'SDK.MALFORMED_REPLY',
      ],
    ])('should fail closed on %s: NOT_ELIGIBLE with the reason', (_name, answer, code) => {
      expect(toEvaluationResult(SUBJECT, answer, NOW)).toEqual({
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
