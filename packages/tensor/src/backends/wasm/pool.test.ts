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

  it('back-to-back products of every size (workers asleep, waking or claiming shares) give the 1-thread bits', async () => {
    // Any thread may run any share, and the caller runs the ones no worker claimed in time.
    const sizes = [[8, 40, 30], [64, 256, 128], [33, 17, 300], [128, 96, 80], [5, 700, 64], [64, 10, 128]];
    const run = (): Float32Array[] => {
      const outs: Float32Array[] = [];
      for (let rep = 0; rep < 8; rep++) {
        for (const [m, n, k] of sizes) {
          const a = tensor(rand(m! * k!, rep + m!), { shape: [m!, k!] });
          const b = tensor(rand(k! * n!, rep + n!), { shape: [k!, n!] });
          outs.push(withBackend('wasm', () => matmul(a, b).dataSync() as Float32Array));
        }
      }
      return outs;
    };
    withBackend('wasm', () => setNumThreads(1));
    const one = run();
    withBackend('wasm', () => setNumThreads(2));
    await withBackend('wasm', () => threadsReady());
    expect(run()).toEqual(one);
  });

  it('rejects a share count outside [1, 255] with the task named', () => {
    expect(() => wasmPool!.run('gemmTask', 4096, 0)).toThrow(/gemmTask asked for 0 shares/);
    expect(() => wasmPool!.run('gemmTask', 4096, 256)).toThrow(/gemmTask asked for 256 shares/);
  });

  it('threadsReady with one thread resolves at once', async () => {
    withBackend('wasm', () => setNumThreads(1));
    await expect(withBackend('wasm', () => threadsReady())).resolves.toBeUndefined();
  });
});
