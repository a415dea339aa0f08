import { expect } from 'vitest';
import { getNumThreads, setNumThreads, threadsReady, withBackend } from '../../../backend.js';
import { wasmInfo } from '../../../index.js';
import { firstBitDifference } from './data.js';

type Arrays = ReadonlyArray<Float32Array | Float64Array>;

/**
 * Runs `run` on the wasm backend at each thread count of `counts` and checks that every array it
 * returns equals `want`'s (the reference's results; by default the first count's) bit for bit,
 * and that some task ran on two threads where the build has them. The thread count is restored.
 */
export async function expectSameBitsOnThreads(run: () => Arrays, want?: Arrays, counts: readonly number[] = [1, 2, 3]): Promise<void> {
  const before = withBackend('wasm', () => getNumThreads());
  try {
    let expected = want;
    for (const threads of counts) {
      withBackend('wasm', () => setNumThreads(threads));
      await withBackend('wasm', () => threadsReady());
      const got = withBackend('wasm', run);
      if (!expected) {
        expected = got;
        continue;
      }
      got.forEach((a, i) => expect(firstBitDifference(a, expected![i]!), `array ${i}, ${threads} threads`).toBe(-1));
    }
    if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
  } finally {
    withBackend('wasm', () => setNumThreads(before));
  }
}
