/**
 * Given/when/then for deciders: `given(events).when(command).then(events)`, or `.thenRejects(reason)`,
 * or `.thenNothing()`. The given events are folded from the decider's initial state; the command
 * is decided; what it decided is compared with what the rule says.
 */
import * as E from 'fp-ts/lib/Either.js';
import { expect } from 'vitest';
import type { Decider } from '../../domain/decider.js';

interface Refused {
  readonly reason: string;
  readonly message: string;
  readonly recorded?: unknown;
}

export const specificationFor = <State, Command, Event, Refusal extends Refused>(decider: Decider<State, Command, Event, Refusal>) => ({
  given: (events: readonly Event[]) => ({
    when: (command: Command) => {
      let state = decider.initialState();
      for (const event of events) state = decider.evolve(state, event);
      const decision = decider.decide(command, state);
      return {
        decision,
        state,
        then: (expected: readonly Event[]): void => {
          if (E.isLeft(decision)) throw new Error(`Expected events, but the command was rejected: ${decision.left.reason} (${decision.left.message})`);
          expect(decision.right).toEqual(expected);
        },
        thenRejects: (reason: Refusal['reason'], recorded?: Event): Refusal => {
          if (E.isRight(decision)) throw new Error(`Expected a rejection (${reason}), but it decided ${JSON.stringify(decision.right)}`);
          expect(decision.left.reason).toBe(reason);
          expect(decision.left.message.length).toBeGreaterThan(10);
          if (recorded !== undefined) expect(decision.left.recorded).toEqual(recorded);
          return decision.left;
        },
        thenNothing: (): void => {
          if (E.isLeft(decision)) throw new Error(`Expected no events, but it was rejected: ${decision.left.reason}`);
          expect(decision.right).toEqual([]);
        },
      };
    },
  }),
});
