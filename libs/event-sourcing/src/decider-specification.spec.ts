import { fold, type Decider } from './decider';
import { DeciderSpecification } from './decider-specification';
import { IllegalStateError, ValidationError } from './errors';

// The decider under test: a counter with a maximum, small enough to read at a glance.
type CounterState = { status: 'counting'; value: number } | { status: 'closed' };
type CounterCommand = { type: 'Increment'; data: { by: number } } | { type: 'Reset' };
type CounterEvent =
  | { type: 'Incremented'; data: { by: number } }
  | { type: 'LimitReached'; data: { max: number; refused: number } }
  | { type: 'CounterReset' }
  | { type: 'CounterClosed' };
interface Limits {
  readonly max: number;
}

const counter: Decider<CounterState, CounterCommand, CounterEvent, Limits> = {
  initialState: () => ({ status: 'counting', value: 0 }),
  decide(command, state, { max }) {
    if (state.status === 'closed') throw new IllegalStateError('counter is closed');
    switch (command.type) {
      case 'Increment':
        if (command.data.by <= 0) throw new ValidationError('step must be positive');
        return state.value + command.data.by > max
          ? [limitReached(max, command.data.by)]
          : [incremented(command.data.by)];
      case 'Reset':
        return state.value === 0 ? [] : [counterReset()];
      default: {
        const unknown: never = command;
        throw new IllegalStateError(`unknown command ${JSON.stringify(unknown)}`);
      }
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'Incremented':
        return state.status === 'counting'
          ? { status: 'counting', value: state.value + event.data.by }
          : state;
      case 'LimitReached':
        return state;
      case 'CounterReset':
        return { status: 'counting', value: 0 };
      case 'CounterClosed':
        return { status: 'closed' };
      default: {
        const _exhaustive: never = event;
        return state;
      }
    }
  },
};

describe('DeciderSpecification', () => {
  const spec = DeciderSpecification.for(counter, { max: 3 });

  describe('Given a fresh counter', () => {
    it('should count up', () => {
      spec
        .given([])
        .when(increment(1))
        .then([incremented(1)]);
    });

    it('should start from the initial state without given', () => {
      spec.when(increment(2)).then([incremented(2)]);
    });

    it('should do nothing on reset', () => {
      spec.given([]).when(reset()).thenNothingHappened();
    });

    it('should throw on a non-positive step', () => {
      spec
        .given([])
        .when(increment(0))
        .thenThrows(ValidationError, (e) => e.code === 'VALIDATION.FAILED');
    });
  });

  describe('Given a counter below its max', () => {
    it('should fold the history before deciding', () => {
      spec
        .given([incremented(1), incremented(1)])
        .when(increment(1))
        .then([incremented(1)]);
    });

    it('should record the limit as an event of its own', () => {
      spec
        .given([incremented(2)])
        .when(increment(2))
        .then([limitReached(3, 2)]);
    });

    it('should reset', () => {
      spec
        .given([incremented(2)])
        .when(reset())
        .then([counterReset()]);
    });

    it('should use the context given with the command', () => {
      spec
        .given([incremented(2)])
        .when(increment(2), { max: 10 })
        .then([incremented(2)]);
    });
  });

  describe('Given a counter at its max', () => {
    it('should refuse to count with an event', () => {
      spec
        .given([incremented(3)])
        .when(increment(1))
        .then([limitReached(3, 1)]);
    });
  });

  describe('Given a closed counter', () => {
    it('should throw an IllegalStateError', () => {
      spec.given([closed()]).when(increment(1)).thenThrows(IllegalStateError);
    });

    it('should accept any error without arguments', () => {
      spec.given([closed()]).when(increment(1)).thenThrows();
    });
  });

  describe('When the expectation is wrong', () => {
    it('should fail then when the events differ', () => {
      expect(() =>
        spec
          .given([])
          .when(increment(1))
          .then([incremented(2)]),
      ).toThrow();
      expect(() => spec.given([]).when(increment(1)).then([])).toThrow();
      expect(() =>
        spec
          .given([])
          .when(increment(1))
          .then([incremented(1), incremented(1)]),
      ).toThrow();
    });

    it('should fail then when decide throws', () => {
      expect(() => spec.given([closed()]).when(increment(1)).then([])).toThrow(IllegalStateError);
    });

    it('should fail thenNothingHappened when events were produced', () => {
      expect(() => spec.given([]).when(increment(1)).thenNothingHappened()).toThrow();
    });

    it('should fail thenThrows when nothing is thrown', () => {
      expect(() => spec.given([]).when(increment(1)).thenThrows()).toThrow(/expected decide to throw/);
    });

    it('should fail thenThrows on another error class or a false predicate', () => {
      expect(() => spec.given([closed()]).when(increment(1)).thenThrows(ValidationError)).toThrow();
      expect(() =>
        spec
          .given([closed()])
          .when(increment(1))
          .thenThrows(IllegalStateError, (e) => e.code === 'OTHER.CODE'),
      ).toThrow();
    });

    it('should fail then when evolve throws on the produced events', () => {
      const brittle: Decider<CounterState, CounterCommand, CounterEvent, Limits> = {
        ...counter,
        evolve: (state, event) => {
          if (event.type === 'CounterReset') throw new Error('evolve must be total');
          return counter.evolve(state, event);
        },
      };
      expect(() =>
        DeciderSpecification.for(brittle, { max: 3 })
          .given([incremented(1)])
          .when(reset())
          .then([counterReset()]),
      ).toThrow();
    });
  });

  describe('fold', () => {
    it('should start from the initial state or a given state', () => {
      expect(fold(counter, [incremented(1), incremented(2)])).toEqual({ status: 'counting', value: 3 });
      expect(fold(counter, [incremented(1)], { status: 'counting', value: 10 })).toEqual({
        status: 'counting',
        value: 11,
      });
      expect(fold(counter, [])).toEqual(counter.initialState());
    });
  });
});

function increment(by: number): CounterCommand {
  return { type: 'Increment', data: { by } };
}
function reset(): CounterCommand {
  return { type: 'Reset' };
}
function incremented(by: number): CounterEvent {
  return { type: 'Incremented', data: { by } };
}
function limitReached(max: number, refused: number): CounterEvent {
  return { type: 'LimitReached', data: { max, refused } };
}
function counterReset(): CounterEvent {
  return { type: 'CounterReset' };
}
function closed(): CounterEvent {
  return { type: 'CounterClosed' };
}
