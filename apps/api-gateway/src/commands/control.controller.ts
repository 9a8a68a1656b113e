import { Body, Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  CommandReply,
  DisableGoLiveCommand,
  EnableGoLiveCommand,
  EngageKillSwitchCommand,
  PauseEngineCommand,
  RecordChecklistFactCommand,
  ReleaseKillSwitchCommand,
  ResumeEngineCommand,
  SetEngineModeCommand,
  SetExecutionClassCommand,
} from '@bifrost/contracts';
import { actorOf, hasRole, type Principal } from '../auth/roles';
import { ApiController, CurrentPrincipal, Route, ValidParams } from '../http/route';
import { EngineParams, exampleReply } from '../http/schemas';
import { GatewayRpc } from './gateway-rpc.service';

const withoutActor = <S extends Parameters<typeof Type.Omit>[0]>(schema: S) => Type.Omit(schema, ['actor']);
const withoutActorAndEngine = <S extends Parameters<typeof Type.Omit>[0]>(schema: S) =>
  Type.Omit(schema, ['actor', 'engineId']);

const GoLiveBody = withoutActor(EnableGoLiveCommand);
const KillSwitchEngageBody = Type.Omit(EngageKillSwitchCommand, ['actor', 'mayNotLoosen']);
const KillSwitchReleaseBody = withoutActor(ReleaseKillSwitchCommand);
const ExecutionClassBody = withoutActor(SetExecutionClassCommand);
const ChecklistFactBody = Type.Omit(RecordChecklistFactCommand, ['actor', 'reportedBy']);
const EngineModeBody = withoutActorAndEngine(SetEngineModeCommand);
const EnginePauseBody = withoutActorAndEngine(PauseEngineCommand);
const EngineResumeBody = withoutActorAndEngine(ResumeEngineCommand);

/** Control-plane commands: `bifrost.rpc.gate.cmd.*`, attributed to the caller. */
@ApiController('control', 'control')
export class ControlController {
  constructor(@Inject(GatewayRpc) private readonly rpc: GatewayRpc) {}

  private send(operation: string, principal: Principal, body: object): Promise<unknown> {
    return this.rpc.call(`bifrost.rpc.gate.cmd.${operation}`, { ...body, actor: actorOf(principal) });
  }

  @Route({
    method: 'POST',
    path: 'go-live/enable',
    summary: 'Enable production execution (refused with GoLiveRefused unless every checklist item passed)',
    access: 'admin',
    body: GoLiveBody,
    response: CommandReply,
    example: {
      body: { reason: 'launch approved' },
      response: exampleReply('GoLiveEnabled', { reason: 'launch approved' }),
    },
  })
  enableGoLive(@CurrentPrincipal() p: Principal, @Body() body: Static<typeof GoLiveBody>) {
    return this.send('go-live.enable', p, body);
  }

  @Route({
    method: 'POST',
    path: 'go-live/disable',
    summary: 'Disable production execution: PROD_EXEC action kinds are blocked from now on',
    access: 'operator',
    body: withoutActor(DisableGoLiveCommand),
    response: CommandReply,
    example: { body: { reason: 'incident' } },
  })
  disableGoLive(@CurrentPrincipal() p: Principal, @Body() body: Static<typeof GoLiveBody>) {
    return this.send('go-live.disable', p, body);
  }

  @Route({
    method: 'POST',
    path: 'kill-switch/engage',
    summary: 'Engage the kill switch, global or for one engine (soft lets reduce-only actions through)',
    access: 'operator',
    body: KillSwitchEngageBody,
    response: CommandReply,
    example: {
      body: { mode: 'hard', reason: 'runaway losses' },
      response: exampleReply('KillSwitchEngaged', {
        mode: 'hard',
        reason: 'runaway losses',
        engagedAt: '2026-11-21T20:42:55.123Z',
      }),
    },
  })
  engageKillSwitch(@CurrentPrincipal() p: Principal, @Body() body: Static<typeof KillSwitchEngageBody>) {
    // Engaging tightens (operator); turning a hard switch soft loosens, which is an admin's call.
    return this.send('kill-switch.engage', p, { ...body, mayNotLoosen: !hasRole(p.role, 'admin') });
  }

  @Route({
    method: 'POST',
    path: 'kill-switch/release',
    summary: 'Release the kill switch, global or for one engine',
    access: 'admin',
    body: KillSwitchReleaseBody,
    response: CommandReply,
    example: { body: { reason: 'root cause fixed' } },
  })
  releaseKillSwitch(@CurrentPrincipal() p: Principal, @Body() body: Static<typeof KillSwitchReleaseBody>) {
    return this.send('kill-switch.release', p, body);
  }

  @Route({
    method: 'POST',
    path: 'execution-classes',
    summary: 'Set where an action kind may execute: OBSERVE_ONLY, SANDBOX_EXEC or PROD_EXEC',
    access: 'admin',
    body: ExecutionClassBody,
    response: CommandReply,
    example: { body: { actionKind: 'order.place', executionClass: 'SANDBOX_EXEC', reason: 'paper trading' } },
  })
  setExecutionClass(@CurrentPrincipal() p: Principal, @Body() body: Static<typeof ExecutionClassBody>) {
    return this.send('execution-class', p, body);
  }

  @Route({
    method: 'POST',
    path: 'checklist-facts',
    summary: 'Record a go-live checklist fact by hand (reportedBy is the caller)',
    access: 'admin',
    body: ChecklistFactBody,
    response: CommandReply,
    example: { body: { item: 'auditChainVerified', passed: true, evidence: 'GET /api/v1/audit/verify ok' } },
  })
  recordChecklistFact(@CurrentPrincipal() p: Principal, @Body() body: Static<typeof ChecklistFactBody>) {
    return this.send('checklist-fact', p, { ...body, reportedBy: `api-gateway:${p.id}` });
  }

  @Route({
    method: 'POST',
    path: 'engines/:engineId/mode',
    summary: "Set how the gate's verdicts apply to an engine: enforce, observe (dry run) or off",
    access: 'admin',
    params: EngineParams,
    body: EngineModeBody,
    response: CommandReply,
    example: { body: { mode: 'observe', reason: 'shadow week' } },
  })
  setEngineMode(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineParams>,
    @Body() body: Static<typeof EngineModeBody>,
  ) {
    return this.send('engine-mode', p, { ...body, engineId: params.engineId });
  }

  @Route({
    method: 'POST',
    path: 'engines/:engineId/pause',
    summary: 'Pause an engine until resumed or until the optional cooldown passes',
    access: 'operator',
    params: EngineParams,
    body: EnginePauseBody,
    response: CommandReply,
    example: { body: { reason: 'investigating', cooldownUntil: '2026-11-21T22:00:00.000Z' } },
  })
  pauseEngine(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineParams>,
    @Body() body: Static<typeof EnginePauseBody>,
  ) {
    return this.send('engine.pause', p, { ...body, engineId: params.engineId });
  }

  @Route({
    method: 'POST',
    path: 'engines/:engineId/resume',
    summary: "Lift an engine's pause",
    access: 'operator',
    params: EngineParams,
    body: EngineResumeBody,
    response: CommandReply,
    example: { body: { reason: 'all clear' } },
  })
  resumeEngine(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineParams>,
    @Body() body: Static<typeof EngineResumeBody>,
  ) {
    return this.send('engine.resume', p, { ...body, engineId: params.engineId });
  }
}
