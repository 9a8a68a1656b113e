import { setTimeout as sleep } from 'node:timers/promises';
import { boundedRetryAfter, parseRetryAfter, undecidedRetryDelay } from './backoff.policy';
import { ConnectionLoop } from './connection.loop';
import type { Fact } from './fact.envelope';
import { SDK_ERROR_CODES } from './sdk.errors';
import { traceHeaders } from './trace.headers';
import type { ConnectionState, SdkLogger } from './sdk.types';
import {
  undecided,
  type DeliveryResult,
  type Operation,
  type Transport,
  type TransportReply,
} from './transport.types';

export interface HttpTransportOptions {
  /** Gateway origin, e.g. `https://bifrost.example.com` (see `gatewayOrigin`). */
  readonly gatewayUrl: string;
  readonly apiKey: string;
  readonly logger: SdkLogger;
  /** Probes after a failed one before giving up (`Infinity`: never). */
  readonly maxReconnectAttempts: number;
}

/** The engine endpoints (docs/sdk.md, "HTTP contract"). */
export const ENGINE_API_PATH = '/api/v1/engine';
/** Served by every Bifrost service (DESIGN §7); any HTTP answer proves the gateway reachable. */
export const PROBE_PATH = '/health/live';
const PROBE_TIMEOUT_MS = 5_000;
/** Sent with every fact (its envelope id); the gateway uses it as the envelope id it publishes. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const OCCURRED_AT_HEADER = 'occurred-at';

type Exchange =
  | { kind: 'response'; status: number; retryAfter: string | null; body: unknown }
  | { kind: 'timeout' }
  | { kind: 'network'; message: string }
  | { kind: 'closed' };

/** RFC 9457 problem document, with Bifrost's `code` extension member. */
interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly detail?: string;
  readonly code?: string;
  readonly sequence?: unknown;
}

/**
 * The engine HTTP contract over global fetch. HTTP has no connection to keep, so "connected" means
 * "the gateway answered lately": a network failure starts probing `/health/live` with backoff, and
 * any answer ends it.
 */
export class HttpTransport implements Transport {
  readonly kind = 'http';
  private readonly base: string;
  private readonly loop: ConnectionLoop;
  private onState: (state: ConnectionState) => void = () => undefined;
  /** Aborted by close(): nothing is sent, or waited for, once the client is closed. */
  private readonly cancel = new AbortController();

  constructor(private readonly options: HttpTransportOptions) {
    this.base = new URL(options.gatewayUrl).origin;
    this.loop = new ConnectionLoop(
      () => this.probe(),
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

  /**
   * Retries 429/503 only when their Retry-After ends before the deadline: a decision never waits
   * longer than the engine allowed.
   */
  async request(operation: Operation, json: string, deadlineAt: number): Promise<TransportReply> {
    const path = `${ENGINE_API_PATH}/${operation}`;
    const trace = traceHeaders();
    for (let attempt = 1; ; attempt += 1) {
      const remaining = deadlineAt - Date.now();
      if (remaining <= 0) {
        return {
          ok: false,
          code: SDK_ERROR_CODES.deadlineExceeded,
          message: `no answer from ${path} in time`,
        };
      }
      const exchange = await this.post(path, json, remaining, trace);
      if (exchange.kind === 'closed') return closedReply(path);
      if (exchange.kind === 'timeout') {
        return {
          ok: false,
          code: SDK_ERROR_CODES.deadlineExceeded,
          message: `no answer from ${path} in time`,
        };
      }
      if (exchange.kind === 'network') {
        return { ok: false, code: SDK_ERROR_CODES.disconnected, message: `${path}: ${exchange.message}` };
      }
      if (exchange.status === 200) return { ok: true, data: exchange.body };
      const problem = problemOf(exchange.status, exchange.body);
      // A 429 was refused before anyone decided; a 503 (a check's 409) is asked again only when its
      // code says nobody decided it (a timeout may have been decided, whatever its Retry-After says).
      const nobodyDecided = undecided(operation, problem.code);
      if (
        exchange.status === 429 ||
        ((exchange.status === 503 || exchange.status === 409) && nobodyDecided)
      ) {
        const asked = parseRetryAfter(exchange.retryAfter, Date.now());
        const waitMs =
          asked !== undefined
            ? boundedRetryAfter(asked)
            : nobodyDecided
              ? undecidedRetryDelay(attempt)
              : undefined;
        if (waitMs !== undefined && Date.now() + waitMs < deadlineAt) {
          const slept = await sleep(waitMs, true, { signal: this.cancel.signal }).catch(() => false);
          if (!slept) return closedReply(path);
          continue;
        }
      }
      return { ok: false, ...problem };
    }
  }

  async deliver(fact: Fact, timeoutMs: number): Promise<DeliveryResult> {
    // The gateway wraps the data in its own envelope (source api-gateway, actor the engine) whose id
    // is the fact's: a re-send after a lost 202 is then deduplicated by Nats-Msg-Id.
    const exchange = await this.post(
      `${ENGINE_API_PATH}/${fact.kind}`,
      JSON.stringify(fact.envelope.data),
      timeoutMs,
      {
        ...fact.traceHeaders,
        [IDEMPOTENCY_KEY_HEADER]: fact.envelope.id,
        // When it was recorded, not when it was sent (a fact buffered through an outage is sent late).
        [OCCURRED_AT_HEADER]: fact.envelope.occurredAt,
      },
    );
    if (exchange.kind === 'closed') {
      return { ok: false, retry: true, code: SDK_ERROR_CODES.closed, message: 'the client is closed' };
    }
    if (exchange.kind !== 'response') {
      const message = exchange.kind === 'timeout' ? 'no answer in time' : exchange.message;
      return { ok: false, retry: true, code: SDK_ERROR_CODES.disconnected, message };
    }
    const { status } = exchange;
    if (status === 202) {
      const sequence = (exchange.body as Problem | null)?.sequence;
      return typeof sequence === 'number' ? { ok: true, sequence } : { ok: true };
    }
    if (status >= 200 && status < 300) {
      // The gateway takes a fact with 202 (after JetStream's ack); another success came from
      // something else answering every path (a wrong gatewayUrl): the fact was taken by nobody.
      this.options.logger.error?.(
        'bifrost: a success that is not the gateway’s 202; facts are kept and retried',
        {
          status,
        },
      );
      return {
        ok: false,
        retry: true,
        code: SDK_ERROR_CODES.disconnected,
        message: `answered ${status}, not 202`,
      };
    }
    const problem = problemOf(status, exchange.body);
    if (status === 401 || status === 403) {
      // The key is refused, not the fact: keep it (and everything behind it) until the key works again.
      this.options.logger.error?.('bifrost: the gateway refuses this API key; facts are kept and retried', {
        status,
        ...problem,
      });
      return { ok: false, retry: true, ...problem };
    }
    if (status === 408 || status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(exchange.retryAfter, Date.now());
      return { ok: false, retry: true, ...problem, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    if (typeof (exchange.body as Problem | null)?.code !== 'string') {
      // Every refusal of the gateway names its code: this answer came from something else on the way
      // (a wrong gatewayUrl, a proxy), which says nothing about the fact. Kept, as for a refused key.
      this.options.logger.error?.(
        'bifrost: an answer without a Bifrost problem code; facts are kept and retried',
        {
          status,
          ...problem,
        },
      );
      return { ok: false, retry: true, ...problem };
    }
    return { ok: false, retry: false, ...problem };
  }

  async close(): Promise<void> {
    this.cancel.abort();
    this.loop.stop();
  }

  private async probe(): Promise<boolean> {
    try {
      await fetch(`${this.base}${PROBE_PATH}`, {
        signal: AbortSignal.any([AbortSignal.timeout(PROBE_TIMEOUT_MS), this.cancel.signal]),
        redirect: 'manual',
      });
      return true;
    } catch (error) {
      this.options.logger.debug?.('bifrost: gateway unreachable', { error: (error as Error).message });
      return false;
    }
  }

  private async post(
    path: string,
    json: string,
    timeoutMs: number,
    extraHeaders: Readonly<Record<string, string>> = {},
  ): Promise<Exchange> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, application/problem+json',
          'x-api-key': this.options.apiKey,
          ...extraHeaders,
        },
        body: json,
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.cancel.signal]),
        // A redirect is not the gateway's answer: following it would send the check and the API
        // key to another origin and take its answer as the verdict. A 3xx fails closed (HTTP.3xx).
        redirect: 'manual',
      });
    } catch (error) {
      const e = error as Error;
      // Cut by close(): the gateway is not lost, and no answer is to be waited for.
      if (this.cancel.signal.aborted) return { kind: 'closed' };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') return { kind: 'timeout' };
      this.loop.lost();
      return { kind: 'network', message: causeMessage(e) };
    }
    this.loop.found();
    const text = await response.text().catch(() => undefined);
    if (text === undefined && this.cancel.signal.aborted) return { kind: 'closed' };
    let parsed: unknown = undefined;
    try {
      parsed = text === undefined || text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return {
      kind: 'response',
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: parsed,
    };
  }
}

/**
 * The origin of a gateway URL (`scheme://host[:port]`, http or https, nothing after it but an
 * optional `/`), undefined for anything else: the SDK appends `/api/v1/engine/…` itself, so a URL
 * with a path would reach no route.
 */
export function gatewayOrigin(gatewayUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(gatewayUrl);
  } catch {
    return undefined;
  }
  const bare =
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === '' &&
    url.username === '' &&
    url.password === '';
  return (url.protocol === 'http:' || url.protocol === 'https:') && bare ? url.origin : undefined;
}

/** A problem+json answer as `{ code, message }`: the `code` member when present, else from the status. */
export function problemOf(status: number, body: unknown): { code: string; message: string } {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Problem;
  const message = problem.detail ?? problem.title ?? `HTTP ${status}`;
  if (typeof problem.code === 'string' && problem.code !== '') return { code: problem.code, message };
  if (status === 503) return { code: SDK_ERROR_CODES.serviceUnavailable, message };
  if (status === 429) return { code: SDK_ERROR_CODES.rateLimited, message };
  return { code: `HTTP.${status}`, message };
}

/** A request cut by close(): it fails closed as any call made after it does. */
function closedReply(path: string): TransportReply {
  return { ok: false, code: SDK_ERROR_CODES.closed, message: `${path}: the client is closed` };
}

function causeMessage(error: Error): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}
