import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources under tests (the "@kiln/source"
// export condition), so a change in one package is seen by the others without a rebuild.
const conditions = ['@kiln/source', 'module', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@kiln/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', '*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
