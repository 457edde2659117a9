/**
 * What a projection keeps in memory from one batch to the next: the rows it read and wrote, so
 * the next batch need not read them back. It is true only while the tables are exactly as this
 * runner's last commit left them, which the runner knows from its compare-and-set: the
 * checkpoint moves in the same transaction as every write to the tables, so when it is still
 * where this runner put it, nobody else has written them. The runner therefore forgets it
 * whenever that is not certain: a batch that did not commit (its changes in memory were rolled
 * back in the tables), a checkpoint found moved, a checkpoint (re)loaded, a start.
 *
 * A shadow build (a rebuild) remembers; the live build starts each batch afresh. A live build's
 * tables can be replaced under it by a rebuild's swap at the very position its runner is at, and
 * its compare-and-set cannot tell: rows remembered from before the swap would then be written
 * over the rebuilt ones. Nothing replaces a shadow build's tables.
 */
export class BatchMemory {
  private readonly kept = new Map<object, unknown>();

  constructor(readonly remembers: boolean) {}

  /** What `key` names: kept from an earlier batch, or made now by `create`. */
  keep<T>(key: object, create: () => T): T {
    if (this.kept.has(key)) return this.kept.get(key) as T;
    const made = create();
    this.kept.set(key, made);
    return made;
  }

  /** The batch is over: a build that does not remember starts the next one afresh. */
  batchCommitted(): void {
    if (!this.remembers) this.kept.clear();
  }

  forget(): void {
    this.kept.clear();
  }
}
