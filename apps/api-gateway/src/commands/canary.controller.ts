import { Body, Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  CommandReason,
  AcknowledgeAlertCommand,
  AlertView,
  CanaryStatus,
  EngineHeartbeatView,
  EntityId,
  ProbeConfig,
  ProbeName,
  ProbeView,
  RemoveProbeCommand,
  SetHeartbeatPolicyCommand,
  object,
} from '@bifrost/contracts';
import { actorOf, type Principal } from '../auth/roles';
import { ApiController, CurrentPrincipal, Route, ValidParams } from '../http/route';
import { GatewayRpc } from './gateway-rpc.service';

const ProbeParams = object({ probeName: ProbeName });
const AlertParams = object({ alertId: Type.String({ minLength: 1, maxLength: 200 }) });
const EngineParams = object({ engineId: EntityId });
const UpsertBody = Type.Composite([Type.Omit(ProbeConfig, ['name']), object({ reason: CommandReason })], {
  additionalProperties: false,
});
const RemoveBody = Type.Omit(RemoveProbeCommand, ['actor', 'probeName']);
const AckBody = Type.Omit(AcknowledgeAlertCommand, ['actor', 'alertId']);
const PolicyBody = Type.Omit(SetHeartbeatPolicyCommand, ['actor', 'engineId']);

/**
 * Canary (infrastructure probes and the engines' dead-man switch): live status, operator probe
 * commands, alert acknowledgement, heartbeat policies (`bifrost.rpc.canary.*`). Heartbeats come in
 * over `POST /api/v1/engine/heartbeat`.
 */
@ApiController('canary', 'canary')
export class CanaryController {
  constructor(@Inject(GatewayRpc) private readonly rpc: GatewayRpc) {}

  @Route({
    method: 'GET',
    path: 'status',
    summary:
      'Every probe (status, failure run, last result, alert) and watched engine (ALIVE/STALE/OFFLINE), live',
    access: 'viewer',
    response: CanaryStatus,
  })
  status() {
    return this.rpc.call('bifrost.rpc.canary.status', {});
  }

  @Route({
    method: 'GET',
    path: 'probes',
    summary: 'The probes with their settings and current status, live',
    access: 'viewer',
    response: object({ probes: Type.Array(ProbeView) }),
  })
  async probes() {
    const { probes } = await this.rpc.call<{ probes: unknown[] }>('bifrost.rpc.canary.status', {});
    return { probes };
  }

  @Route({
    method: 'PUT',
    path: 'probes/:probeName',
    summary:
      'Add a probe or change its settings (kind http|tcp|nats|postgres, action alert_only|pause_engine|kill_switch)',
    access: 'admin',
    params: ProbeParams,
    body: UpsertBody,
    response: ProbeView,
    example: {
      body: {
        reason: 'exchange connectivity',
        kind: 'http',
        target: 'https://api.exchange.example/health',
        intervalMs: 10_000,
        timeoutMs: 2_000,
        failureThreshold: 3,
        recoveryThreshold: 3,
        action: 'kill_switch',
      },
    },
  })
  upsertProbe(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof ProbeParams>,
    @Body() body: Static<typeof UpsertBody>,
  ) {
    const { reason, ...probe } = body;
    return this.rpc.call('bifrost.rpc.canary.cmd.upsert-probe', {
      actor: actorOf(p),
      reason,
      probe: { ...probe, name: params.probeName },
    });
  }

  @Route({
    method: 'POST',
    path: 'probes/:probeName/remove',
    summary: 'Remove a probe: it stops running (kill switches and pauses it caused stay)',
    access: 'admin',
    params: ProbeParams,
    body: RemoveBody,
    response: object({ probeName: ProbeName, removed: Type.Boolean() }),
    example: { body: { reason: 'decommissioned' } },
  })
  removeProbe(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof ProbeParams>,
    @Body() body: Static<typeof RemoveBody>,
  ) {
    return this.rpc.call('bifrost.rpc.canary.cmd.remove-probe', {
      ...body,
      probeName: params.probeName,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'POST',
    path: 'alerts/:alertId/acknowledge',
    summary: 'Acknowledge an alert (`probe:<name>:<n>` or `engine:<id>:<n>`); lifts nothing at the gate',
    access: 'operator',
    params: AlertParams,
    body: AckBody,
    response: AlertView,
    example: { body: { reason: 'on it' } },
  })
  acknowledge(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof AlertParams>,
    @Body() body: Static<typeof AckBody>,
  ) {
    return this.rpc.call('bifrost.rpc.canary.cmd.ack-alert', {
      ...body,
      alertId: params.alertId,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'PUT',
    path: 'engines/:engineId/heartbeat-policy',
    summary: "An engine's allowed heartbeat gap (null: the default), auto-resume, watching on/off",
    access: 'admin',
    params: EngineParams,
    body: PolicyBody,
    response: EngineHeartbeatView,
    example: { body: { reason: 'slow batch engine', allowedGapMs: 120_000, autoResume: false } },
  })
  heartbeatPolicy(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineParams>,
    @Body() body: Static<typeof PolicyBody>,
  ) {
    return this.rpc.call('bifrost.rpc.canary.cmd.heartbeat-policy', {
      ...body,
      engineId: params.engineId,
      actor: actorOf(p),
    });
  }
}
