export { TripwireConfig, tripwireService } from './tripwire.service';
