// Runs matmul, linear, conv2d (forward and gradients) and max pooling on the wasm backend and on
// the reference, and prints the build in use and the worst relative difference. The test runs it
// under each of the four builds (relaxed SIMD or not, shared memory or not) via KILN_WASM_* vars.
import { conv2d, linear, manualSeed, maxPool2d, randn, setNumThreads, wasmInfo, withBackend } from '@kiln/tensor';

manualSeed(1);
setNumThreads(2);
const x = randn([4, 3, 20, 22]);
const w = randn([8, 3, 3, 3]);
const b = randn([8]);
const a = randn([70, 130]);
const m = randn([90, 130]);
const bias = randn([90]);

function run() {
  const xs = x.detach().requiresGrad_();
  const ws = w.detach().requiresGrad_();
  const y = maxPool2d(conv2d(xs, ws, b, { padding: 1, stride: 1 }).relu(), 2);
  y.square().sum().backward();
  return [a.matmul(m.t()), linear(a, m, bias), y, xs.grad, ws.grad].map((t) => t.dataSync());
}

const fast = withBackend('wasm', run);
const ref = withBackend('reference', run);
let worst = 0;
fast.forEach((f, k) => {
  const r = ref[k];
  for (let i = 0; i < r.length; i++) worst = Math.max(worst, Math.abs(f[i] - r[i]) / (1 + Math.abs(r[i])));
});
console.log(JSON.stringify({ build: wasmInfo()?.build ?? null, worst }));
