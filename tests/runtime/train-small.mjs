// A small deterministic training run: the same script under Node, Bun and Deno must print the
// same loss. The hidden layer is wide enough that its matmuls run on the wasm GEMM, on 2 threads.
import { manualSeed, randn, tensor, noGrad, matmul, getBackend, setNumThreads, threadsReady, wasmInfo } from '@kiln/tensor';

manualSeed(0);
setNumThreads(2);
const x = randn([64, 32]);
const labels = tensor(Array.from({ length: 64 }, (_, i) => i % 3), { dtype: 'int32' });
const w1 = randn([32, 96]).mul(0.2).requiresGrad_();
const b1 = randn([96]).mul(0.1).requiresGrad_();
const w2 = randn([96, 3]).mul(0.2).requiresGrad_();
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
