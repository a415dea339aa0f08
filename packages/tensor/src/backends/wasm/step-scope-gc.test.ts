// Node only (it forces a garbage collection through node:v8 / node:vm, which the browser pages
// lack; vitest.browser.config.ts leaves it out): a tensor kept with keep(t) is ordinary JS
// memory once its scope ends, so a step that keeps a new tensor and drops the previous one holds
// nothing beyond what user code references.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { keep, noGrad, stepScope, type Tensor } from '../../index.js';
import { wasmActivationStats } from './index.js';
import { bits, hidden, mlp, shared, step } from './test-utils/mlp-step.js';

if (shared) describe('stepScope and the garbage collector', () => {
  it('keep: memory stays steady when each step keeps a new tensor and drops the previous one', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const ps = mlp(true);
    const last = { value: null as Tensor | null };
    const scopedStep = () => stepScope(() => {
      last.value = keep(hidden(ps).detach()); // what a module's lastWeights does
      return step(ps);
    });
    for (let s = 0; s < 20; s++) scopedStep();
    const warm = wasmActivationStats()!;
    const dropped: WeakRef<Tensor>[] = [];
    let expected: number[] = [];
    for (let s = 0; s < 300; s++) {
      if (last.value) dropped.push(new WeakRef(last.value));
      if (s === 299) expected = bits(noGrad(() => stepScope(() => hidden(ps))).dataSync()); // before the step's update
      scopedStep();
      const now = wasmActivationStats()!;
      expect(now.liveBlocks).toBe(0);
      expect(now.cachedBlocks).toBe(warm.cachedBlocks);
      expect(now.heapBytes).toBe(warm.heapBytes);
    }
    expect(bits(last.value!.dataSync())).toEqual(expected);
    await new Promise((r) => setTimeout(r, 0)); // WeakRef targets stay alive until the current job ends
    gc();
    // Nothing in the scope machinery holds a kept tensor once user code has dropped it.
    expect(dropped.filter((w) => w.deref() !== undefined)).toHaveLength(0);
  });

});
