import {
  context,
  isSpanContextValid,
  propagation,
  trace,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Link,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';

const tracer = trace.getTracer('@bifrost/messaging');

const setter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
};
const getter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => (carrier ? [...carrier.keys()] : []),
  get: (carrier, key) => carrier?.get(key) || undefined,
};

/** Writes the active W3C trace context (`traceparent`, `tracestate`) into NATS headers. */
export function injectTraceContext(
  headers: MsgHdrs = natsHeaders(),
  ctx: Context = context.active(),
): MsgHdrs {
  propagation.inject(ctx, headers, setter);
  return headers;
}

export function extractTraceContext(headers: MsgHdrs | undefined): Context {
  return propagation.extract(context.active(), headers, getter);
}

export type SpanRole = 'producer' | 'consumer' | 'client' | 'server';
const kinds: Record<SpanRole, SpanKind> = {
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  client: SpanKind.CLIENT,
  server: SpanKind.SERVER,
};

/** Links a span keeps at most: a batch of a thousand messages links its first 128. */
const MAX_LINKS = 128;

/**
 * Runs `fn` in a new span for work on many messages at once (a batch committed in one
 * transaction), which has no single parent: it is linked to the trace of each message instead.
 */
export async function inBatchSpan<T>(
  name: string,
  attributes: Record<string, string | number>,
  messageHeaders: readonly (MsgHdrs | undefined)[],
  fn: () => Promise<T>,
): Promise<T> {
  const links: Link[] = [];
  for (const headers of messageHeaders.slice(0, MAX_LINKS)) {
    const linked = trace.getSpanContext(extractTraceContext(headers));
    if (linked && isSpanContextValid(linked)) links.push({ context: linked });
  }
  const span = tracer.startSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'nats', ...attributes }, links },
    ROOT_CONTEXT,
  );
  try {
    return await context.with(trace.setSpan(ROOT_CONTEXT, span), fn);
  } catch (error) {
    markSpanFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Records `error` on `span` and sets its status to ERROR. Anything may be thrown, `undefined` too:
 * recording it must not throw in its place (a consumer's message would be left neither retried nor
 * parked).
 */
export function markSpanFailed(span: Span, error: unknown): void {
  const failure = error instanceof Error ? error : new Error(String(error));
  span.recordException(failure);
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
}

/**
 * Marks a span whose request-reply failed (an error reply, a timeout, nobody answering): the reply
 * is data, not an exception, so nothing else would. The code goes in `bifrost.error.code`.
 */
export function markReplyFailed(
  span: Span,
  reply: { ok: boolean; error?: { code: string; message: string } },
): void {
  if (reply.ok || !reply.error) return;
  span.setAttribute('bifrost.error.code', reply.error.code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${reply.error.code}: ${reply.error.message}` });
}

/**
 * Runs `fn` inside a span that is a child of `parent` (the active context by default): the span
 * is ended and its status set whatever `fn` does.
 */
export async function inSpan<T>(
  name: string,
  role: SpanRole,
  attributes: Record<string, string | number>,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  const span = tracer.startSpan(
    name,
    { kind: kinds[role], attributes: { 'messaging.system': 'nats', ...attributes } },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    markSpanFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}
