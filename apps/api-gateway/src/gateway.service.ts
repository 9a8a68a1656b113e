import { APP_FILTER } from '@nestjs/core';
import type { ServiceDefinition } from '@bifrost/service';
import { AuthController } from './auth/auth.controller';
import { AuthService } from './auth/auth.service';
import { KeyStore } from './auth/key-store.service';
import { ControlController } from './commands/control.controller';
import { GatewayRpc } from './commands/gateway-rpc.service';
import { GovernanceController } from './commands/governance.controller';
import { RiskController } from './commands/risk.controller';
import { StrategiesController } from './commands/strategies.controller';
import { TripwireController } from './commands/tripwire.controller';
import { CanaryController } from './commands/canary.controller';
import { HeimdallController, HeimdallEngineController } from './commands/heimdall.controller';
import { DocsController, OPENAPI_DOCUMENT } from './docs/docs.controller';
import { EngineController } from './engine/engine.controller';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway.config';
import { GatewayGuard } from './http/gateway.guard';
import { buildOpenApi } from './http/openapi';
import { ProblemFilter } from './http/problem.filter';
import { RateLimits } from './http/rate-limit.service';
import { RouteSpans } from './http/route-spans';
import { KeysController } from './keys/keys.controller';
import { AuditController } from './reads/audit.controller';
import { DecisionStreamController } from './reads/decision-stream.controller';
import { GovernanceReadController } from './reads/governance.reads.controller';
import { ReadModels } from './reads/read-models.service';
import {
  ApprovalsController,
  ControlReadController,
  DecisionsController,
  RiskReadController,
  StrategiesReadController,
} from './reads/reads.controllers';
import { TripwireReadController } from './reads/tripwire.reads.controller';
import { CanaryReadController } from './reads/canary.reads.controller';
import { HeimdallReadController } from './reads/heimdall.reads.controller';
import { PolicyRevisionsReadController } from './reads/policy-revisions.controller';
import { gatewayDatabaseProvider, GatewayDatabaseLifecycle } from './persistence/gateway-database';
import { problemFrameworkErrors } from './http/framework-errors';
import { corsOptions } from './http/cors';

export { GatewayConfig } from './gateway.config';

const VERSION = '0.1.0';

/** Every controller whose routes are declared with `@Route` (and so appear in the OpenAPI document). */
export const apiControllers = [
  AuthController,
  KeysController,
  ControlController,
  StrategiesController,
  RiskController,
  EngineController,
  ControlReadController,
  StrategiesReadController,
  ApprovalsController,
  DecisionStreamController,
  DecisionsController,
  RiskReadController,
  AuditController,
  GovernanceController,
  GovernanceReadController,
  TripwireController,
  TripwireReadController,
  CanaryController,
  CanaryReadController,
  HeimdallController,
  HeimdallEngineController,
  HeimdallReadController,
  PolicyRevisionsReadController,
];

/** The API gateway: operator and engine HTTP API over the services' rpc and the read models (DESIGN §7). */
export const gatewayService: ServiceDefinition<GatewayConfig> = {
  name: 'api-gateway',
  version: VERSION,
  http: (config) => ({
    ...problemFrameworkErrors,
    requestTimeout: config.GATEWAY_REQUEST_TIMEOUT_MS,
    ...(config.GATEWAY_TRUST_PROXY_HOPS > 0 ? { trustProxy: config.GATEWAY_TRUST_PROXY_HOPS } : {}),
  }),
  cors: (config) => corsOptions(config.GATEWAY_CORS_ALLOWED_ORIGINS),
  app: (config) => ({
    controllers: [DocsController, ...apiControllers],
    providers: [
      { provide: GATEWAY_CONFIG, useValue: config },
      { provide: OPENAPI_DOCUMENT, useValue: buildOpenApi(apiControllers, VERSION) },
      // Also global, so unknown routes and framework errors are problem documents too.
      { provide: APP_FILTER, useClass: ProblemFilter },
      gatewayDatabaseProvider,
      GatewayDatabaseLifecycle,
      KeyStore,
      AuthService,
      RateLimits,
      RouteSpans,
      GatewayGuard,
      GatewayRpc,
      ReadModels,
    ],
  }),
};
