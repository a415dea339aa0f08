/**
 * Proves which page each browser project runs in, instead of assuming it: the isolated page is
 * cross-origin isolated, has SharedArrayBuffer, loads the threaded build and really runs a
 * product on 2 Web Worker threads with the 1-thread result; the plain page has none of that and
 * runs the single-threaded build.
 */
import { expect, inject, it } from 'vitest';
import { getNumThreads, matmul, setNumThreads, tensor, threadsReady, wasmInfo, withBackend } from '../src/index.js';
import { EXPECTED_BUILD } from './setup.js';

const mode = inject('kilnBrowserMode');

function product(): Float32Array {
  const n = 128;
  const a = new Float32Array(n * 96);
  const b = new Float32Array(96 * 80);
  for (let i = 0; i < a.length; i++) a[i] = ((i * 7919) % 1000) / 500 - 1;
  for (let i = 0; i < b.length; i++) b[i] = ((i * 104729) % 997) / 498 - 1;
  const A = tensor(a, { shape: [n, 96] });
  const B = tensor(b, { shape: [96, 80] });
  return withBackend('wasm', () => matmul(A, B).dataSync() as Float32Array);
}

it(`runs in a real browser page (${mode})`, () => {
  expect(typeof window).toBe('object');
  expect(typeof document).toBe('object');
  expect(navigator.userAgent).toMatch(/Chrome\//);
  expect((globalThis as { process?: unknown }).process?.constructor?.name).not.toBe('process');
});

if (mode === 'threaded') {
  it('the COOP/COEP page is cross-origin isolated and gets the threaded build', () => {
    expect(globalThis.crossOriginIsolated).toBe(true);
    expect(typeof SharedArrayBuffer).toBe('function');
    expect(wasmInfo()!.build).toBe(EXPECTED_BUILD.threaded);
  });

  it('a product runs on 2 Web Worker threads and equals the 1-thread product', async () => {
    withBackend('wasm', () => setNumThreads(1));
    const one = product();
    withBackend('wasm', () => setNumThreads(2));
    await withBackend('wasm', () => threadsReady());
    expect(withBackend('wasm', () => getNumThreads())).toBe(2);
    expect(product()).toEqual(one);
    expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
  });
} else {
  it('the plain page is not cross-origin isolated and gets the single-threaded build', () => {
    expect(globalThis.crossOriginIsolated).toBe(false);
    expect(typeof SharedArrayBuffer).toBe('undefined');
    expect(wasmInfo()!.build).toBe(EXPECTED_BUILD.single);
  });

  it('asking for 2 threads still runs on 1 (no workers without shared memory)', async () => {
    withBackend('wasm', () => setNumThreads(2));
    await withBackend('wasm', () => threadsReady());
    expect(withBackend('wasm', () => getNumThreads())).toBe(1);
    product();
    expect(wasmInfo()!.maxThreadsUsed).toBe(1);
  });
}
