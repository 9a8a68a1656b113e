import { runService } from '@bifrost/service';
import { GatewayConfig, gatewayService } from './gateway.service';

void runService(GatewayConfig, gatewayService);
