import {
  Global,
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Messaging, type MessagingOptions } from './messaging';
import { EventStore } from './event-store';
import { Publisher } from './publisher';
import { RpcClient } from './rpc';
import { SnapshotStore } from './snapshots';

class MessagingLifecycle implements OnApplicationShutdown {
  constructor(@Inject(Messaging) private readonly messaging: Messaging) {}

  /** The last step of a shutdown: a drain the link does not allow is reported, and the service still stops. */
  async onApplicationShutdown(): Promise<void> {
    await this.messaging.drain().catch((error: unknown) => {
      new Logger('Messaging').warn(
        `NATS connection closed without draining (work in flight on it was not finished): ${String(error)}`,
      );
    });
  }
}

/** Provides the connected `Messaging` and its event store, publisher, rpc client and snapshots. */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: Messaging, useFactory: () => Messaging.connect(options) },
        { provide: EventStore, useFactory: (m: Messaging) => m.eventStore, inject: [Messaging] },
        { provide: Publisher, useFactory: (m: Messaging) => m.publisher, inject: [Messaging] },
        { provide: RpcClient, useFactory: (m: Messaging) => m.rpc, inject: [Messaging] },
        { provide: SnapshotStore, useFactory: (m: Messaging) => m.snapshots, inject: [Messaging] },
        MessagingLifecycle,
      ],
      exports: [Messaging, EventStore, Publisher, RpcClient, SnapshotStore],
    };
  }
}
