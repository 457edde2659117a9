import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerQueue } from '../../adapters/scheduler/timerQueue.js';

describe('the timer queue', () => {
  it('gives timers back earliest first, however they were pushed and popped', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.constant(-1)), { maxLength: 300 }), (script) => {
        const queue = new TimerQueue<{ fireAt: number }>();
        const model: number[] = [];
        for (const step of script) {
          if (step < 0) {
            model.sort((a, b) => a - b);
            expect(queue.pop()?.fireAt).toBe(model.shift());
          } else {
            queue.push({ fireAt: step });
            model.push(step);
          }
          expect(queue.size).toBe(model.length);
        }
        const rest: number[] = [];
        for (let item = queue.pop(); item !== undefined; item = queue.pop()) rest.push(item.fireAt);
        expect(rest).toEqual(model.sort((a, b) => a - b));
      }),
    );
  });

  it('keeps only what it is told to keep, still in order', () => {
    const queue = new TimerQueue<{ fireAt: number }>();
    for (const fireAt of [5, 3, 9, 1, 7, 2, 8]) queue.push({ fireAt });
    queue.retain((item) => item.fireAt % 2 === 1);
    queue.push({ fireAt: 4 });
    const order: number[] = [];
    for (let item = queue.pop(); item !== undefined; item = queue.pop()) order.push(item.fireAt);
    expect(order).toEqual([1, 3, 4, 5, 7, 9]);
  });
});
