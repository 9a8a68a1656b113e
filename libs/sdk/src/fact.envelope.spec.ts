import { Type } from '@sinclair/typebox';
import { Catalogue, catalogue, createNaming, defineMessage, validateEnvelope } from '@bifrost/contracts';
import { buildFact, factDefinition, uuidv7 } from './fact.envelope';
import { SdkError } from './sdk.errors';

describe('Facts', () => {
  describe('an outcome (its type is in the catalogue)', () => {
    it('should become a complete envelope on the namespaced ingest subject, the engine as actor', () => {
      const { envelope } = buildFact({ ...base, kind: 'outcome', fields: outcome });

      expect(validateEnvelope(envelope).ok).toBe(true);
      expect(catalogue.check(envelope)).toEqual({ ok: true });
      expect(envelope).toMatchObject({
        type: 'ingest.OutcomeReported',
        version: 1,
        occurredAt: '2026-11-21T20:42:55.123Z',
        source: 'sdk',
        subject: 'ns1.bifrost.ingest.outcome.e1',
        actor: { kind: 'engine', id: 'e1' },
        data: { ...outcome, engineId: 'e1' },
      });
    });

    it('should be about the reporting engine even when the fields name another', () => {
      const { envelope } = buildFact({ ...base, kind: 'outcome', fields: { ...outcome, engineId: 'other' } });

      expect(envelope.data['engineId']).toBe('e1');
    });

    it('should be refused at record time when the data breaks the schema', () => {
      const attempt = () =>
        buildFact({ ...base, kind: 'outcome', fields: { ...outcome, pnl: { amount: 1.5 } } });

      expect(attempt).toThrow(SdkError);
      expect(attempt).toThrow(expect.objectContaining({ code: 'SDK.INVALID_FACT' }));
    });
  });

  describe('a kind whose type no service has registered yet', () => {
    it('should be refused as unsupported', () => {
      const empty = new Catalogue([], []);

      expect(() => buildFact({ ...base, catalogue: empty, kind: 'kpi', fields: {} })).toThrow(
        expect.objectContaining({ code: 'SDK.UNSUPPORTED_FACT' }),
      );
    });
  });

  describe('the type of a kind', () => {
    it('should be the newest version of the ingest message on that kind subject', () => {
      const local = new Catalogue([kpi(1), kpi(2)], []);

      expect(factDefinition(local, 'kpi')).toMatchObject({ type: 'ingest.KpiReported', version: 2 });
      expect(factDefinition(local, 'heartbeat')).toBeUndefined();
    });
  });

  describe('ids', () => {
    it('should be UUID v7, ordered within one millisecond', () => {
      const ids = Array.from({ length: 50 }, () => uuidv7(1_763_757_775_123));

      for (const id of ids)
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect([...ids].sort()).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });
});

const base = {
  catalogue,
  naming: createNaming('ns1'),
  engineId: 'e1',
  nowMs: Date.parse('2026-11-21T20:42:55.123Z'),
  traceHeaders: {},
};
const outcome = { strategyId: 's1', outcomeId: 'o-1', pnl: { amount: -250, currency: 'EUR' } };

function kpi(version: number) {
  return defineMessage({
    type: 'ingest.KpiReported',
    version,
    kind: 'ingest',
    producer: 'engines',
    consumers: ['tripwire'],
    subject: 'bifrost.ingest.kpi.{engineId}',
    description: 'test',
    data: Type.Object({ engineId: Type.String() }),
  });
}
