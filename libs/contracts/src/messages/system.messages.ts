import { Type } from '@sinclair/typebox';
import { defineMessage, defineRpc } from '../registry';
import { Timestamp } from '../envelope';

/** Recorded by every service when it has started: the operator's start history. */
export const ServiceStarted = defineMessage({
  type: 'system.ServiceStarted',
  version: 1,
  kind: 'event',
  producer: 'any service',
  consumers: ['projector'],
  subject: 'bifrost.evt.system.service.{service}',
  description: 'A Bifrost service instance finished start-up (state rebuilt, handlers listening).',
  data: Type.Object(
    {
      service: Type.String({ minLength: 1 }),
      instanceId: Type.String({ minLength: 1 }),
      version: Type.String(),
      previousStarts: Type.Integer({ minimum: 0 }),
    },
    { additionalProperties: false },
  ),
});

export const PingRequest = Type.Object(
  { echo: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);
export const PingResponse = Type.Object(
  {
    service: Type.String(),
    instanceId: Type.String(),
    startedAt: Timestamp,
    starts: Type.Integer({
      minimum: 1,
      description: 'how many times this service has started, replayed from its events',
    }),
    echo: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Every service answers `bifrost.rpc.<service>.ping`. */
export const pingRpc = (service: string) =>
  defineRpc({
    service,
    operation: 'ping',
    request: PingRequest,
    response: PingResponse,
    description: `Liveness over NATS: ${service} answers with its instance and start count.`,
  });

export const systemMessages = [ServiceStarted];
