import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads, threadsReady, withBackend } from '../../backend.js';
import { matmul, tensor, wasmInfo } from '../../index.js';
import { wasmPool } from './index.js';
import { rand } from './test-utils/data.js';

const threaded = wasmInfo()?.build.endsWith('+threads') ?? false;

/** A product large enough to be split between 2 threads. */
function product(): Float32Array {
  const a = tensor(rand(128 * 96, 1), { shape: [128, 96] });
  const b = tensor(rand(96 * 80, 2), { shape: [96, 80] });
  return withBackend('wasm', () => matmul(a, b).dataSync() as Float32Array);
}

describe('wasm worker pool', () => {
  const before = withBackend('wasm', () => getNumThreads());
  afterAll(() => withBackend('wasm', () => setNumThreads(before)));

  it('threadsReady resolves once the workers run tasks: the next product uses 2 threads', async () => {
    expect(threaded).toBe(true); // Node has shared memory: the threaded build
    withBackend('wasm', () => setNumThreads(2));
    await withBackend('wasm', () => threadsReady());
    expect(withBackend('wasm', () => getNumThreads())).toBe(2);
    product();
    expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
  });

  it('a worker that dies mid-task makes the task throw (bounded wait), and a new worker takes its place', async () => {
    withBackend('wasm', () => setNumThreads(1));
    const expected = product();
    withBackend('wasm', () => setNumThreads(2));
    await withBackend('wasm', () => threadsReady());
    const pool = wasmPool!;
    const bound = pool.timeoutMs;
    // The outcome does not depend on this bound: the dead worker never reports, however long we wait.
    pool.timeoutMs = 50;
    try {
      pool.simulateWorkerDeath(1);
      expect(() => product()).toThrow(/Kiln: wasm backend: worker thread 1 did not finish gemmTask within 50 ms .*stopped/);
    } finally {
      pool.timeoutMs = bound;
    }
    // The dead worker was dropped; threadsReady starts a new one and results are unchanged.
    await withBackend('wasm', () => threadsReady());
    expect(product()).toEqual(expected);
  });

  it('threadsReady with one thread resolves at once', async () => {
    withBackend('wasm', () => setNumThreads(1));
    await expect(withBackend('wasm', () => threadsReady())).resolves.toBeUndefined();
  });
});
