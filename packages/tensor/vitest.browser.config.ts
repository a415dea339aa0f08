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
 * Test files that run in the browser: the op suite, autograd, creation, the Wasm backend's own
 * kernel and worker-pool tests, and the other backend-free files. Left out, and why:
 * - src/memory.test.ts (both runs): Node-only by design — it reads process.memoryUsage() and
 *   forces Node's gc;
 * - src/backends/wasm/step-scope-gc.test.ts (both runs): Node-only by design — it forces Node's
 *   gc to show that kept tensors a step drops are freed;
 * - src/backends/wasm/pool.test.ts (plain page only): it tests the worker pool, which exists only
 *   with shared memory, and asserts the threaded build; it runs in the isolated page.
 */
const include = [
  'src/ops/*.test.ts', 'src/autograd.test.ts', 'src/creation.test.ts', 'src/float16.test.ts', 'src/options.test.ts',
  'src/backends/wasm/**/*.test.ts', 'test-browser/*.test.ts',
];
const nodeOnly = ['src/backends/wasm/step-scope-gc.test.ts'];
const excludeWhenSingle = ['src/backends/wasm/pool.test.ts'];

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
      exclude: isolated ? nodeOnly : [...nodeOnly, ...excludeWhenSingle],
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
