import { canonicalize, sha256Hex } from '@bifrost/audit';
import { createEnvelope } from '@bifrost/messaging';
import { publishAll, startProjectorHarness, type ProjectorHarness } from '../testing/projector.fixtures';

const GATE = { kind: 'system' as const, id: 'gate' };
const POLICIES = {
  control: { killSwitches: { global: 'hard' }, engines: { 'bot-1': { mode: 'enforce' } } },
  strategy: { maxStrategiesPerEngine: 50, minOutcomesForPromotion: 30 },
  impact: { notional: { amount: 100_000, currency: 'USD' } },
};
const REVISION = sha256Hex(canonicalize(POLICIES));
const LARGE_REVISION = 'e'.repeat(64);

describe('policy revisions read model against real NATS and Postgres', () => {
  let h: ProjectorHarness;

  beforeAll(async () => {
    h = await startProjectorHarness('projpol');
    h.startProjector();
  });
  afterAll(() => h?.stop());

  const recorded = (revision: string, policies: unknown, bytes: number, recordedAt: string) =>
    createEnvelope({
      type: 'gate.PolicyRevisionRecorded',
      subject: h.ns.naming.eventSubject('gate', 'policy', revision),
      source: 'gate',
      actor: GATE,
      occurredAt: recordedAt,
      data: { revision, policies, bytes, recordedAt },
    });

  it('should keep the first record of a revision, a later one (another replica, another event id) changing nothing', async () => {
    const first = recorded(REVISION, POLICIES, canonicalize(POLICIES).length, '2026-11-22T09:00:00.000Z');
    const again = recorded(REVISION, POLICIES, canonicalize(POLICIES).length, '2026-11-22T09:00:01.000Z');
    expect(again.id).not.toBe(first.id);

    await publishAll(h.client, [first, again], 1);
    await h.caughtUp();

    const rows = await h.rows(
      `SELECT revision, policies, bytes, recorded_at, event_id FROM policy_revisions WHERE revision = $1`,
      [REVISION],
    );
    expect(rows).toEqual([
      {
        revision: REVISION,
        policies: POLICIES,
        bytes: canonicalize(POLICIES).length,
        recorded_at: new Date('2026-11-22T09:00:00.000Z'),
        event_id: first.id,
      },
    ]);
    // What is kept is what the revision hashes.
    expect(sha256Hex(canonicalize(rows[0]?.['policies']))).toBe(REVISION);
  });

  it('should keep policies the gate did not keep as null, with their size', async () => {
    const large = recorded(LARGE_REVISION, null, 600_000, '2026-11-22T10:00:00.000Z');

    await publishAll(h.client, [large], 1);
    await h.caughtUp();

    expect(
      await h.rows(
        `SELECT revision, policies, policies IS NULL AS sql_null, bytes, recorded_at, event_id
         FROM policy_revisions WHERE revision = $1`,
        [LARGE_REVISION],
      ),
    ).toEqual([
      {
        revision: LARGE_REVISION,
        policies: null,
        // SQL NULL, not the JSON value null.
        sql_null: true,
        bytes: 600_000,
        recorded_at: new Date('2026-11-22T10:00:00.000Z'),
        event_id: large.id,
      },
    ]);
  });
});
