import { Body, Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  EvaluateRecommendationReply,
  EvaluateRecommendationRequest,
  HeimdallCommandReply,
  HeimdallDomainId,
  HeimdallDomainView,
  HeimdallProdUseCommand,
  UpsertHeimdallPolicyCommand,
  object,
} from '@bifrost/contracts';
import { actorOf, type Principal } from '../auth/roles';
import { ApiController, CurrentPrincipal, Route, ValidParams } from '../http/route';
import { GatewayRpc } from './gateway-rpc.service';

const DomainParams = object({ domain: HeimdallDomainId });
const UpsertBody = Type.Omit(UpsertHeimdallPolicyCommand, ['actor', 'domain']);
const ProdUseBody = Type.Omit(HeimdallProdUseCommand, ['actor', 'domain']);

/** The reply of docs/heimdall.md "Example evaluation reply". */
const EVALUATION_EXAMPLE = {
  evaluationId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b',
  engineId: 'offer-bot',
  domain: 'WHOLESALE_OFFER',
  recommendationId: 'offer-8812',
  outcome: 'INCONCLUSIVE',
  eligible: false,
  action: 'REQUIRE_APPROVAL',
  riskLevel: 'LOW',
  gates: [
    {
      name: 'heimdall.policy',
      outcome: 'ALLOW',
      result: 'PASS',
      value: true,
      threshold: true,
      distanceToTrip: null,
      reason: 'the domain has a policy',
    },
    {
      name: 'heimdall.confidence',
      outcome: 'ALLOW',
      result: 'PASS',
      value: 0.95,
      threshold: 0.92,
      distanceToTrip: 0.03,
      reason: 'confidence 0.95 ≥ 0.92',
    },
    {
      name: 'heimdall.sandboxTrials',
      outcome: 'REQUIRE_APPROVAL',
      result: 'PENDING',
      value: 12,
      threshold: 50,
      distanceToTrip: -38,
      reason: '12 sandbox trials < 50: not enough evidence yet',
    },
    {
      name: 'heimdall.sandboxSuccessRate',
      outcome: 'REQUIRE_APPROVAL',
      result: 'PENDING',
      value: 0.9166666666666666,
      threshold: 0.8,
      distanceToTrip: 0.116666667,
      reason: 'success rate 0.917 not conclusive before 50 trials',
    },
    {
      name: 'heimdall.prodUse',
      outcome: 'REQUIRE_APPROVAL',
      result: 'PENDING',
      value: false,
      threshold: true,
      distanceToTrip: null,
      reason: 'the domain is not in prod use yet (sandbox evidence pending)',
    },
  ],
  scorecard: {
    trials: 12,
    successes: 11,
    successRate: 0.9166666666666666,
  },
  policyRevision: '9f2c4e0b8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b',
  decidedAt: '2026-11-21T20:42:55.123Z',
};

/** Heimdall: live domain policies and scorecards, operator policy and prod-use commands (`bifrost.rpc.heimdall.*`). */
@ApiController('heimdall', 'heimdall')
export class HeimdallController {
  constructor(@Inject(GatewayRpc) private readonly rpc: GatewayRpc) {}

  @Route({
    method: 'GET',
    path: 'policies',
    summary: 'Every recommendation domain with its policy and sandbox scorecard, live from Heimdall',
    access: 'viewer',
    response: object({ domains: Type.Array(HeimdallDomainView) }),
  })
  policies() {
    return this.rpc.call('bifrost.rpc.heimdall.policies', {});
  }

  @Route({
    method: 'PUT',
    path: 'policies/:domain',
    summary: "Create a domain's policy or change its thresholds (prod use is unchanged)",
    access: 'admin',
    params: DomainParams,
    body: UpsertBody,
    response: HeimdallCommandReply,
    example: {
      body: { minConfidence: 0.92, minSandboxTrials: 50, minSandboxSuccessRate: 0.8, reason: 'Q4 charter' },
    },
  })
  upsertPolicy(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof DomainParams>,
    @Body() body: Static<typeof UpsertBody>,
  ) {
    return this.rpc.call('bifrost.rpc.heimdall.cmd.upsert-policy', {
      ...body,
      domain: params.domain,
      actor: actorOf(p),
    });
  }

  @Route({
    method: 'POST',
    path: 'policies/:domain/prod-use/enable',
    summary:
      'Promote a domain to prod use: refused (event ProdUseRefused, failing gates attached) while its scorecard is below the bar',
    access: 'admin',
    params: DomainParams,
    body: ProdUseBody,
    response: HeimdallCommandReply,
    example: { body: { reason: 'Friday review: 94 % over 120 trials' } },
  })
  enableProdUse(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof DomainParams>,
    @Body() body: Static<typeof ProdUseBody>,
  ) {
    return this.prodUse('enable-prod-use', p, params, body);
  }

  @Route({
    method: 'POST',
    path: 'policies/:domain/prod-use/disable',
    summary: 'Take a domain out of prod use: its recommendations are no longer eligible',
    access: 'operator',
    params: DomainParams,
    body: ProdUseBody,
    response: HeimdallCommandReply,
    example: { body: { reason: 'customer complaints' } },
  })
  disableProdUse(
    @CurrentPrincipal() p: Principal,
    @ValidParams() params: Static<typeof DomainParams>,
    @Body() body: Static<typeof ProdUseBody>,
  ) {
    return this.prodUse('disable-prod-use', p, params, body);
  }

  private prodUse(
    operation: string,
    p: Principal,
    params: Static<typeof DomainParams>,
    body: Static<typeof ProdUseBody>,
  ) {
    return this.rpc.call(`bifrost.rpc.heimdall.cmd.${operation}`, {
      ...body,
      domain: params.domain,
      actor: actorOf(p),
    });
  }
}

/** The engine endpoint of Heimdall, for engines that do not speak NATS (same semantics as the rpc). */
@ApiController('engine', 'engine')
export class HeimdallEngineController {
  constructor(@Inject(GatewayRpc) private readonly rpc: GatewayRpc) {}

  @Route({
    method: 'POST',
    path: 'evaluate',
    summary:
      'Before an AI recommendation reaches production: every Heimdall gate, explained (503 means fail closed: not eligible)',
    access: 'engine',
    engineScoped: true,
    body: EvaluateRecommendationRequest,
    response: EvaluateRecommendationReply,
    example: {
      body: {
        engineId: 'offer-bot',
        domain: 'WHOLESALE_OFFER',
        confidence: 0.95,
        recommendationId: 'offer-8812',
      },
      response: EVALUATION_EXAMPLE,
    },
  })
  evaluate(@Body() body: EvaluateRecommendationRequest) {
    return this.rpc.call('bifrost.rpc.heimdall.evaluate', body);
  }
}
