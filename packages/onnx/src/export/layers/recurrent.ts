/**
 * RNN / GRU / LSTM layers (of @kiln/sequence, recognised by class name and their PyTorch-style
 * fields, so @kiln/onnx does not depend on that package) → one ONNX RNN / GRU / LSTM node per
 * layer, layout 0 (`[T, B, *]`), both directions in one node:
 * - weights stacked per direction: W `[D, G·H, in]`, R `[D, G·H, H]`, B `[D, 2·G·H]` = [Wb, Rb];
 * - gate orders reordered in one place ({@link ONNX_GATE_ORDER}): LSTM i,f,g,o → i,o,f,c;
 *   GRU r,z,n → z,r,h with linear_before_reset = 1 (PyTorch's GRU); the course GRU
 *   (`variant: 'course'`) is linear_before_reset = 0 with its update gate negated
 *   (ONNX keeps z⊙h, the course keeps (1 − Γu)⊙h, and σ(−a) = 1 − σ(a));
 * - LSTM peepholes (i, f, o) → P `[D, 3·H]` in ONNX's i, o, f order;
 * - layer k > 0 reads Y `[T, D, B, H]` as `[T, B, D·H]` (Transpose + Reshape [0, 0, −1]);
 * - batchFirst and unbatched inputs by Transpose / Unsqueeze around the stack; initial states
 *   sliced per layer from `[L·D, B, H]`, final states concatenated back.
 * - `lengths` given as an int32 tensor → every layer's sequence_lens (same semantics: padded
 *   steps output 0, final states are each sequence's own last step); lengths given as a plain
 *   array are refused, since the traced graph could not take them as an input.
 * Batch and sequence dims stay symbolic. LSTM projections (projSize) have no ONNX form.
 */
import { cat, neg, noGrad, stack, type Tensor } from '@kiln/tensor';
import { AttributeType } from '../../proto.js';
import { tensorToProto } from '../../tensor-proto.js';
import type { GraphBuilder } from '../builder.js';
import type { LayerExporter } from './index.js';

type Mode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/** ONNX's gate blocks in terms of PyTorch's: ONNX block j = PyTorch block ORDER[j]. */
export const ONNX_GATE_ORDER: Record<'LSTM' | 'GRU' | 'RNN', number[]> = {
  LSTM: [0, 3, 1, 2], // i, o, f, c  ←  i, f, g, o
  GRU: [1, 0, 2], // z, r, h  ←  r, z, n
  RNN: [0],
};
/** Peepholes: ONNX P = (i, o, f) from Kiln's (i, f, o). */
export const ONNX_PEEPHOLE_ORDER = [0, 2, 1];

/** Rows of `w` (`[G·H, ...]` or `[G·H]`) regrouped by gate blocks of H in `order`; the blocks in `negate` negated. */
export function reorderBlocks(w: Tensor, H: number, order: readonly number[], negate: readonly number[] = []): Tensor {
  return cat(order.map((j) => {
    const block = w.narrow(0, j * H, H);
    return negate.includes(j) ? neg(block) : block;
  }), 0);
}

function opType(mode: Mode): 'LSTM' | 'GRU' | 'RNN' {
  return mode === 'LSTM' ? 'LSTM' : mode === 'GRU' ? 'GRU' : 'RNN';
}

function init(b: GraphBuilder, hint: string, t: Tensor): string {
  const name = b.unique(hint);
  b.initializers.push(tensorToProto(name, t));
  return name;
}

export const recurrentLayer: LayerExporter = {
  // Only Kiln's recurrent layers (RNNBase of @kiln/sequence), not any class that happens to share a name.
  accepts: (m) => typeof m.mode === 'string' && typeof m.numLayers === 'number' && m.weight_ih_l0 !== undefined,
  export(b, m, inputs, outputs) {
    noGrad(() => exportLayer(b, m, inputs, outputs));
  },
};

function exportLayer(b: GraphBuilder, m: Record<string, unknown>, inputs: readonly Tensor[], outputs: readonly Tensor[]): void {
  const mode = m.mode as Mode;
  const layer = m.constructor && (m.constructor as { name?: string }).name;
  // The layer's tensors after x: its initial states, then (int32) the lengths.
  const lengthsT = inputs.slice(1).find((t) => t.dtype === 'int32') ?? null;
  const states = inputs.slice(1).filter((t) => t.dtype !== 'int32');
  if (m._lastLengths && !lengthsT) {
    throw new Error(`Kiln: onnx export: ${layer}: lengths given as an array cannot be exported; pass them as an int32 tensor (forward(x, h, { lengths: tensor(Int32Array.from(lens)) })) to export them as sequence_lens`);
  }
  if (m.projSize) throw new Error(`Kiln: onnx export: ${layer} with projSize ${String(m.projSize)} has no ONNX equivalent (ONNX LSTM has no projection)`);
  const L = m.numLayers as number;
  const D = m.bidirectional ? 2 : 1;
  const H = m.hiddenSize as number;
  const op = opType(mode);
  const course = mode === 'GRU' && m.variant === 'course';
  const flat = (outputs as unknown as Array<Tensor | Tensor[]>).flat();
  const x = inputs[0]!;
  const batched = x.ndim === 3;
  const param = (name: string, l: number, d: number): Tensor | null =>
    (m[`${name}_l${l}${d === 1 ? '_reverse' : ''}`] as Tensor | undefined) ?? null;
  const axes1 = () => b.int64([1], 'axes');

  let xs = b.name(x);
  if (!batched) xs = b.tmp('Unsqueeze', [xs, axes1()]);
  else if (m.batchFirst) xs = b.tmp('Transpose', [xs], { perm: [1, 0, 2] });
  const state = (i: number): string | null => {
    const st = states[i - 1];
    if (!st) return null;
    const n = b.name(st);
    return batched ? n : b.tmp('Unsqueeze', [n, axes1()]);
  };
  const h0 = state(1);
  const c0 = mode === 'LSTM' ? state(2) : null;

  // Final names: the last node producing each Kiln output takes that output's name.
  const finalOut = flat[0]!;
  const postOutput = !batched || m.batchFirst === true;
  const hY: string[] = [];
  const cY: string[] = [];
  for (let l = 0; l < L; l++) {
    const dirs = Array.from({ length: D }, (_, d) => d);
    const order = ONNX_GATE_ORDER[op];
    const negate = course ? [1] : [];
    const W = stack(dirs.map((d) => reorderBlocks(param('weight_ih', l, d)!, H, order, negate)), 0);
    const R = stack(dirs.map((d) => reorderBlocks(param('weight_hh', l, d)!, H, order, negate)), 0);
    const ins = [xs, init(b, `${op.toLowerCase()}_W_l${l}`, W), init(b, `${op.toLowerCase()}_R_l${l}`, R)];
    if (param('bias_ih', l, 0)) {
      const B = stack(dirs.map((d) => cat([reorderBlocks(param('bias_ih', l, d)!, H, order, negate), reorderBlocks(param('bias_hh', l, d)!, H, order, negate)], 0)), 0);
      ins.push(init(b, `${op.toLowerCase()}_B_l${l}`, B));
    } else {
      ins.push('');
    }
    ins.push(lengthsT ? b.name(lengthsT) : ''); // sequence_lens
    const slice = (s: string | null): string => {
      if (s === null) return '';
      if (L === 1) return s;
      return b.tmp('Slice', [s, b.int64([l * D], 'starts'), b.int64([l * D + D], 'ends'), b.int64([0], 'axes')]);
    };
    ins.push(slice(h0));
    if (mode === 'LSTM') {
      ins.push(slice(c0));
      if (m.peephole) {
        const P = stack(dirs.map((d) => reorderBlocks(param('weight_peep', l, d)!, H, ONNX_PEEPHOLE_ORDER)), 0);
        ins.push(init(b, `lstm_P_l${l}`, P));
      }
    }
    while (ins[ins.length - 1] === '') ins.pop();
    const last = l === L - 1;
    const direct = L === 1 && batched;
    const hOut = direct ? b.output(flat[1]!, 'rnn_h_n') : b.unique(`${op.toLowerCase()}_Y_h`);
    const cOut = mode === 'LSTM' ? (direct ? b.output(flat[2]!, 'rnn_c_n') : b.unique('lstm_Y_c')) : null;
    const y = b.unique(`${op.toLowerCase()}_Y`);
    const attrs: Record<string, number | string> = { hidden_size: H, direction: D === 2 ? 'bidirectional' : 'forward' };
    if (mode === 'GRU') attrs.linear_before_reset = course ? 0 : 1;
    b.node(op, ins, cOut ? [y, hOut, cOut] : [y, hOut], attrs);
    if (mode === 'RNN_RELU') {
      b.nodes[b.nodes.length - 1]!.attribute!.push({
        name: 'activations', type: AttributeType.STRINGS, strings: dirs.map(() => new TextEncoder().encode('Relu')),
      });
    }
    hY.push(hOut);
    if (cOut) cY.push(cOut);
    // [T, D, B, H] → [T, B, D·H]
    const t = b.tmp('Transpose', [y], { perm: [0, 2, 1, 3] });
    const reshapeTo = last && !postOutput ? b.output(finalOut, 'rnn_output') : b.unique('rnn_layer_out');
    b.node('Reshape', [t, b.int64([0, 0, -1], 'shape')], [reshapeTo]);
    xs = reshapeTo;
  }
  const finish = (names: string[], t: Tensor, hint: string): void => {
    if (L === 1 && batched) return; // the layer's node produced it under its name
    if (batched) {
      b.node('Concat', names, [b.output(t, hint)], { axis: 0 });
      return;
    }
    const v = names.length === 1 ? names[0]! : b.tmp('Concat', names, { axis: 0 });
    b.node('Squeeze', [v, axes1()], [b.output(t, hint)]);
  };
  finish(hY, flat[1]!, 'rnn_h_n');
  if (mode === 'LSTM') finish(cY, flat[2]!, 'rnn_c_n');
  if (postOutput) {
    if (!batched) b.node('Squeeze', [xs, axes1()], [b.output(finalOut, 'rnn_output')]);
    else b.node('Transpose', [xs], [b.output(finalOut, 'rnn_output')], { perm: [1, 0, 2] });
  }
}
