import { fold, type Decider } from './decider';

type ErrorClass = abstract new (...args: never[]) => Error;

/** The assertions after `when`. */
export interface DeciderThen<Event> {
  /** The command produces exactly these events, in order (which must also evolve without throwing). */
  then(expected: readonly Event[]): void;
  /** `decide` throws, optionally an instance of `errorClass` satisfying `predicate`. */
  thenThrows<E extends Error>(
    errorClass?: abstract new (...args: never[]) => E,
    predicate?: (error: E) => boolean | void,
  ): void;
  /** The command is accepted and changes nothing: `decide` returns `[]`. */
  thenNothingHappened(): void;
}

export interface DeciderWhen<Command, Event, Ctx> {
  /** `ctx` overrides the specification's context for this command. */
  when(command: Command, ctx?: Ctx): DeciderThen<Event>;
}

export interface DeciderGiven<Command, Event, Ctx> extends DeciderWhen<Command, Event, Ctx> {
  /** The history: these events are folded through `evolve` from the initial state. */
  given(events: readonly Event[]): DeciderWhen<Command, Event, Ctx>;
}

/**
 * Given/When/Then for deciders, on jest's `expect`:
 * `spec.given([registered]).when(recordOutcome).then([outcomeRecorded])`.
 */
export const DeciderSpecification = {
  for<State, Command, Event, Ctx = void>(
    decider: Decider<State, Command, Event, Ctx>,
    ctx?: Ctx,
  ): DeciderGiven<Command, Event, Ctx> {
    const given = (history: readonly Event[]): DeciderWhen<Command, Event, Ctx> => ({
      when: (command, commandCtx) => {
        // Folding lazily keeps an evolve that throws on the history reported by the assertion that runs it.
        const state = (): State => fold(decider, history);
        const decide = (current: State): Event[] =>
          decider.decide(command, current, (commandCtx ?? ctx) as Ctx);
        return {
          then: (expected) => {
            const current = state();
            const events = decide(current);
            expect(events).toEqual(expected);
            expect(() => fold(decider, events, current)).not.toThrow();
          },
          thenThrows: (errorClass, predicate) => {
            const current = state();
            let thrown: unknown;
            let events: Event[] | undefined;
            try {
              events = decide(current);
            } catch (error) {
              thrown = error;
            }
            if (events !== undefined) {
              throw new Error(`expected decide to throw, but it returned ${JSON.stringify(events)}`);
            }
            if (errorClass) expect(thrown).toBeInstanceOf(errorClass as ErrorClass);
            if (predicate) expect(predicate(thrown as never)).not.toBe(false);
          },
          thenNothingHappened: () => {
            expect(decide(state())).toEqual([]);
          },
        };
      },
    });
    return { given, when: (command, commandCtx) => given([]).when(command, commandCtx) };
  },
};
