/** Import handlers added for the vision layers (LRN, InstanceNormalization, HardSwish) vs onnxruntime-node on hand-built nodes. */
import { describe, expect, it } from 'vitest';
import { manualSeed, randn, type Tensor } from '@kiln/tensor';
import { importOnnx } from './import.js';
import { AttributeType, encodeModel, type AttributeProto, type TensorProto } from '../proto.js';
import { tensorToProto } from '../tensor-proto.js';
import { createSession, runSession } from '../runtime/session.js';

manualSeed(21);

function oneNode(op: string, x: Tensor, attrs: AttributeProto[], inits: TensorProto[] = [], opset = 18): Uint8Array {
  const vi = (name: string, t?: Tensor) => ({ name, type: { tensorType: { elemType: 1, ...(t ? { shape: { dim: t.shape.map((d) => ({ dimValue: d })) } } : {}) } } });
  return encodeModel({
    irVersion: 8, opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g', node: [{ opType: op, name: `n_${op}`, input: ['x', ...inits.map((t) => t.name!)], output: ['y'], attribute: attrs }],
      initializer: inits, input: [vi('x', x)], output: [vi('y')],
    },
  });
}
const f = (name: string, v: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f: v });
const i = (name: string, v: number): AttributeProto => ({ name, type: AttributeType.INT, i: v });

async function maxDiff(bytes: Uint8Array, x: Tensor): Promise<number> {
  const kiln = importOnnx(bytes).forward(x) as Tensor;
  const ort = (await runSession(await createSession(bytes, { backend: 'node' }), { x })).y!;
  expect(kiln.shape).toEqual(ort.shape);
  const a = kiln.dataSync(), b = ort.dataSync();
  let worst = 0;
  for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(Number(a[j]) - Number(b[j])) / Math.max(1, Math.abs(Number(b[j]))));
  return worst;
}

describe('vision import handlers vs onnxruntime-node', () => {
  const x = randn([2, 6, 3, 3]).mul(2);
  for (const size of [1, 3, 5]) {
    it(`LRN size ${size}`, async () => {
      expect(await maxDiff(oneNode('LRN', x, [i('size', size), f('alpha', 0.7), f('beta', 0.6), f('bias', 1.5)]), x)).toBeLessThan(1e-5);
    });
  }
  // ONNX Runtime's CPU LRN rejects even sizes (size % 2 == 1 check), so these follow the spec's formula directly.
  for (const size of [2, 4]) {
    it(`LRN size ${size}: the spec's window c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉ (PyTorch's mirror image)`, () => {
      const [alpha, beta, bias] = [0.7, 0.6, 1.5];
      const got = importOnnx(oneNode('LRN', x, [i('size', size), f('alpha', alpha), f('beta', beta), f('bias', bias)])).forward(x) as Tensor;
      const d = x.dataSync(), g = got.dataSync();
      const [n, c, m] = [2, 6, 9];
      for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let j = 0; j < m; j++) {
        let s = 0;
        for (let cc = Math.max(0, ch - Math.floor((size - 1) / 2)); cc <= Math.min(c - 1, ch + Math.ceil((size - 1) / 2)); cc++) s += d[(b * c + cc) * m + j]! ** 2;
        const k = (b * c + ch) * m + j;
        expect(Math.abs(g[k]! - d[k]! / (bias + (alpha / size) * s) ** beta)).toBeLessThan(1e-5);
      }
    });
  }
  it('LRN with default alpha/beta/bias', async () => {
    expect(await maxDiff(oneNode('LRN', x, [i('size', 3)]), x)).toBeLessThan(1e-5);
  });
  it('InstanceNormalization', async () => {
    expect(await maxDiff(oneNode('InstanceNormalization', x, [f('epsilon', 1e-3)], [tensorToProto('s', randn([6])), tensorToProto('b', randn([6]))]), x)).toBeLessThan(1e-4);
  });
  for (const [opset, n] of [[18, 3], [21, 6]] as const) {
    it(`GroupNormalization opset ${opset} (scale/bias ${opset < 21 ? 'per group' : 'per channel'})`, async () => {
      const bytes = oneNode('GroupNormalization', x, [i('num_groups', 3), f('epsilon', 1e-4)], [tensorToProto('s', randn([n])), tensorToProto('b', randn([n]))], opset);
      expect(await maxDiff(bytes, x)).toBeLessThan(1e-4);
    });
  }
  it('GroupNormalization with per-channel scales at opset 18 is an error naming the rule', () => {
    const bytes = oneNode('GroupNormalization', x, [i('num_groups', 3)], [tensorToProto('s', randn([6])), tensorToProto('b', randn([6]))], 18);
    expect(() => importOnnx(bytes).forward(x)).toThrow(/GroupNormalization, opset 18\): scale and bias must have 3 elements \(one per group before opset 21\), got \[6\] and \[6\]/);
  });
  it('HardSwish', async () => {
    expect(await maxDiff(oneNode('HardSwish', x.mul(2), []), x.mul(2))).toBeLessThan(1e-6);
  });
  it('LRN on a 2-d input is an error naming the node', () => {
    const bad = randn([2, 6]);
    expect(() => importOnnx(oneNode('LRN', bad, [i('size', 3)])).forward(bad)).toThrow(/Kiln: onnx import: node 'n_LRN' \(LRN, opset 18\): expects an N×C×… input of at least 3 dims, got shape \[2, 6\]/);
  });
});
