export { HeimdallConfig, heimdallService } from './heimdall.service';
