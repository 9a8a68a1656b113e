import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { actionHash } from '@bifrost/audit';
import {
  catalogue as defaultCatalogue,
  compile,
  createNaming,
  EntityId,
  formatIssues,
  nothingDecided,
  type Catalogue,
  type IngestKind,
  type Naming,
} from '@bifrost/contracts';
import { backoffDelay, boundedRetryAfter } from './backoff.policy';
import { buildFact, factDefinition, type Fact } from './fact.envelope';
import { heartbeatFields, isCount } from './heartbeat.payload';
import { toCheckVerdict, toEvaluationResult, toReserveResult } from './fail-closed.mapping';
import { gatewayOrigin, HttpTransport } from './http.transport';
import { NatsTransport, parseNatsUrl, type NatsServer } from './nats.transport';
import { CONTRACTS, otherRequest, type Answer, type Failure, type ReplyOf } from './operation.contracts';
import { SDK_ERROR_CODES, SdkError } from './sdk.errors';
import type {
  ApprovalInput,
  ApprovalReply,
  AwaitApprovalOptions,
  CheckRequest,
  CheckVerdict,
  ClientEvents,
  ClientOptions,
  CommandInput,
  ConnectionState,
  DecisionOptions,
  EvaluateInput,
  EvaluationResult,
  HeartbeatInput,
  IncidentInput,
  KpiInput,
  OutcomeInput,
  RecordedFact,
  ReconcileInput,
  ReleaseInput,
  ReservationReply,
  ReserveInput,
  ReserveResult,
  SandboxTrialInput,
  SdkLogger,
  SettleInput,
} from './sdk.types';
import type { Operation, Transport } from './transport.types';
import { TelemetryBuffer } from './telemetry.buffer';
import { traceHeaders } from './trace.headers';

export const DEFAULT_DEADLINE_MS = 2_000;
/** The longest deadline a timer can hold (2³¹−1 ms); a per-call deadline beyond it, or not positive, uses the client's. */
export const MAX_DEADLINE_MS = 2_147_483_647;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
export const DEFAULT_BUFFER_MAX_ITEMS = 10_000;
export const DEFAULT_APPROVAL_POLL_MS = 1_000;
/** `awaitApproval` asks at most this often: a tighter loop would only load the gate. */
export const MIN_APPROVAL_POLL_MS = 100;

/** Failures after which asking again may get an answer: nothing was refused, nobody answered. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  SDK_ERROR_CODES.deadlineExceeded,
  SDK_ERROR_CODES.disconnected,
  SDK_ERROR_CODES.serviceUnavailable,
  SDK_ERROR_CODES.rateLimited,
  // The gateway's own 429 (passed on as it is), the same situation as SDK.RATE_LIMITED.
  'RATE.LIMITED',
]);

const validateEngineId = compile(EntityId);

type Listener<E extends keyof ClientEvents> = ClientEvents[E];

/** Creates a client and starts connecting in the background; over NATS, calls made before it connects fail closed. */
export function createClient(options: ClientOptions): BifrostClient {
  return new BifrostClient(options);
}

/**
 * An engine's line to Bifrost: decisions that fail closed, telemetry that survives outages.
 * See docs/sdk.md.
 */
export class BifrostClient {
  readonly engineId: string;
  private readonly deadlineMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly maxReconnectAttempts: number;
  private readonly activeSessions: (() => number) | undefined;
  private readonly startedAtMs = Date.now();
  /** Of the last gate verdict received: heartbeats report it, so an engine on an old policy shows. */
  private policyRevision: string | undefined;
  private readonly catalogue: Catalogue;
  private readonly naming: Naming;
  private readonly logger: SdkLogger;
  private readonly transport: Transport;
  private readonly buffer: TelemetryBuffer<Fact>;
  private readonly listeners: { [E in keyof ClientEvents]: Set<Listener<E>> } = {
    state: new Set(),
    flushed: new Set(),
    dropped: new Set(),
  };
  private inFlight: Fact | undefined;
  /**
   * The newest heartbeat not yet sent. Heartbeats skip the queue: after an outage the buffered
   * backlog may take minutes to send, and presence must not wait behind it (the canary would judge
   * the engine silent). A newer heartbeat replaces an unsent one.
   */
  private heartbeatDue: Fact | undefined;
  private rejected = 0;
  private pumping = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** From close() on: the sign-off must stay the last heartbeat. */
  private shuttingDown = false;
  private closing: Promise<{ undelivered: number }> | undefined;

  constructor(options: ClientOptions) {
    const problems = configProblems(options);
    if (problems.length > 0) {
      throw new SdkError(
        SDK_ERROR_CODES.invalidConfig,
        `invalid Bifrost client options: ${problems.join('; ')}`,
      );
    }
    this.engineId = options.engineId;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.maxReconnectAttempts = options.maxReconnectAttempts ?? Number.POSITIVE_INFINITY;
    this.activeSessions = options.activeSessions;
    this.catalogue = options.catalogue ?? defaultCatalogue;
    this.naming = createNaming(options.namespace ?? '');
    this.logger = guarded(options.logger ?? {});
    this.buffer = new TelemetryBuffer<Fact>(options.buffer?.maxItems ?? DEFAULT_BUFFER_MAX_ITEMS);
    this.transport = options.natsUrl
      ? new NatsTransport({
          servers: parseNatsUrl(options.natsUrl) as NatsServer[],
          namespace: options.namespace ?? '',
          engineId: options.engineId,
          logger: this.logger,
          pingIntervalMs: Math.max(1_000, Math.min(this.heartbeatIntervalMs || 10_000, 30_000)),
          maxReconnectAttempts: this.maxReconnectAttempts,
        })
      : new HttpTransport({
          gatewayUrl: options.gatewayUrl as string,
          apiKey: options.apiKey as string,
          logger: this.logger,
          maxReconnectAttempts: this.maxReconnectAttempts,
        });
    this.transport.start((state) => this.onTransportState(state));
    if (this.heartbeatIntervalMs > 0) {
      this.heartbeatTimer = setInterval(() => this.timedHeartbeat(), this.heartbeatIntervalMs);
    }
  }

  get state(): ConnectionState {
    return this.closed ? 'closed' : this.transport.state;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Facts not yet acknowledged by Bifrost (buffered plus the one being sent). */
  get bufferDepth(): number {
    return this.buffer.depth + (this.inFlight ? 1 : 0) + (this.heartbeatDue ? 1 : 0);
  }

  /** Facts lost for good: evicted from the full buffer, or refused by the gateway. */
  get droppedCount(): number {
    return this.buffer.droppedCount + this.rejected;
  }

  get transportKind(): 'nats' | 'http' {
    return this.transport.kind;
  }

  /** Subscribes to `state`, `flushed` or `dropped`; returns the unsubscribe function. */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    const set = this.listeners[event] as Set<ClientEvents[E]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Resolves true once connected, false if `timeoutMs` passes (or the client closes or gives up)
   * first. `Infinity` waits until then; a finite timeout is capped at 2³¹−1 ms.
   */
  whenConnected(timeoutMs = this.deadlineMs): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    if (this.state === 'closed' || this.state === 'failed') return Promise.resolve(false);
    return new Promise((resolve) => {
      // Node runs a delay above 2³¹−1 ms after 1 ms: Infinity waits with no timer, a huge wait is clamped.
      const timer =
        timeoutMs === Number.POSITIVE_INFINITY
          ? undefined
          : setTimeout(() => finish(false), Math.min(timeoutMs, MAX_DEADLINE_MS));
      const off = this.on('state', (state) => {
        if (state === 'connected') finish(true);
        if (state === 'closed' || state === 'failed') finish(false);
      });
      const finish = (value: boolean) => {
        clearTimeout(timer);
        off();
        resolve(value);
      };
    });
  }

  /**
   * Asks the gate before acting. Never rejects: when Bifrost cannot answer within the deadline,
   * is out of reach, or replies with an error or something that is not a verdict, the verdict is a
   * fail-closed BLOCK.
   */
  async check(request: CheckRequest, options?: DecisionOptions): Promise<CheckVerdict> {
    const deadlineAt = this.deadlineAt(options);
    const encoded = this.encode('check', request);
    const hash = encoded.ok ? sentActionHash(encoded.json) : undefined;
    const requestId = fieldOf(request, 'requestId');
    const subject = {
      engineId: this.engineId,
      strategyId: textOf(fieldOf(request, 'strategyId')),
      ...(typeof requestId === 'string' ? { requestId } : {}),
      ...(hash === undefined ? {} : { actionHash: hash }),
    };
    const answer = encoded.ok ? await this.send('check', encoded, deadlineAt) : encoded;
    const verdict = toCheckVerdict(subject, answer, Date.now());
    if (verdict.failClosed)
      this.logger.warn?.('bifrost: check failed closed', { code: verdict.code, reason: verdict.reason });
    else this.policyRevision = verdict.policyRevision;
    return verdict;
  }

  /**
   * Reserves max loss and exposure before acting. Never rejects: without an answer it is a denial
   * with reason UNAVAILABLE. Retrying with the same idempotency key returns the original decision.
   */
  async reserve(input: ReserveInput, options?: DecisionOptions): Promise<ReserveResult> {
    const deadlineAt = this.deadlineAt(options);
    const subject = {
      engineId: this.engineId,
      idempotencyKey: textOf(fieldOf(input, 'idempotencyKey')),
    };
    return toReserveResult(subject, await this.ask('reserve', input, deadlineAt), Date.now());
  }

  /**
   * Asks Heimdall whether an AI recommendation may reach production. Never rejects: when Heimdall
   * cannot answer within the deadline, is out of reach, or replies with an error or something that
   * is not an evaluation, the result is a fail-closed NOT_ELIGIBLE. INCONCLUSIVE means a human must
   * approve it first.
   */
  async evaluateRecommendation(input: EvaluateInput, options?: DecisionOptions): Promise<EvaluationResult> {
    const deadlineAt = this.deadlineAt(options);
    const recommendationId = fieldOf(input, 'recommendationId');
    const subject = {
      engineId: this.engineId,
      domain: textOf(fieldOf(input, 'domain')),
      ...(typeof recommendationId === 'string' ? { recommendationId } : {}),
    };
    const result = toEvaluationResult(subject, await this.ask('evaluate', input, deadlineAt), Date.now());
    if (result.failClosed) {
      this.logger.warn?.('bifrost: evaluation failed closed', { code: result.code, reason: result.reason });
    }
    return result;
  }

  /**
   * After a REQUIRE_APPROVAL verdict: where its approval request stands and, once `granted`, the
   * single-use `token` to present as `tokenId` with exactly the same action. Rejects with `SdkError`
   * on failure (`GATE.APPROVAL_UNKNOWN`: the strategy has no such request).
   */
  approval(input: ApprovalInput, options?: DecisionOptions): Promise<ApprovalReply> {
    return this.command('approval', input, this.deadlineAt(options));
  }

  /**
   * Asks `approval()` every `pollMs` until the request is no longer `pending`, `timeoutMs` has
   * passed or `signal` aborts, and returns the last answer (`pending` when it stopped waiting). The
   * last ask is made once `timeoutMs` has passed, so a decision taken just before is seen. An ask
   * that reached nobody is repeated; one that still fails at the end, or a refusal, rejects with its
   * `SdkError`; so do options out of range (`SDK.INVALID_REQUEST`).
   */
  async awaitApproval(input: ApprovalInput, options: AwaitApprovalOptions): Promise<ApprovalReply> {
    const problems = awaitApprovalProblems(options);
    if (problems.length > 0) {
      throw new SdkError(
        SDK_ERROR_CODES.invalidRequest,
        `invalid awaitApproval options: ${problems.join('; ')}`,
      );
    }
    const { signal } = options;
    const pollMs = options.pollMs ?? DEFAULT_APPROVAL_POLL_MS;
    const until = Date.now() + options.timeoutMs;
    for (;;) {
      const last = Date.now() >= until;
      try {
        const answer = await this.approval(input);
        if (answer.status !== 'pending' || last || signal?.aborted) return answer;
      } catch (error) {
        const code = error instanceof SdkError ? error.code : '';
        if (last || signal?.aborted || !(TRANSIENT_CODES.has(code) || nothingDecided(code))) throw error;
      }
      await pause(Math.min(pollMs, until - Date.now()), signal);
    }
  }

  /** Books the realized loss of a reservation. Rejects with `SdkError` (remote code kept) on failure. */
  settle(input: SettleInput): Promise<ReservationReply> {
    return this.command('settle', input, this.deadlineAt());
  }

  /** Cancels a granted reservation that was not used. Rejects with `SdkError` on failure. */
  release(input: ReleaseInput): Promise<ReservationReply> {
    return this.command('release', input, this.deadlineAt());
  }

  /** Closes an UNRESOLVED reservation with its realized loss. Rejects with `SdkError` on failure. */
  reconcile(input: ReconcileInput): Promise<ReservationReply> {
    return this.command('reconcile', input, this.deadlineAt());
  }

  /** Reports the result of an action (feeds maturity, health, drift). Buffered; see `flushed`. */
  recordOutcome(outcome: OutcomeInput): RecordedFact {
    return this.record('outcome', outcome);
  }

  recordKpi(kpi: KpiInput): RecordedFact {
    return this.record('kpi', kpi);
  }

  recordCommand(command: CommandInput): RecordedFact {
    return this.record('command', command);
  }

  recordIncident(incident: IncidentInput): RecordedFact {
    return this.record('incident', incident);
  }

  recordSandboxTrial(trial: SandboxTrialInput): RecordedFact {
    return this.record('sandbox', trial);
  }

  /**
   * Sends a heartbeat now; the client also sends one per interval while connected and on every
   * (re)connect. The SDK fills in `sdk`, `uptimeS`, `intervalMs` (when not the default),
   * `policyRevision` and `activeSessions` (when known); `fields` go on top.
   */
  heartbeat(fields: HeartbeatInput = {}): RecordedFact {
    const known = heartbeatFields({
      startedAtMs: this.startedAtMs,
      nowMs: Date.now(),
      intervalMs: this.heartbeatIntervalMs,
      defaultIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
      policyRevision: this.policyRevision,
      activeSessions: this.countActiveSessions(),
    });
    return this.record('heartbeat', { ...known, ...fields });
  }

  /**
   * Stops timers, signs the engine off (a last heartbeat saying it stops on purpose, so the canary's
   * dead-man switch does not pause it for the silence that follows), gives buffered facts up to
   * `deadlineMs` to reach Bifrost, then disconnects. Returns how many facts were left undelivered.
   * Calling it again returns the same promise.
   */
  close(): Promise<{ undelivered: number }> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<{ undelivered: number }> {
    this.shuttingDown = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    // No waiting out a retry's backoff now: the sign-off and the buffer get their deadline at once,
    // also without a sign-off (heartbeats off) to start the pump.
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.timedHeartbeat({ signingOff: true });
    void this.pump();
    if (this.connected && this.bufferDepth > 0) await this.drained(this.deadlineMs);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    // Listeners (and whenConnected) hear of it here: later transport states are not reported.
    this.emit('state', 'closed');
    await this.transport.close();
    const undelivered = this.bufferDepth;
    if (undelivered > 0) this.logger.warn?.('bifrost: closed with undelivered facts', { undelivered });
    return { undelivered };
  }

  /**
   * When a call must have its answer: now plus the per-call deadline when it is a positive number a
   * timer can hold (a fraction rounded up), plus the client's otherwise. Taken as the call starts,
   * so everything until the answer is read counts.
   */
  private deadlineAt(options?: DecisionOptions): number {
    const asked = options?.deadlineMs;
    const usable = typeof asked === 'number' && asked > 0 && asked <= MAX_DEADLINE_MS;
    return Date.now() + (usable ? Math.ceil(asked) : this.deadlineMs);
  }

  /**
   * One request to Bifrost, whatever the transport: the request is checked against its contract
   * before it is sent, the reply after it arrives, and an answer read after `deadlineAt` is none
   * (`SDK.DEADLINE_EXCEEDED`): the engine has had to act, or not, by then. Never rejects.
   */
  private async ask<O extends Operation>(
    operation: O,
    input: unknown,
    deadlineAt: number,
  ): Promise<Answer<ReplyOf<O>>> {
    const encoded = this.encode(operation, input);
    return encoded.ok ? this.send(operation, encoded, deadlineAt) : encoded;
  }

  /** The request of `ask`, checked against its contract and encoded once: the bytes sent. */
  private encode(operation: Operation, input: unknown): Encoded | Failure {
    if (this.closed) return failure(SDK_ERROR_CODES.closed, 'the client is closed');
    if (this.transport.state === 'failed') {
      return failure(
        SDK_ERROR_CODES.connectionFailed,
        `gave up connecting after ${this.maxReconnectAttempts} retries (maxReconnectAttempts)`,
      );
    }
    const contract = CONTRACTS[operation];
    let body: Record<string, unknown>;
    let request: ReturnType<typeof contract.request>;
    try {
      body = { ...(input as object), engineId: this.engineId };
      request = contract.request(body);
    } catch (error) {
      // A getter of the caller's that throws: the request cannot be read, let alone sent.
      return failure(
        SDK_ERROR_CODES.invalidRequest,
        `invalid ${operation} request: it cannot be read (${error instanceof Error ? error.message : 'a thrown value'})`,
      );
    }
    if (!request.ok) {
      return failure(
        SDK_ERROR_CODES.invalidRequest,
        `invalid ${operation} request: ${formatIssues(request.issues)}`,
      );
    }
    let json: string;
    try {
      json = JSON.stringify(body);
    } catch (error) {
      // A BigInt or a cycle in free-form fields (e.g. `action.params`): the request, not the link.
      return failure(
        SDK_ERROR_CODES.invalidRequest,
        `invalid ${operation} request: not JSON (${(error as Error).message})`,
      );
    }
    return { ok: true, body, json };
  }

  private async send<O extends Operation>(
    operation: O,
    { body, json }: Encoded,
    deadlineAt: number,
  ): Promise<Answer<ReplyOf<O>>> {
    const contract = CONTRACTS[operation];
    const reply = await this.transport.request(operation, json, deadlineAt);
    if (!reply.ok) return reply;
    if (Date.now() > deadlineAt) {
      return failure(SDK_ERROR_CODES.deadlineExceeded, `the answer to ${operation} came after the deadline`);
    }
    const data = contract.reply(reply.data);
    if (!data.ok) {
      return failure(
        SDK_ERROR_CODES.malformedReply,
        `the ${operation} reply breaks its contract: ${formatIssues(data.issues)}`,
      );
    }
    const mismatch =
      'names' in contract ? otherRequest(operation, contract.names, body, data.value) : undefined;
    if (mismatch !== undefined) return failure(SDK_ERROR_CODES.malformedReply, mismatch);
    return { ok: true, data: data.value as ReplyOf<O> };
  }

  /** A call whose failure the engine must handle: rejects with the `SdkError` of its failure. */
  private async command<O extends Operation>(
    operation: O,
    input: unknown,
    deadlineAt: number,
  ): Promise<ReplyOf<O>> {
    const answer = await this.ask(operation, input, deadlineAt);
    if (!answer.ok) throw new SdkError(answer.code, answer.message);
    return answer.data;
  }

  private record(kind: IngestKind, fields: object): RecordedFact {
    if (this.closed) throw new SdkError(SDK_ERROR_CODES.closed, 'the client is closed');
    const fact = buildFact({
      catalogue: this.catalogue,
      naming: this.naming,
      engineId: this.engineId,
      kind,
      fields: fields as Record<string, unknown>,
      nowMs: Date.now(),
      // A buffered fact is sent later, from no particular context: the one it was recorded in goes with it.
      traceHeaders: traceHeaders(),
    });
    this.enqueue(fact);
    void this.pump();
    return describe(fact);
  }

  private enqueue(fact: Fact): void {
    if (fact.kind === 'heartbeat') {
      // The sign-off must be the last heartbeat the canary sees: nothing replaces it.
      if (!isSignOff(this.heartbeatDue)) this.heartbeatDue = fact;
      return;
    }
    const evicted = this.buffer.push(fact);
    if (evicted) this.emitDropped(evicted, 'overflow');
  }

  /** Puts back a fact whose delivery failed, ahead of everything buffered after it. */
  private requeue(fact: Fact): void {
    if (fact.kind === 'heartbeat') {
      // A heartbeat recorded meanwhile is newer and says the same, unless this one is the sign-off.
      if (this.heartbeatDue === undefined || isSignOff(fact)) this.heartbeatDue = fact;
      return;
    }
    const evicted = this.buffer.pushFront(fact);
    if (evicted) this.emitDropped(evicted, 'overflow');
  }

  /**
   * Delivers buffered facts oldest first, one at a time, so the stream keeps the engine's order; a
   * due heartbeat goes ahead of them.
   */
  private async pump(): Promise<void> {
    // While a failed fact waits out its backoff, a due heartbeat still goes: the canary's dead-man
    // switch allows 30 s of silence, the backoff can take a minute.
    if (this.pumping || this.closed || (this.retryTimer && !this.heartbeatDue)) return;
    this.pumping = true;
    try {
      while (this.transport.state === 'connected') {
        const backingOff = this.retryTimer !== undefined;
        const fact = this.heartbeatDue ?? (backingOff ? undefined : this.buffer.shift());
        if (!fact) break;
        if (fact === this.heartbeatDue) this.heartbeatDue = undefined;
        this.inFlight = fact;
        const result = await this.transport.deliver(fact, this.deadlineMs);
        this.inFlight = undefined;
        if (result.ok) {
          // A heartbeat that went during a fact's backoff says nothing of that fact: its backoff
          // keeps growing until it is delivered.
          if (!backingOff) this.failures = 0;
          this.emit('flushed', {
            ...describe(fact),
            ...(result.sequence !== undefined ? { sequence: result.sequence } : {}),
            bufferDepth: this.bufferDepth,
          });
          continue;
        }
        if (!result.retry) {
          this.rejected += 1;
          this.logger.error?.('bifrost: fact refused', {
            id: fact.envelope.id,
            kind: fact.kind,
            code: result.code,
            message: result.message,
          });
          this.emitDropped(fact, 'rejected');
          continue;
        }
        this.requeue(fact);
        // The heartbeat sent during a backoff failed too: the retry still scheduled sends it. If it
        // fired while the heartbeat was in flight, its pump found this one busy: schedule another.
        if (this.retryTimer) break;
        this.failures += 1;
        this.logger.debug?.('bifrost: delivery failed, will retry', {
          code: result.code,
          message: result.message,
        });
        // Lost connections resume on reconnect; a connected transport that failed retries later.
        if (this.transport.state === 'connected' && !this.closed) {
          const delay =
            result.retryAfterMs === undefined
              ? backoffDelay(this.failures)
              : boundedRetryAfter(result.retryAfterMs);
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            void this.pump();
          }, delay);
        }
        break;
      }
    } finally {
      this.pumping = false;
    }
  }

  private onTransportState(state: ConnectionState): void {
    if (this.closed) return;
    this.logger.info?.(`bifrost: ${state}`, { transport: this.transport.kind });
    if (state === 'connected') {
      // A fresh connection resends at once rather than after a stale retry delay. `failures` stays:
      // a connection made right after them may drop the next send too, and only a delivery shows
      // the way is clear again.
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.emit('state', state);
      // Re-establishes presence after an outage (seed B1: resend the heartbeat on reconnect).
      this.timedHeartbeat();
      void this.pump();
      return;
    }
    if (state === 'failed') {
      this.logger.error?.('bifrost: gave up connecting', { maxReconnectAttempts: this.maxReconnectAttempts });
      // Nothing will be sent again: no timer may keep the engine's process alive for it.
      if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = undefined;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.emit('state', state);
  }

  /** The engine's `activeSessions` answer, if it gave a usable one: a bug there must not cost the heartbeat. */
  private countActiveSessions(): number | undefined {
    if (!this.activeSessions) return undefined;
    let count: unknown;
    try {
      count = this.activeSessions();
    } catch (error) {
      this.logger.warn?.('bifrost: activeSessions threw', { error: (error as Error).message });
      return undefined;
    }
    if (isCount(count)) return count;
    this.logger.warn?.('bifrost: activeSessions is not a non-negative integer', { value: String(count) });
    return undefined;
  }

  private timedHeartbeat(fields: HeartbeatInput = {}): void {
    // heartbeatIntervalMs 0 turns heartbeats off entirely: one on connect would put the engine
    // under the canary's dead-man switch, which would then pause it for never sending another.
    if (this.heartbeatIntervalMs <= 0 || !this.connected || !factDefinition(this.catalogue, 'heartbeat'))
      return;
    // A reconnection during close() must not send a heartbeat after (or instead of) the sign-off:
    // the canary would take the silence that follows for a dead engine and pause it.
    if (this.shuttingDown && fields.signingOff !== true) return;
    try {
      // Timers and reconnects inherit the context the client was created in: an engine operation
      // that happened to be under way then is not what a heartbeat belongs to.
      context.with(ROOT_CONTEXT, () => this.heartbeat(fields));
    } catch (error) {
      this.logger.warn?.('bifrost: heartbeat not sent', { error: (error as Error).message });
    }
  }

  private drained(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        offFlushed();
        offDropped();
        resolve();
      };
      const check = () => {
        if (this.bufferDepth === 0) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      const offFlushed = this.on('flushed', check);
      const offDropped = this.on('dropped', check);
      check();
    });
  }

  private emitDropped(fact: Fact, reason: 'overflow' | 'rejected'): void {
    this.logger.warn?.('bifrost: fact dropped', { id: fact.envelope.id, kind: fact.kind, reason });
    this.emit('dropped', { ...describe(fact), reason, droppedCount: this.droppedCount });
  }

  private emit<E extends keyof ClientEvents>(event: E, payload: Parameters<ClientEvents[E]>[0]): void {
    for (const listener of this.listeners[event]) {
      try {
        (listener as (value: typeof payload) => void)(payload);
      } catch (error) {
        // A listener's bug must not stop deliveries.
        this.logger.error?.(`bifrost: ${event} listener threw`, { error: (error as Error).message });
      }
    }
  }
}

/**
 * The engine's logger, whose failures stay its own: a logger that throws must not turn a verdict
 * into a rejected promise, or break the delivery loop it logs from.
 */
function guarded(logger: SdkLogger): SdkLogger {
  const safe: SdkLogger = {};
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function') continue;
    safe[level] = (message, fields) => {
      try {
        logger[level]?.(message, fields);
      } catch {
        // Nothing to tell it with.
      }
    };
  }
  return safe;
}

/** close()'s last heartbeat, which tells the canary the engine stops on purpose. */
function isSignOff(fact: Fact | undefined): boolean {
  return fact?.kind === 'heartbeat' && fact.envelope.data['signingOff'] === true;
}

function describe(fact: Fact): RecordedFact {
  return { id: fact.envelope.id, kind: fact.kind, occurredAt: fact.envelope.occurredAt };
}

function failure(code: string, message: string): Failure {
  return { ok: false, code, message };
}

/**
 * A field of what a caller passed (from JavaScript it may be anything, even undefined), read
 * without trusting it: a getter that throws reads as undefined, so the request fails closed.
 */
function fieldOf(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** An id the verdict names: the caller's string, or '' for anything else (which fails its schema). */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * The hash the gate binds its verdict to (DESIGN §3), of the action in the request exactly as it
 * goes on the wire (read back from the encoded request, so the action is not serialized a second
 * time); undefined when it cannot be canonicalized, which the gate's answer then tells.
 */
function sentActionHash(json: string): string | undefined {
  try {
    return actionHash((JSON.parse(json) as { action?: unknown }).action);
  } catch {
    return undefined;
  }
}

/** A request checked against its contract, and its bytes on the wire. */
interface Encoded {
  readonly ok: true;
  readonly body: Record<string, unknown>;
  readonly json: string;
}

/** Waits `ms` (at most), or until `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

function awaitApprovalProblems(options: AwaitApprovalOptions | undefined): string[] {
  if (typeof options !== 'object' || options === null)
    return ['options { timeoutMs, pollMs?, signal? } are required'];
  const problems: string[] = [];
  const { timeoutMs, pollMs } = options;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    problems.push(`timeoutMs must be a positive number of ms (got ${String(timeoutMs)})`);
  }
  if (
    pollMs !== undefined &&
    !(typeof pollMs === 'number' && pollMs >= MIN_APPROVAL_POLL_MS && pollMs <= MAX_DEADLINE_MS)
  ) {
    problems.push(
      `pollMs must be from ${MIN_APPROVAL_POLL_MS} to ${MAX_DEADLINE_MS} ms (got ${String(pollMs)})`,
    );
  }
  return problems;
}

/** Every problem with the options at once, so one start-up error says everything. */
export function configProblems(options: ClientOptions): string[] {
  if (typeof options !== 'object' || options === null) return ['createClient needs an options object'];
  const problems: string[] = [];
  // From JavaScript anything may come (nats.js takes an array of servers): only strings are read.
  for (const name of ['natsUrl', 'gatewayUrl', 'apiKey', 'namespace'] as const) {
    const value: unknown = options[name];
    if (value !== undefined && typeof value !== 'string') {
      problems.push(`${name} must be a string, got ${Array.isArray(value) ? 'an array' : typeof value}`);
    }
  }
  const natsUrl = textOf(options.natsUrl);
  const gatewayUrl = textOf(options.gatewayUrl);
  const namespace = textOf(options.namespace);
  if (!options.natsUrl === !options.gatewayUrl) problems.push('set exactly one of natsUrl and gatewayUrl');
  const natsServers = natsUrl ? parseNatsUrl(natsUrl) : [];
  if (typeof natsServers === 'string') problems.push(natsServers);
  if (gatewayUrl && gatewayOrigin(gatewayUrl) === undefined) {
    problems.push(
      `gatewayUrl "${gatewayUrl}" must be an origin: http(s)://host[:port] with no path other than '/'`,
    );
  }
  if (options.gatewayUrl && !options.apiKey) problems.push('apiKey is required with gatewayUrl');
  if (!validateEngineId(options.engineId).ok) {
    problems.push(`engineId "${String(options.engineId)}" must be letters, digits, "-" or "_" (at most 64)`);
  }
  if (namespace !== '' && !/^[A-Za-z0-9_-]+$/.test(namespace)) {
    problems.push(`namespace "${namespace}" must be letters, digits, "-" or "_"`);
  }
  // Over HTTP the gateway answers for its own stack's namespace: one given here would be ignored.
  if (options.gatewayUrl && options.namespace) {
    problems.push('namespace applies to natsUrl only: the gateway serves its own namespace');
  }
  const integer = (name: string, value: number | undefined, min: number, max: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
      problems.push(`${name} must be an integer from ${min} to ${max}`);
    }
  };
  // A timer cannot hold more than 2³¹−1 ms: Node would run it after 1 ms.
  integer('deadlineMs', options.deadlineMs, 1, MAX_DEADLINE_MS);
  integer('heartbeatIntervalMs', options.heartbeatIntervalMs, 0, MAX_DEADLINE_MS);
  integer('maxReconnectAttempts', options.maxReconnectAttempts, 0, Number.MAX_SAFE_INTEGER);
  if (options.activeSessions !== undefined && typeof options.activeSessions !== 'function') {
    problems.push('activeSessions must be a function returning a count');
  }
  integer('buffer.maxItems', options.buffer?.maxItems, 1, Number.MAX_SAFE_INTEGER);
  return problems;
}
