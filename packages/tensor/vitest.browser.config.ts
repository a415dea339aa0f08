/**
 * The op suite in Chromium (vitest browser mode, Playwright provider, Debian's Chromium), twice:
 *
 * - `chromium-threaded`: pages served with COOP/COEP, so they are cross-origin isolated, get
 *   SharedArrayBuffer and the threaded Wasm build (the worker pool runs on Web Workers);
 * - `chromium-single`: plain pages, no SharedArrayBuffer: the single-threaded build.
 *
 * test-browser/setup.ts asserts in every file which build is active, and test-browser/mode.test.ts
 * proves the mode (isolation, threads used), so neither is assumed. A missing Chromium is an error.
 *
 * Run: `npx vitest run --config vitest.browser.config.ts` (part of this package's `npm test`).
 */
import { existsSync } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  throw new Error(
    `@kiln/tensor: the browser test run needs Chromium at ${CHROMIUM} and it is missing: install Debian's chromium `
      + '(`apt-get install -y chromium`; .ci/run does this when it is missing), or point KILN_CHROMIUM at a Chromium binary',
  );
}

/** This machine's network is closed: no background connections; headless, no GPU process. */
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// Same resolution as vitest.shared.ts: workspace packages resolve to their TypeScript sources.
const conditions = ['@kiln/source', 'module', 'browser', 'import', 'default'];

/**
 * Test files that run in the browser: the op suite, autograd and creation.
 * Not here, and why:
 * - src/memory.test.ts: reads process.memoryUsage() and forces node's gc (Node-only by design);
 * - src/backends/wasm/*.test.ts: the kernels' own tests, driven by Node's worker_threads where
 *   they test the pool (pool.test.ts), and covered in the browser through the ops that call them;
 * - src/float16.test.ts, src/options.test.ts: not op tests (pure TypeScript, no backend).
 */
const include = ['src/ops/*.test.ts', 'src/autograd.test.ts', 'src/creation.test.ts', 'test-browser/*.test.ts'];

const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function project(name: 'chromium-threaded' | 'chromium-single', isolated: boolean): TestProjectInlineConfiguration {
  return {
    resolve: { conditions },
    server: { headers: isolated ? isolationHeaders : {} },
    test: {
      name,
      include,
      setupFiles: ['test-browser/setup.ts'],
      provide: { kilnBrowserMode: isolated ? 'threaded' : 'single' },
      testTimeout: 60_000,
      hookTimeout: 60_000,
      browser: {
        enabled: true,
        headless: true,
        screenshotFailures: false,
        provider: playwright({ launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 60_000 } }),
        instances: [{ browser: 'chromium' }],
      },
    },
  };
}

export default defineConfig({
  test: {
    projects: [project('chromium-threaded', true), project('chromium-single', false)],
  },
});
