import type { Check } from '@bifrost/contracts';
import type { TokenAssessment } from '../strategy';

/**
 * A human approval, presented as a valid token bound to this exact action's hash, answers every
 * check that asked for one (maturity L2, autonomy whitelist, impact tier). Nothing else changes:
 * a kill switch, a pause or a block still wins over an approval.
 */
export function applyApproval(
  checks: readonly Check[],
  token: TokenAssessment | null,
  actionHash: string,
): Check[] {
  if (token === null || !token.valid || token.token.boundActionHash !== actionHash) return [...checks];
  return checks.map((check) =>
    check.outcome === 'REQUIRE_APPROVAL'
      ? // Object.assign, not `{ ...check, reason }`: see docs/performance.md, "Object spread".
        Object.assign({}, check, {
          outcome: 'ALLOW' as const,
          reason: `approved: token ${token.token.tokenId} is bound to this action`,
        })
      : check,
  );
}
