import {
  Controller,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type INestMicroservice,
  type NestInterceptor,
  type PipeTransform,
  UseInterceptors,
} from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { Type } from '@sinclair/typebox';
import { map, type Observable } from 'rxjs';
import type { Envelope } from '@bifrost/contracts';
import { IllegalStateError, TransientError } from '@bifrost/event-sourcing';
import { createTestNamespace, waitFor, type TestNamespace } from '@bifrost/testing';
import { Messaging } from '../messaging';
import { MessagingModule } from '../messaging.module';
import {
  consumerRoute,
  JetStreamContext,
  JetStreamTransport,
  NatsRpcContext,
  PassThroughRpcFilter,
  rpcRoute,
} from '../transport';
import { connectTest, testCatalogue, work } from './fixtures';

const received: { n: number; attempt: number }[] = [];
const logged: { level: 'warn' | 'error'; obj: { err?: unknown; subject?: string }; msg: string }[] = [];

@Injectable()
class UpperCasePipe implements PipeTransform<{ name: string }> {
  transform(value: { name: string }) {
    return { name: value.name.toUpperCase() };
  }
}

@Injectable()
class EnvelopeReplyInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((data) => ({ intercepted: true, ...(data as object) })));
  }
}

@Controller()
class GreeterController {
  @MessagePattern(
    'bifrost.rpc.greeter.hello',
    rpcRoute({ request: Type.Object({ name: Type.String({ minLength: 1 }) }) }),
  )
  @UseInterceptors(EnvelopeReplyInterceptor)
  hello(@Payload(UpperCasePipe) body: { name: string }, @Ctx() ctx: NatsRpcContext) {
    return { greeting: `hello ${body.name}`, subject: ctx.meta.subject };
  }

  @MessagePattern('bifrost.rpc.greeter.refuse')
  refuse(): never {
    throw new IllegalStateError('not now', { code: 'GREETER.BUSY' });
  }

  @MessagePattern('bifrost.rpc.greeter.crash')
  crash(): never {
    throw new Error('secret internals');
  }

  @MessagePattern('bifrost.rpc.greeter.down')
  down(): never {
    throw new TransientError('JetStream did not acknowledge the publish');
  }

  @EventPattern(
    'bifrost.ingest.kpi.*',
    consumerRoute({ stream: 'ingest', purpose: 'kpis', maxDeliver: 3, backoffBaseMs: 10 }),
  )
  async onWork(@Payload() envelope: Envelope, @Ctx() ctx: JetStreamContext): Promise<void> {
    if (envelope.data['poison'] && ctx.delivery.deliveryCount === 1)
      throw new TransientError('first attempt fails');
    received.push({ n: envelope.data['n'] as number, attempt: ctx.delivery.deliveryCount });
  }
}

describe('JetStreamTransport (NestJS handlers over NATS)', () => {
  let ns: TestNamespace;
  let app: INestMicroservice;
  let client: Messaging;

  beforeAll(async () => {
    ns = await createTestNamespace('nest');
    const moduleRef = await Test.createTestingModule({
      imports: [
        MessagingModule.forRoot({
          url: ns.natsUrl,
          service: 'greeter',
          instanceId: 'i1',
          namespace: ns.namespace,
          catalogue: testCatalogue,
        }),
      ],
      controllers: [GreeterController],
      providers: [UpperCasePipe],
    }).compile();
    const log = {
      warn: (obj: object, msg: string) => logged.push({ level: 'warn', obj, msg }),
      error: (obj: object, msg: string) => logged.push({ level: 'error', obj, msg }),
    };
    app = moduleRef.createNestMicroservice({
      strategy: new JetStreamTransport(moduleRef.get(Messaging), log),
      logger: false,
    });
    app.useGlobalFilters(new PassThroughRpcFilter());
    await app.listen();
    client = await connectTest(ns.natsUrl, ns.namespace, 'caller');
  });
  afterAll(async () => {
    await client.drain();
    await app.close();
    await ns.cleanup();
  });

  it('should run a @MessagePattern handler with its pipe and interceptor', async () => {
    await expect(client.rpc.request('bifrost.rpc.greeter.hello', { name: 'ada' })).resolves.toEqual({
      ok: true,
      data: { intercepted: true, greeting: 'hello ADA', subject: 'bifrost.rpc.greeter.hello' },
    });
  });

  it('should validate the request against the route schema before the handler runs', async () => {
    await expect(client.rpc.request('bifrost.rpc.greeter.hello', { name: '' })).resolves.toMatchObject({
      ok: false,
      error: { code: 'RPC.VALIDATION_FAILED' },
    });
  });

  it('should turn a thrown domain error into an error reply with its code', async () => {
    await expect(client.rpc.request('bifrost.rpc.greeter.refuse', {})).resolves.toEqual({
      ok: false,
      error: { code: 'GREETER.BUSY', message: 'not now' },
    });
  });

  it("should log a handler's bug and an infrastructure failure, not a refusal, and hide the bug from the caller", async () => {
    const rpcLogs = () => logged.filter((l) => l.obj.subject?.startsWith('bifrost.rpc.greeter.'));
    await client.rpc.request('bifrost.rpc.greeter.refuse', {});
    const crash = await client.rpc.request('bifrost.rpc.greeter.crash', {});
    const down = await client.rpc.request('bifrost.rpc.greeter.down', {});

    expect(crash).toEqual({ ok: false, error: { code: 'INTERNAL.ERROR', message: 'internal error' } });
    expect(down).toMatchObject({ ok: false, error: { code: 'INFRA.UNAVAILABLE' } });
    expect(rpcLogs().map((l) => [l.level, l.obj.subject, (l.obj.err as Error).message])).toEqual([
      ['error', 'bifrost.rpc.greeter.crash', 'secret internals'],
      ['warn', 'bifrost.rpc.greeter.down', 'JetStream did not acknowledge the publish'],
    ]);
  });

  it('should feed @EventPattern handlers from a durable consumer, retrying transient failures', async () => {
    await client.publisher.publish(work(ns.naming, 'e1', 1));
    await client.publisher.publish(work(ns.naming, 'e2', 2, true));

    await waitFor(() => received.length === 2, { what: 'both messages handled' });
    expect(received).toEqual(
      expect.arrayContaining([
        { n: 1, attempt: 1 },
        { n: 2, attempt: 2 },
      ]),
    );
    const info = await client.jsm.consumers.info(ns.naming.streams.ingest.name, 'greeter__kpis');
    expect(info.config.filter_subject).toBe(ns.naming.qualify('bifrost.ingest.kpi.*'));
  });
});
