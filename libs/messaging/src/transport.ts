import { Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { TSchema } from '@sinclair/typebox';
import type { StreamKey } from '@bifrost/contracts';
import { isInfraFailure } from '@bifrost/event-sourcing';
import { lastValueFrom, throwError, type Observable } from 'rxjs';
import {
  ConsumerRunner,
  type ConsumerObserver,
  type ConsumerLogger,
  type ConsumerSpec,
  type Delivery,
} from './consumer';
import type { Messaging } from './messaging';
import { serveRpc, type RpcObserver, type RpcRequestMeta, type RpcServer } from './rpc';

/** Extras for `@MessagePattern(subject, rpcRoute({ request }))`. */
export interface RpcRouteExtras {
  readonly request?: TSchema;
}
export const rpcRoute = (extras: RpcRouteExtras): Record<string, unknown> => ({ ...extras });

/** Extras for `@EventPattern(filter, consumerRoute({ stream, purpose }))`. */
export type ConsumerRouteExtras = Omit<ConsumerSpec, 'service' | 'filter'>;
export const consumerRoute = (extras: ConsumerRouteExtras): Record<string, unknown> => ({ ...extras });

/** Context of a request-reply handler: `[subject, headers]`. */
export class NatsRpcContext extends BaseRpcContext<[RpcRequestMeta]> {
  get meta(): RpcRequestMeta {
    return this.args[0];
  }
}

/** Context of a JetStream consumer handler: where the message came from and which attempt this is. */
export class JetStreamContext extends BaseRpcContext<[Delivery]> {
  get delivery(): Delivery {
    return this.args[0];
  }
}

/**
 * Nest's default RPC filter turns unknown errors into "Internal server error" and drops their type.
 * Bifrost maps errors itself at the edge (stable codes, term vs nak), so on NATS routes the error
 * passes through untouched; HTTP requests keep Nest's default handling. Register as `APP_FILTER`.
 */
@Catch()
export class PassThroughRpcFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') return throwError(() => exception);
    return super.catch(exception, host);
  }
}

/**
 * NestJS transport over NATS: `@MessagePattern('bifrost.rpc.…')` handlers become queue-group
 * request-reply routes, `@EventPattern('bifrost.…', consumerRoute({...}))` handlers become durable
 * JetStream pull consumers. Handlers keep Nest's pipes, interceptors and filters.
 */
export class JetStreamTransport extends Server implements CustomTransportStrategy {
  private routes?: RpcServer;
  private consumers: ConsumerRunner[] = [];

  constructor(
    private readonly messaging: Messaging,
    private readonly log: ConsumerLogger,
    private readonly observer?: ConsumerObserver,
    /** Told of every request the routes answer (the `bifrost_rpc_*` metrics). */
    private readonly rpcObserver?: RpcObserver,
  ) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      const routes = [];
      for (const [pattern, handler] of this.messageHandlers) {
        const extras = (handler.extras ?? {}) as Record<string, unknown>;
        if (handler.isEventHandler) {
          const spec = {
            ...(extras as unknown as ConsumerRouteExtras),
            service: this.messaging.service,
            filter: pattern,
          };
          if (!spec.stream || !spec.purpose)
            throw new Error(`@EventPattern('${pattern}') needs consumerRoute({ stream, purpose })`);
          this.consumers.push(
            new ConsumerRunner(
              this.messaging.js,
              this.messaging.jsm,
              this.messaging.naming,
              spec as ConsumerSpec & { stream: StreamKey },
              async (envelope, delivery) => {
                await this.invoke(pattern, envelope, new JetStreamContext([delivery]));
              },
              this.log,
              this.messaging.catalogue,
              this.observer,
            ),
          );
        } else {
          routes.push({
            subject: pattern,
            request: (extras as RpcRouteExtras).request,
            handler: (data: unknown, meta: RpcRequestMeta) =>
              this.invoke(pattern, data, new NatsRpcContext([meta])),
          });
        }
      }
      this.routes = await serveRpc(this.messaging.nc, this.messaging.naming, this.messaging.service, routes, {
        onError: (error, subject) =>
          isInfraFailure(error)
            ? this.log.warn({ err: error, subject }, 'rpc request failed on the infrastructure')
            : this.log.error({ err: error, subject }, 'rpc request failed'),
        observer: this.rpcObserver,
      });
      for (const consumer of this.consumers) await consumer.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  private async invoke(pattern: string, data: unknown, ctx: BaseRpcContext): Promise<unknown> {
    const handler = this.messageHandlers.get(pattern);
    if (!handler) throw new Error(`no handler for ${pattern}`);
    const result$ = this.transformToObservable(await handler(data, ctx));
    return lastValueFrom(result$, { defaultValue: undefined });
  }

  /**
   * Stops taking requests and messages, and resolves once the handlers in flight have finished
   * and every request taken has been answered. The connection is drained later.
   */
  async close(): Promise<void> {
    const routes = this.routes;
    const consumers = this.consumers;
    this.routes = undefined;
    this.consumers = [];
    await Promise.all([routes?.drain(), ...consumers.map((c) => c.stop())]);
  }

  on(): never {
    throw new Error('JetStreamTransport does not support event listeners');
  }

  unwrap<T>(): T {
    return this.messaging as T;
  }
}
