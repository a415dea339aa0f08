/**
 * Users never dispose tensors: a long training loop built from raw ops must hold its memory
 * steady once warmed up (every step's tape and temporaries become garbage).
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, noGrad, randn, randint, tensor, type Tensor } from './index.js';

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

describe('memory', () => {
  it('a 10,000-step MLP training loop keeps RSS growth after warm-up under 64 MB', () => {
    manualSeed(0);
    const x = randn([16, 8]);
    const y = randint(0, 4, [16, 1]);
    const w1 = randn([8, 16]).mul(0.3).requiresGrad_();
    const b1 = tensor(new Float32Array(16)).requiresGrad_();
    const w2 = randn([16, 4]).mul(0.3).requiresGrad_();
    const b2 = tensor(new Float32Array(4)).requiresGrad_();
    const params: Tensor[] = [w1, b1, w2, b2];
    const step = (): number => {
      const logits = x.matmul(w1).add(b1).relu().matmul(w2).add(b2);
      const loss = logits.logSoftmax(1).gather(1, y).mean().neg();
      for (const p of params) p.grad = null;
      loss.backward();
      noGrad(() => {
        for (const p of params) p.sub_(p.grad!.mul(0.05));
      });
      return loss.item();
    };
    const first = step();
    for (let i = 0; i < 1000; i++) step();
    gc();
    const base = process.memoryUsage().rss;
    let peak = base;
    let last = first;
    for (let i = 0; i < 9000; i++) {
      last = step();
      if (i % 500 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    gc();
    const end = process.memoryUsage().rss;
    peak = Math.max(peak, end);
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first); // it trained
    expect(peak - base, `RSS grew from ${base} to a peak of ${peak}`).toBeLessThan(64 * 1024 * 1024);
  });
});
