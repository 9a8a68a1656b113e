import { createTestDatabase, type TestDatabase } from '@bifrost/testing';
import { DecisionDocuments1732300000900 } from './1732300000900-decision-documents';
import { migratedLast } from './migration.fixtures';

const BLOCKING = { name: 'maturity', outcome: 'BLOCK', value: 'L0', threshold: 'L1', distanceToTrip: -1 };
const ALLOWING = { name: 'health', outcome: 'ALLOW', value: 0.9, threshold: 0.5, distanceToTrip: 0.4 };

describe('migration DecisionDocuments1732300000900', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('migration900');
  });
  afterAll(() => db?.drop());

  describe('Given gate decisions stored before it, as jsonb', () => {
    it('should keep every document and derive each decision its reasons', async () => {
      const verdict = (action: string, checks: unknown[]) => JSON.stringify({ action, checks });
      const current = await migratedLast(db, DecisionDocuments1732300000900, async (old) => {
        for (const [id, action, checks] of [
          ['d-1', 'BLOCK', [BLOCKING, ALLOWING]],
          ['d-2', 'ALLOW', [ALLOWING]],
        ] as const) {
          await old.query(
            `INSERT INTO gate_decisions (decision_id, event_id, decided_at, engine_id, strategy_id, action, risk_level,
             mode, size_multiplier, action_kind, action_hash, policy_revision, verdict, request, stream_seq)
           VALUES ($1, $1, now(), 'e', 's', $2, 'LOW', 'enforce', 1, 'order.place', 'h', 'r', $3, '{"engineId":"e"}', 1)`,
            [id, action, verdict(action, [...checks])],
          );
        }
      });
      try {
        expect(
          await current.query(
            `SELECT decision_id, reasons, verdict, request, pg_typeof(verdict)::text AS type
             FROM gate_decisions ORDER BY decision_id`,
          ),
        ).toEqual([
          {
            decision_id: 'd-1',
            reasons: [BLOCKING],
            verdict: { action: 'BLOCK', checks: [BLOCKING, ALLOWING] },
            request: { engineId: 'e' },
            type: 'json',
          },
          {
            decision_id: 'd-2',
            reasons: [],
            verdict: { action: 'ALLOW', checks: [ALLOWING] },
            request: { engineId: 'e' },
            type: 'json',
          },
        ]);
      } finally {
        await current.destroy();
      }
    });
  });
});
