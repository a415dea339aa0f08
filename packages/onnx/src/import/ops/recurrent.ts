/**
 * ONNX RNN, GRU and LSTM → @kiln/tensor's recurrence ops, one per direction: the weights are
 * regrouped into PyTorch's gate order with differentiable ops (narrow + cat), so an imported
 * model keeps training its W/R/B initializers. Supported: both directions and 'reverse',
 * sequence_lens (each in 1..T), initial_h/initial_c, LSTM peepholes (P), GRU
 * linear_before_reset 0 and 1, layout 0 and 1, all three outputs (Y `[T, D, B, H]`, Y_h, Y_c),
 * the default activations (and Relu for RNN). Not supported (clear error): other activations,
 * clip, input_forget = 1.
 */
import { cat, gruRecurrence, lstmRecurrence, rnnRecurrence, stack, type Tensor } from '@kiln/tensor';
import type { NodeContext, OpHandler } from '../context.js';
import { ONNX_GATE_ORDER, ONNX_PEEPHOLE_ORDER } from '../../export/layers/recurrent.js';

type Op = 'RNN' | 'GRU' | 'LSTM';
const GATES: Record<Op, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const DEFAULT_ACTIVATIONS: Record<Op, string[]> = { RNN: ['Tanh'], GRU: ['Sigmoid', 'Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'] };

/** The inverse permutation: PyTorch block k = ONNX block inv[k]. */
function inverse(order: readonly number[]): number[] {
  const inv = new Array<number>(order.length);
  order.forEach((k, j) => { inv[k] = j; });
  return inv;
}

/** Gate blocks of H rows of `w` taken in `order`. */
function blocks(w: Tensor, H: number, order: readonly number[]): Tensor {
  return order.length === 1 ? w : cat(order.map((j) => w.narrow(0, j * H, H)), 0);
}

function activations(c: NodeContext, op: Op, D: number): string {
  const a = c.node.attribute?.find((x) => x.name === 'activations');
  const given = (a?.strings ?? []).map((s) => new TextDecoder().decode(s));
  const defaults = DEFAULT_ACTIVATIONS[op];
  if (given.length === 0) return defaults[0]!;
  const per = defaults.length;
  if (given.length !== per * D) throw c.error(`activations lists ${given.length} functions, expected ${per * D} (${per} per direction)`);
  const norm = (s: string) => s.toLowerCase();
  if (op === 'RNN') {
    if (!given.every((g) => norm(g) === norm(given[0]!)) || !['tanh', 'relu'].includes(norm(given[0]!))) {
      throw c.error(`activations [${given.join(', ')}] are not supported (supported: Tanh or Relu, the same in both directions)`);
    }
    return norm(given[0]!);
  }
  given.forEach((g, i) => {
    if (norm(g) !== norm(defaults[i % per]!)) throw c.error(`activations [${given.join(', ')}] are not supported (supported: the defaults ${defaults.join(', ')})`);
  });
  return defaults[0]!;
}

function recurrent(op: Op): OpHandler {
  return (c) => {
    for (const a of ['clip', 'activation_alpha', 'activation_beta']) if (c.has(a)) throw c.error(`attribute ${a} is not supported`);
    c.only('input_forget', [0]);
    c.only('layout', [0, 1]);
    const layout = c.int('layout', 0);
    const direction = c.string('direction', 'forward');
    if (!['forward', 'reverse', 'bidirectional'].includes(direction)) throw c.error(`direction '${direction}' is not forward, reverse or bidirectional`);
    const D = direction === 'bidirectional' ? 2 : 1;
    const act = activations(c, op, D);
    let x = c.input(0);
    if (x.ndim !== 3) throw c.error(`X must be 3-d, got shape [${x.shape.join(', ')}]`);
    if (layout === 1) x = x.transpose(0, 1);
    const [T, B, I] = x.shape as [number, number, number];
    const W = c.input(1);
    const R = c.input(2);
    const G = GATES[op];
    const H = c.has('hidden_size') ? c.int('hidden_size') : R.shape[2]!;
    const shapeOk = (t: Tensor, want: number[]) => t.ndim === want.length && t.shape.every((v, i) => v === want[i]);
    if (!shapeOk(W, [D, G * H, I])) throw c.error(`W must have shape [${D}, ${G * H}, ${I}], got [${W.shape.join(', ')}]`);
    if (!shapeOk(R, [D, G * H, H])) throw c.error(`R must have shape [${D}, ${G * H}, ${H}], got [${R.shape.join(', ')}]`);
    const Bias = c.optionalInput(3);
    if (Bias && !shapeOk(Bias, [D, 2 * G * H])) throw c.error(`B must have shape [${D}, ${2 * G * H}], got [${Bias.shape.join(', ')}]`);
    const seqLens = c.optionalInput(4);
    const lengths = seqLens ? Array.from(seqLens.dataSync(), Number) : null;
    if (lengths && lengths.length !== B) throw c.error(`sequence_lens has ${lengths.length} entries for a batch of ${B}`);
    const stateOf = (i: number): Tensor | null => {
      const s = c.optionalInput(i);
      if (!s) return null;
      const s0 = layout === 1 ? s.transpose(0, 1) : s;
      if (!shapeOk(s0, [D, B, H])) throw c.error(`input ${i} (initial state) must have shape [${D}, ${B}, ${H}] (layout ${layout}), got [${s.shape.join(', ')}]`);
      return s0;
    };
    const h0 = stateOf(5);
    const c0 = op === 'LSTM' ? stateOf(6) : null;
    const P = op === 'LSTM' ? c.optionalInput(7) : null;
    if (P && !shapeOk(P, [D, 3 * H])) throw c.error(`P must have shape [${D}, ${3 * H}], got [${P.shape.join(', ')}]`);
    const lbr = op === 'GRU' ? c.int('linear_before_reset', 0) : 0;
    const order = inverse(ONNX_GATE_ORDER[op]);
    const pick = (t: Tensor, d: number): Tensor => t.narrow(0, d, 1).reshape(t.shape.slice(1));

    const ys: Tensor[] = [];
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    for (let d = 0; d < D; d++) {
      const bias = Bias ? pick(Bias, d) : null;
      const common = {
        input: x,
        h0: h0 ? pick(h0, d) : null,
        weightIh: blocks(pick(W, d), H, order),
        weightHh: blocks(pick(R, d), H, order),
        biasIh: bias ? blocks(bias.narrow(0, 0, G * H), H, order) : null,
        biasHh: bias ? blocks(bias.narrow(0, G * H, G * H), H, order) : null,
        lengths,
        reverse: direction === 'reverse' || d === 1,
      };
      let r: Tensor[];
      if (op === 'LSTM') {
        r = lstmRecurrence({ ...common, c0: c0 ? pick(c0, d) : null, peephole: P ? blocks(pick(P, d), H, inverse(ONNX_PEEPHOLE_ORDER)) : null });
      } else if (op === 'GRU') {
        r = gruRecurrence({ ...common, linearBeforeReset: lbr !== 0 });
      } else {
        r = rnnRecurrence({ ...common, nonlinearity: act === 'relu' ? 'relu' : 'tanh' });
      }
      ys.push(r[0]!);
      hs.push(r[1]!);
      if (r[2]) cs.push(r[2]);
    }
    let Y = stack(ys, 1); // [T, D, B, H]
    let Yh = stack(hs, 0); // [D, B, H]
    let Yc = cs.length ? stack(cs, 0) : null;
    if (layout === 1) {
      Y = Y.permute(2, 0, 1, 3); // [B, T, D, H]
      Yh = Yh.transpose(0, 1);
      Yc = Yc ? Yc.transpose(0, 1) : null;
    }
    void T;
    return Yc ? [Y, Yh, Yc] : [Y, Yh];
  };
}

export const recurrentOps: Record<string, OpHandler> = {
  RNN: recurrent('RNN'),
  GRU: recurrent('GRU'),
  LSTM: recurrent('LSTM'),
};
