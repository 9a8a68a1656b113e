import { context, trace } from '@opentelemetry/api';
import { recordSpans } from '@bifrost/testing';
import { gateEvents, startProjectorHarness, type ProjectorHarness } from '../testing/projector.fixtures';
import { type Projector } from './projector';

const exporter = recordSpans();

describe('projector tracing', () => {
  let h: ProjectorHarness;
  let projector: Projector | undefined;

  beforeAll(async () => {
    h = await startProjectorHarness('projtrace');
  });
  afterAll(async () => {
    await projector?.stop();
    await h?.stop();
  });

  describe('When it projects messages published within traces', () => {
    it('should record each batch as a span linked to the trace of every message in it', async () => {
      const fx = gateEvents(h.ns.naming);
      const producer = trace.getTracer('test').startSpan('engine request');
      await context.with(trace.setSpan(context.active(), producer), () =>
        h.client.publisher.publish(fx.killSwitchEngaged('eng-traced')),
      );
      producer.end();

      projector = h.startProjector();
      await h.caughtUp();

      const batches = exporter.getFinishedSpans().filter((span) => span.name === 'project batch');
      const linked = batches.flatMap((span) => span.links.map((link) => link.context.traceId));
      expect(linked).toContain(producer.spanContext().traceId);
      expect(batches.every((span) => span.parentSpanContext === undefined)).toBe(true);
    });
  });
});
