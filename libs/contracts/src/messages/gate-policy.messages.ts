import { Type, type Static } from '@sinclair/typebox';

import { Timestamp } from '../envelope';
import { defineMessage, defineRpc } from '../registry';
import { object } from '../schema';

/** A verdict's `policyRevision`: the SHA-256 (hex) of the JCS form of the policies in force. */
export const PolicyRevision = Type.String({ pattern: '^[0-9a-f]{64}$' });

/**
 * The policies a revision hashes, as the gate hashed them: the control plane's policy parts (go-live,
 * execution classes, kill switches, engine modes, autonomy phases and whitelists), the strategy
 * policy (`GATE_STRATEGY_POLICY` with its defaults) and the impact classifier's
 * (`GATE_IMPACT_NOTIONAL`). Their shape is the gate's configuration, so it is not constrained here:
 * what makes them the revision's is that the SHA-256 of their JCS form is the revision.
 */
export const PolicySnapshot = object({
  control: Type.Record(Type.String(), Type.Unknown()),
  strategy: Type.Record(Type.String(), Type.Unknown()),
  impact: Type.Record(Type.String(), Type.Unknown()),
});
export type PolicySnapshot = Static<typeof PolicySnapshot>;

/** Policies whose JCS form is larger than this are not kept in their record (`policies` null). */
export const POLICY_RECORD_MAX_BYTES = 512 * 1024;

/** Once per revision, on `bifrost.evt.gate.policy.<revision>`, before the first verdict that carries it. */
export const GatePolicyRevisionRecorded = defineMessage({
  type: 'gate.PolicyRevisionRecorded',
  version: 1,
  kind: 'event',
  producer: 'gate',
  consumers: ['projector'],
  subject: 'bifrost.evt.gate.policy.{revision}',
  description:
    "What a verdict's policyRevision stands for: the policies in force, recorded by the gate before the first verdict that carries the revision (once per revision: the first replica to record it wins). `policies` is null when their JCS form is over 512 KiB (`bytes`).",
  data: object({
    revision: PolicyRevision,
    policies: Type.Union([PolicySnapshot, Type.Null()]),
    /** Size of the policies' JCS form, in bytes. */
    bytes: Type.Integer({ minimum: 0 }),
    recordedAt: Timestamp,
  }),
});

export const gatePolicyMessages = [GatePolicyRevisionRecorded];

/** `bifrost.rpc.gate.policy` takes nothing: it answers what is in force now. */
export const GatePolicyRequest = object({});
export type GatePolicyRequest = Static<typeof GatePolicyRequest>;

/** The policies in force at the gate replica that answered, and their revision. */
export const GatePolicyInForce = object({
  revision: PolicyRevision,
  /** Size of the policies' JCS form, in bytes. */
  bytes: Type.Integer({ minimum: 0 }),
  /** Null when their JCS form is over 512 KiB, as in their record. */
  policies: Type.Union([PolicySnapshot, Type.Null()]),
});
export type GatePolicyInForce = Static<typeof GatePolicyInForce>;

export const gatePolicyRpc = defineRpc({
  service: 'gate',
  operation: 'policy',
  request: GatePolicyRequest,
  response: GatePolicyInForce,
  description:
    'The policies in force now and their revision: what the next verdict will carry. The revision is recorded (gate.PolicyRevisionRecorded) before the answer, so it can be looked up and compared. INFRA.STATE_STALE when this replica has not proven its state current.',
});
