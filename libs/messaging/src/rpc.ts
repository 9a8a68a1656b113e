import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { ClosedConnectionError, DrainingConnectionError, headers as natsHeaders } from '@nats-io/nats-core';
import { compile, formatIssues, type Naming, type Reply } from '@bifrost/contracts';
import {
  InternalError,
  ValidationError,
  TransientError,
  isBifrostError,
  isInfraFailure,
  toErrorBody,
  type BifrostError,
} from '@bifrost/event-sourcing';
import type { TSchema } from '@sinclair/typebox';
import { decodeJson, encodeJson } from './envelope-codec';
import { assertJsonDepth, MAX_JSON_DEPTH } from './json-depth';
import { assertStorableText } from './storable-text';
import { extractTraceContext, inSpan, injectTraceContext, markReplyFailed } from './tracing';

export interface RpcRequestMeta {
  readonly subject: string;
  readonly headers: Record<string, string>;
}

export type RpcHandler = (data: unknown, meta: RpcRequestMeta) => Promise<unknown>;

export interface RpcRoute {
  /** Canonical subject `bifrost.rpc.<service>.<op>`. */
  readonly subject: string;
  readonly request?: TSchema;
  readonly handler: RpcHandler;
}

export const DEFAULT_MAX_REQUEST_BYTES = 256 * 1024;
/** nats-server's default `max_payload`, when the server did not say. */
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Sees every request a route answers, to count it (`@bifrost/service` turns this into the
 * `bifrost_rpc_*` metrics). Subjects are the canonical route subjects as registered
 * (`bifrost.rpc.<service>.<op>`), never namespaced, so labels are the same in every deployment.
 */
export interface RpcObserver {
  /** The route is served: called once per route when serving starts, before any request. */
  serving?(subject: string): void;
  /**
   * A request was answered (or, sent without a reply subject, handled): `outcome` is `ok` or the
   * code of the error reply (`PAYLOAD.MALFORMED`, `RPC.VALIDATION_FAILED`, a domain code, …),
   * `seconds` runs from its receipt to the reply sent.
   */
  answered(subject: string, outcome: string, seconds: number): void;
}

/**
 * Injection token of the service's {@link RpcObserver} (provided by `startService`), for code that
 * serves routes with {@link serveRpc} itself rather than through `@MessagePattern`.
 */
export const RPC_OBSERVER = 'bifrost:RPC_OBSERVER';

/** The routes {@link serveRpc} serves. */
export interface RpcServer {
  /** Stops taking requests, then resolves once every request already taken has been answered. */
  drain(): Promise<void>;
}

/**
 * Serves request-reply routes in a queue group. Every request gets exactly one reply: malformed
 * JSON (including JSON nested deeper than {@link MAX_JSON_DEPTH} levels), oversize payloads and
 * schema violations are error replies with stable codes, never silence.
 * Resolves once the server has registered the subscriptions, so a request sent from another
 * connection after that is answered, not refused with no responders.
 */
export async function serveRpc(
  nc: NatsConnection,
  naming: Naming,
  queue: string,
  routes: readonly RpcRoute[],
  options: {
    maxRequestBytes?: number;
    /**
     * Told of a failure of the service rather than of the request, for the log: a handler that threw
     * an unexpected error or met an infrastructure failure ({@link isServiceFailure}), a reply that
     * could not be made or sent. The caller's reply carries only what is safe to show.
     */
    onError?: (error: unknown, subject: string) => void;
    /** Told of every request answered, with its outcome and duration. */
    observer?: RpcObserver;
  } = {},
): Promise<RpcServer> {
  const maxBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  // What the server takes in one message: a larger reply would be dropped, the caller left to time out.
  const maxReplyBytes = nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const { observer, onError } = options;
  const inFlight = new Set<Promise<void>>();
  const subscriptions: Subscription[] = routes.map((route) => {
    const validate = route.request ? compile(route.request) : undefined;
    observer?.serving?.(route.subject);
    return nc.subscribe(naming.qualify(route.subject), {
      queue,
      callback: (err, msg) => {
        if (err) {
          onError?.(err, route.subject);
          return;
        }
        const receivedAt = performance.now();
        const answered = answer(msg, route, validate, { maxBytes, maxReplyBytes }, (error) =>
          onError?.(error, route.subject),
        )
          .then((outcome) =>
            observer?.answered(route.subject, outcome, (performance.now() - receivedAt) / 1000),
          )
          .catch((error: unknown) => onError?.(error, route.subject));
        inFlight.add(answered);
        void answered.finally(() => inFlight.delete(answered));
      },
    });
  });
  await nc.flush();
  return {
    async drain() {
      await Promise.all(subscriptions.map((s) => s.drain().catch(() => undefined)));
      // Drained subscriptions take nothing more: what is in flight now is all there is.
      await Promise.all(inFlight);
    },
  };
}

async function answer(
  msg: Msg,
  route: RpcRoute,
  validate:
    | ((
        value: unknown,
      ) => { ok: true; value: unknown } | { ok: false; issues: { path: string; message: string }[] })
    | undefined,
  { maxBytes, maxReplyBytes }: { maxBytes: number; maxReplyBytes: number },
  onError: (error: unknown) => void,
): Promise<string> {
  let reply = await inSpan(
    `rpc ${route.subject}`,
    'server',
    { 'rpc.system': 'nats', 'rpc.method': route.subject },
    async (span): Promise<Reply<unknown>> => {
      try {
        if (msg.data.length > maxBytes) {
          throw new ValidationError(
            `request of ${msg.data.length} bytes exceeds the ${maxBytes}-byte limit`,
            {
              code: 'RPC.PAYLOAD_TOO_LARGE',
            },
          );
        }
        const body = msg.data.length === 0 ? {} : decodeJson(msg.data);
        // Before anything recursive (the schema, the handler's hashing) walks a body thousands deep.
        assertJsonDepth(body, MAX_JSON_DEPTH);
        // Nothing a request brings may keep what it causes out of the audit log.
        assertStorableText(body, msg.data);
        let data = body;
        if (validate) {
          const result = validate(body);
          if (!result.ok) {
            throw new ValidationError(`request does not match the schema: ${formatIssues(result.issues)}`, {
              code: 'RPC.VALIDATION_FAILED',
              details: result.issues,
            });
          }
          data = result.value;
        }
        const headers: Record<string, string> = {};
        for (const key of msg.headers?.keys() ?? []) headers[key] = msg.headers?.get(key) ?? '';
        return { ok: true, data: (await route.handler(data, { subject: route.subject, headers })) ?? null };
      } catch (error) {
        if (isServiceFailure(error)) onError(error);
        const failed = { ok: false as const, error: toErrorBody(error) };
        markReplyFailed(span, failed);
        return failed;
      }
    },
    extractTraceContext(msg.headers),
  );
  let bytes: Uint8Array;
  try {
    bytes = encodeJson(reply);
  } catch (error) {
    // A result JSON cannot carry (a BigInt, a cycle) still gets its one reply, not a timeout.
    onError(error);
    reply = { ok: false, error: toErrorBody(error) };
    bytes = encodeJson(reply);
  }
  if (bytes.length > maxReplyBytes) {
    // Nor does a result larger than the server carries.
    const error = new InternalError(
      `the reply of ${bytes.length} bytes exceeds the server's max payload of ${maxReplyBytes} bytes`,
      { code: 'INTERNAL.REPLY_TOO_LARGE' },
    );
    onError(error);
    reply = { ok: false, error: toErrorBody(error) };
    bytes = encodeJson(reply);
  }
  if (msg.reply) msg.respond(bytes);
  return reply.ok ? 'ok' : reply.error.code;
}

/**
 * An error that is the service's, not the caller's: a bug (anything not a Bifrost error, or an
 * `InternalError`) or the infrastructure failing. A refusal or an invalid request is the caller's,
 * and its reply says all there is.
 */
function isServiceFailure(error: unknown): boolean {
  return !isBifrostError(error) || error instanceof InternalError || isInfraFailure(error);
}

/** `{ok: true, data}` or `{ok: false, error: {code, message}}`, as every route answers. */
function isReply(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const reply = value as { ok?: unknown; data?: unknown; error?: { code?: unknown; message?: unknown } };
  if (reply.ok === true) return 'data' in reply;
  return (
    reply.ok === false &&
    typeof reply.error === 'object' &&
    reply.error !== null &&
    typeof reply.error.code === 'string' &&
    typeof reply.error.message === 'string'
  );
}

/** A failed request-reply: the remote error body, kept whole. */
export class RpcError extends Error implements Pick<BifrostError, 'code'> {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** Client side of `bifrost.rpc.*`: JSON in, `{ok,data}` / `{ok:false,error}` out, trace context across. */
export class RpcClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly naming: Naming,
  ) {}

  /**
   * Returns the reply as sent; transport failures (no responders, timeout, this connection closed
   * or draining: `INFRA.CONNECTION_CLOSED`, never sent) become error replies, and so does a request
   * JSON cannot carry (`PAYLOAD.MALFORMED`, never sent).
   */
  async request<T = unknown>(
    subject: string,
    data: unknown,
    options: { timeoutMs?: number; headers?: Record<string, string> } = {},
  ): Promise<Reply<T>> {
    return inSpan(
      `rpc ${subject}`,
      'client',
      { 'rpc.system': 'nats', 'rpc.method': subject },
      async (span) => {
        const reply = await this.send<T>(subject, data, options);
        markReplyFailed(span, reply);
        return reply;
      },
    );
  }

  private async send<T>(
    subject: string,
    data: unknown,
    options: { timeoutMs?: number; headers?: Record<string, string> },
  ): Promise<Reply<T>> {
    const headers = injectTraceContext(natsHeaders());
    headers.set('content-type', 'application/json');
    for (const [key, value] of Object.entries(options.headers ?? {})) headers.set(key, value);
    let payload: Uint8Array;
    try {
      payload = encodeJson(data);
    } catch (error) {
      // Never sent, so no timeout (which says: ask again): JSON cannot carry it (a BigInt, a
      // cycle, nesting too deep for JSON.stringify), and asking again will not change that.
      return {
        ok: false,
        error: toErrorBody(
          new ValidationError(`request cannot be sent as JSON: ${(error as Error).message}`, {
            code: 'PAYLOAD.MALFORMED',
          }),
        ),
      };
    }
    let msg: Msg;
    try {
      msg = await this.nc.request(this.naming.qualify(subject), payload, {
        timeout: options.timeoutMs ?? 5000,
        headers,
      });
    } catch (error) {
      const { message } = error as Error;
      // Refused by the client before sending: larger than the server takes, whenever it is asked.
      if (/max_payload/i.test(message)) {
        return {
          ok: false,
          error: toErrorBody(
            new ValidationError(`request to ${subject} of ${payload.length} bytes: ${message}`, {
              code: 'RPC.PAYLOAD_TOO_LARGE',
            }),
          ),
        };
      }
      // Refused by the client before sending: this connection is closed or closing, so nobody was
      // asked (not a timeout, which may have been decided), but no request on it will be either.
      if (error instanceof ClosedConnectionError || error instanceof DrainingConnectionError) {
        return {
          ok: false,
          error: toErrorBody(
            new TransientError(`${subject} was not asked: ${message}`, {
              code: 'INFRA.CONNECTION_CLOSED',
            }),
          ),
        };
      }
      return {
        ok: false,
        error: toErrorBody(
          new TransientError(`no answer from ${subject}: ${message}`, {
            code: /no responders/i.test(message) ? 'RPC.NO_RESPONDERS' : 'RPC.TIMEOUT',
          }),
        ),
      };
    }
    // An answer came, so it is no timeout; one that is not a reply is a fault of the answering
    // service, which may have decided (so not to be asked again as if nothing had happened).
    let reply: unknown;
    try {
      reply = decodeJson(msg.data);
    } catch {
      reply = undefined;
    }
    if (isReply(reply)) return reply as Reply<T>;
    return {
      ok: false,
      error: { code: 'INTERNAL.MALFORMED_REPLY', message: `the answer from ${subject} is not a reply` },
    };
  }

  /** Like `request`, but returns the data or throws `RpcError`. */
  async call<T = unknown>(
    subject: string,
    data: unknown,
    options?: { timeoutMs?: number; headers?: Record<string, string> },
  ): Promise<T> {
    const reply = await this.request<T>(subject, data, options);
    if (!reply.ok) throw new RpcError(reply.error.code, reply.error.message, reply.error.details);
    return reply.data;
  }
}
