/**
 * One batch of a partition, in lanes: one lane per key (the tenant, for signaling), each lane's
 * messages handled together and in order (one decision and one append for the lot), different
 * lanes at the same time. A call belongs to one tenant, so one call's records keep their order.
 *
 * What may be committed is a prefix: the messages from the start of the batch up to the first
 * one not handled (its lane failed or was not run), so the offset committed never passes a
 * message that was not handled. A failing lane does not stop the others; the first failure is
 * reported once every lane has settled.
 */
export interface LaneWork<M> {
  readonly messages: readonly M[];
  readonly keyOf: (message: M) => string;
  /** Handle one lane's messages, in order, together; false when they were not handled. */
  readonly handle: (key: string, lane: readonly M[]) => Promise<boolean>;
}

export interface LanesDone {
  /** How many messages from the start of the batch are handled. */
  readonly handled: number;
  /** The first failure of a lane, if any. */
  readonly failure?: { readonly error: unknown };
}

/** The messages' indices by key, each lane in the batch's order. */
export const lanesOf = <M>(messages: readonly M[], keyOf: (message: M) => string): Map<string, number[]> => {
  const lanes = new Map<string, number[]>();
  messages.forEach((message, index) => {
    const key = keyOf(message);
    const lane = lanes.get(key);
    if (lane) lane.push(index);
    else lanes.set(key, [index]);
  });
  return lanes;
};

export const runLanes = async <M>({ messages, keyOf, handle }: LaneWork<M>): Promise<LanesDone> => {
  const done = new Uint8Array(messages.length);
  let failure: { error: unknown } | undefined;
  await Promise.all(
    [...lanesOf(messages, keyOf)].map(async ([key, lane]) => {
      try {
        if (!(await handle(key, lane.map((index) => messages[index]!)))) return;
      } catch (error) {
        failure ??= { error };
        return;
      }
      for (const index of lane) done[index] = 1;
    }),
  );
  const handled = done.indexOf(0);
  return { handled: handled === -1 ? messages.length : handled, ...(failure ? { failure } : {}) };
};
