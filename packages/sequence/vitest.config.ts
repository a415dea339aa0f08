import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// This package's training tests dominate the suite's tail: run two files at a time (vitest's default
// on 2 cores is one), so they share the machine once the other packages have finished; each file
// runs its kernels on one thread (vitest.setup.ts).
export default mergeConfig(shared, { test: { maxWorkers: 2, setupFiles: ['./vitest.setup.ts'] } });
