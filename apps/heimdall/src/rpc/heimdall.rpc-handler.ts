import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  EvaluateRecommendationRequest,
  HeimdallProdUseCommand,
  UpsertHeimdallPolicyCommand,
  type EvaluateRecommendationReply,
  type HeimdallCommandReply,
  type HeimdallDomainView,
  object,
} from '@bifrost/contracts';
import { rpcRoute } from '@bifrost/messaging';
import { HeimdallCommands } from '../commands/heimdall-commands.service';
import { HeimdallEvaluator } from '../evaluate/heimdall-evaluator.service';

const Empty = object({});

/** `bifrost.rpc.heimdall.*`: engines ask before a recommendation reaches production, operators steer. */
@Controller()
export class HeimdallRpcHandler {
  constructor(
    @Inject(HeimdallEvaluator) private readonly evaluator: HeimdallEvaluator,
    @Inject(HeimdallCommands) private readonly commands: HeimdallCommands,
  ) {}

  @MessagePattern('bifrost.rpc.heimdall.evaluate', rpcRoute({ request: EvaluateRecommendationRequest }))
  evaluate(@Payload() request: EvaluateRecommendationRequest): Promise<EvaluateRecommendationReply> {
    return this.evaluator.evaluate(request, { kind: 'engine', id: request.engineId });
  }

  @MessagePattern(
    'bifrost.rpc.heimdall.cmd.upsert-policy',
    rpcRoute({ request: UpsertHeimdallPolicyCommand }),
  )
  upsertPolicy(@Payload() command: UpsertHeimdallPolicyCommand): Promise<HeimdallCommandReply> {
    return this.commands.upsertPolicy(command);
  }

  @MessagePattern('bifrost.rpc.heimdall.cmd.enable-prod-use', rpcRoute({ request: HeimdallProdUseCommand }))
  enableProdUse(@Payload() command: HeimdallProdUseCommand): Promise<HeimdallCommandReply> {
    return this.commands.enableProdUse(command);
  }

  @MessagePattern('bifrost.rpc.heimdall.cmd.disable-prod-use', rpcRoute({ request: HeimdallProdUseCommand }))
  disableProdUse(@Payload() command: HeimdallProdUseCommand): Promise<HeimdallCommandReply> {
    return this.commands.disableProdUse(command);
  }

  @MessagePattern('bifrost.rpc.heimdall.policies', rpcRoute({ request: Empty }))
  async policies(): Promise<{ domains: HeimdallDomainView[] }> {
    return { domains: await this.commands.views() };
  }
}
