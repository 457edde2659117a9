/**
 * A binary min-heap of timers by the instant they fire at. Entries are never removed from the
 * middle: the scheduler forgets a timer by no longer pointing at it, and skips it when it comes
 * out (see RingBackScheduler), so pushes and pops stay O(log n).
 */
export interface Queued {
  /** When to fire: the due time, or a later one for a retry. */
  fireAt: number;
}

export class TimerQueue<T extends Queued> {
  private readonly heap: T[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): T | undefined {
    return this.heap[0];
  }

  push(item: T): void {
    const heap = this.heap;
    heap.push(item);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]!.fireAt <= item.fireAt) break;
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = item;
  }

  pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let index = 0;
    const length = heap.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && heap[right]!.fireAt < heap[left]!.fireAt ? right : left;
      if (heap[child]!.fireAt >= last.fireAt) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
    return top;
  }

  /** Keep only the entries `keep` accepts (dropping those the scheduler forgot), and restore the heap. */
  retain(keep: (item: T) => boolean): void {
    const kept = this.heap.filter(keep);
    this.heap.length = 0;
    kept.sort((a, b) => a.fireAt - b.fireAt);
    for (const item of kept) this.heap.push(item);
  }
}
