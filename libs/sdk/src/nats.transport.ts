import { jetstream, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { createNaming, type Naming } from '@bifrost/contracts';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { undecidedRetryDelay } from './backoff.policy';
import { ConnectionLoop } from './connection.loop';
import type { Fact } from './fact.envelope';
import { SDK_ERROR_CODES } from './sdk.errors';
import { traceHeaders } from './trace.headers';
import type { ConnectionState, SdkLogger } from './sdk.types';
import {
  OPERATIONS,
  undecided,
  type DeliveryResult,
  type Operation,
  type Transport,
  type TransportReply,
} from './transport.types';

/** A server of the client's `natsUrl`: as written there (what nats.js is given), and where it listens. */
export interface NatsServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

export interface NatsTransportOptions {
  readonly servers: readonly NatsServer[];
  readonly namespace: string;
  readonly engineId: string;
  readonly logger: SdkLogger;
  /** Interval of the client's PINGs: a silent server is detected after two missed PONGs. */
  readonly pingIntervalMs: number;
  /** Retries after a failed attempt before giving up (`Infinity`: never). */
  readonly maxReconnectAttempts: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The limit of each connection attempt: first the server's greeting, then nats.js's handshake. */
const CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_NATS_PORT = 4222;
/** How a NATS server greets every new connection (its INFO line), before the client says anything. */
const GREETING = 'INFO ';

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
  private readonly cancel = new AbortController();

  constructor(private readonly options: NatsTransportOptions) {
    this.naming = createNaming(options.namespace);
    this.loop = new ConnectionLoop(
      () => this.connectOnce(),
      (state) => this.onState(state),
      options.maxReconnectAttempts,
    );
  }

  get state(): ConnectionState {
    return this.loop.state;
  }

  start(onState: (state: ConnectionState) => void): void {
    this.onState = onState;
    this.loop.start();
  }

  async request(operation: Operation, json: string, deadlineAt: number): Promise<TransportReply> {
    const nc = this.nc;
    const subject = this.naming.rpcSubject(OPERATIONS[operation].service, operation);
    if (!nc || this.state !== 'connected') {
      return { ok: false, code: SDK_ERROR_CODES.disconnected, message: `not connected to NATS (${subject})` };
    }
    const trace = traceHeaders();
    for (let attempt = 1; ; attempt += 1) {
      const timeout = deadlineAt - Date.now();
      if (timeout <= 0) {
        return { ok: false, code: SDK_ERROR_CODES.deadlineExceeded, message: `no time left for ${subject}` };
      }
      let reply: TransportReply;
      try {
        const msg = await nc.request(subject, encoder.encode(json), {
          timeout,
          headers: jsonHeaders(trace),
        });
        reply = readReply(decoder.decode(msg.data));
      } catch (error) {
        return requestFailure(error, subject, timeout);
      }
      // The service answered that nobody could decide it (e.g. no risk-guard leader yet): ask again.
      const waitMs = reply.ok || !undecided(operation, reply.code) ? undefined : undecidedRetryDelay(attempt);
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
        headers: jsonHeaders(fact.traceHeaders),
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
    this.cancel.abort();
    this.loop.stop();
    const nc = this.nc;
    this.nc = undefined;
    this.js = undefined;
    await nc?.close().catch(() => undefined);
  }

  private async connectOnce(): Promise<boolean> {
    const { engineId, logger, pingIntervalMs } = this.options;
    const servers = await this.greetingServers();
    if (servers.length === 0) {
      logger.debug?.('bifrost: NATS connect failed', {
        error: `no NATS server greeted within ${CONNECT_TIMEOUT_MS} ms`,
      });
      return false;
    }
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: servers.map((server) => server.url),
        name: `sdk-${engineId}`,
        reconnect: false,
        pingInterval: pingIntervalMs,
        maxPingOut: 2,
        timeout: CONNECT_TIMEOUT_MS,
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

  /**
   * The servers that greet a connection of the SDK's own in time. nats.js 3 leaves the socket of an
   * attempt that timed out before its handshake open (its transport only closes connections that
   * completed it), so a server that accepts TCP but never speaks (a proxy or load balancer with
   * nothing behind it) would cost a socket per attempt, each keeping the process alive. nats.js only
   * dials servers that just greeted; `close()` cancels the greetings under way.
   */
  private async greetingServers(): Promise<NatsServer[]> {
    const greeted = await Promise.all(
      this.options.servers.map((server) => greets(server, CONNECT_TIMEOUT_MS, this.cancel.signal)),
    );
    return this.options.servers.filter((_, i) => greeted[i]);
  }
}

/**
 * The servers of a comma-separated `natsUrl` (each `nats://host[:port]`, `tls://host[:port]` or
 * `host[:port]`, port 4222 by default), or what is wrong with it.
 */
export function parseNatsUrl(natsUrl: string): NatsServer[] | string {
  const servers: NatsServer[] = [];
  for (const entry of natsUrl.split(',')) {
    const given = entry.trim();
    const url = urlOf(given.includes('://') ? given : `nats://${given}`);
    if (!url || !isNatsServer(url)) {
      return `natsUrl "${natsUrl}": "${given}" is not a NATS server (nats://host[:port], tls://host[:port] or host[:port], comma-separated)`;
    }
    servers.push({
      url: given,
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? DEFAULT_NATS_PORT : Number(url.port),
    });
  }
  return servers;
}

function isNatsServer(url: URL): boolean {
  return (
    (url.protocol === 'nats:' || url.protocol === 'tls:') &&
    url.hostname !== '' &&
    (url.pathname === '' || url.pathname === '/') &&
    url.search === '' &&
    url.hash === ''
  );
}

function urlOf(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Whether `server` sends its greeting within `timeoutMs`, on a socket that is closed either way. */
function greets(server: NatsServer, timeoutMs: number, cancel: AbortSignal): Promise<boolean> {
  if (cancel.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let received = '';
    const socket = createConnection({ host: server.host, port: server.port });
    const finish = (greeted: boolean) => {
      clearTimeout(timer);
      cancel.removeEventListener('abort', fail);
      socket.destroy();
      resolve(greeted);
    };
    const fail = () => finish(false);
    const timer = setTimeout(fail, timeoutMs);
    cancel.addEventListener('abort', fail, { once: true });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.length >= GREETING.length) finish(received.startsWith(GREETING));
    });
    socket.on('error', fail);
    socket.on('close', fail);
  });
}

/** JSON content with the engine's trace context (`traceHeaders`), as the services send theirs. */
function jsonHeaders(trace: Readonly<Record<string, string>>) {
  const h = natsHeaders();
  h.set('content-type', 'application/json');
  for (const [name, value] of Object.entries(trace)) h.set(name, value);
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
