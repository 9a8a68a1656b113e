import 'reflect-metadata';
import { PATTERN_EXTRAS_METADATA, PATTERN_METADATA } from '@nestjs/microservices/constants';
import { catalogue } from '@bifrost/contracts';
import { loadConfig } from '@bifrost/config';
import type { ServiceDefinition } from '@bifrost/service';
import type { TObject } from '@sinclair/typebox';
/* eslint-disable @nx/enforce-module-boundaries -- the spec reads every service's routes */
import { CanaryConfig, canaryService } from '@bifrost/canary';
import { GateConfig, gateService } from '@bifrost/gate';
import { GovernanceAgentConfig, governanceAgentService } from '@bifrost/governance-agent';
import { HeimdallConfig, heimdallService } from '@bifrost/heimdall';
import { RiskGuardConfig, riskGuardService } from '@bifrost/risk-guard';
import { TripwireConfig, tripwireService } from '@bifrost/tripwire';
/* eslint-enable @nx/enforce-module-boundaries */

/** Every service that answers requests on `bifrost.rpc.*`, with the config its definition is built from. */
const SERVICES: [ServiceDefinition<never>, TObject][] = [
  [gateService as ServiceDefinition<never>, GateConfig],
  [riskGuardService as ServiceDefinition<never>, RiskGuardConfig],
  [tripwireService as ServiceDefinition<never>, TripwireConfig],
  [heimdallService as ServiceDefinition<never>, HeimdallConfig],
  [canaryService as ServiceDefinition<never>, CanaryConfig],
  [governanceAgentService as ServiceDefinition<never>, GovernanceAgentConfig],
];

/** The request-reply routes a service's handlers declare: subject and the schema requests are checked against. */
function servedRoutes(definition: ServiceDefinition<never>, config: TObject) {
  const controllers = definition.app(loadConfig(config, {}) as never).controllers ?? [];
  return controllers.flatMap((controller) => {
    const prototype = (controller as { prototype: Record<string, unknown> }).prototype;
    return Object.getOwnPropertyNames(prototype).flatMap((method) => {
      const handler = prototype[method] as object;
      const pattern: unknown = Reflect.getMetadata(PATTERN_METADATA, handler);
      if (pattern === undefined) return [];
      const subject = String(Array.isArray(pattern) ? pattern[0] : pattern);
      if (!subject.startsWith('bifrost.rpc.')) return [];
      const extras = Reflect.getMetadata(PATTERN_EXTRAS_METADATA, handler) as
        | { request?: unknown }
        | undefined;
      return [{ subject, request: extras?.request }];
    });
  });
}

const documented = new Map(catalogue.rpcs.map((rpc) => [`bifrost.rpc.${rpc.service}.${rpc.operation}`, rpc]));
const served = SERVICES.flatMap(([definition, config]) => servedRoutes(definition, config));

describe('The RPC contract (docs/asyncapi.json, docs/events.md) and the routes the services serve', () => {
  it('Given every service, then it serves request-reply routes', () => {
    expect(served.length).toBeGreaterThan(50);
  });

  it.each(served.map((route) => [route.subject, route] as const))(
    'Given the route %s, then the catalogue documents it with the schema its requests are checked against',
    (subject, route) => {
      const rpc = documented.get(subject);
      expect(rpc).toBeDefined();
      expect(route.request).toBeDefined();
      expect(route.request).toStrictEqual(rpc?.request);
    },
  );

  it('Given every documented operation, then a service serves it (the ping routes come with every service)', () => {
    const servedSubjects = new Set(served.map((route) => route.subject));
    const unserved = [...documented.keys()].filter(
      (subject) => !servedSubjects.has(subject) && !subject.endsWith('.ping'),
    );
    expect(unserved).toEqual([]);
  });
});
