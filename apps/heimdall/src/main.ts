import { runService } from '@bifrost/service';
import { HeimdallConfig, heimdallService } from './heimdall.service';

void runService(HeimdallConfig, heimdallService);
