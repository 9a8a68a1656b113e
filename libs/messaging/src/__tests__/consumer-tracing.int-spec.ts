import { trace } from '@opentelemetry/api';
import { ValidationError } from '@bifrost/event-sourcing';
import { createTestNamespace, recordSpans, waitFor, type TestNamespace } from '@bifrost/testing';
import { ConsumerRunner } from '../consumer';
import type { Messaging } from '../messaging';
import { connectTest, testCatalogue, work } from './fixtures';

const exporter = recordSpans();

describe('ConsumerRunner tracing', () => {
  let ns: TestNamespace;
  let messaging: Messaging;
  let runner: ConsumerRunner | undefined;

  beforeAll(async () => {
    ns = await createTestNamespace('constrace');
    messaging = await connectTest(ns.natsUrl, ns.namespace);
  });
  afterAll(async () => {
    await runner?.stop();
    await messaging.drain();
    await ns.cleanup();
  });

  describe('When a message is parked', () => {
    it('should log the parking inside the consume span, which is marked failed, so the line carries its trace', async () => {
      const logged: { msg: string; fields: object; traceId: string | undefined }[] = [];
      const logger = {
        warn: () => undefined,
        error: (fields: object, msg: string) =>
          logged.push({ msg, fields, traceId: trace.getActiveSpan()?.spanContext().traceId }),
      };
      const thrown = new ValidationError('unknown engine', { code: 'ENGINE.UNKNOWN' });
      runner = new ConsumerRunner(
        messaging.js,
        messaging.jsm,
        messaging.naming,
        {
          service: 'test',
          purpose: 'traced',
          stream: 'ingest',
          filter: 'bifrost.ingest.kpi.traced',
          maxDeliver: 1,
        },
        async () => {
          throw thrown;
        },
        logger,
        testCatalogue,
      );
      await runner.start();

      await messaging.publisher.publish(work(ns.naming, 'traced', 1));

      const parked = await waitFor(() => logged.find((line) => line.msg === 'message parked on the DLQ'));
      const span = exporter.getFinishedSpans().find((s) => s.name === 'consume bifrost.ingest.kpi.traced');
      expect(span?.status.code).toBe(2);
      expect(parked.traceId).toBe(span?.spanContext().traceId);
      // The error itself, not only the body the letter carries: a bug's stack reaches the log.
      expect(parked.fields).toMatchObject({ err: thrown, error: { code: 'ENGINE.UNKNOWN' } });
    });
  });
});
