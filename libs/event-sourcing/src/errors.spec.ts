import { compile, ErrorBody } from '@bifrost/contracts';
import {
  BifrostError,
  ConcurrencyError,
  ERROR_CODE_PATTERN,
  errorKind,
  ForbiddenError,
  IllegalStateError,
  InternalError,
  isBifrostError,
  NotFoundError,
  toErrorBody,
  TransientError,
  UnauthorizedError,
  ValidationError,
} from './errors';

describe('Error vocabulary', () => {
  describe('Given each error class', () => {
    it.each([
      [ValidationError, 'VALIDATION.FAILED', 'permanent'],
      [IllegalStateError, 'STATE.ILLEGAL', 'permanent'],
      [NotFoundError, 'NOT_FOUND.ENTITY', 'permanent'],
      [UnauthorizedError, 'AUTH.UNAUTHORIZED', 'permanent'],
      [ForbiddenError, 'AUTH.FORBIDDEN', 'permanent'],
      [ConcurrencyError, 'CONCURRENCY.CONFLICT', 'transient'],
      [TransientError, 'INFRA.UNAVAILABLE', 'transient'],
      [InternalError, 'INTERNAL.ERROR', 'transient'],
    ] as const)('should give %p its default code and kind', (ErrorClass, code, kind) => {
      const error = new ErrorClass('something went wrong');
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(BifrostError);
      expect(error.code).toBe(code);
      expect(error.code).toMatch(ERROR_CODE_PATTERN);
      expect(error.name).toBe(ErrorClass.name);
      expect(error.message).toBe('something went wrong');
      expect(isBifrostError(error)).toBe(true);
      expect(errorKind(error)).toBe(kind);
    });
  });

  describe('When constructed with options', () => {
    it('should take a specific code, details and cause', () => {
      const cause = new Error('socket closed');
      const error = new ValidationError('limit exceeded', {
        code: 'RISK.LIMIT_EXCEEDED',
        details: { limit: 100 },
        cause,
      });
      expect(error.code).toBe('RISK.LIMIT_EXCEEDED');
      expect(error.details).toEqual({ limit: 100 });
      expect(error.cause).toBe(cause);
      expect(error.name).toBe('ValidationError');
    });

    it.each(['risk.limit', 'RISK', 'RISK.', 'RISK.LIMIT-EXCEEDED', 'RISK..X', '1RISK.X', '_RISK.X'])(
      'should reject the code %j',
      (code) => {
        expect(() => new ValidationError('x', { code })).toThrow(TypeError);
      },
    );

    it('should carry the expected and actual sequences of a concurrency conflict', () => {
      const error = new ConcurrencyError('stream moved on', { expectedSequence: 4, actualSequence: 6 });
      expect(error.details).toEqual({ expectedSequence: 4, actualSequence: 6 });
      expect(new ConcurrencyError('conflict').details).toBeUndefined();
    });
  });

  describe('toErrorBody', () => {
    it('should map a Bifrost error to its code, message and details', () => {
      expect(
        toErrorBody(
          new NotFoundError('engine e-1 is unknown', {
            code: 'GATE.ENGINE_UNKNOWN',
            details: { engineId: 'e-1' },
          }),
        ),
      ).toEqual({
        code: 'GATE.ENGINE_UNKNOWN',
        message: 'engine e-1 is unknown',
        details: { engineId: 'e-1' },
      });
    });

    it('should produce bodies that satisfy the contract ErrorBody schema', () => {
      const validate = compile(ErrorBody);
      const errors = [
        new ValidationError('v', { details: [{ path: '/x' }] }),
        new IllegalStateError('s'),
        new NotFoundError('n'),
        new ConcurrencyError('c', { expectedSequence: 1, actualSequence: 2 }),
        new UnauthorizedError('u'),
        new ForbiddenError('f'),
        new TransientError('t'),
        new InternalError('i'),
        new Error('unknown'),
      ];
      for (const error of errors) expect(validate(toErrorBody(error))).toMatchObject({ ok: true });
    });

    it('should leave details out when there are none', () => {
      expect(toErrorBody(new ForbiddenError('no'))).toStrictEqual({ code: 'AUTH.FORBIDDEN', message: 'no' });
    });

    it.each([
      ['a plain Error', new Error('connect ECONNREFUSED 10.0.0.7:5432')],
      ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
      ['a string', 'boom'],
      ['undefined', undefined],
      ['an object', { code: 'FAKE.CODE', message: 'pretending' }],
    ])('should hide %s behind a generic internal error', (_what, thrown) => {
      const body = toErrorBody(thrown);
      expect(body).toStrictEqual({ code: 'INTERNAL.ERROR', message: 'internal error' });
    });

    it('should never include a stack', () => {
      expect(JSON.stringify(toErrorBody(new IllegalStateError('closed')))).not.toContain('at ');
    });
  });

  describe('errorKind', () => {
    it.each([new Error('x'), 'x', null, { code: 'VALIDATION.FAILED' }])(
      'should treat unknown errors (%p) as transient',
      (thrown) => {
        expect(errorKind(thrown)).toBe('transient');
      },
    );

    it('should see through subclasses', () => {
      class LimitExceeded extends ValidationError {
        constructor() {
          super('limit exceeded', { code: 'RISK.LIMIT_EXCEEDED' });
        }
      }
      const error = new LimitExceeded();
      expect(errorKind(error)).toBe('permanent');
      expect(error.name).toBe('LimitExceeded');
    });
  });
});
