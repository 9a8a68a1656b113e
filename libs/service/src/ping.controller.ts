import { Controller, Inject, type Type } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { PingRequest, type PingResponse } from '@bifrost/contracts';
import { rpcRoute } from '@bifrost/messaging';
import type { Static } from '@sinclair/typebox';
import { ServiceInfo } from './service-info';

/** `bifrost.rpc.<service>.ping`: liveness over NATS, answered like any other route. */
export function pingController(service: string): Type<unknown> {
  @Controller()
  class PingController {
    constructor(@Inject(ServiceInfo) private readonly info: ServiceInfo) {}

    @MessagePattern(`bifrost.rpc.${service}.ping`, rpcRoute({ request: PingRequest }))
    ping(@Payload() request: Static<typeof PingRequest>): Static<typeof PingResponse> {
      return {
        service: this.info.service,
        instanceId: this.info.instanceId,
        startedAt: this.info.startedAt,
        starts: this.info.starts,
        ...(request.echo !== undefined ? { echo: request.echo } : {}),
      };
    }
  }
  return PingController;
}
