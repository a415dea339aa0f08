// Two test files at a time, kernels on one thread: see vitest.training.ts.
export { default } from '../../vitest.training.ts';
