// A tiny deterministic training run: the same script under Node, Bun and Deno must print the same loss.
import { manualSeed, randn, tensor, noGrad, matmul } from '@kiln/tensor';

manualSeed(0);
const x = randn([32, 4]);
const labels = tensor(Array.from({ length: 32 }, (_, i) => i % 3), { dtype: 'int32' });
const w1 = randn([4, 8]).mul(0.5).requiresGrad_();
const b1 = randn([8]).mul(0.1).requiresGrad_();
const w2 = randn([8, 3]).mul(0.5).requiresGrad_();
const b2 = randn([3]).mul(0.1).requiresGrad_();
const params = [w1, b1, w2, b2];
const target = labels.reshape(32, 1);
let loss;
for (let step = 0; step < 50; step++) {
  const h = matmul(x, w1).add(b1).relu();
  const logits = matmul(h, w2).add(b2);
  loss = logits.logSoftmax(1).gather(1, target).mean().neg();
  for (const p of params) p.grad = null;
  loss.backward();
  noGrad(() => { for (const p of params) p.sub_(p.grad.mul(0.1)); });
}
console.log(JSON.stringify({ loss: loss.item(), dtype: loss.dtype }));
