import { defineConfig } from 'vitest/config';
// Cross-runtime tests import the built packages (dist), as Bun and Deno will.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'], exclude: ['node_modules/**'], pool: 'forks',
    // Hang protection only (packing, offline installs and three runtimes stretch on a busy machine).
    testTimeout: 900_000, hookTimeout: 900_000,
  },
});
