import { describe, expect, it } from 'vitest';
import { manualSeed, randn, tensor, noGrad, logSoftmax, type Tensor } from '@kiln/tensor';
import { Linear, Module, ReLU, Sequential } from '@kiln/nn';
import { importOnnx } from './import.js';
import { exportOnnx } from '../export/export.js';
import { encodeModel, AttributeType, type NodeProto, type TensorProto, type AttributeProto } from '../proto.js';
import { tensorToProto } from '../tensor-proto.js';
import { createSession, runSession } from '../runtime/session.js';

manualSeed(1);

/** A one-node model built by hand with our own encoder. */
function single(op: string, inputs: Record<string, Tensor>, attrs: AttributeProto[] = [], inits: TensorProto[] = [], opset = 18, outputs = 1): Uint8Array {
  const node: NodeProto = { opType: op, name: `n_${op}`, input: [...Object.keys(inputs), ...inits.map((t) => t.name!)], output: Array.from({ length: outputs }, (_, i) => `y${i}`), attribute: attrs };
  const vi = (name: string, t?: Tensor) => ({ name, type: { tensorType: { elemType: 1, ...(t ? { shape: { dim: t.shape.map((d) => ({ dimValue: d })) } } : {}) } } });
  return encodeModel({
    irVersion: 8, opsetImport: [{ domain: '', version: opset }],
    graph: { name: 'g', node: [node], initializer: inits, input: Object.entries(inputs).map(([n, t]) => vi(n, t)), output: node.output!.map((n) => vi(n)) },
  });
}
const ints = (name: string, v: number[]): AttributeProto => ({ name, type: AttributeType.INTS, ints: v });
const int = (name: string, v: number): AttributeProto => ({ name, type: AttributeType.INT, i: v });
const i64 = (name: string, v: number[]): TensorProto => {
  const raw = new Uint8Array(v.length * 8); const d = new DataView(raw.buffer);
  v.forEach((x, i) => d.setBigInt64(i * 8, BigInt(x), true));
  return { name, dims: [v.length], dataType: 7, rawData: raw };
};

/** Kiln's import of a hand-built single-node model vs onnxruntime-node on the same bytes. */
async function checkAgainstOrt(bytes: Uint8Array, inputs: Record<string, Tensor>): Promise<void> {
  const m = importOnnx(bytes);
  const kiln = m.forward(...Object.values(inputs));
  const ks = Array.isArray(kiln) ? kiln : [kiln];
  const s = await createSession(bytes, { backend: 'node' });
  const out = await runSession(s, inputs);
  s.outputNames.forEach((n, i) => {
    expect(ks[i]!.shape).toEqual(out[n]!.shape);
    const a = ks[i]!.dataSync(), b = out[n]!.dataSync();
    for (let j = 0; j < a.length; j++) expect(Math.abs(Number(a[j]) - Number(b[j]))).toBeLessThan(1e-4 * Math.max(1, Math.abs(Number(a[j]))));
  });
}

describe('import handlers on hand-built single-node models (vs onnxruntime-node)', () => {
  const x = randn([2, 3, 6, 6]);
  const a = randn([4, 5]);
  const cases: [string, () => Uint8Array, Record<string, Tensor>][] = [
    ['Relu', () => single('Relu', { x }), { x }],
    ['Gemm transB alpha beta', () => single('Gemm', { a }, [int('transB', 1), { name: 'alpha', type: AttributeType.FLOAT, f: 0.5 }], [tensorToProto('w', randn([3, 5])), tensorToProto('b', randn([3]))]), { a }],
    ['Conv asymmetric pads', () => single('Conv', { x }, [ints('kernel_shape', [3, 3]), ints('pads', [0, 1, 2, 1]), ints('strides', [2, 1])], [tensorToProto('w', randn([4, 3, 3, 3]))]), { x }],
    ['MaxPool ceil', () => single('MaxPool', { x }, [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), int('ceil_mode', 1)]), { x }],
    ['AveragePool pads exclude', () => single('AveragePool', { x }, [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])]), { x }],
    ['AveragePool pads include', () => single('AveragePool', { x }, [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), int('count_include_pad', 1)]), { x }],
    ['GlobalAveragePool', () => single('GlobalAveragePool', { x }), { x }],
    ['Transpose', () => single('Transpose', { x }, [ints('perm', [0, 2, 3, 1])]), { x }],
    ['Reshape with 0 and -1', () => single('Reshape', { x }, [], [i64('s', [0, -1])]), { x }],
    ['Flatten', () => single('Flatten', { x }, [int('axis', 2)]), { x }],
    ['Slice negative step', () => single('Slice', { x }, [], [i64('st', [-1, 4]), i64('en', [-100, 0]), i64('ax', [3, 2]), i64('sp', [-2, -1])]), { x }],
    ['Softmax', () => single('Softmax', { x }, [int('axis', 1)]), { x }],
    ['ReduceMean axes input', () => single('ReduceMean', { x }, [int('keepdims', 0)], [i64('a', [1, 3])]), { x }],
    ['Pad reflect', () => single('Pad', { x }, [{ name: 'mode', type: AttributeType.STRING, s: new TextEncoder().encode('reflect') }], [i64('p', [0, 0, 1, 2, 0, 0, 2, 1])]), { x }],
    ['Split num_outputs', () => single('Split', { x }, [int('axis', 2), int('num_outputs', 2)], [], 18, 2), { x }],
    ['Gather', () => single('Gather', { x }, [int('axis', 1)], [i64('i', [2, 0])]), { x }],
    ['Unsqueeze', () => single('Unsqueeze', { x }, [], [i64('a', [0, -1])]), { x }],
    ['BatchNormalization', () => single('BatchNormalization', { x }, [], ['s', 'b', 'm', 'v'].map((n) => tensorToProto(n, n === 'v' ? randn([3]).abs().add(0.5) : randn([3])))), { x }],
    ['LeakyRelu', () => single('LeakyRelu', { x }, [{ name: 'alpha', type: AttributeType.FLOAT, f: 0.2 }]), { x }],
  ];
  for (const [name, build, inputs] of cases) it(name, async () => { await checkAgainstOrt(build(), inputs); });

  it('unknown ops and unsupported attributes name the node, op and opset', () => {
    expect(() => importOnnx(single('FancyOp', { x }))).toThrow(/node 'n_FancyOp' \(FancyOp, opset 18\): op FancyOp is not supported/);
    const m = importOnnx(single('Pad', { x }, [{ name: 'mode', type: AttributeType.STRING, s: new TextEncoder().encode('wrap') }], [i64('p', [0, 0, 1, 1, 0, 0, 1, 1])]));
    expect(() => m.forward(x)).toThrow(/\(Pad, opset 18\): pad mode 'wrap'/);
    expect(() => importOnnx(single('Relu', { x }, [], [], 0))).toThrow(/opset 0 is not supported \(supported: 1\.\.21\)/);
    expect(() => importOnnx(single('Relu', { x }, [], [], 22))).toThrow(/opset 22 is not supported/);
  });
});

class Mlp extends Module {
  net = new Sequential(new Linear(5, 8), new ReLU(), new Linear(8, 3));
  override forward(x: Tensor): Tensor { return logSoftmax(this.net.forward(x), 1); }
}

describe('round trip Kiln → ONNX → Kiln', () => {
  it('gives identical outputs and trainable parameters named by state-dict key; fine-tunes and re-exports', async () => {
    const model = new Mlp().eval();
    const bytes = exportOnnx(model, randn([3, 5]), { dynamicAxes: true });
    const imported = importOnnx(bytes);
    const sd = model.stateDict(), isd = imported.stateDict();
    expect(Object.keys(isd).sort()).toEqual(Object.keys(sd).sort());
    for (const k of Object.keys(sd)) expect(Array.from(isd[k]!.dataSync())).toEqual(Array.from(sd[k]!.dataSync()));
    expect(imported.parameters().every((p) => p.requiresGrad)).toBe(true);
    const x = randn([7, 5]);
    expect(Array.from((imported.forward(x) as Tensor).dataSync())).toEqual(Array.from(model.forward(x).dataSync()));

    // one SGD step on the imported model changes its parameters
    const target = tensor([0, 1, 2, 0, 1, 2, 0], { dtype: 'int32' });
    const out = imported.forward(x) as Tensor;
    const loss = out.gather(1, target.reshape([7, 1])).mean().neg();
    loss.backward();
    const before = Array.from(imported.parameters()[0]!.dataSync());
    noGrad(() => { for (const p of imported.parameters()) p.sub_(p.grad!.mul(0.1)); });
    expect(Array.from(imported.parameters()[0]!.dataSync())).not.toEqual(before);

    // re-export the fine-tuned model and check it on ORT at two batch sizes
    const again = exportOnnx(imported, randn([3, 5]), { dynamicAxes: true });
    const s = await createSession(again);
    for (const b of [1, 7]) {
      const xb = randn([b, 5]);
      const res = await runSession(s, { input: xb });
      const ref = imported.forward(xb) as Tensor;
      const a = ref.dataSync(), o = res.output!.dataSync();
      for (let i = 0; i < a.length; i++) expect(Math.abs(Number(a[i]) - Number(o[i]))).toBeLessThan(1e-4 * Math.max(1, Math.abs(Number(a[i]))));
    }
  });

  it('checks each input against its declared element type, as ONNX Runtime does', () => {
    const imported = importOnnx(exportOnnx(new Mlp().eval(), randn([3, 5]), { dynamicAxes: true }));
    // int32 values into the float graph used to run and return meaningless numbers
    expect(() => imported.forward(tensor([[1, 2, 3, 4, 5]], { dtype: 'int32' }))).toThrow(/^Kiln: OnnxModule\.forward: input 'input' is declared float32 and needs a float32 or float64 tensor, got int32 \[1,5\]$/);
    expect(() => imported.forward([[1, 2, 3, 4, 5]] as never)).toThrow(/^Kiln: OnnxModule\.forward: input 0 \('input'\) must be a Tensor, got an array$/);
  });
});

describe('malformed bytes', () => {
  it('random truncations and bit flips throw Errors, never hang or crash', () => {
    const bytes = exportOnnx(new Mlp().eval(), randn([2, 5]));
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let threw = 0;
    for (let trial = 0; trial < 300; trial++) {
      const b = bytes.slice(0, trial % 3 === 0 ? bytes.length : Math.floor(rnd() * bytes.length));
      for (let k = 0; k < 3; k++) { const at = Math.floor(rnd() * b.length); if (at < b.length) b[at] = b[at]! ^ (1 << Math.floor(rnd() * 8)); }
      try {
        const m = importOnnx(b);
        m.forward(randn([2, 5]));
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        threw++;
      }
    }
    expect(threw).toBeGreaterThan(100);
  });
});
