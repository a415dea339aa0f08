/** Import of ONNX RNN / GRU / LSTM nodes, each checked against onnxruntime-node on the same bytes. */
import { describe, expect, it } from 'vitest';
import { manualSeed, randn, tensor, type Tensor } from '@kiln/tensor';
import { importOnnx } from '../import.js';
import { decodeModel, encodeModel, AttributeType, type AttributeProto, type NodeProto, type TensorProto } from '../../proto.js';
import { tensorToProto } from '../../tensor-proto.js';
import { createSession, runSession } from '../../runtime/session.js';

manualSeed(11);

const int = (name: string, v: number): AttributeProto => ({ name, type: AttributeType.INT, i: v });
const str = (name: string, v: string): AttributeProto => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(v) });
const strs = (name: string, v: string[]): AttributeProto => ({ name, type: AttributeType.STRINGS, strings: v.map((s) => new TextEncoder().encode(s)) });

interface Spec {
  op: 'RNN' | 'GRU' | 'LSTM';
  T: number; B: number; I: number; H: number;
  dir?: 'forward' | 'reverse' | 'bidirectional';
  bias?: boolean; lens?: number[]; h0?: boolean; c0?: boolean; peep?: boolean; layout?: 1; lbr?: 0 | 1; acts?: string[];
}

/** One recurrent node; graph inputs X (+ sequence_lens, initial states), weights as initializers. */
function build(s: Spec): { bytes: Uint8Array; feeds: Record<string, Tensor> } {
  const D = s.dir === 'bidirectional' ? 2 : 1;
  const G = { RNN: 1, GRU: 3, LSTM: 4 }[s.op];
  const feeds: Record<string, Tensor> = { X: s.layout ? randn([s.B, s.T, s.I]) : randn([s.T, s.B, s.I]) };
  const inits: TensorProto[] = [tensorToProto('W', randn([D, G * s.H, s.I]).mul(0.5)), tensorToProto('R', randn([D, G * s.H, s.H]).mul(0.5))];
  const inputs = ['X', 'W', 'R'];
  const opt = (name: string, make: (() => Tensor) | null, asInit = false) => {
    if (!make) { inputs.push(''); return; }
    inputs.push(name);
    if (asInit) inits.push(tensorToProto(name, make())); else feeds[name] = make();
  };
  opt('B', s.bias ? () => randn([D, 2 * G * s.H]).mul(0.5) : null, true);
  opt('sequence_lens', s.lens ? () => tensor(Int32Array.from(s.lens!)) : null);
  const state = () => (s.layout ? randn([s.B, D, s.H]) : randn([D, s.B, s.H]));
  opt('initial_h', s.h0 ? state : null);
  if (s.op === 'LSTM') {
    opt('initial_c', s.c0 ? state : null);
    opt('P', s.peep ? () => randn([D, 3 * s.H]).mul(0.5) : null, true);
  }
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const outs = s.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const attrs = [int('hidden_size', s.H), str('direction', s.dir ?? 'forward')];
  if (s.layout) attrs.push(int('layout', 1));
  if (s.lbr !== undefined) attrs.push(int('linear_before_reset', s.lbr));
  if (s.acts) attrs.push(strs('activations', s.acts));
  const node: NodeProto = { opType: s.op, name: `n_${s.op}`, input: inputs, output: outs, attribute: attrs };
  const vi = (name: string, t?: Tensor) => ({
    name, type: { tensorType: { elemType: t?.dtype === 'int32' ? 6 : 1, ...(t ? { shape: { dim: t.shape.map((d) => ({ dimValue: d })) } } : {}) } },
  });
  const bytes = encodeModel({
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'g', node: [node], initializer: inits, input: Object.entries(feeds).map(([n, t]) => vi(n, t)), output: outs.map((n) => vi(n)) },
  });
  return { bytes, feeds };
}

/**
 * Worst relative gap between Kiln's import and ORT. ORT runs only layout 0, so a layout-1 spec is
 * checked as the same node with layout = 1 on transposed feeds, its outputs transposed back.
 */
async function worstVsOrt(s: Spec): Promise<number> {
  const { bytes, feeds } = build({ ...s, layout: undefined });
  let kilnBytes = bytes;
  let kilnFeeds = feeds;
  if (s.layout) {
    const model = decodeModel(bytes);
    model.graph!.node![0]!.attribute!.push(int('layout', 1));
    kilnBytes = encodeModel(model);
    kilnFeeds = Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, t.ndim === 3 ? t.transpose(0, 1) : t]));
  }
  const m = importOnnx(kilnBytes);
  let kiln = m.forward(...m.inputNames.map((n) => kilnFeeds[n]!)) as Tensor[];
  if (s.layout) kiln = kiln.map((t) => (t.ndim === 4 ? t.permute(1, 2, 0, 3) : t.transpose(0, 1)));
  const sess = await createSession(bytes, { backend: 'node' });
  const ort = await runSession(sess, feeds);
  let worst = 0;
  sess.outputNames.forEach((n, i) => {
    expect(kiln[i]!.shape, n).toEqual(ort[n]!.shape);
    const a = kiln[i]!.dataSync(), b = ort[n]!.dataSync();
    for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - Number(b[j])) / Math.max(1, Math.abs(a[j]!)));
  });
  return worst;
}

const specs: Array<[string, Spec]> = [
  ['LSTM bidirectional, bias, states, peepholes, sequence_lens', { op: 'LSTM', T: 5, B: 3, I: 3, H: 4, dir: 'bidirectional', bias: true, h0: true, c0: true, peep: true, lens: [5, 2, 4] }],
  ['LSTM reverse, no bias, layout 1', { op: 'LSTM', T: 4, B: 2, I: 3, H: 3, dir: 'reverse', h0: true, layout: 1 }],
  ['LSTM forward, defaults only', { op: 'LSTM', T: 3, B: 2, I: 2, H: 3 }],
  ['GRU linear_before_reset=1 bidirectional, sequence_lens, initial_h', { op: 'GRU', T: 5, B: 3, I: 3, H: 4, dir: 'bidirectional', bias: true, h0: true, lbr: 1, lens: [1, 5, 3] }],
  ['GRU linear_before_reset=0 (ONNX default) bidirectional, sequence_lens', { op: 'GRU', T: 5, B: 3, I: 3, H: 4, dir: 'bidirectional', bias: true, h0: true, lens: [4, 5, 2] }],
  ['GRU reverse, layout 1, explicit default activations', { op: 'GRU', T: 4, B: 2, I: 2, H: 3, dir: 'reverse', bias: true, lbr: 1, layout: 1, acts: ['Sigmoid', 'Tanh'] }],
  ['RNN tanh bidirectional, sequence_lens, initial_h', { op: 'RNN', T: 5, B: 3, I: 3, H: 4, dir: 'bidirectional', bias: true, h0: true, lens: [3, 5, 1] }],
  ['RNN Relu', { op: 'RNN', T: 4, B: 2, I: 3, H: 4, bias: true, acts: ['Relu'] }],
];

describe('ONNX RNN/GRU/LSTM import vs onnxruntime-node', () => {
  for (const [label, spec] of specs) {
    it(label, async () => {
      expect(await worstVsOrt(spec)).toBeLessThan(1e-4);
    });
  }

  it('gradients reach W, R and B of an imported LSTM', () => {
    const { bytes, feeds } = build({ op: 'LSTM', T: 3, B: 2, I: 2, H: 3, bias: true, peep: true });
    const m = importOnnx(bytes);
    const [y] = m.forward(feeds.X!) as Tensor[];
    y!.square().sum().backward();
    for (const [k, p] of m.namedParameters()) {
      expect(p.grad, k).not.toBeNull();
      expect(Array.from(p.grad!.dataSync()).some((v) => v !== 0), k).toBe(true);
    }
  });

  it('unsupported attributes and bad shapes are clear errors', () => {
    const { bytes, feeds } = build({ op: 'RNN', T: 3, B: 2, I: 2, H: 3, acts: ['Sigmoid'] });
    expect(() => importOnnx(bytes).forward(feeds.X!)).toThrow(/RNN, opset 17\): activations \[Sigmoid\] are not supported/);
    const lens = build({ op: 'GRU', T: 3, B: 2, I: 2, H: 3, lens: [1, 2] });
    expect(() => importOnnx(lens.bytes).forward(lens.feeds.X!, tensor(Int32Array.from([4, 1])))).toThrow(/lengths\[0\] = 4 is outside 1\.\.3/);
  });
});
