import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  EvaluateTripwireCommand,
  ResetTripwireCommand,
  TripwirePolicyCommand,
  UpsertTripwirePolicyCommand,
  object,
} from '@bifrost/contracts';
import { rpcRoute } from '@bifrost/messaging';
import { TripwireCommands } from '../commands/tripwire-commands.service';

const Empty = object({});

/**
 * `bifrost.rpc.tripwire.*`: operators steer policies, reset tripped engines and evaluate on demand.
 * The caller (the API gateway) puts the authenticated principal in `actor`; every event carries it.
 */
@Controller()
export class TripwireRpcHandler {
  constructor(@Inject(TripwireCommands) private readonly commands: TripwireCommands) {}

  @MessagePattern(
    'bifrost.rpc.tripwire.cmd.upsert-policy',
    rpcRoute({ request: UpsertTripwirePolicyCommand }),
  )
  upsertPolicy(@Payload() command: UpsertTripwirePolicyCommand): Promise<unknown> {
    return this.commands.upsertPolicy(command);
  }

  @MessagePattern('bifrost.rpc.tripwire.cmd.enable-policy', rpcRoute({ request: TripwirePolicyCommand }))
  enablePolicy(@Payload() command: TripwirePolicyCommand): Promise<unknown> {
    return this.commands.togglePolicy(true, command);
  }

  @MessagePattern('bifrost.rpc.tripwire.cmd.disable-policy', rpcRoute({ request: TripwirePolicyCommand }))
  disablePolicy(@Payload() command: TripwirePolicyCommand): Promise<unknown> {
    return this.commands.togglePolicy(false, command);
  }

  @MessagePattern('bifrost.rpc.tripwire.cmd.reset', rpcRoute({ request: ResetTripwireCommand }))
  reset(@Payload() command: ResetTripwireCommand): Promise<unknown> {
    return this.commands.reset(command);
  }

  @MessagePattern('bifrost.rpc.tripwire.cmd.evaluate', rpcRoute({ request: EvaluateTripwireCommand }))
  evaluate(@Payload() command: EvaluateTripwireCommand): Promise<unknown> {
    return this.commands.evaluate(command.actor, command.policyId);
  }

  @MessagePattern('bifrost.rpc.tripwire.policies', rpcRoute({ request: Empty }))
  policies(): Promise<unknown> {
    return this.commands.policies();
  }
}
