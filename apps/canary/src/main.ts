import { runService } from '@bifrost/service';
import { CanaryConfig, canaryService } from './canary.service';

void runService(CanaryConfig, canaryService);
