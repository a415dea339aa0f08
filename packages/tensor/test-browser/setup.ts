/**
 * Runs before every test file of the browser runs (vitest.browser.config.ts): asserts the Wasm
 * build this page got is the one its project promises — threads in a cross-origin-isolated page,
 * none in a plain one — and, where threads exist, starts 2 of them before the file's tests, so
 * ops large enough to split run on the Web Worker pool.
 */
import { beforeAll, expect, inject } from 'vitest';
import { setNumThreads, threadsReady, wasmInfo, withBackend } from '../src/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Which page the project serves: cross-origin isolated (threaded build) or plain (single-threaded). */
    kilnBrowserMode: 'threaded' | 'single';
  }
}

/** The build each mode must get (Chromium has relaxed SIMD; threads only with shared memory). */
export const EXPECTED_BUILD = { threaded: 'relaxed-simd+threads', single: 'relaxed-simd' } as const;

beforeAll(async () => {
  const mode = inject('kilnBrowserMode');
  expect(mode, 'kilnBrowserMode provided by vitest.browser.config.ts').toMatch(/^(threaded|single)$/);
  expect(wasmInfo()?.build, `Wasm build in the ${mode} page`).toBe(EXPECTED_BUILD[mode]);
  if (mode === 'threaded') {
    withBackend('wasm', () => setNumThreads(2));
    await withBackend('wasm', () => threadsReady());
  }
});
