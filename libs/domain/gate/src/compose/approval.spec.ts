import type { Check } from '@bifrost/contracts';
import type { TokenAssessment, TokenRecord } from '../strategy';
import { applyApproval } from './approval';

describe('applyApproval', () => {
  describe('When a valid token bound to the action is presented', () => {
    it('should turn every REQUIRE_APPROVAL into ALLOW and leave the other outcomes alone', () => {
      const result = applyApproval(
        [needsApproval('autonomyPhase'), needsApproval('impact'), killed],
        valid(HASH),
        HASH,
      );

      expect(result.map((c) => [c.name, c.outcome])).toEqual([
        ['autonomyPhase', 'ALLOW'],
        ['impact', 'ALLOW'],
        ['killSwitch', 'KILL'],
      ]);
      expect(result[0]?.reason).toContain('tok-1');
    });
  });

  describe('When the token is bound to another action, unbound, refused or absent', () => {
    it.each([
      ['another action', valid('b'.repeat(64))],
      ['no binding', valid(null)],
      ['a refused token', { valid: false, reason: 'expired', detail: 'expired' } as TokenAssessment],
      ['no token', null],
    ])('should keep REQUIRE_APPROVAL with %s', (_label, token) => {
      expect(applyApproval([needsApproval('impact')], token, HASH)[0]?.outcome).toBe('REQUIRE_APPROVAL');
    });
  });
});

const HASH = 'a'.repeat(64);

function needsApproval(name: string): Check {
  return { name, outcome: 'REQUIRE_APPROVAL', value: null, threshold: null, distanceToTrip: 0 };
}

const killed: Check = {
  name: 'killSwitch',
  outcome: 'KILL',
  value: 'hard',
  threshold: null,
  distanceToTrip: null,
};

function valid(boundActionHash: string | null): TokenAssessment {
  const token: TokenRecord = {
    tokenId: 'tok-1',
    actionKinds: ['*'],
    maxNotional: null,
    expiresAt: '2026-11-21T23:00:00.000Z',
    singleUse: true,
    boundActionHash,
    approvalId: 'ap-1',
    status: 'active',
    uses: 0,
    issuedBy: 'alice',
    issuedAt: '2026-11-21T22:00:00.000Z',
  };
  return { valid: true, token };
}
