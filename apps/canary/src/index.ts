export { CanaryConfig, canaryService } from './canary.service';
