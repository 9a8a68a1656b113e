import { Body, Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  LedgerView,
  PolicyCommand,
  ReconcileRequest,
  ReservationId,
  ReservationReply,
  RiskPolicy,
  RiskPolicyId,
  UpsertPolicyCommand,
  object,
} from '@bifrost/contracts';
import { actorOf, type Principal } from '../auth/roles';
import { ApiController, CurrentPrincipal, Route, ValidParams } from '../http/route';
import { GatewayRpc } from './gateway-rpc.service';

const PolicyParams = object({ policyId: RiskPolicyId });
const ReservationParams = object({ reservationId: ReservationId });
const UpsertBody = Type.Omit(UpsertPolicyCommand, ['actor', 'policyId']);
const PolicyBody = Type.Omit(PolicyCommand, ['actor', 'policyId']);
const ReconcileBody = Type.Omit(ReconcileRequest, ['actor', 'reservationId']);

const limitsExample = {
  maxDailyLoss: { amount: 500_000, currency: 'USD' },
  maxDailyExposure: { amount: 5_000_000, currency: 'USD' },
  maxDailyActions: 500,
};

/** Risk guard: live policies and ledger, operator policy commands, reconciliation (`bifrost.rpc.risk.*`). */
@ApiController('risk', 'risk')
export class RiskController {
  constructor(@Inject(GatewayRpc) private readonly rpc: GatewayRpc) {}

  @Route({
    method: 'GET',
    path: 'policies',
    summary: 'The risk policies in force (GLOBAL and per engine), live from the risk guard',
    access: 'viewer',
    response: object({ policies: Type.Array(RiskPolicy) }),
  })
  policies() {
    return this.rpc.call('bifrost.rpc.risk.policies', {});
  }

  @Route({
    method: 'GET',
    path: 'ledger/today',
    summary: "Today's ledger: usage per policy and the open reservations, live from the risk guard",
    access: 'viewer',
    response: LedgerView,
  })
  ledger() {
    return this.rpc.call('bifrost.rpc.risk.ledger', {});
  }

  @Route({
    method: 'PUT',
    path: 'policies/:policyId',
    summary: 'Create a policy or change its limits (GLOBAL or an engine id)',
    access: 'admin',
    params: PolicyParams,
    body: UpsertBody,
    response: RiskPolicy,
    example: { body: { ...limitsExample, reason: 'Q4 limits', enabled: true } },
  })
  upsertPolicy(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof PolicyParams>,
    @Body() body: Static<typeof UpsertBody>,
  ) {
    return this.rpc.call('bifrost.rpc.risk.cmd.upsert-policy', {
      ...body,
      policyId: params.policyId,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'POST',
    path: 'policies/:policyId/enable',
    summary: 'Enable a policy',
    access: 'admin',
    params: PolicyParams,
    body: PolicyBody,
    response: RiskPolicy,
    example: { body: { reason: 'back to normal' } },
  })
  enable(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof PolicyParams>,
    @Body() body: Static<typeof PolicyBody>,
  ) {
    return this.policyCommand('enable-policy', p, params, body);
  }

  @Route({
    method: 'POST',
    path: 'policies/:policyId/disable',
    summary: 'Disable a policy: its engine (every engine for GLOBAL) is denied',
    access: 'operator',
    params: PolicyParams,
    body: PolicyBody,
    response: RiskPolicy,
    example: { body: { reason: 'incident' } },
  })
  disable(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof PolicyParams>,
    @Body() body: Static<typeof PolicyBody>,
  ) {
    return this.policyCommand('disable-policy', p, params, body);
  }

  @Route({
    method: 'POST',
    path: 'policies/:policyId/throttle',
    summary: 'Throttle a policy by hand: reservations are denied with THROTTLED',
    access: 'operator',
    params: PolicyParams,
    body: PolicyBody,
    response: RiskPolicy,
    example: { body: { reason: 'volatility' } },
  })
  throttle(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof PolicyParams>,
    @Body() body: Static<typeof PolicyBody>,
  ) {
    return this.policyCommand('throttle-policy', p, params, body);
  }

  @Route({
    method: 'POST',
    path: 'policies/:policyId/lift-throttle',
    summary: 'Lift a throttle (tripwire or manual)',
    access: 'admin',
    params: PolicyParams,
    body: PolicyBody,
    response: RiskPolicy,
    example: { body: { reason: 'regression resolved' } },
  })
  liftThrottle(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof PolicyParams>,
    @Body() body: Static<typeof PolicyBody>,
  ) {
    return this.policyCommand('lift-throttle', p, params, body);
  }

  @Route({
    method: 'POST',
    path: 'reservations/:reservationId/reconcile',
    summary: "Close an UNRESOLVED reservation with its realized loss, on the engine's behalf",
    access: 'operator',
    params: ReservationParams,
    body: ReconcileBody,
    response: ReservationReply,
    example: {
      body: {
        engineId: 'wholesale-bot',
        realizedLoss: { amount: 1200, currency: 'USD' },
        note: 'broker statement',
      },
    },
  })
  reconcile(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof ReservationParams>,
    @Body() body: Static<typeof ReconcileBody>,
  ) {
    return this.rpc.call('bifrost.rpc.risk.reconcile', {
      ...body,
      reservationId: params.reservationId,
      actor: actorOf(p),
    });
  }

  private policyCommand(
    operation: string,
    p: Principal,
    params: Static<typeof PolicyParams>,
    body: Static<typeof PolicyBody>,
  ) {
    return this.rpc.call(`bifrost.rpc.risk.cmd.${operation}`, {
      ...body,
      policyId: params.policyId,
      actor: actorOf(p),
    });
  }
}
