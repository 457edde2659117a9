/**
 * The shape of a decider: `decide` turns a command and the state into the events that record it
 * (or a rejection), `evolve` folds one event into the state, `initialState` is where a stream
 * starts. Neither touches a clock, an id generator, a database or the network.
 */
import type { Either } from 'fp-ts/lib/Either.js';

export interface Decider<State, Command, Event, Refusal> {
  readonly decide: (command: Command, state: State) => Either<Refusal, readonly Event[]>;
  /**
   * Fold one event into the state. The state passed in belongs to the fold: evolve may update it
   * in place and returns the state to use from then on (this keeps a command's cost independent
   * of how many calls a tenant holds). `decide` never changes the state it reads.
   */
  readonly evolve: (state: State, event: Event) => State;
  readonly initialState: () => State;
}

/** Fold events into a fresh state. */
export const fold = <State, Event>(decider: Pick<Decider<State, never, Event, never>, 'evolve' | 'initialState'>, events: Iterable<Event>): State => {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
};
