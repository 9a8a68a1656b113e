export { GateConfig, gateService } from './gate.service';
