// A small deterministic training run: the same script under Node, Bun and Deno must print the
// same loss. The layers are wide enough that the first layer's products (64×64×256 multiply-adds,
// ~1 M) split into several GEMM shares (2^18 each at least, backends/wasm/gemm.ts), so 2 threads run.
import { manualSeed, randn, tensor, noGrad, matmul, getBackend, setNumThreads, threadsReady, wasmInfo } from '@kiln/tensor';

manualSeed(0);
setNumThreads(2);
const x = randn([64, 64]);
const labels = tensor(Array.from({ length: 64 }, (_, i) => i % 3), { dtype: 'int32' });
const w1 = randn([64, 256]).mul(0.15).requiresGrad_();
const b1 = randn([256]).mul(0.1).requiresGrad_();
const w2 = randn([256, 3]).mul(0.1).requiresGrad_();
const b2 = randn([3]).mul(0.1).requiresGrad_();
const params = [w1, b1, w2, b2];
const target = labels.reshape(64, 1);
// Start the worker threads and wait until they run tasks (however long that takes on a busy machine).
await threadsReady();
let loss;
for (let step = 0; step < 50; step++) {
  const h = matmul(x, w1).add(b1).relu();
  const logits = matmul(h, w2).add(b2);
  loss = logits.logSoftmax(1).gather(1, target).mean().neg();
  for (const p of params) p.grad = null;
  loss.backward();
  noGrad(() => { for (const p of params) p.sub_(p.grad.mul(0.1)); });
}
console.log(JSON.stringify({ loss: loss.item(), dtype: loss.dtype, backend: getBackend().name, wasm: wasmInfo() }));
