import { Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  GatePolicyInForce,
  PolicyRevision,
  PolicySnapshot,
  Timestamp,
  literals,
  object,
} from '@bifrost/contracts';
import { GatewayRpc } from '../commands/gateway-rpc.service';
import { ProblemError } from '../http/problem';
import { ListQuery, nullable, pageOf } from '../http/schemas';
import { ApiController, Route, ValidParams, ValidQuery } from '../http/route';
import { diffPolicies } from './policy-diff';
import { isoTime, ReadModels } from './read-models.service';

/** Refused diff: a revision whose policies the gate did not keep (JCS form over 512 KiB). */
export const POLICIES_NOT_KEPT = 'POLICY_REVISION.POLICIES_NOT_KEPT';

const RevisionParams = object({ revision: PolicyRevision });
const DiffParams = object({ revision: PolicyRevision, other: PolicyRevision });

const LIST_COLUMNS = `revision, bytes, ${isoTime('recorded_at')}, event_id`;

/**
 * A policy revision as the gate recorded it (`gate.PolicyRevisionRecorded`, `eventId` its event):
 * `revision` is the SHA-256 (hex) of the JCS form of its policies, `bytes` that form's size, and
 * `recordedAt` when the gate recorded it, before the first verdict carrying it.
 */
const RevisionRow = object({
  revision: PolicyRevision,
  bytes: Type.Integer({ minimum: 0 }),
  recordedAt: Timestamp,
  eventId: Type.String(),
});
/** `policies` null: the gate did not keep them (JCS form over 512 KiB; `bytes` is its size). */
const RevisionWithPolicies = object({ ...RevisionRow.properties, policies: nullable(PolicySnapshot) });
/**
 * One difference: `path` a JSON Pointer (RFC 6901) into the policies; `op` `changed` (there on both
 * sides), `added` (only in `to`) or `removed` (only in `from`); `from`/`to` the values at the path,
 * null on the side where it is absent.
 */
const PolicyChange = object({
  path: Type.String(),
  op: literals(['added', 'removed', 'changed']),
  from: Type.Unknown(),
  to: Type.Unknown(),
});
const PolicyDiff = object({
  from: PolicyRevision,
  to: PolicyRevision,
  changes: Type.Array(PolicyChange),
});

const EXAMPLE_REVISION = 'fd0a77ed1066e22928683ab679df5aaf15e1a86c377b360e721fb535c14f8a90';
const EXAMPLE_OTHER = '3b1f6c0e9a7d4e52b8c1f0a2d6e4b7c9a1e3f5d7b9c2e4a6f8d0b2c4e6a8f0d2';

/**
 * The gate's policy revisions from the read model: what a verdict's `policyRevision` stands for, and
 * what changed between two of them.
 */
@ApiController('policy-revisions', 'policy-revisions')
export class PolicyRevisionsReadController {
  constructor(
    @Inject(ReadModels) private readonly read: ReadModels,
    @Inject(GatewayRpc) private readonly rpc: GatewayRpc,
  ) {}

  @Route({
    method: 'GET',
    path: '',
    summary:
      'Policy revisions the gate recorded, newest first, without their policies (read model), with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    query: ListQuery,
    response: pageOf(RevisionRow),
  })
  list(@ValidQuery() q: Static<typeof ListQuery>) {
    return this.read.page({
      table: 'policy_revisions',
      columns: LIST_COLUMNS,
      filters: [],
      key: ['recorded_at', 'revision'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  @Route({
    method: 'GET',
    path: 'current',
    summary: 'The policies in force now and their revision, from the gate (what the next verdict will carry)',
    description:
      'Asked of a gate replica, not read from the read model: the newest recorded revision is not always the one ' +
      'in force (a revision that comes back, such as a kill switch engaged then released, is not recorded again). ' +
      'The gate records the revision before it answers, so `GET /policy-revisions/{revision}` finds it once the ' +
      'projector has caught up. `policies` is null when their JCS form is over 512 KiB. 503 when no gate answers ' +
      'or the one that did has not proven its state current (INFRA.STATE_STALE).',
    access: 'viewer',
    response: GatePolicyInForce,
  })
  current() {
    return this.rpc.call<GatePolicyInForce>('bifrost.rpc.gate.policy', {});
  }

  @Route({
    method: 'GET',
    path: ':revision',
    summary: 'One policy revision with its policies (null when the gate did not keep them: over 512 KiB)',
    description:
      'The policies are those the gate hashed: the SHA-256 (hex) of their JCS form (RFC 8785) is the revision. ' +
      '404 NOT_FOUND.ENTITY when no such revision was recorded.',
    access: 'viewer',
    params: RevisionParams,
    response: RevisionWithPolicies,
  })
  one(@ValidParams() p: Static<typeof RevisionParams>) {
    return this.read.one(
      `SELECT ${LIST_COLUMNS}, policies::text AS policies FROM policy_revisions WHERE revision = $1`,
      [p.revision],
      `policy revision ${p.revision}`,
      ['policies'],
    );
  }

  @Route({
    method: 'GET',
    path: ':revision/diff/:other',
    summary: 'What changed in the policies from one revision to another (JSON Pointer paths)',
    description:
      'One change per path where the two differ: objects are compared key by key (keys sorted), anything else ' +
      '(arrays among them) as a whole value. `op` is `changed`, `added` (only in `to`) or `removed` (only in `from`); ' +
      'the side where the path is absent is null. 404 NOT_FOUND.ENTITY when either revision is unknown; ' +
      `409 ${POLICIES_NOT_KEPT} when the gate did not keep the policies of either (over 512 KiB).`,
    access: 'viewer',
    params: DiffParams,
    response: PolicyDiff,
    example: {
      response: {
        from: EXAMPLE_REVISION,
        to: EXAMPLE_OTHER,
        changes: [
          { path: '/control/killSwitches/global', op: 'changed', from: null, to: 'hard' },
          { path: '/strategy/minOutcomesForPromotion', op: 'changed', from: 30, to: 50 },
        ],
      },
    },
  })
  async diff(@ValidParams() p: Static<typeof DiffParams>) {
    const rows = await this.read.rows(
      `SELECT revision, policies FROM policy_revisions WHERE revision = ANY($1::text[])`,
      [[p.revision, p.other]],
    );
    const policiesOf = (revision: string): unknown => {
      const row = rows.find((r) => r['revision'] === revision);
      if (!row) throw new ProblemError('notFound', `no policy revision ${revision}`, 'NOT_FOUND.ENTITY');
      if (row['policies'] === null) {
        throw new ProblemError(
          'conflict',
          `the gate did not keep the policies of revision ${revision} (their JCS form is over 512 KiB): there is nothing to compare`,
          POLICIES_NOT_KEPT,
        );
      }
      return row['policies'];
    };
    const from = policiesOf(p.revision);
    const to = policiesOf(p.other);
    return { from: p.revision, to: p.other, changes: diffPolicies(from, to) };
  }
}
