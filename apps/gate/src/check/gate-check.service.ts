import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { actionHash } from '@bifrost/audit';
import type {
  Actor,
  GateApprovalReply,
  GateApprovalRequest,
  GateCheckReply,
  GateCheckRequest,
  GatePolicyInForce,
} from '@bifrost/contracts';
import {
  applyApproval,
  approvalStatus,
  assessToken,
  classifyImpact,
  composeVerdict,
  controlChecks,
  decideCheckEffects,
  engineModeOf,
  impactCheck,
  maturityIndex,
  registeredView,
  strategyChecks,
  strategyDecider,
  verdictRiskLevel,
  type StrategyEvent,
} from '@bifrost/domain-gate';
import {
  ConcurrencyError,
  NotFoundError,
  TransientError,
  ValidationError,
  isInfraFailure,
} from '@bifrost/event-sourcing';
import { EncodedJson, Messaging, createEnvelope, uuidv7, KeyedMutex } from '@bifrost/messaging';
import {
  GATE_CONFIG,
  GATE_POLICIES,
  formatNotionalThresholds,
  type GateConfig,
  type GatePolicies,
} from '../gate.config';
import { GateMetrics } from '../metrics/gate.metrics';
import { GateState } from '../state/gate-state';
import { PolicyRevisions, keptPolicies, type PolicyInForce } from './policy-revisions';

const MAX_ATTEMPTS = 5;

/** What is left until `deadline` (epoch ms), at least 1 ms: a publish's timeout of 0 would be none. */
const left = (deadline: number) => Math.max(1, deadline - Date.now());

/** `waiting`, or a failure once `deadline` (epoch ms) has passed. */
function by<T>(waiting: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('not acknowledged in time')), left(deadline));
  });
  return Promise.race([waiting, late]).finally(() => clearTimeout(timer));
}

/**
 * The action's JCS hash. A number JSON reads as ±Infinity (`1e400` in `params`, which the schema
 * takes as any value) has no canonical form: the caller's input, refused as such.
 */
function hashOf(action: GateCheckRequest['action']): string {
  try {
    return actionHash(action);
  } catch (error) {
    throw new ValidationError(`the action cannot be hashed: ${(error as Error).message}`, {
      code: 'RPC.VALIDATION_FAILED',
    });
  }
}

/**
 * One gate check: every component's check over the in-memory state, the composed verdict, the
 * strategy events the check leaves behind (implicit registration, token use, approval request,
 * demotion acknowledgement), then the decision record, acknowledged by JetStream before the
 * verdict is returned. No record, no verdict: a failed publish is an error to the engine, whose
 * SDK then fails closed. The verdict is encoded once, for both the record and the reply.
 */
@Injectable()
export class GateCheckService implements OnModuleInit {
  private readonly log = new Logger('GateCheck');

  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(GateState) private readonly state: GateState,
    @Inject(GateMetrics) private readonly metrics: GateMetrics,
    @Inject(KeyedMutex) private readonly locks: KeyedMutex,
    @Inject(GATE_POLICIES) private readonly policies: GatePolicies,
    @Inject(PolicyRevisions) private readonly revisions: PolicyRevisions,
    @Inject(GATE_CONFIG) private readonly config: GateConfig,
  ) {}

  /** What an operator checks after changing GATE_STRATEGY_POLICY or GATE_IMPACT_NOTIONAL. */
  onModuleInit(): void {
    this.log.log(
      `policies in force: strategy ${JSON.stringify(this.policies.strategy)}; ` +
        `impact notional thresholds ${formatNotionalThresholds(this.policies.impact.notional)}`,
    );
  }

  /**
   * Most checks change nothing on the strategy and run without a lock; a check that leaves events
   * behind (registration, token use, approval request) is decided again under the strategy's lock
   * and appended with optimistic concurrency, so a single-use token is used once. Everything a check
   * waits for (its turn on the strategy, the acknowledgements of its events, of a new policy revision
   * and of its record) fits in one `GATE_RECORD_TIMEOUT_MS` from its arrival, below the SDK's
   * deadline. A check whose turn has not come by then is not decided at all: its engine would have
   * given up by the time a long queue (outcome folds, operator commands waiting out a stalled
   * JetStream) let it through.
   */
  async check(request: GateCheckRequest, actor: Actor): Promise<EncodedJson<GateCheckReply>> {
    const started = process.hrtime.bigint();
    const deadline = Date.now() + this.config.GATE_RECORD_TIMEOUT_MS;
    this.state.assertCurrent();
    const hash = hashOf(request.action);
    const subject = this.state.strategySubject(request.engineId, request.strategyId);
    const optimistic = await this.decide(request, hash, subject, actor);
    const decided =
      optimistic.effects.events.length === 0
        ? optimistic
        : await this.locks
            .run(
              `${request.engineId}:${request.strategyId}`,
              () => this.decideAndAppend(request, hash, subject, actor, deadline),
              { waitMs: left(deadline), late: () => this.busy(request) },
            )
            .catch((error: unknown) => {
              // Five conflicts in a row, or no turn in time, are contention: CONCURRENCY.CONFLICT.
              throw isInfraFailure(error) && !(error instanceof ConcurrencyError)
                ? this.recordFailed('the events this check leaves behind could not be stored', error)
                : error;
            });
    const verdict = new EncodedJson(decided.reply);
    await this.record(request, verdict, decided.policy, actor, started, deadline);
    this.metrics.observeDecision(decided.reply.action, started);
    return verdict;
  }

  /** Where an approval request stands, read from the state in memory (nothing is appended). */
  async approval(request: GateApprovalRequest): Promise<GateApprovalReply> {
    this.state.assertCurrent();
    const subject = this.state.strategySubject(request.engineId, request.strategyId);
    const { state } = await this.state.strategies.load(subject);
    const status = approvalStatus(state, request.approvalId, new Date().toISOString());
    if (status === undefined) {
      throw new NotFoundError(
        `no approval request ${request.approvalId} for strategy ${request.strategyId} of engine ${request.engineId}`,
        { code: 'GATE.APPROVAL_UNKNOWN' },
      );
    }
    return status;
  }

  /**
   * The policies in force now, as the next verdict will carry them: recorded first, so the revision
   * can be looked up and compared like any verdict's.
   */
  async policyInForce(): Promise<GatePolicyInForce> {
    this.state.assertCurrent();
    const policy = this.revisions.inForce(this.state.controlEntry());
    await this.revisions.whenRecorded(policy);
    return { revision: policy.revision, bytes: policy.bytes, policies: keptPolicies(policy) };
  }

  private async decideAndAppend(
    request: GateCheckRequest,
    hash: string,
    subject: string,
    actor: Actor,
    deadline: number,
  ) {
    for (let attempt = 1; ; attempt += 1) {
      const decided = await this.decide(request, hash, subject, actor);
      try {
        await this.appendEffects(subject, decided.effects.events, decided.strategy, actor, deadline);
        return decided;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
        this.state.strategies.remember(subject, undefined);
      }
    }
  }

  private async decide(request: GateCheckRequest, hash: string, subject: string, actor: Actor) {
    const now = new Date().toISOString();
    const control = this.state.controlEntry();
    const strategy = await this.state.strategies.load(subject);
    const mode = engineModeOf(control.state, request.engineId);
    const { strategy: view } = registeredView(strategy.state, request.engineId, request.strategyId, now);
    const engineStrategies = this.state.strategiesBeforeRegistering(strategy.state, request.engineId);
    const token = request.tokenId
      ? assessToken(strategy.state, request.tokenId, request.action, hash, now)
      : null;
    const checks = applyApproval(
      [
        ...controlChecks(control.state, request, now),
        ...strategyChecks(strategy.state, request, hash, now, this.policies.strategy, engineStrategies),
        impactCheck(
          classifyImpact(request.impact, request.action.notional, this.policies.impact).tier,
          maturityIndex(view.level),
          this.policies.impact,
        ),
      ],
      token,
      hash,
    );
    const composed = composeVerdict(checks, mode);
    const policy = this.revisions.inForce(control);
    const decisionId = uuidv7();
    const effects = decideCheckEffects(
      strategy.state,
      {
        request,
        actionHash: hash,
        verdict: composed.action,
        wouldBe: composed.wouldBe?.action,
        // An approval request takes the id of the decision that opened it.
        approvalId: decisionId,
        now,
        actor,
        engineStrategies,
      },
      this.policies.strategy,
    );
    const reply: GateCheckReply = {
      decisionId,
      policyRevision: policy.revision,
      action: composed.action,
      sizeMultiplier: composed.sizeMultiplier,
      riskLevel: verdictRiskLevel(request, composed.wouldBe?.action ?? composed.action, mode),
      checks,
      mode,
      ...(composed.wouldBe ? { wouldBe: composed.wouldBe } : {}),
      decidedAt: now,
      engineId: request.engineId,
      strategyId: request.strategyId,
      ...(effects.approvalId ? { approvalId: effects.approvalId } : {}),
      actionHash: hash,
    };
    return { reply, effects, strategy, policy };
  }

  private async appendEffects(
    subject: string,
    events: readonly StrategyEvent[],
    current: { state: Parameters<typeof strategyDecider.evolve>[0]; lastSequence: number },
    actor: Actor,
    deadline: number,
  ): Promise<void> {
    if (events.length === 0) return;
    const envelopes = events.map((event) =>
      createEnvelope({
        type: `gate.${event.type}`,
        subject,
        source: 'gate',
        actor,
        data: event.data as Record<string, unknown>,
      }),
    );
    const lastSequence = await this.messaging.eventStore.append(subject, envelopes, current.lastSequence, {
      timeoutMs: left(deadline),
    });
    const state = events.reduce((s, e) => strategyDecider.evolve(s, e), current.state);
    this.state.strategies.remember(subject, { state, lastSequence });
  }

  private async record(
    request: GateCheckRequest,
    verdict: EncodedJson<GateCheckReply>,
    policy: PolicyInForce,
    actor: Actor,
    started: bigint,
    deadline: number,
  ): Promise<void> {
    const { value } = verdict;
    const envelope = createEnvelope({
      id: value.decisionId,
      type: 'gate.VerdictRendered',
      subject: this.messaging.naming.decisionSubject('gate', request.engineId),
      source: 'gate',
      actor,
      ...(request.requestId ? { correlationId: request.requestId } : {}),
      occurredAt: value.decidedAt,
      data: { request, verdict: value, latencyMicros: Number((process.hrtime.bigint() - started) / 1000n) },
    });
    try {
      // The revision the verdict carries can be looked up before the verdict is given.
      const recording = this.revisions.whenRecorded(policy);
      if (recording) await by(recording, deadline);
      const { publisher } = this.messaging;
      // Validated as it is; written with the verdict's bytes, which the reply reuses.
      const body = publisher.encode(envelope, { ...envelope, data: { ...envelope.data, verdict } });
      await publisher.publish(envelope, { timeoutMs: left(deadline) }, body);
    } catch (error) {
      throw this.recordFailed('the decision could not be recorded', error);
    }
  }

  /** A check whose turn on its strategy did not come in time: nothing decided, nothing stored. */
  private busy(request: GateCheckRequest): ConcurrencyError {
    return new ConcurrencyError(
      `strategy ${request.strategyId} of engine ${request.engineId} was busy for longer than a check ` +
        `may wait (${this.config.GATE_RECORD_TIMEOUT_MS} ms): nothing was decided or recorded; ask again`,
    );
  }

  /**
   * No record, no verdict: the engine gets `GATE.RECORD_FAILED` (its SDK fails closed) without the
   * cause, which names streams and the server's words; the RPC layer logs the error with its cause.
   */
  private recordFailed(what: string, cause: unknown): TransientError {
    this.metrics.recordFailures.inc();
    return new TransientError(`${what}, so no verdict is given (fail closed)`, {
      code: 'GATE.RECORD_FAILED',
      cause,
    });
  }
}
