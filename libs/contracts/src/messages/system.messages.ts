import { Type } from '@sinclair/typebox';
import { defineMessage, defineRpc } from '../registry';
import { Timestamp } from '../envelope';
import { literals, object } from '../schema';

/** Recorded by every service when it has started: the operator's start history. */
export const ServiceStarted = defineMessage({
  type: 'system.ServiceStarted',
  version: 1,
  kind: 'event',
  producer: 'any service',
  consumers: ['projector'],
  subject: 'bifrost.evt.system.service.{service}',
  description: 'A Bifrost service instance finished start-up (state rebuilt, handlers listening).',
  data: Type.Object(
    {
      service: Type.String({ minLength: 1 }),
      instanceId: Type.String({ minLength: 1 }),
      version: Type.String(),
      previousStarts: Type.Integer({ minimum: 0 }),
    },
    { additionalProperties: false },
  ),
});

/**
 * Why an audit chain breaks where it does (docs/audit.md §4); the last two against an entry the
 * log must hold (the newest row the projector stored, or `bifrost-audit verify --expect`).
 */
export const AUDIT_CHAIN_BREAKS = [
  'GAP',
  'PREV_HASH_MISMATCH',
  'HASH_MISMATCH',
  'BAD_GENESIS',
  'TRUNCATED',
  'REWRITTEN',
] as const;

/**
 * The projector's periodic re-verification of the whole audit log: the go-live checklist item
 * `auditChainVerified` (docs/gate-control.md).
 */
export const AuditChainVerified = defineMessage({
  type: 'system.AuditChainVerified',
  version: 1,
  kind: 'event',
  producer: 'projector',
  consumers: ['gate (go-live fact auditChainVerified)', 'projector'],
  subject: 'bifrost.evt.system.audit.{day}',
  description:
    'Every PROJECTOR_AUDIT_VERIFY_INTERVAL_MS the writer re-hashes the whole audit log: intact, or where it breaks.',
  data: object({
    intact: Type.Boolean(),
    rowsVerified: Type.Integer({
      minimum: 0,
      description: 'rows verified intact: the whole log when intact, the rows before the break otherwise',
    }),
    throughSeq: Type.Integer({ minimum: 0, description: "the last intact row's seq (0 for an empty log)" }),
    headHash: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{64}$',
        description:
          'when intact: the hash of the row at throughSeq, a head to pin (`bifrost-audit verify --expect`)',
      }),
    ),
    break: Type.Optional(object({ seq: Type.Integer({ minimum: 1 }), reason: literals(AUDIT_CHAIN_BREAKS) })),
    startedAt: Timestamp,
    durationMs: Type.Integer({ minimum: 0 }),
  }),
});

/** A row of the audit log by its seq and hash (seq 0 and the genesis hash: the empty log). */
const AuditEntryRef = object({
  seq: Type.Integer({ minimum: 0 }),
  hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
});

/**
 * An operator accepted the audit log as it is now (`bifrost-audit accept`), after a restore from a
 * backup or a move to a new database: the log verified as a chain in itself, and its newest row
 * became the entry the projector verifies against (ADR 0019).
 */
export const AuditLogAccepted = defineMessage({
  type: 'system.AuditLogAccepted',
  version: 1,
  kind: 'event',
  producer: 'projector (bifrost-audit accept, by an operator)',
  consumers: ['projector'],
  subject: 'bifrost.evt.system.audit.{day}',
  description:
    'An operator accepted the audit log as it stands: its newest row is the entry the projector verifies against from now on.',
  data: object({
    accepted: AuditEntryRef,
    rowsVerified: Type.Integer({ minimum: 0, description: 'rows verified as a chain before accepting' }),
    previous: Type.Optional(AuditEntryRef),
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
  }),
});

export const PingRequest = Type.Object(
  { echo: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);
export const PingResponse = Type.Object(
  {
    service: Type.String(),
    instanceId: Type.String(),
    startedAt: Timestamp,
    starts: Type.Integer({
      minimum: 1,
      description: 'how many times this service has started, replayed from its events',
    }),
    echo: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Every service answers `bifrost.rpc.<service>.ping`. */
export const pingRpc = (service: string) =>
  defineRpc({
    service,
    operation: 'ping',
    request: PingRequest,
    response: PingResponse,
    description: `Liveness over NATS: ${service} answers with its instance and start count.`,
  });

export const systemMessages = [ServiceStarted, AuditChainVerified, AuditLogAccepted];
