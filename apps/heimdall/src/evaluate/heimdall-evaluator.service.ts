import { Inject, Injectable } from '@nestjs/common';
import { canonicalize, sha256Hex } from '@bifrost/audit';
import type {
  Actor,
  EvaluateRecommendationReply,
  EvaluateRecommendationRequest,
  HeimdallPolicy,
} from '@bifrost/contracts';
import {
  domainView,
  EMPTY_SCORECARD,
  evaluateRecommendation,
  type GatedDomain,
} from '@bifrost/domain-heimdall';
import { TransientError } from '@bifrost/event-sourcing';
import { Messaging, createEnvelope, uuidv7 } from '@bifrost/messaging';
import { HeimdallCommands } from '../commands/heimdall-commands.service';
import { HeimdallMetrics } from '../metrics/heimdall.metrics';
import { HeimdallState } from '../state/heimdall-state';

/**
 * One evaluation: every gate over the domain's in-memory policy and scorecard, then the evaluation
 * record, acknowledged by JetStream before the reply. No record, no answer: a failed publish is an
 * error to the engine, whose SDK then fails closed (not eligible). Nor from state this replica has
 * not proven current (`INFRA.STATE_STALE`): it might approve prod use disabled through another.
 */
@Injectable()
export class HeimdallEvaluator {
  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(HeimdallState) private readonly state: HeimdallState,
    @Inject(HeimdallCommands) private readonly commands: HeimdallCommands,
    @Inject(HeimdallMetrics) private readonly metrics: HeimdallMetrics,
  ) {
    metrics.observe(() => state.domainIds().map((id) => domainView(state.domain(id), id)));
  }

  async evaluate(request: EvaluateRecommendationRequest, actor: Actor): Promise<EvaluateRecommendationReply> {
    await this.commands.ready();
    this.state.assertCurrent();
    const started = process.hrtime.bigint();
    const current = this.state.domain(request.domain);
    const domain: GatedDomain =
      current.status === 'tracked'
        ? { policy: current.policy, scorecard: current.scorecard }
        : { policy: null, scorecard: EMPTY_SCORECARD };
    const evaluation = evaluateRecommendation(domain, request);
    const reply: EvaluateRecommendationReply = {
      evaluationId: uuidv7(),
      engineId: request.engineId,
      domain: request.domain,
      ...(request.recommendationId === undefined ? {} : { recommendationId: request.recommendationId }),
      ...evaluation,
      policyRevision: current.status === 'tracked' && current.policy ? policyRevision(current.policy) : null,
      decidedAt: new Date().toISOString(),
    };
    await this.record(request, reply, actor);
    this.metrics.evaluated(reply, current.status === 'tracked' && current.policy !== null, started);
    return reply;
  }

  private async record(
    request: EvaluateRecommendationRequest,
    reply: EvaluateRecommendationReply,
    actor: Actor,
  ): Promise<void> {
    const envelope = createEnvelope({
      id: reply.evaluationId,
      type: 'heimdall.RecommendationEvaluated',
      subject: this.messaging.naming.decisionSubject('heimdall', request.engineId),
      source: 'heimdall',
      actor,
      ...(request.requestId ? { correlationId: request.requestId } : {}),
      occurredAt: reply.decidedAt,
      data: { request, reply },
    });
    try {
      await this.messaging.publisher.publish(envelope);
    } catch (error) {
      this.metrics.recordFailed();
      throw new TransientError('the evaluation could not be recorded, so none is given (fail closed)', {
        code: 'HEIMDALL.RECORD_FAILED',
        cause: error,
      });
    }
  }
}

/** Content hash of the policy an evaluation used (thresholds and prod use; not its timestamp). */
function policyRevision(policy: HeimdallPolicy): string {
  const { minConfidence, minSandboxTrials, minSandboxSuccessRate, prodUseEnabled } = policy;
  return sha256Hex(canonicalize({ minConfidence, minSandboxTrials, minSandboxSuccessRate, prodUseEnabled }));
}
