import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AcknowledgeAlertCommand,
  RemoveProbeCommand,
  SetHeartbeatPolicyCommand,
  UpsertProbeCommand,
  type AlertView,
  type CanaryStatus,
  type EngineHeartbeatView,
  type ProbeView,
  object,
} from '@bifrost/contracts';
import { allowedGapOf } from '@bifrost/domain-canary';
import { NotFoundError, ValidationError } from '@bifrost/event-sourcing';
import { rpcRoute } from '@bifrost/messaging';
import { CanaryCommands } from '../commands/canary-commands.service';
import { HeartbeatMonitor } from '../heartbeats/heartbeat-monitor.service';
import { ProbeScheduler } from '../probes/probe-scheduler.service';
import { CanaryState } from '../state/canary-state';

const Empty = object({});
const now = () => new Date().toISOString();

/** `bifrost.rpc.canary.*`: operators manage probes, alerts and heartbeat policies, and read the status. */
@Controller()
export class CanaryRpcHandler {
  constructor(
    @Inject(CanaryCommands) private readonly commands: CanaryCommands,
    @Inject(CanaryState) private readonly state: CanaryState,
    @Inject(ProbeScheduler) private readonly scheduler: ProbeScheduler,
    @Inject(HeartbeatMonitor) private readonly heartbeats: HeartbeatMonitor,
  ) {}

  @MessagePattern('bifrost.rpc.canary.cmd.upsert-probe', rpcRoute({ request: UpsertProbeCommand }))
  async upsertProbe(@Payload() c: UpsertProbeCommand): Promise<ProbeView> {
    await this.commands.ready();
    await this.commands.probe(
      c.probe.name,
      {
        type: 'DefineProbe',
        data: {
          probe: c.probe,
          actor: c.actor,
          reason: c.reason,
          now: now(),
          consecutiveFailures: this.scheduler.run(c.probe.name).counters.consecutiveFailures,
        },
      },
      c.actor,
    );
    return this.probeView(c.probe.name);
  }

  @MessagePattern('bifrost.rpc.canary.cmd.remove-probe', rpcRoute({ request: RemoveProbeCommand }))
  async removeProbe(@Payload() c: RemoveProbeCommand): Promise<{ probeName: string; removed: boolean }> {
    await this.commands.ready();
    const events = await this.commands.probe(
      c.probeName,
      { type: 'RemoveProbe', data: { probeName: c.probeName, actor: c.actor, reason: c.reason, now: now() } },
      c.actor,
    );
    return { probeName: c.probeName, removed: events.length > 0 };
  }

  @MessagePattern('bifrost.rpc.canary.cmd.ack-alert', rpcRoute({ request: AcknowledgeAlertCommand }))
  async acknowledgeAlert(@Payload() c: AcknowledgeAlertCommand): Promise<AlertView> {
    await this.commands.ready();
    const match = /^(probe|engine):(.+):(\d+)$/.exec(c.alertId);
    if (!match) {
      throw new ValidationError(`alert id ${c.alertId} is not probe:<name>:<n> or engine:<id>:<n>`, {
        code: 'CANARY.ALERT_UNKNOWN',
      });
    }
    const [, scope, id] = match as unknown as [string, 'probe' | 'engine', string];
    const data = { alertId: c.alertId, actor: c.actor, reason: c.reason, now: now() };
    if (scope === 'probe') {
      await this.commands.probe(id, { type: 'AcknowledgeAlert', data }, c.actor);
      const probe = this.state.probe(id);
      return (probe.status === 'defined' ? probe.alert : null) as AlertView;
    }
    await this.commands.engine(id, { type: 'AcknowledgeAlert', data: { ...data, engineId: id } }, c.actor);
    const engine = this.state.engine(id);
    return (engine.status === 'watched' ? engine.alert : null) as AlertView;
  }

  @MessagePattern('bifrost.rpc.canary.cmd.heartbeat-policy', rpcRoute({ request: SetHeartbeatPolicyCommand }))
  async setHeartbeatPolicy(@Payload() c: SetHeartbeatPolicyCommand): Promise<EngineHeartbeatView> {
    await this.commands.ready();
    const { actor, reason, engineId, allowedGapMs, autoResume, enabled } = c;
    await this.commands.engine(
      engineId,
      {
        type: 'SetHeartbeatPolicy',
        data: {
          engineId,
          actor,
          reason,
          now: now(),
          ...(allowedGapMs === undefined ? {} : { allowedGapMs }),
          ...(autoResume === undefined ? {} : { autoResume }),
          ...(enabled === undefined ? {} : { enabled }),
        },
      },
      actor,
    );
    return this.engineView(engineId);
  }

  @MessagePattern('bifrost.rpc.canary.status', rpcRoute({ request: Empty }))
  async status(): Promise<CanaryStatus> {
    await this.commands.ready();
    return {
      probes: this.state.definedProbes().map((s) => this.probeView(s.probe.name)),
      engines: this.state.watchedEngineIds().map((id) => this.engineView(id)),
    };
  }

  private probeView(probeName: string): ProbeView {
    const state = this.state.probe(probeName);
    if (state.status !== 'defined')
      throw new NotFoundError(`no probe ${probeName}`, {
        code: 'CANARY.PROBE_UNKNOWN',
        details: { probeName },
      });
    const run = this.scheduler.run(probeName);
    return {
      probe: state.probe,
      status: state.health,
      consecutiveFailures: run.counters.consecutiveFailures,
      consecutivePasses: run.counters.consecutivePasses,
      lastCheckedAt: run.last?.at ?? null,
      lastDetail: run.last?.detail ?? null,
      statusSince: state.statusSince,
      updatedAt: state.updatedAt,
      alert: state.alert,
    };
  }

  private engineView(engineId: string): EngineHeartbeatView {
    const state = this.state.engine(engineId);
    if (state.status !== 'watched')
      throw new NotFoundError(`engine ${engineId} is not watched`, { code: 'CANARY.ENGINE_UNKNOWN' });
    return {
      engineId,
      status: state.health,
      allowedGapMs: allowedGapOf(
        state,
        this.commands.engineContext,
        this.heartbeats.declaredIntervalMs(engineId),
      ),
      autoResume: state.autoResume !== null,
      enabled: state.enabled,
      lastHeartbeatAt: this.heartbeats.lastHeartbeatAt(engineId),
      staleSince: state.staleSince,
      alert: state.alert,
      ...this.heartbeats.lastReport(engineId),
    };
  }
}
