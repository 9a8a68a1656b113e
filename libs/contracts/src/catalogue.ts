import { Catalogue } from './registry';
import { riskMessages, riskRpcs } from './messages/risk.messages';
import { tripwireMessages, tripwireRpcs } from './messages/tripwire.messages';
import { heimdallMessages, heimdallRpcs } from './messages/heimdall.messages';
import { systemMessages, pingRpc } from './messages/system.messages';
import { gateApprovalRpc, gateCheckMessages, gateCheckRpc } from './messages/gate-check.messages';
import { gateCommandRpcs } from './messages/gate-commands.rpcs';
import { gateControlMessages } from './messages/gate-control.messages';
import { gatePolicyMessages, gatePolicyRpc } from './messages/gate-policy.messages';
import { gateStrategyMessages } from './messages/gate-strategy.messages';
import { ingestMessages } from './messages/ingest.messages';
import { canaryMessages, canaryRpcs } from './messages/canary.messages';
import { governanceMessages, governanceRpcs } from './messages/governance.messages';
import { governanceIngestMessages } from './messages/governance-ingest.messages';
import { gatewayMessages } from './messages/gateway.messages';

/**
 * Every message type Bifrost publishes. A service adds its events by exporting an array from
 * `messages/<context>.messages.ts` and listing it here; the AsyncAPI document is generated from this.
 */
export const catalogue = new Catalogue(
  [
    ...systemMessages,
    ...gateCheckMessages,
    ...gateControlMessages,
    ...gatePolicyMessages,
    ...gateStrategyMessages,
    ...ingestMessages,
    ...canaryMessages,
    ...governanceMessages,
    ...governanceIngestMessages,
    ...riskMessages,
    ...tripwireMessages,
    ...heimdallMessages,
    ...gatewayMessages,
  ],
  [
    pingRpc('gate'),
    gateCheckRpc,
    gateApprovalRpc,
    gatePolicyRpc,
    ...gateCommandRpcs,
    pingRpc('risk-guard'),
    ...riskRpcs,
    pingRpc('tripwire'),
    ...tripwireRpcs,
    pingRpc('heimdall'),
    ...heimdallRpcs,
    pingRpc('governance-agent'),
    ...governanceRpcs,
    pingRpc('canary'),
    ...canaryRpcs,
  ],
);
