import { jetstream, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { createNaming, nothingDecided, type Naming } from '@bifrost/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import { undecidedRetryDelay } from './backoff.policy';
import { ConnectionLoop } from './connection.loop';
import type { Fact } from './fact.envelope';
import { SDK_ERROR_CODES } from './sdk.errors';
import type { ConnectionState, SdkLogger } from './sdk.types';
import {
  OPERATIONS,
  type DeliveryResult,
  type Operation,
  type Transport,
  type TransportReply,
} from './transport.types';

export interface NatsTransportOptions {
  readonly natsUrl: string;
  readonly namespace: string;
  readonly engineId: string;
  readonly logger: SdkLogger;
  /** Interval of the client's PINGs: a silent server is detected after two missed PONGs. */
  readonly pingIntervalMs: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Core request-reply to `bifrost.rpc.<service>.<operation>` and JetStream publish of facts.
 * nats.js's own reconnect is turned off: its delay is constant, Bifrost's is exponential
 * (ConnectionLoop), and the SDK's buffer replaces nats.js's pending-publish buffer.
 */
export class NatsTransport implements Transport {
  readonly kind = 'nats';
  private readonly naming: Naming;
  private readonly loop: ConnectionLoop;
  private onState: (state: ConnectionState) => void = () => undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private closing = false;

  constructor(private readonly options: NatsTransportOptions) {
    this.naming = createNaming(options.namespace);
    this.loop = new ConnectionLoop(
      () => this.connectOnce(),
      (state) => this.onState(state),
    );
  }

  get state(): ConnectionState {
    return this.loop.state;
  }

  start(onState: (state: ConnectionState) => void): void {
    this.onState = onState;
    this.loop.start();
  }

  async request(operation: Operation, body: unknown, deadlineAt: number): Promise<TransportReply> {
    const nc = this.nc;
    const subject = this.naming.rpcSubject(OPERATIONS[operation].service, operation);
    if (!nc || this.state !== 'connected') {
      return { ok: false, code: SDK_ERROR_CODES.disconnected, message: `not connected to NATS (${subject})` };
    }
    for (let attempt = 1; ; attempt += 1) {
      const timeout = deadlineAt - Date.now();
      if (timeout <= 0) {
        return { ok: false, code: SDK_ERROR_CODES.deadlineExceeded, message: `no time left for ${subject}` };
      }
      let reply: TransportReply;
      try {
        const msg = await nc.request(subject, encoder.encode(JSON.stringify(body)), {
          timeout,
          headers: jsonHeaders(),
        });
        reply = readReply(decoder.decode(msg.data));
      } catch (error) {
        return requestFailure(error, subject, timeout);
      }
      // The service answered that nobody could decide it (e.g. no risk-guard leader yet): ask again.
      const waitMs = reply.ok || !nothingDecided(reply.code) ? undefined : undecidedRetryDelay(attempt);
      if (waitMs === undefined || Date.now() + waitMs >= deadlineAt) return reply;
      await sleep(waitMs);
    }
  }

  async deliver(fact: Fact, timeoutMs: number): Promise<DeliveryResult> {
    const js = this.js;
    if (!js || this.state !== 'connected') {
      return { ok: false, retry: true, code: SDK_ERROR_CODES.disconnected, message: 'not connected to NATS' };
    }
    try {
      const ack = await js.publish(fact.envelope.subject, encoder.encode(JSON.stringify(fact.envelope)), {
        msgID: fact.envelope.id,
        timeout: timeoutMs,
        headers: jsonHeaders(),
      });
      return { ok: true, sequence: ack.seq };
    } catch (error) {
      const message = (error as Error).message;
      // A 4xx JetStream API error is a verdict on the message itself: resending the same bytes
      // cannot succeed, and keeping it would block every fact behind it. Everything else (no
      // stream yet, timeouts, a server in trouble) may pass later.
      if (error instanceof JetStreamApiError && error.status < 500) {
        return { ok: false, retry: false, code: `JETSTREAM.${error.code}`, message };
      }
      return { ok: false, retry: true, code: SDK_ERROR_CODES.serviceUnavailable, message };
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.loop.stop();
    const nc = this.nc;
    this.nc = undefined;
    this.js = undefined;
    await nc?.close().catch(() => undefined);
  }

  private async connectOnce(): Promise<boolean> {
    const { natsUrl, engineId, logger, pingIntervalMs } = this.options;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: natsUrl.split(','),
        name: `sdk-${engineId}`,
        reconnect: false,
        pingInterval: pingIntervalMs,
        maxPingOut: 2,
        timeout: 5_000,
        noAsyncTraces: true,
      });
    } catch (error) {
      logger.debug?.('bifrost: NATS connect failed', { error: (error as Error).message });
      return false;
    }
    if (this.closing) {
      await nc.close().catch(() => undefined);
      return false;
    }
    this.nc = nc;
    this.js = jetstream(nc);
    void nc.closed().then((error) => {
      if (this.nc !== nc) return;
      this.nc = undefined;
      this.js = undefined;
      if (this.closing) return;
      logger.warn?.('bifrost: NATS connection lost', { error: error?.message });
      this.loop.lost();
    });
    return true;
  }
}

function jsonHeaders() {
  const h = natsHeaders();
  h.set('content-type', 'application/json');
  return h;
}

/** Bifrost replies `{ ok: true, data }` or `{ ok: false, error: { code, message } }`. */
export function readReply(text: string): TransportReply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, code: SDK_ERROR_CODES.malformedReply, message: 'the reply is not JSON' };
  }
  const reply = parsed as { ok?: unknown; data?: unknown; error?: { code?: unknown; message?: unknown } };
  if (reply?.ok === true) return { ok: true, data: reply.data };
  if (reply?.ok === false && typeof reply.error?.code === 'string') {
    return { ok: false, code: reply.error.code, message: String(reply.error.message ?? reply.error.code) };
  }
  return { ok: false, code: SDK_ERROR_CODES.malformedReply, message: 'the reply is not a Bifrost reply' };
}

function requestFailure(error: unknown, subject: string, timeoutMs: number): TransportReply {
  const chain = [error, (error as { cause?: unknown }).cause].map(
    (e) => (e as Error | undefined)?.message ?? '',
  );
  if (chain.some((m) => /no responders/i.test(m))) {
    return { ok: false, code: SDK_ERROR_CODES.serviceUnavailable, message: `no service answers ${subject}` };
  }
  if (chain.some((m) => /timeout/i.test(m))) {
    return {
      ok: false,
      code: SDK_ERROR_CODES.deadlineExceeded,
      message: `no answer from ${subject} within ${timeoutMs} ms`,
    };
  }
  return { ok: false, code: SDK_ERROR_CODES.disconnected, message: `${subject}: ${chain.join(': ')}` };
}
