import { AUDIT_CHAIN_BREAKS, Envelope, MessageType, Timestamp, literals, object } from '@bifrost/contracts';
import { Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import type { ChainVerification } from '@bifrost/audit';
import { METRICS_REGISTRY } from '@bifrost/observability';
import { verifyAuditLog } from '@bifrost/persistence';
import { Counter, type Registry } from 'prom-client';
import { ApiController, Route, ValidParams, ValidQuery } from '../http/route';
import { singleFlight } from '../http/single-flight';
import { ReadModels } from './read-models.service';

const AuditQuery = object({
  /** Rows after this seq (the cursor: pass the last seq you have). */
  afterSeq: Type.Integer({ minimum: 0, default: 0 }),
  /** A message type (`<context>.<PastTenseName>`): an empty or malformed one is refused, not an empty page. */
  eventType: Type.Optional(MessageType),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
});
const SeqParams = object({ seq: Type.Integer({ minimum: 1 }) });
const AUDIT_COLUMNS =
  'seq, event_id, event_type, stream, stream_seq, occurred_at, recorded_at, envelope, prev_hash, hash';
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
/** One message as recorded: its envelope whole, and the hash chaining it to the row before. */
const AuditRow = object({
  seq: Type.Integer(),
  eventId: Type.String(),
  eventType: MessageType,
  stream: Type.String(),
  streamSeq: Type.Integer(),
  occurredAt: Timestamp,
  recordedAt: Timestamp,
  envelope: Envelope,
  prevHash: Sha256,
  hash: Sha256,
});
/** `ChainVerification` of @bifrost/audit: intact up to `lastSeq`, or broken at `firstBadSeq`. */
const Verification = Type.Union([
  object({ ok: Type.Literal(true), count: Type.Integer(), lastSeq: Type.Integer(), lastHash: Sha256 }),
  object({
    ok: Type.Literal(false),
    firstBadSeq: Type.Integer(),
    reason: literals(AUDIT_CHAIN_BREAKS),
    expected: Type.String(),
    actual: Type.String(),
    count: Type.Integer(),
  }),
]);

/** The projector's hash-chained audit log (DESIGN §6): read it, and re-verify it end to end. */
@ApiController('audit', 'audit')
export class AuditController {
  /**
   * One run at a time per instance: a run holds a pooled connection for the whole scan, so callers
   * that arrive meanwhile share the run in progress instead of taking the pool from every other read.
   */
  private readonly verifyOnce = singleFlight(async () => {
    const result = await this.read.guard(() => verifyAuditLog(this.read.db));
    this.verifications.inc({ result: result.ok ? 'intact' : 'broken' });
    return result;
  });
  private readonly verifications: Counter<'result'>;

  constructor(
    @Inject(ReadModels) private readonly read: ReadModels,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.verifications = new Counter({
      name: 'bifrost_audit_verifications_total',
      help: 'Runs of GET /audit/verify, by result: intact, or broken (alert on any increase)',
      labelNames: ['result'],
      registers: [registry],
    });
    for (const result of ['intact', 'broken']) this.verifications.inc({ result }, 0);
  }

  @Route({
    method: 'GET',
    path: '',
    summary: 'Audit log rows in seq order after `afterSeq` (nextAfterSeq is the cursor)',
    access: 'viewer',
    query: AuditQuery,
    response: object({
      items: Type.Array(AuditRow),
      nextAfterSeq: Type.Union([Type.Integer(), Type.Null()]),
    }),
  })
  async list(@ValidQuery() q: Static<typeof AuditQuery>) {
    const params: unknown[] = [q.afterSeq, q.limit + 1];
    const typeFilter = q.eventType === undefined ? '' : ` AND event_type = $${params.push(q.eventType)}`;
    const rows = await this.read.rows(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE seq > $1${typeFilter} ORDER BY seq LIMIT $2`,
      params,
    );
    const items = rows.slice(0, q.limit);
    return { items, nextAfterSeq: rows.length > q.limit ? (items[items.length - 1]?.['seq'] ?? null) : null };
  }

  @Route({
    method: 'GET',
    path: 'verify',
    summary:
      'Recompute every hash of the audit chain (streaming, bounded memory) and report the first bad seq',
    access: 'viewer',
    response: Verification,
    example: {
      response: {
        ok: true,
        count: 1234,
        lastSeq: 1234,
        lastHash: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      },
    },
  })
  verify(): Promise<ChainVerification> {
    return this.verifyOnce();
  }

  @Route({
    method: 'GET',
    path: ':seq',
    summary: 'One audit entry with its envelope and hashes',
    access: 'viewer',
    params: SeqParams,
    response: AuditRow,
  })
  async one(@ValidParams() p: Static<typeof SeqParams>) {
    return this.read.one(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE seq = $1`,
      [p.seq],
      `audit entry ${p.seq}`,
    );
  }
}
