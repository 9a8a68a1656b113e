import { Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { DeliverPolicy } from '@nats-io/jetstream';
import { EntityId, RISK_LEVELS, VERDICT_ACTIONS, literals, object } from '@bifrost/contracts';
import { Messaging } from '@bifrost/messaging';
import { ApiController, Route, ValidQuery } from '../http/route';

const StreamQuery = object({
  context: Type.Optional(literals(['gate', 'risk', 'heimdall'])),
  engineId: Type.Optional(EntityId),
  action: Type.Optional(literals(VERDICT_ACTIONS)),
  riskLevel: Type.Optional(literals(RISK_LEVELS)),
  /** Resume after this stream sequence (same as the Last-Event-ID header, which wins). */
  lastEventId: Type.Optional(Type.Integer({ minimum: 0 })),
});

const HEARTBEAT_MS = 15_000;

/**
 * Live decision records from BIFROST_DECISIONS as Server-Sent Events through an ordered consumer
 * (ephemeral, nothing left on the server). Each event's id is its stream sequence, so a client
 * reconnecting with Last-Event-ID resumes exactly after the last record it saw.
 */
@ApiController('decisions', 'decisions')
export class DecisionStreamController {
  constructor(@Inject(Messaging) private readonly messaging: Messaging) {}

  @Route({
    method: 'GET',
    path: 'stream',
    summary:
      'Live decision records (SSE): id = stream sequence, event = message type, data = envelope; resumable with Last-Event-ID',
    access: 'viewer',
    query: StreamQuery,
    response: Type.String({ description: 'text/event-stream' }),
    produces: 'text/event-stream',
  })
  async stream(
    @ValidQuery() q: Static<typeof StreamQuery>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const header = Number(request.headers['last-event-id']);
    const after = Number.isSafeInteger(header) && header >= 0 ? header : q.lastEventId;
    const naming = this.messaging.naming;
    const subject = naming.qualify(`bifrost.dec.${q.context ?? '*'}.${q.engineId ?? '*'}`);
    const consumer = await this.messaging.js.consumers.get(naming.streams.decisions.name, {
      filter_subjects: subject,
      ...(after === undefined
        ? { deliver_policy: DeliverPolicy.New }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }),
    });
    const messages = await consumer.consume();

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(': connected\n\n');
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const stop = () => {
      clearInterval(heartbeat);
      void messages.close();
    };
    request.raw.on('close', stop);

    try {
      for await (const m of messages) {
        const envelope = m.json<{ type: string; data: Record<string, unknown> }>();
        if (!matches(envelope.data, q)) continue;
        raw.write(`id: ${m.seq}\nevent: ${envelope.type}\ndata: ${JSON.stringify(envelope)}\n\n`);
      }
    } finally {
      stop();
      raw.end();
    }
  }
}

/** Action and risk level live in the verdict (gate) or are absent (other deciders: no match when filtered). */
function matches(data: Record<string, unknown>, q: Static<typeof StreamQuery>): boolean {
  const verdict = (data['verdict'] ?? {}) as Record<string, unknown>;
  if (q.action !== undefined && verdict['action'] !== q.action) return false;
  if (q.riskLevel !== undefined && verdict['riskLevel'] !== q.riskLevel) return false;
  return true;
}
