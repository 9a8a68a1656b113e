import { Catalogue } from './registry';
import { systemMessages, pingRpc } from './messages/system.messages';
import { gateCheckMessages, gateCheckRpc } from './messages/gate-check.messages';

/**
 * Every message type Bifrost publishes. A service adds its events by exporting an array from
 * `messages/<context>.messages.ts` and listing it here; the AsyncAPI document is generated from this.
 */
export const catalogue = new Catalogue(
  [...systemMessages, ...gateCheckMessages],
  [pingRpc('gate'), gateCheckRpc],
);
