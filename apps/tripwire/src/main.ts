import { runService } from '@bifrost/service';
import { TripwireConfig, tripwireService } from './tripwire.service';

void runService(TripwireConfig, tripwireService);
