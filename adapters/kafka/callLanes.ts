/**
 * One batch of a partition, handled in lanes: one lane per key (Call-ID), so one call's messages
 * are handled one after the other, in order, and different calls' at the same time. Completion
 * is reported in offset order only: a message counts as done once it and every message before
 * it are handled, so the offset committed never passes a message that was not.
 */
export interface LaneWork<M> {
  readonly messages: readonly M[];
  readonly keyOf: (message: M) => string;
  /** Handle one message; false when it was not handled (stop this lane). */
  readonly handle: (message: M) => Promise<boolean>;
  /** Told of each message, in order, once it and all before it are handled. */
  readonly completed: (message: M) => void;
}

export const runInLanes = async <M>({ messages, keyOf, handle, completed }: LaneWork<M>): Promise<void> => {
  const lanes = new Map<string, number[]>();
  messages.forEach((message, index) => {
    const key = keyOf(message);
    const lane = lanes.get(key);
    if (lane) lane.push(index);
    else lanes.set(key, [index]);
  });

  const done = new Array<boolean>(messages.length).fill(false);
  let next = 0;
  let failure: { error: unknown } | undefined;

  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      for (const index of lane) {
        if (failure) return;
        try {
          if (!(await handle(messages[index]!))) return;
        } catch (error) {
          failure ??= { error };
          return;
        }
        done[index] = true;
        while (next < messages.length && done[next]) completed(messages[next++]!);
      }
    }),
  );
  if (failure) throw failure.error;
};
