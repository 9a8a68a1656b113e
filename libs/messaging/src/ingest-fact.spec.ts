import type { Actor } from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';
import { createEnvelope } from './envelope-codec';
import { engineFact } from './ingest-fact';

describe('engineFact', () => {
  const kpi = (subjectEngine: string, actor: Actor, type = 'ingest.KpiReported') =>
    createEnvelope({
      type,
      subject: `ns1.bifrost.ingest.kpi.${subjectEngine}`,
      source: 'sdk',
      actor,
      data: { engineId: 'bot-1', domain: 'WHOLESALE', metric: 'contract_rate', success: true },
    });
  const codeOf = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return error instanceof ValidationError ? error.code : 'not a ValidationError';
    }
    return undefined;
  };

  it("should give the data of the engine's own fact, or one a system reports for it", () => {
    expect(engineFact(kpi('bot-1', { kind: 'engine', id: 'bot-1' }), 'ingest.KpiReported')).toMatchObject({
      engineId: 'bot-1',
      success: true,
    });
    expect(
      engineFact(kpi('bot-1', { kind: 'system', id: 'api-gateway' }), 'ingest.KpiReported'),
    ).toMatchObject({
      engineId: 'bot-1',
    });
  });

  it('should refuse another type, another engine speaking, and a subject naming another engine', () => {
    const own = { kind: 'engine', id: 'bot-1' } as const;
    expect(codeOf(() => engineFact(kpi('bot-1', own, 'ingest.OutcomeReported'), 'ingest.KpiReported'))).toBe(
      'INGEST.UNEXPECTED_TYPE',
    );
    expect(
      codeOf(() => engineFact(kpi('bot-1', { kind: 'engine', id: 'bot-2' }), 'ingest.KpiReported')),
    ).toBe('INGEST.FOREIGN_ENGINE');
    expect(
      codeOf(() => engineFact(kpi('bot-2', { kind: 'system', id: 'importer' }), 'ingest.KpiReported')),
    ).toBe('INGEST.SUBJECT_MISMATCH');
    // A subject whose last token only ends with the id names another engine.
    expect(codeOf(() => engineFact(kpi('x-bot-1', own), 'ingest.KpiReported'))).toBe(
      'INGEST.SUBJECT_MISMATCH',
    );
  });
});
