import { fileURLToPath } from 'node:url';
import { mergeConfig } from 'vitest/config';
import shared from './vitest.shared.ts';

// For the packages whose training tests dominate the suite's tail (vision, sequence): two test
// files at a time (vitest's default on 2 cores is one), so they share the machine once the other
// packages have finished, and each file runs its kernels on one thread (vitest.one-thread.ts).
export default mergeConfig(shared, {
  test: { maxWorkers: 2, setupFiles: [fileURLToPath(new URL('./vitest.one-thread.ts', import.meta.url))] },
});
