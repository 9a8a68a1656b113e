import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';

export interface ConnectOptions {
  readonly url: string;
  /** Connection name shown by the server (`<service>-<instance>`). */
  readonly name: string;
}

/**
 * Connects with unbounded reconnects: a service outlives NATS restarts. The first connect waits
 * for the server too, so start order between NATS and services does not matter.
 */
export function connectNats({ url, name }: ConnectOptions): Promise<NatsConnection> {
  return connect({
    servers: url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    // Async traces allocate an Error (with a stack) per request and publish: a hot-path cost.
    noAsyncTraces: true,
  });
}
