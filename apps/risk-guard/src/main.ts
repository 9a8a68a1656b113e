import { runService } from '@bifrost/service';
import { RiskGuardConfig, riskGuardService } from './risk-guard.service';

void runService(RiskGuardConfig, riskGuardService);
