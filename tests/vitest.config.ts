import { defineConfig } from 'vitest/config';
// Cross-runtime tests import the built packages (dist), as Bun and Deno will.
export default defineConfig({
  test: { include: ['**/*.test.ts'], exclude: ['node_modules/**'], testTimeout: 180_000, pool: 'forks' },
});
