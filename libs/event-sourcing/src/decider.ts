/**
 * The shape of every domain context (DESIGN §5): `decide` turns a command into the events it causes,
 * given the current state and a context of collaborators' answers; `evolve` applies one event.
 * `decide` returns `[]` when nothing happens and throws only when an invariant is broken; an expected
 * business "no" is an event of its own. `evolve` is total and never throws.
 */
export interface Decider<State, Command, Event, Ctx = void> {
  decide(command: Command, state: State, ctx: Ctx): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
  /**
   * The version of what `evolve` builds (default 1). A service resumes from a snapshot of its state
   * only if the snapshot was folded by the same versions (ADR 0018), so bump it whenever `State`'s
   * shape or what `evolve` makes of an event changes: the next start then replays the history.
   */
  readonly stateVersion?: number;
}

/**
 * A process manager: reacts to inputs (events of other streams, timer ticks) with outputs
 * (commands or events to publish), keeping its own state built from the inputs it has seen.
 */
export interface Workflow<Input, State, Output> {
  decide(input: Input, state: State): Output[];
  evolve(state: State, input: Input): State;
  initialState(): State;
}

/** Folds events into state, starting from `state` or the decider's initial state. */
export function fold<State, Event>(
  decider: Pick<Decider<State, never, Event, never>, 'evolve' | 'initialState'>,
  events: Iterable<Event>,
  state: State = decider.initialState(),
): State {
  let current = state;
  for (const event of events) current = decider.evolve(current, event);
  return current;
}
