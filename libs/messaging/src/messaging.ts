import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { catalogue as defaultCatalogue, createNaming, type Catalogue, type Naming } from '@bifrost/contracts';
import { connectNats } from './connection';
import { EventStore } from './event-store';
import { defaultStreamSettings, provisionStreams, type StreamSettings } from './provisioning';
import { Publisher } from './publisher';
import { RpcClient } from './rpc';
import { SnapshotStore } from './snapshots';

export interface MessagingOptions {
  readonly url: string;
  /** Service name: queue group, consumer prefix, envelope `source`. */
  readonly service: string;
  readonly instanceId: string;
  readonly namespace?: string;
  readonly streams?: StreamSettings;
  readonly catalogue?: Catalogue;
}

/**
 * One service's NATS connection and everything built on it. Created once at start-up: connects,
 * provisions (or verifies) the streams and opens the snapshot bucket, so a service that starts has
 * a usable event store or fails loudly.
 */
export class Messaging {
  private constructor(
    readonly options: MessagingOptions,
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly naming: Naming,
    readonly catalogue: Catalogue,
    readonly publisher: Publisher,
    readonly eventStore: EventStore,
    readonly rpc: RpcClient,
    readonly snapshots: SnapshotStore,
  ) {}

  static async connect(options: MessagingOptions): Promise<Messaging> {
    const naming = createNaming(options.namespace ?? '');
    const catalogue = options.catalogue ?? defaultCatalogue;
    const nc = await connectNats({ url: options.url, name: `${options.service}-${options.instanceId}` });
    try {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      const settings = options.streams ?? defaultStreamSettings;
      await provisionStreams(jsm, naming, settings);
      const snapshots = await SnapshotStore.open(js, naming, settings.replicas);
      const publisher = new Publisher(nc, catalogue);
      return new Messaging(
        options,
        nc,
        js,
        jsm,
        naming,
        catalogue,
        publisher,
        new EventStore(js, jsm, naming, publisher, catalogue),
        new RpcClient(nc, naming),
        snapshots,
      );
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  get service(): string {
    return this.options.service;
  }

  /** Readiness: connected, and JetStream answers an account-info request. */
  async check(): Promise<{ ok: boolean; detail?: string }> {
    if (this.nc.isClosed()) return { ok: false, detail: 'connection closed' };
    try {
      await this.jsm.getAccountInfo();
      return { ok: true };
    } catch (error) {
      return { ok: false, detail: `JetStream unreachable: ${(error as Error).message}` };
    }
  }

  /**
   * Finishes in-flight work on the connection (pending publishes, subscriptions) and closes it. A
   * drain that cannot finish (the link went down: a reconnect rejects its flush) closes the
   * connection without it and throws why.
   */
  async drain(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      await this.nc.drain();
    } catch (error) {
      await this.nc.close();
      throw error;
    }
  }
}
