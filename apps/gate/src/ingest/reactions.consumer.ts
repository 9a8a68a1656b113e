import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  type AuditChainVerified,
  clipText,
  REASON_MAX_LENGTH,
  type CanaryEnginePauseRequested,
  type CanaryProbeStatusChanged,
  type CanarySummaryReported,
  type CanaryEngineResumeRequested,
  type CanaryKillSwitchRequested,
  type DataOf,
  type Envelope,
  type GoLiveChecklistItem,
  type GovernancePhaseChanged,
  type RiskPolicyDefined,
  type TripwireTriggered,
} from '@bifrost/contracts';
import { consumerRoute } from '@bifrost/messaging';
import { GateCommands } from '../commands/gate-commands.service';
import { GateState } from '../state/gate-state';

/**
 * Every reaction route: in order, and a request the gate could not store for a transient reason
 * (JetStream refusing writes) is retried until it is, never parked: a parked kill or pause request
 * would leave the engine running. Retried at most every 2 s, so it acts soon after JetStream is back.
 */
const TIGHTENING = { ordered: true, untilApplied: true } as const;

/** A checklist fact's evidence, as `gate.ChecklistFactRecorded` keeps it (code points). */
const EVIDENCE_MAX_LENGTH = 2000;

/**
 * What other services ask of the gate, consumed as events: tripwire and canary kill-switch
 * requests, canary engine pauses (dead-man switch), governance autonomy phases. Each resulting
 * control-plane event names the requesting event as its cause. Automation may engage a kill switch
 * or pause an engine; only an operator releases them. The consumers start at the beginning of the
 * stream, so requests made before the gate started still act; each carries its `occurredAt` as
 * `requestedAt`, and the control plane ignores one made before an operator's release or resume of
 * the same scope, so a replay never undoes an operator. Every route is `ordered`: one message in
 * flight across all gate replicas, so two phase changes or two canary summaries are applied in the
 * order they were published, never overtaken by a replica or a retry. A reason composed here (a
 * prefix and the requester's reason, itself up to the limit) is clipped to the limit of the gate's
 * events: one that did not fit would park the request, and the engine would not be paused or killed.
 */
@Controller()
export class ReactionsConsumer {
  constructor(
    @Inject(GateCommands) private readonly commands: GateCommands,
    @Inject(GateState) private readonly state: GateState,
  ) {}

  @EventPattern(
    'bifrost.evt.tripwire.>',
    consumerRoute({ stream: 'events', purpose: 'tripwire', ...TIGHTENING }),
  )
  async onTripwire(@Payload() envelope: Envelope): Promise<void> {
    if (envelope.type !== 'tripwire.TripwireTriggered') return;
    const data = envelope.data as DataOf<typeof TripwireTriggered>;
    if (data.action !== 'KILL_SWITCH') return;
    await this.engage(
      envelope,
      data.killScope === 'global' ? undefined : data.engineId,
      'hard',
      `tripwire ${data.policyId}${data.reason ? `: ${data.reason}` : ''}`,
    );
  }

  @EventPattern('bifrost.evt.canary.>', consumerRoute({ stream: 'events', purpose: 'canary', ...TIGHTENING }))
  async onCanary(@Payload() envelope: Envelope): Promise<void> {
    if (envelope.type === 'canary.ProbeStatusChanged' || envelope.type === 'canary.SummaryReported') {
      await this.recordCanaryHealth(envelope);
    } else if (envelope.type === 'canary.KillSwitchRequested') {
      const data = envelope.data as DataOf<typeof CanaryKillSwitchRequested>;
      await this.engage(envelope, data.engineId, data.mode, `canary probe ${data.probeName}: ${data.reason}`);
    } else if (envelope.type === 'canary.EnginePauseRequested') {
      const data = envelope.data as DataOf<typeof CanaryEnginePauseRequested>;
      await this.commands.control(
        {
          type: 'PauseEngine',
          data: {
            actor: envelope.actor,
            engineId: data.engineId,
            reason: clipText(`canary: ${data.reason}`, REASON_MAX_LENGTH),
            cause: envelope.id,
            requestedAt: envelope.occurredAt,
            now: now(),
          },
        },
        envelope.actor,
        { causationId: envelope.id },
      );
    } else if (envelope.type === 'canary.EngineResumeRequested') {
      // Auto-resume after a dead-man pause, on the authority of the operator who enabled it: the
      // control plane lifts only a pause the canary alone holds, begun before this request and
      // caused by the dead-man request it names (an operator's pause, one an operator took over,
      // or one a canary probe asked for first, stays). A resume naming none (an older canary's)
      // is checked as before, without the cause.
      const data = envelope.data as DataOf<typeof CanaryEngineResumeRequested>;
      if (data.authorizedBy.kind !== 'operator') return;
      await this.commands.control(
        {
          type: 'ResumeEngine',
          data: {
            actor: data.authorizedBy,
            engineId: data.engineId,
            onlyPauseOf: {
              actor: envelope.actor,
              requestedAt: envelope.occurredAt,
              ...(data.pauseRequestId === undefined ? {} : { cause: data.pauseRequestId }),
            },
            reason: clipText(
              `canary auto-resume (enabled by ${data.authorizedBy.id} at ${data.authorizedAt}): ${data.reason}`,
              REASON_MAX_LENGTH,
            ),
            now: now(),
          },
        },
        data.authorizedBy,
        { causationId: envelope.id },
      );
    }
  }

  @EventPattern(
    'bifrost.evt.governance.>',
    consumerRoute({ stream: 'events', purpose: 'governance', ...TIGHTENING }),
  )
  async onGovernance(@Payload() envelope: Envelope): Promise<void> {
    if (envelope.type !== 'governance.PhaseChanged') return;
    const data = envelope.data as DataOf<typeof GovernancePhaseChanged>;
    await this.commands.control(
      {
        type: 'ApplyAutonomyPhase',
        data: {
          actor: envelope.actor,
          engineId: data.engineId,
          phase: data.phase,
          whitelist: data.whitelist,
          cause: envelope.id,
          now: now(),
        },
      },
      envelope.actor,
      { causationId: envelope.id },
    );
  }

  /**
   * The go-live checklist item `canaryHealthy`: failed as soon as a probe goes DOWN; passed (or
   * failed) by each periodic summary, passed only when every probe is UP (unknown = not passed).
   */
  private async recordCanaryHealth(envelope: Envelope): Promise<void> {
    let passed: boolean;
    let evidence: string;
    if (envelope.type === 'canary.ProbeStatusChanged') {
      const data = envelope.data as DataOf<typeof CanaryProbeStatusChanged>;
      if (data.to !== 'DOWN') return;
      passed = false;
      evidence = `probe ${data.probeName} DOWN: ${data.detail}`;
    } else {
      const { probes } = envelope.data as DataOf<typeof CanarySummaryReported>;
      const notUp = probes.filter((p) => p.status !== 'UP').map((p) => `${p.probeName} ${p.status}`);
      passed = probes.length > 0 && notUp.length === 0;
      evidence = passed
        ? `all ${probes.length} probes UP`
        : probes.length === 0
          ? 'no probes defined'
          : `not UP: ${notUp.join(', ')}`;
    }
    await this.recordFact(envelope, 'canaryHealthy', passed, evidence);
  }

  /** The go-live checklist item `riskPoliciesPresent`: the GLOBAL risk policy is defined and enabled. */
  @EventPattern(
    'bifrost.evt.risk.policy.GLOBAL',
    consumerRoute({ stream: 'events', purpose: 'risk-policy', ordered: true }),
  )
  async onGlobalRiskPolicy(@Payload() envelope: Envelope): Promise<void> {
    const enabled =
      envelope.type === 'risk.PolicyDefined'
        ? (envelope.data as DataOf<typeof RiskPolicyDefined>).enabled
        : envelope.type === 'risk.PolicyEnabled'
          ? true
          : envelope.type === 'risk.PolicyDisabled'
            ? false
            : undefined;
    if (enabled === undefined) return;
    await this.recordFact(
      envelope,
      'riskPoliciesPresent',
      enabled,
      enabled ? 'GLOBAL risk policy defined and enabled' : 'GLOBAL risk policy disabled',
    );
  }

  /** The go-live checklist item `auditChainVerified`: the projector's last re-verification of the audit log. */
  @EventPattern(
    'bifrost.evt.system.audit.>',
    consumerRoute({ stream: 'events', purpose: 'audit-chain', ordered: true }),
  )
  async onAuditChainVerified(@Payload() envelope: Envelope): Promise<void> {
    if (envelope.type !== 'system.AuditChainVerified') return;
    const data = envelope.data as DataOf<typeof AuditChainVerified>;
    const evidence = data.intact
      ? `audit log intact: ${data.rowsVerified} rows through seq ${data.throughSeq}, head ${data.headHash ?? '-'}`
      : `audit log broken at seq ${data.break?.seq ?? data.throughSeq + 1} (${data.break?.reason ?? 'unknown'}); ${data.rowsVerified} rows intact before it`;
    await this.recordFact(envelope, 'auditChainVerified', data.intact, evidence);
  }

  private async recordFact(
    envelope: Envelope,
    item: GoLiveChecklistItem,
    passed: boolean,
    evidence: string,
  ): Promise<void> {
    await this.commands.control(
      {
        type: 'RecordChecklistFact',
        data: {
          actor: envelope.actor,
          item,
          passed,
          reportedBy: envelope.source,
          evidence: clipText(evidence, EVIDENCE_MAX_LENGTH),
          now: now(),
        },
      },
      envelope.actor,
      { causationId: envelope.id },
    );
  }

  private async engage(
    envelope: Envelope,
    engineId: string | undefined,
    mode: 'soft' | 'hard',
    reason: string,
  ) {
    await this.commands.control(
      {
        type: 'EngageKillSwitch',
        data: {
          actor: envelope.actor,
          ...(engineId ? { engineId } : {}),
          mode,
          reason: clipText(reason, REASON_MAX_LENGTH),
          cause: envelope.id,
          requestedAt: envelope.occurredAt,
          now: now(),
        },
      },
      envelope.actor,
      { causationId: envelope.id },
    );
  }
}

function now(): string {
  return new Date().toISOString();
}
