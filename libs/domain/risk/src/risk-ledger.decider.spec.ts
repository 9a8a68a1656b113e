import { LEDGER_CARRY_CHUNK, LEDGER_OPEN_LIMIT, type RiskPolicy, type RiskUsage } from '@bifrost/contracts';
import {
  DeciderSpecification,
  fold,
  IllegalStateError,
  NotFoundError,
  ValidationError,
} from '@bifrost/event-sourcing';
import { findReservation, riskLedgerDecider, type LedgerContext } from './risk-ledger.decider';
import { bucketValues } from './bucket-map';
import type { LedgerCommand, LedgerEvent, LedgerState } from './risk-ledger.state';
import { ledgerView, reservationChecks, reservationResult, reserveResult } from './risk-ledger.views';

// Fixture constants live up here: the describe blocks read them while the module loads.
const DAY = '2026-11-21';
const T0 = '2026-11-21T12:00:00.000Z';
const TTL = 60_000;
const ACTOR = { kind: 'engine' as const, id: 'E1' };

describe('Risk ledger', () => {
  const spec = DeciderSpecification.for(riskLedgerDecider, context());

  describe('Given no ledger yet today', () => {
    it('should open the day and grant a reservation within both policies', () => {
      spec
        .given([])
        .when(reserve('r1', { loss: 100, exposure: 1000 }))
        .then([opened(DAY), granted('r1', { loss: 100, exposure: 1000 })]);
    });

    it('should do nothing on an expiry sweep', () => {
      spec.given([]).when(expireAt(T0)).thenNothingHappened();
    });
  });

  describe('Given GLOBAL (loss 1000, exposure 5000, 3 actions) and E1 (loss 600, exposure 4000, 2 actions)', () => {
    it('should grant a reservation that reaches the engine loss limit exactly', () => {
      spec
        .given([opened(DAY), granted('r1', { loss: 400 })])
        .when(reserve('r2', { loss: 200 }))
        .then([granted('r2', { loss: 200 })]);
    });

    it('should deny one minor unit over the engine loss limit, with limit, usage and headroom', () => {
      spec
        .given([opened(DAY), granted('r1', { loss: 400 })])
        .when(reserve('r2', { loss: 201 }))
        .then([
          denied('r2', { loss: 201 }, 'LIMIT_EXCEEDED', 'E1', [
            {
              policyId: 'E1',
              limit: 'maxDailyLoss',
              limitValue: 600,
              current: 400,
              requested: 201,
              headroom: 200,
            },
          ]),
        ]);
    });

    it('should count realized loss against the loss limit', () => {
      spec
        .given([opened(DAY), granted('r1', { loss: 100 }), settled('r1', 550)])
        .when(reserve('r2', { loss: 51 }))
        .then([
          denied('r2', { loss: 51 }, 'LIMIT_EXCEEDED', 'E1', [
            {
              policyId: 'E1',
              limit: 'maxDailyLoss',
              limitValue: 600,
              current: 550,
              requested: 51,
              headroom: 50,
            },
          ]),
        ]);
    });

    it('should deny on GLOBAL while the engine still has room (dual control)', () => {
      spec
        .given([opened(DAY), granted('r1', { loss: 500 }, 'E2'), granted('r2', { loss: 400 })])
        .when(reserve('r3', { loss: 101 }))
        .then([
          denied('r3', { loss: 101 }, 'LIMIT_EXCEEDED', 'GLOBAL', [
            {
              policyId: 'GLOBAL',
              limit: 'maxDailyLoss',
              limitValue: 1000,
              current: 900,
              requested: 101,
              headroom: 100,
            },
          ]),
        ]);
    });

    it('should report every violated limit of both policies, GLOBAL first', () => {
      spec
        .given([opened(DAY)])
        .when(reserve('r1', { loss: 1001, exposure: 5001 }))
        .then([
          denied('r1', { loss: 1001, exposure: 5001 }, 'LIMIT_EXCEEDED', 'GLOBAL', [
            {
              policyId: 'GLOBAL',
              limit: 'maxDailyLoss',
              limitValue: 1000,
              current: 0,
              requested: 1001,
              headroom: 1000,
            },
            {
              policyId: 'GLOBAL',
              limit: 'maxDailyExposure',
              limitValue: 5000,
              current: 0,
              requested: 5001,
              headroom: 5000,
            },
            {
              policyId: 'E1',
              limit: 'maxDailyLoss',
              limitValue: 600,
              current: 0,
              requested: 1001,
              headroom: 600,
            },
            {
              policyId: 'E1',
              limit: 'maxDailyExposure',
              limitValue: 4000,
              current: 0,
              requested: 5001,
              headroom: 4000,
            },
          ]),
        ]);
    });

    it("should grant at exactly GLOBAL's loss, exposure and action limits while the engine still has room", () => {
      spec
        .given([opened(DAY), granted('r1', { loss: 500 }, 'E2'), granted('r2', { loss: 400 })])
        .when(reserve('r3', { loss: 100 }))
        .then([granted('r3', { loss: 100 })]);
      spec
        .given([opened(DAY), granted('r1', { exposure: 3000 }, 'E2')])
        .when(reserve('r2', { exposure: 2000 }))
        .then([granted('r2', { exposure: 2000 })]);
      spec
        .given([opened(DAY), granted('r1', {}, 'E2'), granted('r2', {})])
        .when(reserve('r3', {}))
        .then([granted('r3', {})]);
    });

    it("should deny one unit past GLOBAL's exposure and action limits, naming GLOBAL alone", () => {
      spec
        .given([opened(DAY), granted('r1', { exposure: 3000 }, 'E2')])
        .when(reserve('r2', { exposure: 2001 }))
        .then([
          denied('r2', { exposure: 2001 }, 'LIMIT_EXCEEDED', 'GLOBAL', [
            {
              policyId: 'GLOBAL',
              limit: 'maxDailyExposure',
              limitValue: 5000,
              current: 3000,
              requested: 2001,
              headroom: 2000,
            },
          ]),
        ]);
      spec
        .given([opened(DAY), granted('r1', {}, 'E2'), granted('r2', {}, 'E2'), granted('r3', {})])
        .when(reserve('r4', {}))
        .then([
          denied('r4', {}, 'LIMIT_EXCEEDED', 'GLOBAL', [
            {
              policyId: 'GLOBAL',
              limit: 'maxDailyActions',
              limitValue: 3,
              current: 3,
              requested: 1,
              headroom: 0,
            },
          ]),
        ]);
    });

    it('should grant exposure up to the limit exactly and deny one unit more', () => {
      spec
        .given([opened(DAY), granted('r1', { exposure: 3000 })])
        .when(reserve('r2', { exposure: 1000 }))
        .then([granted('r2', { exposure: 1000 })]);
      spec
        .given([opened(DAY), granted('r1', { exposure: 3000 })])
        .when(reserve('r2', { exposure: 1001 }))
        .then([
          denied('r2', { exposure: 1001 }, 'LIMIT_EXCEEDED', 'E1', [
            {
              policyId: 'E1',
              limit: 'maxDailyExposure',
              limitValue: 4000,
              current: 3000,
              requested: 1001,
              headroom: 1000,
            },
          ]),
        ]);
    });

    it('should grant the last allowed action and deny the next', () => {
      spec
        .given([opened(DAY), granted('r1', {})])
        .when(reserve('r2', {}))
        .then([granted('r2', {})]);
      spec
        .given([opened(DAY), granted('r1', {}), granted('r2', {})])
        .when(reserve('r3', {}))
        .then([
          denied('r3', {}, 'LIMIT_EXCEEDED', 'E1', [
            {
              policyId: 'E1',
              limit: 'maxDailyActions',
              limitValue: 2,
              current: 2,
              requested: 1,
              headroom: 0,
            },
          ]),
        ]);
    });

    it('should keep counting actions of released reservations', () => {
      spec
        .given([opened(DAY), granted('r1', {}), released('r1'), granted('r2', {})])
        .when(reserve('r3', {}))
        .then([
          denied('r3', {}, 'LIMIT_EXCEEDED', 'E1', [
            {
              policyId: 'E1',
              limit: 'maxDailyActions',
              limitValue: 2,
              current: 2,
              requested: 1,
              headroom: 0,
            },
          ]),
        ]);
    });

    it('should free reserved loss and exposure on release', () => {
      spec
        .given([opened(DAY), granted('r1', { loss: 600, exposure: 4000 }), released('r1')])
        .when(reserve('r2', { loss: 600, exposure: 4000 }))
        .then([granted('r2', { loss: 600, exposure: 4000 })]);
    });

    it('should grant a zero-loss, zero-exposure reservation (it still counts an action)', () => {
      spec
        .given([opened(DAY)])
        .when(reserve('r1', {}))
        .then([granted('r1', {})]);
    });
  });

  describe('Given policies that are missing, disabled or throttled', () => {
    it('should deny an engine without a policy (fail closed)', () => {
      spec
        .given([opened(DAY)])
        .when(reserve('r1', {}, 'UNKNOWN'))
        .then([denied('r1', {}, 'NO_POLICY', 'UNKNOWN', [], 'UNKNOWN')]);
    });

    it('should deny everyone when GLOBAL is missing', () => {
      spec
        .given([opened(DAY)])
        .when(reserve('r1', {}), context({ GLOBAL: undefined }))
        .then([denied('r1', {}, 'NO_POLICY', 'GLOBAL', [])]);
    });

    it('should deny a disabled engine policy', () => {
      spec
        .given([opened(DAY)])
        .when(reserve('r1', {}), context({ E1: policy('E1', 600, 4000, 2, { enabled: false }) }))
        .then([denied('r1', {}, 'POLICY_DISABLED', 'E1', [])]);
    });

    it('should deny everyone while GLOBAL is disabled', () => {
      spec
        .given([opened(DAY)])
        .when(
          reserve('r1', {}, 'E2'),
          context({ GLOBAL: policy('GLOBAL', 1000, 5000, 3, { enabled: false }) }),
        )
        .then([denied('r1', {}, 'POLICY_DISABLED', 'GLOBAL', [], 'E2')]);
    });

    it('should deny a throttled engine with THROTTLED even when limits allow', () => {
      spec
        .given([opened(DAY)])
        .when(reserve('r1', {}), context({ E1: policy('E1', 600, 4000, 2, { throttled: true }) }))
        .then([denied('r1', {}, 'THROTTLED', 'E1', [])]);
    });
  });

  describe('Given an idempotency key already used today', () => {
    it('should not reserve twice and return the original grant', () => {
      const history = [opened(DAY), granted('r1', { loss: 100 })];
      spec
        .given(history)
        .when(reserve('r2', { loss: 100 }, 'E1', 'key-r1'))
        .thenNothingHappened();
      const result = reserveResult(fold(riskLedgerDecider, history), 'E1', 'key-r1', true);
      expect(result).toMatchObject({
        reservationId: r('r1'),
        outcome: 'GRANTED',
        status: 'GRANTED',
        replayed: true,
      });
    });

    it('should return the original denial even when there is room now', () => {
      const history = [opened(DAY), denied('r1', {}, 'THROTTLED', 'E1', [])];
      spec
        .given(history)
        .when(reserve('r2', {}, 'E1', 'key-r1'))
        .thenNothingHappened();
      expect(reserveResult(fold(riskLedgerDecider, history), 'E1', 'key-r1', true)).toMatchObject({
        reservationId: r('r1'),
        outcome: 'DENIED',
        reason: 'THROTTLED',
      });
    });

    it('should check a retry as a request first: the used key resent in another currency is a currency mismatch, not the original grant', () => {
      spec
        .given([opened(DAY), granted('r1', { loss: 100 })])
        .when(reserve('r2', { loss: 100 }, 'E1', 'key-r1', T0, 'EUR'))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.CURRENCY_MISMATCH');
    });

    it('should treat the same key of another engine as a new request', () => {
      spec
        .given([opened(DAY), granted('r1', {})])
        .when(reserve('r2', {}, 'E2', 'key-r1'))
        .then([granted('r2', {}, 'E2', 'key-r1')]);
    });
  });

  describe('Given a granted reservation (TTL 60 s)', () => {
    const history = [opened(DAY), granted('r1', { loss: 300, exposure: 2000 })];

    it('should settle it, free the reservation and book the realized loss', () => {
      spec
        .given(history)
        .when(settle('r1', 120))
        .then([settled('r1', 120)]);
      const state = fold(riskLedgerDecider, [...history, settled('r1', 120)]);
      expect(state.status === 'open' && state.usage['E1']).toEqual({
        realizedLoss: 120,
        reservedLoss: 0,
        reservedExposure: 0,
        actions: 1,
      });
    });

    it('should book a realized loss larger than reserved in full and flag it', () => {
      spec
        .given(history)
        .when(settle('r1', 450))
        .then([settled('r1', 450, { excess: 150 })]);
      const state = fold(riskLedgerDecider, [...history, settled('r1', 450, { excess: 150 })]);
      expect(state.status === 'open' && state.usage['GLOBAL']?.realizedLoss).toBe(450);
    });

    it('should still hold it 1 ms before expiry and expire it at its expiry instant', () => {
      spec
        .given(history)
        .when(expireAt(at(59_999)))
        .thenNothingHappened();
      spec
        .given(history)
        .when(expireAt(at(60_000)))
        .then([expired('r1', at(60_000))]);
    });

    it('should stop counting an expired reservation', () => {
      spec
        .given([...history, expired('r1', at(60_000))])
        .when(reserve('r2', { loss: 600, exposure: 4000 }, 'E1', 'key-r2', at(61_000)))
        .then([granted('r2', { loss: 600, exposure: 4000 }, 'E1', 'key-r2', at(61_000))]);
    });

    it('should keep counting it past its TTL until the sweep expires it (the safe side)', () => {
      spec
        .given(history)
        .when(reserve('r2', { loss: 600 }, 'E1', 'key-r2', at(60_000)))
        .then([
          denied(
            'r2',
            { loss: 600 },
            'LIMIT_EXCEEDED',
            'E1',
            [
              {
                policyId: 'E1',
                limit: 'maxDailyLoss',
                limitValue: 600,
                current: 300,
                requested: 600,
                headroom: 300,
              },
            ],
            'E1',
            'key-r2',
            at(60_000),
          ),
        ]);
    });

    it('should settle it 1 ms before its expiry without expiring it first', () => {
      const settleAt = (now: string) =>
        ({ ...settle('r1', 20), data: { ...settle('r1', 20).data, now } }) as LedgerCommand;
      spec
        .given(history)
        .when(settleAt(at(59_999)))
        .then([
          {
            ...settled('r1', 20),
            data: { ...(settled('r1', 20).data as object), settledAt: at(59_999) },
          } as LedgerEvent,
        ]);
    });

    it('should expire it first when it is settled past its TTL', () => {
      const late = {
        ...settle('r1', 20),
        data: { ...settle('r1', 20).data, now: at(60_000) },
      } as LedgerCommand;
      spec
        .given(history)
        .when(late)
        .then([
          expired('r1', at(60_000)),
          {
            ...settled('r1', 20, { afterExpiry: true }),
            data: { ...(settled('r1', 20, { afterExpiry: true }).data as object), settledAt: at(60_000) },
          } as LedgerEvent,
        ]);
    });

    it('should release it', () => {
      spec
        .given(history)
        .when(release('r1'))
        .then([released('r1')]);
    });

    it('should move it to UNRESOLVED on an unknown outcome and keep counting it', () => {
      spec
        .given(history)
        .when(settle('r1', undefined, 'unknown'))
        .then([unresolved('r1')]);
      spec
        .given([...history, unresolved('r1')])
        .when(reserve('r2', { loss: 301 }, 'E1', 'key-r2'))
        .then([
          denied(
            'r2',
            { loss: 301 },
            'LIMIT_EXCEEDED',
            'E1',
            [
              {
                policyId: 'E1',
                limit: 'maxDailyLoss',
                limitValue: 600,
                current: 300,
                requested: 301,
                headroom: 300,
              },
            ],
            'E1',
            'key-r2',
          ),
        ]);
    });

    it('should refuse a settle without realized loss, in another currency, or by another engine', () => {
      spec
        .given(history)
        .when(settle('r1', undefined))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.REALIZED_LOSS_REQUIRED');
      spec
        .given(history)
        .when(settle('r1', 10, 'completed', 'EUR'))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.CURRENCY_MISMATCH');
      spec
        .given(history)
        .when(settle('r1', 10, 'completed', 'USD', 'E2'))
        .thenThrows(NotFoundError);
      // An unknown outcome with an amount: one of the two is wrong, and neither is silently dropped.
      spec
        .given(history)
        .when(settle('r1', 10, 'unknown'))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.REALIZED_LOSS_UNEXPECTED');
    });

    it('should refuse to reconcile it (it is not UNRESOLVED), in any currency', () => {
      spec
        .given(history)
        .when(reconcile('r1', 10))
        .thenThrows(IllegalStateError, (e) => e.code === 'RISK.RESERVATION_NOT_UNRESOLVED');
      spec
        .given(history)
        .when(reconcile('r1', 10, 'EUR'))
        .thenThrows(IllegalStateError, (e) => e.code === 'RISK.RESERVATION_NOT_UNRESOLVED');
    });
  });

  describe('Given an UNRESOLVED reservation', () => {
    const history = [opened(DAY), granted('r1', { loss: 300, exposure: 2000 }), unresolved('r1')];

    it('should never expire it', () => {
      spec
        .given(history)
        .when(expireAt(at(3_600_000)))
        .thenNothingHappened();
    });

    it('should reconcile it with the realized loss, freeing the reservation', () => {
      spec
        .given(history)
        .when(reconcile('r1', 80))
        .then([reconciled('r1', 80)]);
      const state = fold(riskLedgerDecider, [...history, reconciled('r1', 80)]);
      expect(state.status === 'open' && state.usage['E1']).toEqual({
        realizedLoss: 80,
        reservedLoss: 0,
        reservedExposure: 0,
        actions: 1,
      });
    });

    it('should reconcile it when the engine settles it later with a known loss', () => {
      spec
        .given(history)
        .when(settle('r1', 80))
        .then([reconciled('r1', 80)]);
    });

    it('should refuse to release it, as unresolved rather than closed (only its realized loss closes it)', () => {
      spec
        .given(history)
        .when(release('r1'))
        .thenThrows(IllegalStateError, (e) => e.code === 'RISK.RESERVATION_UNRESOLVED');
    });
  });

  describe('Given an expired reservation', () => {
    const history = [opened(DAY), granted('r1', { loss: 300 }), expired('r1', at(60_000))];

    it('should book a late settle without releasing twice', () => {
      spec
        .given(history)
        .when(settle('r1', 50))
        .then([settled('r1', 50, { afterExpiry: true })]);
      const state = fold(riskLedgerDecider, [...history, settled('r1', 50, { afterExpiry: true })]);
      expect(state.status === 'open' && state.usage['E1']).toEqual({
        realizedLoss: 50,
        reservedLoss: 0,
        reservedExposure: 0,
        actions: 1,
      });
    });

    it('should count it again when its outcome becomes unknown', () => {
      spec
        .given(history)
        .when(settle('r1', undefined, 'unknown'))
        .then([unresolved('r1', true)]);
      const state = fold(riskLedgerDecider, [...history, unresolved('r1', true)]);
      expect(state.status === 'open' && state.usage['E1']?.reservedLoss).toBe(300);
      // Still one decision of the day: open again, no second grant.
      expect(ledgerView(state, 'UTC', 'USD').decisions).toMatchObject({ granted: 1, denied: 0 });
    });

    it('should accept a release as already done', () => {
      spec.given(history).when(release('r1')).thenNothingHappened();
    });
  });

  describe('Given a denied or released reservation', () => {
    it('should refuse a settle as closed, whatever its currency, or with no amount at all', () => {
      const histories = [
        [opened(DAY), denied('r1', { loss: 1001 }, 'LIMIT_EXCEEDED', 'GLOBAL', [])],
        [opened(DAY), granted('r1', {}), released('r1')],
      ];
      for (const history of histories) {
        for (const currency of ['USD', 'EUR'])
          spec
            .given(history)
            .when(settle('r1', 10, 'completed', currency))
            .thenThrows(IllegalStateError, (e) => e.code === 'RISK.RESERVATION_CLOSED');
        spec
          .given(history)
          .when(settle('r1', undefined))
          .thenThrows(IllegalStateError, (e) => e.code === 'RISK.RESERVATION_CLOSED');
      }
    });
  });

  describe('Given a settled reservation', () => {
    const history = [opened(DAY), granted('r1', { loss: 300 }), settled('r1', 40)];

    it('should accept the same settle again and change nothing', () => {
      spec.given(history).when(settle('r1', 40)).thenNothingHappened();
    });

    it('should refuse a settle with another amount, a release, or an unknown outcome', () => {
      spec
        .given(history)
        .when(settle('r1', 41))
        .thenThrows(IllegalStateError, (e) => e.code === 'RISK.RESERVATION_CLOSED');
      // Without an amount it cannot be the same settle again.
      spec
        .given(history)
        .when(settle('r1', undefined))
        .thenThrows(IllegalStateError, (e) => e.code === 'RISK.RESERVATION_CLOSED');
      // A retry in another currency is an invalid retry: it gets that error.
      spec
        .given(history)
        .when(settle('r1', 40, 'completed', 'EUR'))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.CURRENCY_MISMATCH');
      spec.given(history).when(release('r1')).thenThrows(IllegalStateError);
      spec
        .given(history)
        .when(settle('r1', undefined, 'unknown'))
        .thenThrows(IllegalStateError);
    });
  });

  describe('Given a leader change recorded in the ledger', () => {
    it('should decide as if it were not there (it is a fence, not a usage change)', () => {
      const history = [opened(DAY), granted('r1', { loss: 400 })];
      const fence: LedgerEvent = { type: 'LeaderChanged', data: { leader: 'risk-guard-2', at: at(500) } };
      const decide = (command: LedgerCommand, events: LedgerEvent[]) =>
        riskLedgerDecider.decide(command, fold(riskLedgerDecider, events), context());
      for (const command of [reserve('r2', { loss: 200 }), reserve('r2', { loss: 201 }), settle('r1', 50)])
        expect(decide(command, [...history, fence])).toEqual(decide(command, history));
    });
  });

  describe('When the reservation is unknown', () => {
    it('should throw NotFoundError for settle, release and reconcile', () => {
      for (const command of [settle('nope', 1), release('nope'), reconcile('nope', 1)]) {
        spec
          .given([opened(DAY)])
          .when(command)
          .thenThrows(NotFoundError, (e) => e.code === 'RISK.RESERVATION_UNKNOWN');
      }
    });
  });

  describe('When the input is invalid', () => {
    it('should reject negative and fractional amounts', () => {
      spec
        .given([])
        .when(reserve('r1', { loss: -1 }))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.AMOUNT_INVALID');
      spec
        .given([])
        .when(reserve('r1', { exposure: 1.5 }))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.AMOUNT_INVALID');
      spec
        .given([opened(DAY), granted('r1', {})])
        .when(settle('r1', -5))
        .thenThrows(ValidationError);
    });

    it("should reject a currency other than the policies'", () => {
      spec
        .given([])
        .when(reserve('r1', { loss: 1 }, 'E1', 'key-r1', T0, 'EUR'))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.CURRENCY_MISMATCH');
      // Max loss in EUR, exposure in USD: the error names the policies' USD, not the exposure's.
      const eur = reserve('r1', { loss: 1, exposure: 1 }, 'E1', 'key-r1', T0, 'EUR');
      if (eur.type !== 'ReserveCapacity') throw new Error('a reserve');
      const mixed: LedgerCommand = {
        ...eur,
        data: { ...eur.data, exposure: { amount: 1, currency: 'USD' } },
      };
      spec
        .given([])
        .when(mixed)
        .thenThrows(
          ValidationError,
          (e) => e.code === 'RISK.CURRENCY_MISMATCH' && e.message === 'expected USD, got EUR',
        );
    });

    it('should reject GLOBAL as an engine id and a non-positive TTL', () => {
      spec
        .given([])
        .when(reserve('r1', {}, 'GLOBAL'))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.ENGINE_ID_RESERVED');
      spec
        .given([])
        .when(reserve('r1', {}, 'E1', 'key-r1', T0, 'USD', 0))
        .thenThrows(
          ValidationError,
          (e) => e.code === 'VALIDATION.FAILED' && e.message === 'ttlMs must be a positive integer, got 0',
        );
    });
  });

  describe('Given a ledger at the end of its day', () => {
    const history = [
      opened(DAY),
      granted('r1', { loss: 300, exposure: 1000 }, 'E1', 'key-r1', '2026-11-21T23:59:30.000Z'),
      granted('r2', { loss: 200 }, 'E1', 'key-r2', '2026-11-21T10:00:00.000Z'),
      settled('r2', 150),
    ];
    const midnight = '2026-11-22T00:00:00.000Z';

    it('should still decide on the old day 1 ms before midnight', () => {
      spec
        .given(history)
        .when(reserve('r3', { loss: 200 }, 'E1', 'key-r3', '2026-11-21T23:59:59.999Z'))
        .then([
          denied(
            'r3',
            { loss: 200 },
            'LIMIT_EXCEEDED',
            'E1',
            [
              {
                policyId: 'E1',
                limit: 'maxDailyLoss',
                limitValue: 600,
                current: 450,
                requested: 200,
                headroom: 150,
              },
              {
                policyId: 'E1',
                limit: 'maxDailyActions',
                limitValue: 2,
                current: 2,
                requested: 1,
                headroom: 0,
              },
            ],
            'E1',
            'key-r3',
            '2026-11-21T23:59:59.999Z',
          ),
        ]);
    });

    it('should open the next day at midnight, carrying open reservations but not realized loss or actions, with the final usage of the old day', () => {
      spec
        .given(history)
        .when(reserve('r3', { loss: 300 }, 'E1', 'key-r3', midnight))
        .then([
          opened(
            '2026-11-22',
            midnight,
            DAY,
            [
              {
                reservationId: r('r1'),
                engineId: 'E1',
                idempotencyKey: 'key-r1',
                status: 'GRANTED',
                maxLoss: usd(300),
                exposure: usd(1000),
                grantedAt: '2026-11-21T23:59:30.000Z',
                expiresAt: '2026-11-22T00:00:30.000Z',
              },
            ],
            'UTC',
            closingOf({ realizedLoss: 150, reservedLoss: 300, reservedExposure: 1000, actions: 2 }),
          ),
          granted('r3', { loss: 300 }, 'E1', 'key-r3', midnight),
        ]);
    });

    it('should roll over on an expiry sweep too, and expire carried reservations on the new day', () => {
      const later = '2026-11-22T00:00:30.000Z';
      const events = riskLedgerDecider.decide(expireAt(later), fold(riskLedgerDecider, history), context());
      expect(events.map((e) => e.type)).toEqual(['LedgerOpened', 'ReservationExpired']);
      const state = fold(riskLedgerDecider, events, fold(riskLedgerDecider, history));
      expect(state.status === 'open' && state.usage).toEqual({
        GLOBAL: { realizedLoss: 0, reservedLoss: 0, reservedExposure: 0, actions: 0 },
        E1: { realizedLoss: 0, reservedLoss: 0, reservedExposure: 0, actions: 0 },
      });
    });

    it("should let yesterday's idempotency keys be used again, except those of carried reservations", () => {
      const openedWithR1 = opened(
        '2026-11-22',
        midnight,
        DAY,
        [carried()],
        'UTC',
        closingOf({ realizedLoss: 150, reservedLoss: 300, reservedExposure: 1000, actions: 2 }),
      );
      spec
        .given(history)
        .when(reserve('r4', {}, 'E1', 'key-r2', midnight))
        .then([openedWithR1, granted('r4', {}, 'E1', 'key-r2', midnight)]);
      spec
        .given(history)
        .when(reserve('r4', {}, 'E1', 'key-r1', midnight))
        .then([openedWithR1]);
    });

    it('should answer a replay of a carried reservation with the day it was decided on', () => {
      const events = riskLedgerDecider.decide(
        reserve('r4', {}, 'E1', 'key-r1', midnight),
        fold(riskLedgerDecider, history),
        context(),
      );
      const state = fold(riskLedgerDecider, events, fold(riskLedgerDecider, history));
      expect(state.status === 'open' && state.day).toBe('2026-11-22');
      expect(reserveResult(state, 'E1', 'key-r1', true)).toMatchObject({ reservationId: r('r1'), day: DAY });
    });

    it('should follow the configured time zone: midnight in New York is 05:00 UTC', () => {
      const ny = context({}, 'America/New_York');
      spec
        .given([opened('2026-11-21', '2026-11-21T12:00:00.000Z', null, [], 'America/New_York')])
        .when(reserve('r1', {}, 'E1', 'key-r1', '2026-11-22T04:59:59.999Z'), ny)
        .then([granted('r1', {}, 'E1', 'key-r1', '2026-11-22T04:59:59.999Z')]);
      spec
        .given([opened('2026-11-21', '2026-11-21T12:00:00.000Z', null, [], 'America/New_York')])
        .when(reserve('r1', {}, 'E1', 'key-r1', '2026-11-22T05:00:00.000Z'), ny)
        .then([
          opened('2026-11-22', '2026-11-22T05:00:00.000Z', '2026-11-21', [], 'America/New_York', {}),
          granted('r1', {}, 'E1', 'key-r1', '2026-11-22T05:00:00.000Z'),
        ]);
    });
  });

  describe(`Given more reservations open at midnight than one entry carries (${LEDGER_CARRY_CHUNK})`, () => {
    const count = LEDGER_CARRY_CHUNK + 500;
    const late = '2026-11-22T00:00:10.000Z';
    // Long-lived grants of E1 and E2: still open on the new day.
    const history = [
      opened(DAY),
      ...(Array.from({ length: count }, (_, i) => ({
        ...granted(`m${i}`, { loss: 1, exposure: 2 }, i % 2 === 0 ? 'E1' : 'E2', `key-m${i}`, T0),
        data: {
          ...(granted(`m${i}`, { loss: 1, exposure: 2 }, i % 2 === 0 ? 'E1' : 'E2', `key-m${i}`, T0)
            .data as object),
          expiresAt: '2026-11-23T00:00:00.000Z',
        },
      })) as LedgerEvent[]),
    ];
    const before = fold(riskLedgerDecider, history);
    const opening = riskLedgerDecider.decide(expireAt(late), before, context());
    const openIds = (state: LedgerState) =>
      state.status === 'open'
        ? bucketValues(state.open)
            .map((record) => record.reservationId)
            .sort()
        : [];
    const carriedIds = (events: readonly LedgerEvent[]) =>
      events
        .flatMap((e) =>
          e.type === 'LedgerOpened' || e.type === 'ReservationsCarried' ? e.data.carriedOver : [],
        )
        .map((c) => c.reservationId)
        .sort();

    it('should open the day with the first of them and carry the rest in entries after it, each at most the chunk', () => {
      expect(opening.map((e) => e.type)).toEqual(['LedgerOpened', 'ReservationsCarried']);
      expect(opening[0]).toMatchObject({ data: { previousDay: DAY, carriedTotal: count } });
      expect(opening.map((e) => (e.data as { carriedOver: unknown[] }).carriedOver.length)).toEqual([
        LEDGER_CARRY_CHUNK,
        500,
      ]);
      expect(carriedIds(opening)).toEqual(openIds(before));
      const after = fold(riskLedgerDecider, opening, before);
      expect(openIds(after)).toEqual(openIds(before));
      expect(after.status === 'open' && after.uncarried).toBeUndefined();
      expect(after.status === 'open' && after.usage['E1']).toMatchObject({
        reservedLoss: count / 2,
        reservedExposure: count,
      });
    });

    it('should carry the rest first when the opening was cut after its first message, and only once', () => {
      const cut = fold(riskLedgerDecider, opening.slice(0, 1), before);
      expect(cut.status === 'open' && cut.uncarried?.length).toBe(500);

      const completing = riskLedgerDecider.decide(reserve('n1', { loss: 1 }, 'E1', 'key-n1', late), cut, {
        ...context(),
        policies: { GLOBAL: policy('GLOBAL', 1e9, 1e9, 1e6), E1: policy('E1', 1e9, 1e9, 1e6) },
      });
      expect(completing.map((e) => e.type)).toEqual(['ReservationsCarried', 'ReservationGranted']);
      const done = fold(riskLedgerDecider, completing, cut);
      expect(openIds(done)).toEqual([...openIds(before), r('n1')].sort());
      expect(done.status === 'open' && done.uncarried).toBeUndefined();
      expect(riskLedgerDecider.decide(expireAt(late), done, context())).toEqual([]);
    });

    it('should hand what a cut opening had yet to carry on to the day after, with what is open', () => {
      const cut = fold(riskLedgerDecider, opening.slice(0, 1), before);
      const next = riskLedgerDecider.decide(expireAt('2026-11-23T00:00:10.000Z'), cut, context());
      expect(next[0]).toMatchObject({
        type: 'LedgerOpened',
        data: { day: '2026-11-23', carriedTotal: count },
      });
      // Due at the new day's first second: every carried grant expires on it, none is lost.
      expect(carriedIds(next)).toEqual(openIds(before));
    });

    it('should hold them all when the day is replayed from its own entries, the previous day unknown', () => {
      expect(openIds(fold(riskLedgerDecider, opening))).toEqual(openIds(before));
    });
  });

  describe('Given a day that ended with an expired, a settled and a released reservation', () => {
    const history = [
      opened(DAY),
      granted('r1', { loss: 500 }, 'E1', 'key-r1', '2026-11-21T23:58:00.000Z'),
      expired('r1', '2026-11-21T23:59:30.000Z'),
      granted('r2', { loss: 200 }),
      settled('r2', 150),
      granted('r3', { loss: 100 }),
      released('r3'),
    ];
    const next = '2026-11-22';
    const late = '2026-11-22T00:00:10.000Z';
    // The old day's final figures travel with the new day's opening.
    const openedNext = opened(
      next,
      late,
      DAY,
      [],
      'UTC',
      closingOf({ realizedLoss: 150, reservedLoss: 0, reservedExposure: 0, actions: 3 }),
    );
    const on = (command: LedgerCommand, now = late): LedgerCommand =>
      ({ ...command, data: { ...command.data, now } }) as LedgerCommand;

    it('should book a late settle after midnight on the new day, in full', () => {
      const lateSettle: LedgerEvent = {
        type: 'ReservationSettled',
        data: {
          reservationId: r('r1'),
          engineId: 'E1',
          realizedLoss: usd(900),
          excess: usd(400),
          exceededReservation: true,
          afterExpiry: true,
          settledAt: late,
          actor: ACTOR,
        },
      };
      spec
        .given(history)
        .when(on(settle('r1', 900)))
        .then([openedNext, lateSettle]);
      const state = fold(riskLedgerDecider, [openedNext, lateSettle], fold(riskLedgerDecider, history));
      expect(state.status === 'open' && state.usage).toEqual({
        GLOBAL: { realizedLoss: 900, reservedLoss: 0, reservedExposure: 0, actions: 0 },
        E1: { realizedLoss: 900, reservedLoss: 0, reservedExposure: 0, actions: 0 },
      });
    });

    it('should count an expired one again on the new day when its outcome becomes unknown', () => {
      const lateUnknown: LedgerEvent = {
        type: 'ReservationUnresolved',
        data: { reservationId: r('r1'), engineId: 'E1', afterExpiry: true, at: late, actor: ACTOR },
      };
      spec
        .given(history)
        .when(on(settle('r1', undefined, 'unknown')))
        .then([openedNext, lateUnknown]);
      const state = fold(riskLedgerDecider, [openedNext, lateUnknown], fold(riskLedgerDecider, history));
      expect(state.status === 'open' && state.usage['E1']?.reservedLoss).toBe(500);
    });

    it('should carry an outcome made unknown after the expiry into the new day as such, to its reconciliation', () => {
      const unknownBeforeMidnight: LedgerEvent = {
        type: 'ReservationUnresolved',
        data: {
          reservationId: r('r1'),
          engineId: 'E1',
          afterExpiry: true,
          at: '2026-11-21T23:59:40.000Z',
          actor: ACTOR,
        },
      };
      const before = fold(riskLedgerDecider, [...history, unknownBeforeMidnight]);
      const reply = (state: typeof before) => {
        const record = findReservation(state, r('r1'));
        return record && reservationResult(record);
      };
      expect(reply(before)).toEqual({
        reservationId: r('r1'),
        engineId: 'E1',
        status: 'UNRESOLVED',
        afterExpiry: true,
      });

      const opening = riskLedgerDecider.decide(expireAt(late), before, context());
      expect(opening).toMatchObject([
        {
          type: 'LedgerOpened',
          data: { carriedOver: [{ reservationId: r('r1'), status: 'UNRESOLVED', afterExpiry: true }] },
        },
      ]);
      const next = fold(riskLedgerDecider, opening, before);
      expect(reply(next)).toEqual(reply(before));

      const reconciled = fold(
        riskLedgerDecider,
        riskLedgerDecider.decide(on(settle('r1', 900)), next, context()),
        next,
      );
      expect(reply(reconciled)).toMatchObject({ status: 'RECONCILED', afterExpiry: true });
    });

    it('should accept a retried settle or release as already done, and still refuse a contradiction', () => {
      spec
        .given(history)
        .when(on(settle('r2', 150)))
        .then([openedNext]);
      spec
        .given(history)
        .when(on(release('r3')))
        .then([openedNext]);
      spec
        .given([...history, openedNext])
        .when(on(release('r1')))
        .thenNothingHappened();
      spec
        .given([...history, openedNext])
        .when(on(settle('r3', 10)))
        .thenThrows(IllegalStateError, (e) => e.code === 'RISK.RESERVATION_CLOSED');
    });

    it('should not know them once another day has opened', () => {
      const dayAfter = '2026-11-23T00:00:10.000Z';
      spec
        .given([...history, openedNext, opened('2026-11-23', dayAfter, next)])
        .when(on(settle('r1', 900), dayAfter))
        .thenThrows(NotFoundError, (e) => e.code === 'RISK.RESERVATION_UNKNOWN');
    });
  });

  describe('reservationChecks', () => {
    it('should show usage with the reservation against each limit and the headroom left', () => {
      const history = [opened(DAY), granted('r1', { loss: 400 }), granted('r2', { loss: 200 })];
      const state = fold(riskLedgerDecider, history);
      const checks = reservationChecks(context().policies, state.status === 'open' ? state.usage : {}, {
        engineId: 'E1',
        outcome: 'GRANTED',
        maxLoss: usd(200),
        exposure: usd(0),
      });
      expect(checks).toContainEqual({
        name: 'risk.E1.maxDailyLoss',
        outcome: 'ALLOW',
        value: 600,
        threshold: 600,
        distanceToTrip: 0,
      });
      expect(checks).toContainEqual({
        name: 'risk.GLOBAL.maxDailyActions',
        outcome: 'ALLOW',
        value: 2,
        threshold: 3,
        distanceToTrip: 1,
      });
    });

    it('should lead a denial for the state of a policy with a BLOCK check naming it', () => {
      const state = fold(riskLedgerDecider, [opened(DAY)]);
      const usage = state.status === 'open' ? state.usage : {};
      const denied = (reason: 'THROTTLED' | 'NO_POLICY' | 'LIMIT_EXCEEDED', failingPolicy: string) =>
        reservationChecks(context().policies, usage, {
          engineId: 'E1',
          outcome: 'DENIED',
          maxLoss: usd(1),
          exposure: usd(0),
          reason,
          failingPolicy,
        });

      expect(denied('THROTTLED', 'E1')[0]).toEqual({
        name: 'risk.E1.policy',
        outcome: 'BLOCK',
        value: 'throttled',
        threshold: 'enabled',
        distanceToTrip: null,
        reason: 'policy E1 is throttled',
      });
      expect(denied('NO_POLICY', 'E9')[0]).toMatchObject({ name: 'risk.E9.policy', value: 'missing' });
      // A limit denial is shown by its limit checks alone.
      expect(denied('LIMIT_EXCEEDED', 'E1').some((c) => c.name.endsWith('.policy'))).toBe(false);
    });
  });
});

// ── fixtures ────────────────────────────────────────────────────────────────────────────────────

describe("The ledger view's count of the day's reserve decisions", () => {
  it('should count the decisions of its day, denials by reason, and not a reservation carried over from the day before', () => {
    const day = '2026-11-22';
    const state = fold(riskLedgerDecider, [
      opened(day, '2026-11-22T00:00:00.000Z', DAY, [carried()]),
      granted('r2', { loss: 10 }, 'E1', 'key-r2', '2026-11-22T08:00:00.000Z'),
      denied('r3', { loss: 10 }, 'THROTTLED', 'E1', [], 'E1', 'key-r3', '2026-11-22T09:00:00.000Z'),
      denied('r4', { loss: 10 }, 'NO_POLICY', 'E2', [], 'E2', 'key-r4', '2026-11-22T09:30:00.000Z'),
      settled('r1', 0),
    ]);

    expect(ledgerView(state, 'UTC', 'USD').decisions).toEqual({
      granted: 1,
      denied: 2,
      deniedByReason: { LIMIT_EXCEEDED: 0, NO_POLICY: 1, POLICY_DISABLED: 0, THROTTLED: 1 },
    });
  });

  it('should list the open reservations that expire first, at most LEDGER_OPEN_LIMIT, and count them all', () => {
    const count = LEDGER_OPEN_LIMIT + 5;
    // Granted latest first: the ones listed are those that expire first, not the first granted.
    const grants = Array.from({ length: count }, (_, i) =>
      granted(`g${i}`, { loss: 1 }, 'E1', `key-g${i}`, at((count - i) * 1000)),
    );
    const view = ledgerView(fold(riskLedgerDecider, [opened(DAY), ...grants]), 'UTC', 'USD');

    expect(view.openCount).toBe(count);
    expect(view.open).toHaveLength(LEDGER_OPEN_LIMIT);
    expect(view.open[0]?.reservationId).toBe(r(`g${count - 1}`));
    expect(view.open.map((o) => o.expiresAt)).toEqual([...view.open.map((o) => o.expiresAt)].sort());
  });

  it('should count nothing before the first ledger opens', () => {
    expect(ledgerView(riskLedgerDecider.initialState(), 'UTC', 'USD').decisions).toEqual({
      granted: 0,
      denied: 0,
      deniedByReason: { LIMIT_EXCEEDED: 0, NO_POLICY: 0, POLICY_DISABLED: 0, THROTTLED: 0 },
    });
  });
});

function at(offsetMs: number): string {
  return new Date(Date.parse(T0) + offsetMs).toISOString();
}
function usd(amount: number) {
  return { amount, currency: 'USD' };
}
/** A stable uuid per label, so fixtures read as r1, r2… */
function r(label: string): string {
  const hex = Buffer.from(label).toString('hex').padStart(12, '0').slice(-12);
  return `00000000-0000-7000-8000-${hex}`;
}

function policy(
  policyId: string,
  loss: number,
  exposure: number,
  actions: number,
  { enabled = true, throttled = false }: { enabled?: boolean; throttled?: boolean } = {},
): RiskPolicy {
  return {
    policyId,
    maxDailyLoss: usd(loss),
    maxDailyExposure: usd(exposure),
    maxDailyActions: actions,
    enabled,
    throttled: throttled ? { since: T0, cause: { kind: 'tripwire', id: 'evt-1' } } : null,
    updatedAt: T0,
  };
}

function context(overrides: Record<string, RiskPolicy | undefined> = {}, timeZone = 'UTC'): LedgerContext {
  return {
    timeZone,
    policies: {
      GLOBAL: policy('GLOBAL', 1000, 5000, 3),
      E1: policy('E1', 600, 4000, 2),
      E2: policy('E2', 600, 4000, 2),
      ...overrides,
    },
  };
}

interface Amounts {
  loss?: number;
  exposure?: number;
}

function reserve(
  id: string,
  { loss = 0, exposure = 0 }: Amounts,
  engineId = 'E1',
  key = `key-${id}`,
  now = T0,
  currency = 'USD',
  ttlMs = TTL,
): LedgerCommand {
  return {
    type: 'ReserveCapacity',
    data: {
      reservationId: r(id),
      engineId,
      idempotencyKey: key,
      maxLoss: { amount: loss, currency },
      exposure: { amount: exposure, currency },
      ttlMs,
      now,
      actor: ACTOR,
    },
  };
}
function settle(
  id: string,
  loss: number | undefined,
  outcome: 'completed' | 'unknown' = 'completed',
  currency = 'USD',
  engineId = 'E1',
): LedgerCommand {
  return {
    type: 'SettleReservation',
    data: {
      reservationId: r(id),
      engineId,
      outcome,
      ...(loss === undefined ? {} : { realizedLoss: { amount: loss, currency } }),
      now: at(1000),
      actor: ACTOR,
    },
  };
}
function release(id: string): LedgerCommand {
  return {
    type: 'ReleaseReservation',
    data: { reservationId: r(id), engineId: 'E1', now: at(1000), actor: ACTOR },
  };
}
function reconcile(id: string, loss: number, currency = 'USD'): LedgerCommand {
  return {
    type: 'ReconcileReservation',
    data: {
      reservationId: r(id),
      engineId: 'E1',
      realizedLoss: { amount: loss, currency },
      now: at(1000),
      actor: ACTOR,
    },
  };
}
function expireAt(now: string): LedgerCommand {
  return { type: 'ExpireReservations', data: { now } };
}

function opened(
  day: string,
  openedAt = T0,
  previousDay: string | null = null,
  carriedOver: Extract<LedgerEvent, { type: 'LedgerOpened' }>['data']['carriedOver'] = [],
  timeZone = 'UTC',
  closing?: Record<string, RiskUsage>,
): LedgerEvent {
  return {
    type: 'LedgerOpened',
    data: { day, timeZone, openedAt, previousDay, carriedOver, ...(closing ? { closing } : {}) },
  };
}
/** The same usage for E1 and GLOBAL (every reservation of these days is E1's). */
function closingOf(usage: RiskUsage): Record<string, RiskUsage> {
  return { GLOBAL: usage, E1: usage };
}
function carried() {
  return {
    reservationId: r('r1'),
    engineId: 'E1',
    idempotencyKey: 'key-r1',
    status: 'GRANTED' as const,
    maxLoss: usd(300),
    exposure: usd(1000),
    grantedAt: '2026-11-21T23:59:30.000Z',
    expiresAt: '2026-11-22T00:00:30.000Z',
  };
}
function granted(
  id: string,
  { loss = 0, exposure = 0 }: Amounts,
  engineId = 'E1',
  key = `key-${id}`,
  now = T0,
): LedgerEvent {
  return {
    type: 'ReservationGranted',
    data: {
      reservationId: r(id),
      engineId,
      idempotencyKey: key,
      maxLoss: usd(loss),
      exposure: usd(exposure),
      grantedAt: now,
      expiresAt: new Date(Date.parse(now) + TTL).toISOString(),
      actor: ACTOR,
    },
  };
}
function denied(
  id: string,
  { loss = 0, exposure = 0 }: Amounts,
  reason: 'NO_POLICY' | 'POLICY_DISABLED' | 'THROTTLED' | 'LIMIT_EXCEEDED',
  failingPolicy: string,
  violations: Extract<LedgerEvent, { type: 'ReservationDenied' }>['data']['violations'],
  engineId = 'E1',
  key = `key-${id}`,
  now = T0,
): LedgerEvent {
  return {
    type: 'ReservationDenied',
    data: {
      reservationId: r(id),
      engineId,
      idempotencyKey: key,
      maxLoss: usd(loss),
      exposure: usd(exposure),
      deniedAt: now,
      reason,
      failingPolicy,
      violations,
      actor: ACTOR,
    },
  };
}
function settled(id: string, loss: number, { excess = 0, afterExpiry = false } = {}): LedgerEvent {
  return {
    type: 'ReservationSettled',
    data: {
      reservationId: r(id),
      engineId: 'E1',
      realizedLoss: usd(loss),
      excess: usd(excess),
      exceededReservation: excess > 0,
      afterExpiry,
      settledAt: at(1000),
      actor: ACTOR,
    },
  };
}
function released(id: string): LedgerEvent {
  return {
    type: 'ReservationReleased',
    data: { reservationId: r(id), engineId: 'E1', releasedAt: at(1000), actor: ACTOR },
  };
}
function expired(id: string, when: string): LedgerEvent {
  return { type: 'ReservationExpired', data: { reservationId: r(id), engineId: 'E1', expiredAt: when } };
}
function unresolved(id: string, afterExpiry = false): LedgerEvent {
  return {
    type: 'ReservationUnresolved',
    data: { reservationId: r(id), engineId: 'E1', afterExpiry, at: at(1000), actor: ACTOR },
  };
}
function reconciled(id: string, loss: number): LedgerEvent {
  return {
    type: 'ReservationReconciled',
    data: {
      reservationId: r(id),
      engineId: 'E1',
      realizedLoss: usd(loss),
      excess: usd(0),
      exceededReservation: false,
      reconciledAt: at(1000),
      actor: ACTOR,
    },
  };
}
