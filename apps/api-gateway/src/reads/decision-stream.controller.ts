import { type BeforeApplicationShutdown, Inject, Req, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { EntityId, RISK_LEVELS, VERDICT_ACTIONS, literals, object } from '@bifrost/contracts';
import { UnauthorizedError } from '@bifrost/event-sourcing';
import { decodeJson, Messaging, stopWhenLost } from '@bifrost/messaging';
import { METRICS_REGISTRY } from '@bifrost/observability';
import { Gauge, type Registry } from 'prom-client';
import { AuthService } from '../auth/auth.service';
import { hasRole, type Principal } from '../auth/roles';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { ProblemError } from '../http/problem';
import { ApiController, Route, ValidQuery, type GatewayRequestState } from '../http/route';

const StreamQuery = object({
  context: Type.Optional(literals(['gate', 'risk', 'heimdall'])),
  engineId: Type.Optional(EntityId),
  action: Type.Optional(literals(VERDICT_ACTIONS)),
  riskLevel: Type.Optional(literals(RISK_LEVELS)),
  /** Resume after this stream sequence (same as the Last-Event-ID header, which wins). */
  lastEventId: Type.Optional(Type.Integer({ minimum: 0 })),
});
const LAST_EVENT_ID_HEADER = 'last-event-id';
const StreamHeaders = object({
  [LAST_EVENT_ID_HEADER]: Type.Optional(
    Type.String({
      description:
        'The id (stream sequence) of the last event seen: the stream resumes right after it. A value that is ' +
        'not a plain sequence number is ignored (the stream starts with new records).',
      examples: ['1234'],
    }),
  ),
});

const ACCESS = 'viewer';
const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/**
 * Live decision records from BIFROST_DECISIONS as Server-Sent Events through an ordered consumer
 * (ephemeral, deleted when the stream ends or replaces it). Each event's id is its stream sequence, so a client
 * reconnecting with Last-Event-ID resumes exactly after the last record it saw. A record lost on
 * the way to the gateway (its NATS connection cut mid-delivery) is noticed as the live tails of the
 * services notice it ({@link stopWhenLost}), and the stream goes on with a new consumer after the
 * last record it took: nothing is sent twice, and nothing waits for the next decision to show up.
 *
 * A stream reads from JetStream only as fast as its client takes the events (a slow client holds
 * back its own consumer, not the gateway's memory); one principal holds at most
 * GATEWAY_MAX_STREAMS_PER_PRINCIPAL streams per instance; every heartbeat re-checks the credential,
 * so a revoked key or an expired access token ends the stream. A shutdown ends every stream (the
 * HTTP server would otherwise wait for them); clients reconnect elsewhere with Last-Event-ID.
 */
@ApiController('decisions', 'decisions')
export class DecisionStreamController implements BeforeApplicationShutdown {
  private readonly open = new Map<string, number>();
  /** How to end each stream this instance serves. */
  private readonly stops = new Set<() => void>();

  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    const open = this.open;
    new Gauge({
      name: 'bifrost_gateway_decision_streams',
      help: 'Live decision streams (SSE) this instance serves',
      registers: [registry],
      collect() {
        let streams = 0;
        for (const held of open.values()) streams += held;
        this.set(streams);
      },
    });
  }

  @Route({
    method: 'GET',
    path: 'stream',
    summary:
      'Live decision records (SSE): id = stream sequence, event = message type, data = envelope; resumable with Last-Event-ID',
    access: ACCESS,
    query: StreamQuery,
    headers: StreamHeaders,
    response: Type.String({ description: 'text/event-stream' }),
    produces: 'text/event-stream',
  })
  async stream(
    @ValidQuery() q: Static<typeof StreamQuery>,
    @Req() request: FastifyRequest & GatewayRequestState,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (q.context === 'risk' && (q.action ?? q.riskLevel) !== undefined) {
      // Risk decisions carry neither: such a stream would never send anything.
      throw new ProblemError(
        'invalid',
        'action and riskLevel filter gate verdicts and heimdall evaluations; risk decision records have neither',
        'REQUEST.INVALID',
      );
    }
    if (request.method === 'HEAD') {
      // Fastify's HEAD for this GET: the headers a stream would have, and no stream held open.
      await reply.headers(STREAM_HEADERS).send();
      return;
    }
    const principal = request.principal as Principal;
    const release = this.claim(principal);
    let closed = false;
    let stop = () => {
      closed = true;
    };
    const end = () => stop();
    // The connection's end, not the request's: a client that left while the guard authenticated it
    // (or that half-closed: nothing can be written to it) holds nothing.
    const { socket } = request.raw;
    socket.once('close', end);
    if (socket.destroyed || !socket.writable) end();
    this.stops.add(end);
    try {
      let { messages, after } = await this.consume(
        q,
        lastEventId(request.headers[LAST_EVENT_ID_HEADER]) ?? q.lastEventId,
      );
      reply.hijack();
      const raw = reply.raw;
      if (closed) {
        // The client left while the consumer was being set up.
        // Not close(): that waits for an iteration that never starts.
        messages.stop();
        raw.destroy();
        return;
      }
      const heartbeat = setInterval(() => {
        void this.stillAllowed(request).then((allowed) => {
          if (allowed === false) {
            raw.write(
              'event: unauthorized\ndata: {"detail":"the credential of this stream is no longer valid"}\n\n',
            );
            stop();
          } else if (allowed === undefined) {
            // Not known now (the database is out): the stream ends, and the client's reconnect gets a
            // 503 with Retry-After until it can be checked, then resumes with Last-Event-ID.
            stop();
          } else if (raw.writableLength === 0) raw.write(': keep-alive\n\n');
        });
      }, this.config.GATEWAY_STREAM_HEARTBEAT_MS);
      stop = () => {
        closed = true;
        clearInterval(heartbeat);
        void messages.close();
      };
      // With the headers set on the reply so far (CORS): the hijacked reply does not send them.
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) raw.setHeader(name, value);
      }
      raw.writeHead(200, STREAM_HEADERS);
      raw.write(': connected\n\n');
      try {
        while (!closed) {
          for await (const m of messages) {
            if (closed) break;
            after = m.seq;
            const envelope = recordOf(m.data);
            // A record that is no envelope is skipped; its id alone (no event) moves a resuming client past it.
            const event =
              envelope === undefined
                ? `id: ${m.seq}\n\n`
                : matches(envelope.data, q)
                  ? `id: ${m.seq}\nevent: ${envelope.type}\ndata: ${JSON.stringify(envelope)}\n\n`
                  : undefined;
            if (event !== undefined && !raw.write(event)) await drained(raw);
          }
          if (closed) break;
          // The messages ended by themselves: a record was lost on the way. A new consumer goes on
          // after the last record taken; when none can be made, the stream ends and the client
          // resumes with Last-Event-ID (503 until JetStream answers again).
          const next = await this.consume(q, after).catch(() => undefined);
          if (next === undefined) break;
          messages = next.messages;
          if (closed) messages.stop();
        }
      } finally {
        stop();
        raw.end();
      }
    } finally {
      socket.off('close', end);
      this.stops.delete(end);
      release();
    }
  }

  beforeApplicationShutdown(): void {
    for (const stop of this.stops) stop();
  }

  /**
   * The decision records for one stream after sequence `after` (after the stream's last record now
   * when undefined: new records only), from an ordered consumer made for it, and where they start.
   * JetStream not answering (NATS unreachable, the stream missing or leaderless) is an outage, not a
   * fault of the request or the gateway: 503 with Retry-After, as for the database, and the client
   * reconnects.
   */
  private async consume(
    q: Static<typeof StreamQuery>,
    after: number | undefined,
  ): Promise<{ messages: ConsumerMessages; after: number }> {
    const naming = this.messaging.naming;
    const stream = naming.streams.decisions.name;
    try {
      // A position, not DeliverPolicy.New: a record lost before the first one taken is read again
      // from there.
      const from = after ?? (await this.messaging.jsm.streams.info(stream)).state.last_seq;
      const consumer = await this.messaging.js.consumers.get(stream, {
        filter_subjects: naming.qualify(`bifrost.dec.${q.context ?? '*'}.${q.engineId ?? '*'}`),
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: from + 1,
      });
      // Short pulls: idle heartbeats every 2.5 s, so a loss shows within seconds.
      const messages = await consumer.consume({ max_messages: 100, expires: 5_000 });
      // Received, not taken: a client that takes slowly leaves records received and waiting in the
      // gateway, which the server counts as delivered, and which are no loss.
      stopWhenLost(messages, () => messages.getReceived());
      // Deleted once its messages end (the client gone, a loss): else it stays on the server for the
      // 5 min inactive threshold nats.js gives an ordered consumer.
      void messages
        .closed()
        .then(() => consumer.delete())
        .catch(() => undefined);
      return { messages, after: from };
    } catch {
      throw new ProblemError(
        'unavailable',
        'JetStream cannot be reached for the decision stream: ask again shortly',
        'INFRA.UNAVAILABLE',
        { 'retry-after': '5' },
      );
    }
  }

  /** Counts the stream against its principal's limit; the returned function gives it back. */
  private claim(principal: Principal): () => void {
    const held = this.open.get(principal.id) ?? 0;
    if (held >= this.config.GATEWAY_MAX_STREAMS_PER_PRINCIPAL) {
      throw new ProblemError(
        'rateLimited',
        `this key already holds ${held} open decision streams (GATEWAY_MAX_STREAMS_PER_PRINCIPAL); close one first`,
        'RATE.STREAMS',
        { 'retry-after': String(Math.ceil(this.config.GATEWAY_STREAM_HEARTBEAT_MS / 1000)) },
      );
    }
    this.open.set(principal.id, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(principal.id) ?? 1) - 1;
      if (left === 0) this.open.delete(principal.id);
      else this.open.set(principal.id, left);
    };
  }

  /**
   * The request's credential again, as the guard checked it: still valid and still enough for the
   * route; undefined when that cannot be told now (the key lookup failed, not the key).
   */
  private async stillAllowed(request: FastifyRequest): Promise<boolean | undefined> {
    try {
      const principal = await this.auth.authenticate(request.headers, new Date());
      return principal !== undefined && hasRole(principal.role, ACCESS);
    } catch (error) {
      return error instanceof UnauthorizedError ? false : undefined;
    }
  }
}

/** The Last-Event-ID header when it is a stream sequence (digits only); anything else is ignored. */
function lastEventId(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** Resolves when the socket can take more, or is gone. */
function drained(raw: ServerResponse): Promise<void> {
  if (raw.destroyed || raw.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.on('drain', done);
    raw.on('close', done);
  });
}

/**
 * A decision record as the stream sends it: JSON with a type and a data object; undefined otherwise.
 * The type goes on the `event:` line as it is, so one holding a line break (CR or LF) would end that
 * line and forge others: another `id:`, which a client resumes from, another event.
 */
function recordOf(bytes: Uint8Array): { type: string; data: Record<string, unknown> } | undefined {
  let value: unknown;
  try {
    value = decodeJson(bytes);
  } catch {
    return undefined;
  }
  const record = value as { type?: unknown; data?: unknown } | null;
  return typeof record === 'object' &&
    record !== null &&
    typeof record.type === 'string' &&
    !/[\r\n]/.test(record.type) &&
    typeof record.data === 'object' &&
    record.data !== null
    ? (record as { type: string; data: Record<string, unknown> })
    : undefined;
}

/**
 * Action and risk level live in the verdict (gate) or the reply (heimdall), and are absent from
 * risk decisions (no match when filtered).
 */
function matches(data: Record<string, unknown>, q: Static<typeof StreamQuery>): boolean {
  const verdict = (data['verdict'] ?? data['reply'] ?? {}) as Record<string, unknown>;
  if (q.action !== undefined && verdict['action'] !== q.action) return false;
  if (q.riskLevel !== undefined && verdict['riskLevel'] !== q.riskLevel) return false;
  return true;
}
