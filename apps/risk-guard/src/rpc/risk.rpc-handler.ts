import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  PolicyCommand,
  ReconcileRequest,
  ReleaseRequest,
  ReserveRequest,
  SettleRequest,
  UpsertPolicyCommand,
  type Actor,
  object,
} from '@bifrost/contracts';
import type { PolicyCommand as DomainPolicyCommand } from '@bifrost/domain-risk';
import { requireOperatorActor } from '@bifrost/event-sourcing';
import { rpcRoute } from '@bifrost/messaging';
import { RiskDesk } from '../ledger/risk-desk';

const Empty = object({});

/** `bifrost.rpc.risk.*`: engines reserve and settle, operators steer policies. */
@Controller()
export class RiskRpcHandler {
  constructor(@Inject(RiskDesk) private readonly desk: RiskDesk) {}

  @MessagePattern('bifrost.rpc.risk.reserve', rpcRoute({ request: ReserveRequest }))
  reserve(@Payload() request: ReserveRequest): Promise<unknown> {
    return this.desk.execute({ op: 'reserve', request });
  }

  @MessagePattern('bifrost.rpc.risk.settle', rpcRoute({ request: SettleRequest }))
  settle(@Payload() request: SettleRequest): Promise<unknown> {
    return this.desk.execute({ op: 'settle', request });
  }

  @MessagePattern('bifrost.rpc.risk.release', rpcRoute({ request: ReleaseRequest }))
  release(@Payload() request: ReleaseRequest): Promise<unknown> {
    return this.desk.execute({ op: 'release', request });
  }

  @MessagePattern('bifrost.rpc.risk.reconcile', rpcRoute({ request: ReconcileRequest }))
  reconcile(@Payload() request: ReconcileRequest): Promise<unknown> {
    return this.desk.execute({ op: 'reconcile', request });
  }

  @MessagePattern('bifrost.rpc.risk.cmd.upsert-policy', rpcRoute({ request: UpsertPolicyCommand }))
  upsertPolicy(@Payload() c: UpsertPolicyCommand): Promise<unknown> {
    const { actor, reason, policyId, maxDailyLoss, maxDailyExposure, maxDailyActions, enabled } = c;
    return this.policy(actor, {
      type: 'DefinePolicy',
      data: {
        ...change(actor, reason, policyId),
        limits: { maxDailyLoss, maxDailyExposure, maxDailyActions },
        ...(enabled === undefined ? {} : { enabled }),
      },
    });
  }

  @MessagePattern('bifrost.rpc.risk.cmd.enable-policy', rpcRoute({ request: PolicyCommand }))
  enablePolicy(@Payload() c: PolicyCommand): Promise<unknown> {
    return this.policy(c.actor, { type: 'EnablePolicy', data: change(c.actor, c.reason, c.policyId) });
  }

  @MessagePattern('bifrost.rpc.risk.cmd.disable-policy', rpcRoute({ request: PolicyCommand }))
  disablePolicy(@Payload() c: PolicyCommand): Promise<unknown> {
    return this.policy(c.actor, { type: 'DisablePolicy', data: change(c.actor, c.reason, c.policyId) });
  }

  @MessagePattern('bifrost.rpc.risk.cmd.throttle-policy', rpcRoute({ request: PolicyCommand }))
  throttlePolicy(@Payload() c: PolicyCommand): Promise<unknown> {
    return this.policy(c.actor, { type: 'ThrottlePolicy', data: change(c.actor, c.reason, c.policyId) });
  }

  @MessagePattern('bifrost.rpc.risk.cmd.lift-throttle', rpcRoute({ request: PolicyCommand }))
  liftThrottle(@Payload() c: PolicyCommand): Promise<unknown> {
    return this.policy(c.actor, { type: 'LiftThrottle', data: change(c.actor, c.reason, c.policyId) });
  }

  @MessagePattern('bifrost.rpc.risk.policies', rpcRoute({ request: Empty }))
  policies(): Promise<unknown> {
    return this.desk.execute({ op: 'policies' });
  }

  @MessagePattern('bifrost.rpc.risk.ledger', rpcRoute({ request: Empty }))
  ledger(): Promise<unknown> {
    return this.desk.execute({ op: 'ledger' });
  }

  private policy(actor: Actor, command: DomainPolicyCommand): Promise<unknown> {
    return this.desk.execute({ op: 'policy', command, actor });
  }
}

function change(actor: Actor, reason: string, policyId: string) {
  requireOperatorActor(actor, 'policy commands are for operators', 'RISK.OPERATOR_ONLY');
  // The service stamps the time; the operator is the actor the gateway authenticated.
  return {
    policyId,
    now: new Date().toISOString(),
    cause: { kind: 'operator' as const, id: actor.id, reason },
  };
}
