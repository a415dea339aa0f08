import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources under tests (the "@kiln/source"
// export condition), so a change in one package is seen by the others without a rebuild.
const conditions = ['@kiln/source', 'module', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@kiln/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', '*.test.ts'],
    // Hang protection only: CI is a busy 2-core machine, so a training test may take several times
    // its idle duration there (a CI run beside other work took the CTC and date-attention training
    // tests past 300 s); no test may depend on finishing within a time.
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: 'forks',
  },
});
