import { problemDocument, problemKindOf } from './problem';

describe('problem documents', () => {
  describe('error codes from the services', () => {
    it.each([
      ['RPC.NO_RESPONDERS', 503],
      ['RPC.TIMEOUT', 503],
      ['INFRA.UNAVAILABLE', 503],
      ['RISK.NOT_LEADER', 503],
      // A standby risk-guard forwarding to a leader that is not there (failover, start-up).
      ['RISK.NO_LEADER', 503],
      // The decision could not be recorded, so none was given: the store, not the request, failed.
      ['GATE.RECORD_FAILED', 503],
      ['HEIMDALL.RECORD_FAILED', 503],
      ['AUTH.UNAUTHORIZED', 401],
      ['AUTH.TOKEN_EXPIRED', 401],
      ['AUTH.FORBIDDEN', 403],
      ['RISK.OPERATOR_ONLY', 403],
      ['NOT_FOUND.ENTITY', 404],
      ['GATE.APPROVAL_UNKNOWN', 404],
      ['GOVERNANCE.PROPOSAL_NOT_FOUND', 404],
      ['GOVERNANCE.BREAKER_EVENT_NOT_FOUND', 404],
      // The item is the path's {itemId} (POST …/readiness/attestations/{itemId}): no such attestation item.
      ['GOVERNANCE.UNKNOWN_CHECKLIST_ITEM', 404],
      ['STATE.ILLEGAL', 409],
      ['CONCURRENCY.CONFLICT', 409],
      ['GATE.TOKEN_EXISTS', 409],
      // State errors whose code names the situation: the request came too late for it.
      ['RISK.RESERVATION_CLOSED', 409],
      ['RISK.RESERVATION_NOT_UNRESOLVED', 409],
      ['GATE.APPROVAL_NOT_PENDING', 409],
      ['GATE.APPROVAL_EXPIRED', 409],
      ['GOVERNANCE.PROPOSAL_NOT_PENDING', 409],
      ['GOVERNANCE.PROPOSAL_STALE', 409],
      // Resolve the open breaker events first: the state, not the request, is in the way.
      ['GOVERNANCE.UNRESOLVED_BREAKER_EVENTS', 409],
      ['GOVERNANCE.ENGINE_NOT_ENROLLED', 404],
      ['GOVERNANCE.ROLE_NOT_HELD', 403],
      ['GOVERNANCE.LADDER_WIDENS', 403],
      ['POLICY_REVISION.POLICIES_NOT_KEPT', 409],
      ['VALIDATION.FAILED', 422],
      ['RPC.VALIDATION_FAILED', 422],
      ['GATE.REASON_REQUIRED', 422],
      ['REQUEST.INVALID', 400],
      ['RATE.LIMITED', 429],
      ['INTERNAL.ERROR', 500],
    ])('should map %s to %i', (code, status) => {
      expect(problemDocument(problemKindOf(code), 'x').status).toBe(status);
    });
  });

  describe('a document', () => {
    it('should carry type, title, status, detail and the extension members given', () => {
      expect(
        problemDocument('gateUnavailable', 'no answer', {
          instance: '/api/v1/engine/check',
          code: 'RPC.TIMEOUT',
        }),
      ).toEqual({
        type: '/problems/gate-unavailable',
        title: 'Gate unavailable',
        status: 503,
        detail: 'no answer',
        instance: '/api/v1/engine/check',
        code: 'RPC.TIMEOUT',
      });
    });
  });
});
