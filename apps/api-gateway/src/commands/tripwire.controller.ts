import { Body, Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  EntityId,
  EvaluateTripwireCommand,
  ResetTripwireCommand,
  TripwireEvaluation,
  TripwirePolicyCommand,
  TripwirePolicyId,
  TripwirePolicyView,
  UpsertTripwirePolicyCommand,
  object,
} from '@bifrost/contracts';
import { actorOf, type Principal } from '../auth/roles';
import { ProblemError } from '../http/problem';
import { ApiController, CurrentPrincipal, Route, ValidParams } from '../http/route';
import { GatewayRpc } from './gateway-rpc.service';

const PolicyParams = object({ policyId: TripwirePolicyId });
const EngineParams = object({ policyId: TripwirePolicyId, engineId: EntityId });
const UpsertBody = Type.Omit(UpsertTripwirePolicyCommand, ['actor']);
const PolicyBody = Type.Omit(TripwirePolicyCommand, ['actor', 'policyId']);
const ResetBody = Type.Omit(ResetTripwireCommand, ['actor', 'policyId', 'engineId']);
const EvaluateBody = Type.Omit(EvaluateTripwireCommand, ['actor']);
const EngineView = TripwirePolicyView.properties.engines.items;

/**
 * Tripwire (KPI regression detection): live policies with every engine's windows and evaluation,
 * operator policy commands, reset, evaluate now (`bifrost.rpc.tripwire.*`). KPIs come in over
 * `POST /api/v1/engine/kpi`.
 */
@ApiController('tripwire', 'tripwire')
export class TripwireController {
  constructor(@Inject(GatewayRpc) private readonly rpc: GatewayRpc) {}

  @Route({
    method: 'GET',
    path: 'policies',
    summary: 'The regression policies with the state and current evaluation of every engine, live',
    access: 'viewer',
    response: object({ policies: Type.Array(TripwirePolicyView) }),
  })
  policies() {
    return this.rpc.call('bifrost.rpc.tripwire.policies', {});
  }

  @Route({
    method: 'GET',
    path: 'policies/:policyId',
    summary: 'One policy (`<domain>-<metric>`) with every engine, live',
    access: 'viewer',
    params: PolicyParams,
    response: TripwirePolicyView,
  })
  async policy(@ValidParams() params: Static<typeof PolicyParams>) {
    return this.find(params.policyId);
  }

  @Route({
    method: 'GET',
    path: 'policies/:policyId/engines/:engineId',
    summary: "One engine's windows of a policy: observed count, tripped or not, the current evidence",
    access: 'viewer',
    params: EngineParams,
    response: EngineView,
  })
  async engine(@ValidParams() params: Static<typeof EngineParams>) {
    const view = await this.find(params.policyId);
    const engine = view.engines.find((e) => e.engineId === params.engineId);
    if (!engine) {
      throw new ProblemError(
        'notFound',
        `no KPI of ${params.engineId} for tripwire policy ${params.policyId}`,
        'TRIPWIRE.ENGINE_UNKNOWN',
      );
    }
    return engine;
  }

  @Route({
    method: 'POST',
    path: 'policies',
    summary:
      'Create the policy of a (domain, metric), disabled unless `enabled` is true, or change its settings',
    access: 'admin',
    body: UpsertBody,
    response: TripwirePolicyView,
    example: {
      body: {
        reason: 'tighter after the Q4 review',
        domain: 'WHOLESALE',
        metric: 'contract_rate',
        recentWindow: 100,
        baselineWindow: 500,
        maxDropPct: 25,
        minEvents: 50,
        action: 'THROTTLE',
        enabled: true,
        confidence: 0.95,
      },
    },
  })
  upsert(@CurrentPrincipal() p: Principal, @Body() body: Static<typeof UpsertBody>) {
    return this.rpc.call('bifrost.rpc.tripwire.cmd.upsert-policy', { ...body, actor: actorOf(p) });
  }

  @Route({
    method: 'POST',
    path: 'policies/:policyId/enable',
    summary: 'Enable a policy (then evaluate now to trip what already regressed)',
    access: 'operator',
    params: PolicyParams,
    body: PolicyBody,
    response: TripwirePolicyView,
    example: { body: { reason: 'capital is live' } },
  })
  enable(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof PolicyParams>,
    @Body() body: Static<typeof PolicyBody>,
  ) {
    return this.rpc.call('bifrost.rpc.tripwire.cmd.enable-policy', {
      ...body,
      policyId: params.policyId,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'POST',
    path: 'policies/:policyId/disable',
    summary: 'Disable a policy: its windows keep filling, it trips nothing',
    access: 'admin',
    params: PolicyParams,
    body: PolicyBody,
    response: TripwirePolicyView,
    example: { body: { reason: 'noisy during the migration' } },
  })
  disable(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof PolicyParams>,
    @Body() body: Static<typeof PolicyBody>,
  ) {
    return this.rpc.call('bifrost.rpc.tripwire.cmd.disable-policy', {
      ...body,
      policyId: params.policyId,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'POST',
    path: 'policies/:policyId/engines/:engineId/reset',
    summary:
      "Reset an engine's windows (re-baseline) and re-arm the policy; lift the throttle or release the kill switch separately",
    access: 'operator',
    params: EngineParams,
    body: ResetBody,
    response: TripwirePolicyView,
    example: { body: { reason: 'contract flow fixed' } },
  })
  reset(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof EngineParams>,
    @Body() body: Static<typeof ResetBody>,
  ) {
    return this.rpc.call('bifrost.rpc.tripwire.cmd.reset', {
      ...body,
      policyId: params.policyId,
      engineId: params.engineId,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'POST',
    path: 'evaluate',
    summary: 'Evaluate one policy (or all) now: trips what should trip, returns every evaluation',
    access: 'operator',
    body: EvaluateBody,
    response: object({ evaluations: Type.Array(TripwireEvaluation) }),
    example: { body: { policyId: 'WHOLESALE-contract_rate' } },
  })
  evaluate(@CurrentPrincipal() p: Principal, @Body() body: Static<typeof EvaluateBody>) {
    return this.rpc.call('bifrost.rpc.tripwire.cmd.evaluate', { ...body, actor: actorOf(p) });
  }

  private async find(policyId: string): Promise<Static<typeof TripwirePolicyView>> {
    const { policies } = await this.rpc.call<{ policies: Static<typeof TripwirePolicyView>[] }>(
      'bifrost.rpc.tripwire.policies',
      {},
    );
    const found = policies.find((p) => p.policyId === policyId);
    if (!found)
      throw new ProblemError('notFound', `no tripwire policy ${policyId}`, 'TRIPWIRE.POLICY_UNKNOWN');
    return found;
  }
}
