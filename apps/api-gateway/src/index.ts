export { GatewayConfig, gatewayService, apiControllers } from './gateway.service';
export { buildOpenApi, declaredRoutes } from './http/openapi';
