import { Type, type Static } from '@sinclair/typebox';

/** RFC 9457 problem document, with Bifrost's `code`, schema `issues` and service `details` as extension members. */
export const Problem = Type.Object(
  {
    type: Type.String({
      description: 'URI reference naming the kind of problem',
      examples: ['/problems/forbidden'],
    }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    code: Type.Optional(Type.String({ examples: ['AUTH.FORBIDDEN'] })),
    issues: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    details: Type.Optional(
      Type.Unknown({
        description:
          'what the owning service said about its refusal, as its error reply carries it (e.g. the latest alert, the expected currency)',
      }),
    ),
  },
  { $id: 'Problem' },
);
export type Problem = Static<typeof Problem>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

interface Kind {
  readonly status: number;
  readonly slug: string;
  readonly title: string;
}

const kind = (status: number, slug: string, title: string): Kind => ({ status, slug, title });

export const PROBLEMS = {
  malformed: kind(400, 'malformed-request', 'Malformed request'),
  invalid: kind(400, 'validation-failed', 'Request does not match the schema'),
  unauthorized: kind(401, 'unauthorized', 'Authentication required'),
  forbidden: kind(403, 'forbidden', 'Not allowed'),
  notFound: kind(404, 'not-found', 'Not found'),
  timeout: kind(408, 'request-timeout', 'Request timeout'),
  conflict: kind(409, 'conflict', 'Conflict with the current state'),
  tooLarge: kind(413, 'payload-too-large', 'Payload too large'),
  mediaType: kind(415, 'unsupported-media-type', 'Unsupported media type'),
  rejected: kind(422, 'rejected', 'Request refused'),
  rateLimited: kind(429, 'rate-limited', 'Too many requests'),
  headersTooLarge: kind(431, 'headers-too-large', 'Request headers too large'),
  internal: kind(500, 'internal-error', 'Internal error'),
  gateUnavailable: kind(503, 'gate-unavailable', 'Gate unavailable'),
  unavailable: kind(503, 'service-unavailable', 'Service unavailable'),
} as const;
export type ProblemKind = keyof typeof PROBLEMS;

/** An error that already knows its problem kind (and possibly response headers such as Retry-After). */
export class ProblemError extends Error {
  constructor(
    readonly kind: ProblemKind,
    message: string,
    readonly code?: string,
    readonly headers: Readonly<Record<string, string>> = {},
    readonly issues?: readonly { path: string; message: string }[],
    /** The owning service's details of a refusal it answered (4xx only). */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ProblemError';
  }
}

/**
 * Codes the naming rules below cannot place: the services' NotFound, Forbidden and IllegalState
 * errors whose code names the situation rather than the kind (an rpc error reply carries only the
 * code, not the error class). A request that came too late for the state it needs is a conflict.
 */
const CODE_PROBLEMS: Readonly<Record<string, ProblemKind>> = {
  'GATE.APPROVAL_NOT_PENDING': 'conflict',
  'GATE.APPROVAL_EXPIRED': 'conflict',
  'RISK.RESERVATION_CLOSED': 'conflict',
  'RISK.RESERVATION_UNRESOLVED': 'conflict',
  'RISK.RESERVATION_NOT_UNRESOLVED': 'conflict',
  'GOVERNANCE.ENGINE_NOT_ENROLLED': 'notFound',
  // The item named in the path (…/readiness/attestations/{itemId}) is no attestation item.
  'GOVERNANCE.UNKNOWN_CHECKLIST_ITEM': 'notFound',
  'GOVERNANCE.NOT_AN_APPROVER': 'forbidden',
  'GOVERNANCE.ROLE_NOT_HELD': 'forbidden',
  'GOVERNANCE.LADDER_WIDENS': 'forbidden',
  'GOVERNANCE.PROPOSAL_NOT_PENDING': 'conflict',
  'GOVERNANCE.PROPOSAL_EXPIRED': 'conflict',
  'GOVERNANCE.PROPOSAL_STALE': 'conflict',
  'GOVERNANCE.UNRESOLVED_BREAKER_EVENTS': 'conflict',
  'GOVERNANCE.ALREADY_APPROVED': 'conflict',
  'GOVERNANCE.ROLE_NOT_OUTSTANDING': 'conflict',
  'GOVERNANCE.ALREADY_ENROLLED': 'conflict',
  'GOVERNANCE.ALREADY_RESOLVED': 'conflict',
  // A diff of a revision whose policies the gate did not keep (over 512 KiB): nothing to compare.
  'POLICY_REVISION.POLICIES_NOT_KEPT': 'conflict',
};

/**
 * Which problem a Bifrost error code is, whether thrown here or received in an rpc error reply
 * (which carries only the code, not the error class): {@link CODE_PROBLEMS}, else by the code's
 * area and reason.
 */
export function problemKindOf(code: string): ProblemKind {
  const listed = CODE_PROBLEMS[code];
  if (listed) return listed;
  if (
    code === 'RPC.NO_RESPONDERS' ||
    code === 'RPC.TIMEOUT' ||
    code.startsWith('INFRA.') ||
    code.endsWith('.NOT_LEADER') ||
    code.endsWith('.NO_LEADER') ||
    // Decided, but the decision record could not be stored: no answer was given (fail closed).
    code.endsWith('.RECORD_FAILED')
  )
    return 'unavailable';
  if (code.endsWith('FORBIDDEN') || code.endsWith('OPERATOR_ONLY') || code.endsWith('SELF_APPROVAL'))
    return 'forbidden';
  if (code.startsWith('AUTH.') || code.endsWith('.UNAUTHORIZED')) return 'unauthorized';
  if (code === 'RATE.LIMITED') return 'rateLimited';
  if (code === 'REQUEST.INVALID') return 'invalid';
  if (code.startsWith('NOT_FOUND.') || code.endsWith('NOT_FOUND') || /\.[A-Z_]*UNKNOWN$/.test(code))
    return 'notFound';
  if (code.startsWith('STATE.') || code.startsWith('CONCURRENCY.') || code.endsWith('_EXISTS'))
    return 'conflict';
  if (code === 'RPC.PAYLOAD_TOO_LARGE') return 'tooLarge';
  if (code.startsWith('INTERNAL.')) return 'internal';
  // Validation failures and business refusals of the owning service: the request was understood
  // and refused.
  return 'rejected';
}

export function problemDocument(
  kindName: ProblemKind,
  detail: string,
  extras: {
    instance?: string;
    code?: string;
    issues?: readonly { path: string; message: string }[];
    details?: unknown;
  } = {},
): Problem {
  const k = PROBLEMS[kindName];
  return {
    type: `/problems/${k.slug}`,
    title: k.title,
    status: k.status,
    detail,
    ...(extras.instance ? { instance: extras.instance } : {}),
    ...(extras.code ? { code: extras.code } : {}),
    ...(extras.issues ? { issues: [...extras.issues] } : {}),
    ...(extras.details !== undefined ? { details: extras.details } : {}),
  };
}
