import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createLogger, PinoNestLogger } from './logger';

describe('createLogger', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  const provider = new BasicTracerProvider();

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
  });

  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  describe('When logging outside any span', () => {
    it('should write JSON with the service and no trace ids', () => {
      const { logger, lines } = capture();

      logger.info({ engineId: 'e-1' }, 'started');

      expect(lines()).toEqual([
        expect.objectContaining({ level: 'info', service: 'svc', msg: 'started', engineId: 'e-1' }),
      ]);
      expect(lines()[0]).not.toHaveProperty('trace_id');
      expect(lines()[0]).not.toHaveProperty('span_id');
    });
  });

  describe('When logging inside an active span', () => {
    it('should carry the span’s trace_id and span_id, also across awaits', async () => {
      const { logger, lines } = capture();
      const tracer = trace.getTracer('logger-spec');

      const ids = await tracer.startActiveSpan('work', async (span) => {
        logger.info('before await');
        await new Promise((resolve) => setImmediate(resolve));
        logger.info('after await');
        span.end();
        return span.spanContext();
      });
      logger.info('outside');

      const [before, after, outside] = lines();
      expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(before).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
      expect(after).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
      expect(outside).not.toHaveProperty('trace_id');
    });
  });
});

describe('PinoNestLogger', () => {
  it('should map Nest levels onto pino levels with the context', () => {
    const { logger, lines } = capture('trace');
    const nest = new PinoNestLogger(logger);

    nest.log('listening', 'NestApplication');
    nest.warn('slow');
    nest.debug('detail', 'Ctx');
    nest.verbose('chatter', 'Ctx');
    nest.fatal('dying', 'Ctx');

    expect(lines().map((l) => [l['level'], l['msg'], l['context']])).toEqual([
      ['info', 'listening', 'NestApplication'],
      ['warn', 'slow', undefined],
      ['debug', 'detail', 'Ctx'],
      ['trace', 'chatter', 'Ctx'],
      ['fatal', 'dying', 'Ctx'],
    ]);
  });

  it('should keep the stack and the context of an error', () => {
    const { logger, lines } = capture();
    const nest = new PinoNestLogger(logger);
    const failure = new Error('boom');

    nest.error('handler failed', failure.stack, 'GateRpc');
    nest.error('without context', undefined, 'GateRpc');
    nest.error('stack only', failure.stack);
    nest.error(failure, 'GateRpc');

    const [withStack, withoutStack, stackOnly, errorObject] = lines();
    expect(withStack).toMatchObject({
      level: 'error',
      msg: 'handler failed',
      context: 'GateRpc',
      stack: failure.stack,
    });
    expect(withoutStack).toMatchObject({ msg: 'without context', context: 'GateRpc' });
    expect(withoutStack).not.toHaveProperty('stack');
    expect(stackOnly).toMatchObject({ msg: 'stack only', stack: failure.stack });
    expect(stackOnly).not.toHaveProperty('context');
    expect(errorObject).toMatchObject({
      msg: 'boom',
      context: 'GateRpc',
      err: { message: 'boom', type: 'Error' },
    });
  });

  it('should skip messages below the logger level', () => {
    const { logger, lines } = capture('info');

    new PinoNestLogger(logger).debug('hidden');

    expect(lines()).toEqual([]);
  });
});

function capture(level: 'info' | 'trace' = 'info') {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ service: 'svc', level, destination });
  const lines = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}
