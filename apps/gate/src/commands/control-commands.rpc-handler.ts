import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
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
import type { ControlCommand } from '@bifrost/domain-gate';
import { rpcRoute, type CommandResult } from '@bifrost/messaging';
import { GateCommands } from './gate-commands.service';

type Payloads = { [C in ControlCommand as C['type']]: Omit<C['data'], 'now'> };

/**
 * Operator commands on the control plane, `bifrost.rpc.gate.cmd.<name>`. The caller (the API
 * gateway) puts the authenticated principal in `actor`; every resulting event carries it.
 */
@Controller()
export class ControlCommandsRpcHandler {
  constructor(@Inject(GateCommands) private readonly commands: GateCommands) {}

  private run<T extends keyof Payloads>(type: T, data: Payloads[T]): Promise<CommandResult> {
    // Timed when decided, under the control plane's lock, not when the request arrived.
    const command = () => ({ type, data: { ...data, now: new Date().toISOString() } }) as ControlCommand;
    return this.commands.control(command, data.actor);
  }

  @MessagePattern('bifrost.rpc.gate.cmd.go-live.enable', rpcRoute({ request: EnableGoLiveCommand }))
  enableGoLive(@Payload() data: EnableGoLiveCommand) {
    return this.run('EnableGoLive', data);
  }

  @MessagePattern('bifrost.rpc.gate.cmd.go-live.disable', rpcRoute({ request: DisableGoLiveCommand }))
  disableGoLive(@Payload() data: DisableGoLiveCommand) {
    return this.run('DisableGoLive', data);
  }

  @MessagePattern('bifrost.rpc.gate.cmd.checklist-fact', rpcRoute({ request: RecordChecklistFactCommand }))
  recordChecklistFact(@Payload() data: RecordChecklistFactCommand) {
    return this.run('RecordChecklistFact', data);
  }

  @MessagePattern('bifrost.rpc.gate.cmd.kill-switch.engage', rpcRoute({ request: EngageKillSwitchCommand }))
  engageKillSwitch(@Payload() data: EngageKillSwitchCommand) {
    return this.run('EngageKillSwitch', data);
  }

  @MessagePattern('bifrost.rpc.gate.cmd.kill-switch.release', rpcRoute({ request: ReleaseKillSwitchCommand }))
  releaseKillSwitch(@Payload() data: ReleaseKillSwitchCommand) {
    return this.run('ReleaseKillSwitch', data);
  }

  @MessagePattern('bifrost.rpc.gate.cmd.execution-class', rpcRoute({ request: SetExecutionClassCommand }))
  setExecutionClass(@Payload() data: SetExecutionClassCommand) {
    return this.run('SetExecutionClass', data);
  }

  @MessagePattern('bifrost.rpc.gate.cmd.engine-mode', rpcRoute({ request: SetEngineModeCommand }))
  setEngineMode(@Payload() data: SetEngineModeCommand) {
    return this.run('SetEngineMode', data);
  }

  @MessagePattern('bifrost.rpc.gate.cmd.engine.pause', rpcRoute({ request: PauseEngineCommand }))
  pauseEngine(@Payload() data: PauseEngineCommand) {
    return this.run('PauseEngine', data);
  }

  @MessagePattern('bifrost.rpc.gate.cmd.engine.resume', rpcRoute({ request: ResumeEngineCommand }))
  resumeEngine(@Payload() data: ResumeEngineCommand) {
    return this.run('ResumeEngine', data);
  }
}
