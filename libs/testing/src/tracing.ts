import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/**
 * Turns tracing on for this test file (context across awaits, W3C headers) and returns the
 * exporter that keeps every finished span, as a service's telemetry would export them.
 */
export function recordSpans(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  return exporter;
}

/**
 * Applies an auto-instrumentation (`HttpInstrumentation`…) to the Node core modules it patches,
 * for the rest of this test file; returns the undo. It cannot hook `require` as in a service: Jest
 * hands it a stand-in `module`, so it would never see `http` load.
 */
export function instrumentCoreModules(instrumentation: InstrumentationBase): () => void {
  const definitions = instrumentation.getModuleDefinitions();
  for (const definition of definitions) definition.patch?.(process.getBuiltinModule(definition.name));
  return () => {
    for (const definition of definitions) definition.unpatch?.(process.getBuiltinModule(definition.name));
  };
}
