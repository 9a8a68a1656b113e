export { RiskGuardConfig, riskGuardService } from './risk-guard.service';
