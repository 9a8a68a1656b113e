import { runService } from '@bifrost/service';
import { ProjectorConfig, projectorService } from './projector.service';

void runService(ProjectorConfig, projectorService);
