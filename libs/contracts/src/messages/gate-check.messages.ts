import { Type, type Static } from '@sinclair/typebox';

import { Timestamp } from '../envelope';
import { defineMessage, defineRpc } from '../registry';
import { EntityId, Money, Verdict } from '../verdict';
import { ApprovalId, literals, idPattern, TokenId } from '../schema';
import { CommandType } from './governance-ingest.messages';

export const ACTION_INTENTS = ['open', 'increase', 'reduce', 'close'] as const;
export type ActionIntent = (typeof ACTION_INTENTS)[number];

export const BLAST_RADII = ['single', 'strategy', 'engine', 'portfolio', 'global'] as const;
export type BlastRadius = (typeof BLAST_RADII)[number];

/** The action an engine wants to take, exactly as it will be executed (its JCS hash binds approvals). */
export const GateAction = Type.Object(
  {
    /** Action kind, e.g. `order.place`, `offer.send`, `command.deploy`; execution classes are set per kind. */
    kind: Type.String({ pattern: idPattern('^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*$'), maxLength: 100 }),
    intent: literals(ACTION_INTENTS),
    notional: Type.Optional(Money),
    /** For command-type actions checked against the autonomy phase whitelist (spelled as the agent records it). */
    commandType: Type.Optional(CommandType),
    instrument: Type.Optional(Type.String({ maxLength: 100 })),
    /** Anything else that defines the action; part of the approval hash. */
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
export type GateAction = Static<typeof GateAction>;

/** What the engine declares about the action's impact (inputs of the impact classifier). */
export const ImpactFactors = Type.Object(
  {
    irreversible: Type.Boolean(),
    blastRadius: literals(BLAST_RADII),
    /** Share of the engine's exposure this action would put in one place, 0..1. */
    concentration: Type.Number({ minimum: 0, maximum: 1 }),
    /** Marks an action that destroys or overwrites something (risk classifier: destructive_confirm). */
    destructive: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ImpactFactors = Static<typeof ImpactFactors>;

export const GateCheckRequest = Type.Object(
  {
    engineId: EntityId,
    strategyId: EntityId,
    action: GateAction,
    impact: Type.Optional(ImpactFactors),
    /** The engine's confidence in this action, 0..1 (risk classifier). */
    confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** e.g. `critical_session`, `safe_session` (risk classifier floor/ceiling). */
    sessionTags: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20 })),
    /** An execution token (from an approval or an operator grant) presented with the action. */
    tokenId: Type.Optional(TokenId),
    /** Correlates the decision with the engine's own records. */
    requestId: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type GateCheckRequest = Static<typeof GateCheckRequest>;

export const GateCheckReply = Type.Composite(
  [
    Verdict,
    Type.Object({
      engineId: EntityId,
      strategyId: EntityId,
      /** Set when the verdict is REQUIRE_APPROVAL: the request an operator must approve. */
      approvalId: Type.Optional(Type.String()),
      /** JCS SHA-256 of `action`: an approval's token is valid only for this hash. */
      actionHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    }),
  ],
  { additionalProperties: false },
);
export type GateCheckReply = Static<typeof GateCheckReply>;

export const gateCheckRpc = defineRpc({
  service: 'gate',
  operation: 'check',
  request: GateCheckRequest,
  response: GateCheckReply,
  description:
    'Before an engine acts: the graded, explained verdict. Answered only after the decision record is acknowledged by JetStream.',
});

/** Where an approval request stands; `expired` is a pending request past its `expiresAt`. */
export const APPROVAL_STATUSES = ['pending', 'granted', 'rejected', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** Whether an execution token can still be presented; `expired` is an active token past its expiry. */
export const TOKEN_STATUSES = ['active', 'consumed', 'revoked', 'expired'] as const;
export type TokenStatus = (typeof TOKEN_STATUSES)[number];

export const GateApprovalRequest = Type.Object(
  {
    engineId: EntityId,
    strategyId: EntityId,
    /** The `approvalId` of a REQUIRE_APPROVAL verdict. */
    approvalId: ApprovalId,
  },
  { additionalProperties: false },
);
export type GateApprovalRequest = Static<typeof GateApprovalRequest>;

export const GateApprovalReply = Type.Object(
  {
    approvalId: Type.String(),
    engineId: EntityId,
    strategyId: EntityId,
    status: literals(APPROVAL_STATUSES),
    /** JCS SHA-256 of the action the request (and its token) is bound to. */
    actionHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    action: GateAction,
    requestedBy: Type.String(),
    requestedAt: Timestamp,
    expiresAt: Timestamp,
    /** Who granted or rejected it; null while pending or expired. */
    decidedBy: Type.Union([Type.String(), Type.Null()]),
    /**
     * The single-use token a grant issued: present it as `tokenId` with exactly this action. Null
     * unless granted.
     */
    token: Type.Union([
      Type.Object(
        { tokenId: Type.String(), status: literals(TOKEN_STATUSES), expiresAt: Timestamp },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);
export type GateApprovalReply = Static<typeof GateApprovalReply>;

export const gateApprovalRpc = defineRpc({
  service: 'gate',
  operation: 'approval',
  request: GateApprovalRequest,
  response: GateApprovalReply,
  description:
    'Where an approval request of a REQUIRE_APPROVAL verdict stands, and once granted the token to present with the same action. Unknown to the strategy: GATE.APPROVAL_UNKNOWN.',
});

/** The decision record of every gate verdict, on `bifrost.dec.gate.<engineId>`. */
export const GateVerdictRendered = defineMessage({
  type: 'gate.VerdictRendered',
  version: 1,
  kind: 'decision',
  producer: 'gate',
  consumers: ['projector', 'api-gateway (live stream)'],
  subject: 'bifrost.dec.gate.{engineId}',
  description: 'A verdict the gate gave (or, in observe mode, would have given) for one action.',
  data: Type.Object(
    {
      request: GateCheckRequest,
      verdict: GateCheckReply,
      latencyMicros: Type.Optional(Type.Integer({ minimum: 0 })),
    },
    { additionalProperties: false },
  ),
});

export const gateCheckMessages = [GateVerdictRendered];
