import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  GateApprovalRequest,
  GateCheckRequest,
  GatePolicyRequest,
  type GateApprovalReply,
  type GateCheckReply,
  type GatePolicyInForce,
} from '@bifrost/contracts';
import { rpcRoute, type EncodedJson } from '@bifrost/messaging';
import { GateCheckService } from './gate-check.service';

@Controller()
export class GateCheckRpcHandler {
  constructor(@Inject(GateCheckService) private readonly gate: GateCheckService) {}

  /** `bifrost.rpc.gate.check`: the engine asks before it acts. */
  @MessagePattern('bifrost.rpc.gate.check', rpcRoute({ request: GateCheckRequest }))
  check(@Payload() request: GateCheckRequest): Promise<EncodedJson<GateCheckReply>> {
    return this.gate.check(request, { kind: 'engine', id: request.engineId });
  }

  /** `bifrost.rpc.gate.approval`: after REQUIRE_APPROVAL, the engine asks whether it was granted. */
  @MessagePattern('bifrost.rpc.gate.approval', rpcRoute({ request: GateApprovalRequest }))
  approval(@Payload() request: GateApprovalRequest): Promise<GateApprovalReply> {
    return this.gate.approval(request);
  }

  /** `bifrost.rpc.gate.policy`: the policies in force now and their revision. */
  @MessagePattern('bifrost.rpc.gate.policy', rpcRoute({ request: GatePolicyRequest }))
  policy(): Promise<GatePolicyInForce> {
    return this.gate.policyInForce();
  }
}
