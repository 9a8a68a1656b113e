import { runService } from '@bifrost/service';
import { GateConfig, gateService } from './gate.service';

void runService(GateConfig, gateService);
