/**
 * Recurrences: one layer, one direction of an Elman RNN, an LSTM or a GRU over a whole
 * sequence, as one op with its own backward (backpropagation through time).
 *
 * Speed design: the input projection x·W_ihᵀ (+ biases) of every step is one GEMM over
 * `[T·B, in]`; each step then runs one GEMM with W_hh (two with an LSTM projection) and one
 * fused gate kernel (`rnnCell`, `lstmCell`, `gruCell` in backend.ts). The backward runs each
 * step's fused gate adjoint and one GEMM for the carried state's gradient, then the weight
 * gradients as one GEMM each over all steps. Nothing per step goes through the tape. An LSTM
 * direction is one kernel call each way (`lstmSequence`, `lstmSequenceBackward`), so a backend
 * can keep the whole sequence in its own memory (the Wasm backend does).
 *
 * Layout: time-major `input [T, B, in]` (or `[B, T, in]` with `batchFirst`, rearranged inside the
 * op, see recurrent-layout.ts), states `[B, hidden]`, PyTorch's weight layouts and gate
 * orders (i, f, g, o and r, z, n). Variable lengths: with `lengths`, row b runs steps
 * 0..len_b−1 only (forward) or len_b−1..0 (reverse, starting from its own end); padded steps
 * output zeros and leave the state alone, so the final state is each row's own last step — what
 * PyTorch's packed sequences give. Rows are internally sorted by length (longest first), so a
 * step works on a contiguous prefix of rows.
 *
 * Each op returns `[output, hN]` (`[output, hN, cN]` for the LSTM) and is traced as one record
 * (`rnn` / `lstm` / `gru`) with those outputs.
 */
import { isGradEnabled, versionOf, type GradNode } from '../autograd.js';
import { kernels, type RnnNonlinearity } from '../backend.js';
import { allocate } from '../dtype.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { emit } from '../trace.js';
import { checkTensor } from './core.js';
import { toBatchFirst, toTimeMajor } from './recurrent-layout.js';
import { residentLstmSaved } from './recurrent-saved.js';
import { tensor, zeros } from './creation.js';
import { add, mul, sigmoid, sub, tanh } from './elementwise.js';
import { linear } from './linalg.js';
import { narrow, reshape, split, stack } from './movement.js';
import { floatDType } from './spatial.js';

type Float = Float32Array | Float64Array;
type Kind = 'rnn' | 'lstm' | 'gru';

interface RecurrenceCommon {
  /** `[T, B, inputSize]`, time-major (`[B, T, inputSize]` with batchFirst). */
  input: Tensor;
  /** Initial hidden state `[B, hidden]` (`[B, projSize]` with an LSTM projection); null = zeros. */
  h0?: Tensor | null;
  /** `[G·hidden, inputSize]` with G = 1 (RNN), 4 (LSTM), 3 (GRU). */
  weightIh: Tensor;
  /** `[G·hidden, hidden]` (`[4·hidden, projSize]` with a projection). */
  weightHh: Tensor;
  biasIh?: Tensor | null;
  biasHh?: Tensor | null;
  /** Per-row sequence lengths, each in 1..T (default: all T). */
  lengths?: ArrayLike<number> | null;
  /** Run from the last step to the first (the backward direction of a bidirectional layer). */
  reverse?: boolean;
  /** Input `[B, T, inputSize]` and output `[B, T, size]` (states stay `[B, size]`), as PyTorch's batch_first. */
  batchFirst?: boolean;
}

export interface RnnRecurrenceArgs extends RecurrenceCommon {
  /** Default 'tanh'. */
  nonlinearity?: RnnNonlinearity;
}

export interface LstmRecurrenceArgs extends RecurrenceCommon {
  /** Initial cell state `[B, hidden]`; null = zeros. */
  c0?: Tensor | null;
  /** Projection `[projSize, hidden]`: h = (o⊙tanh c)·W_hrᵀ (PyTorch's proj_size). */
  weightHr?: Tensor | null;
  /** Peephole weights `[3·hidden]` (i, f, o), see `LstmCellArgs` in backend.ts. */
  peephole?: Tensor | null;
}

export interface GruRecurrenceArgs extends RecurrenceCommon {
  /**
   * true (default): PyTorch's GRU (ONNX linear_before_reset = 1), n = tanh(x_n + r⊙(W_hn·h + b_hn)),
   * on the fused kernel. false: the original GRU (ONNX's default, linear_before_reset = 0),
   * n = tanh(x_n + W_hn·(r⊙h) + b_hn) — the reset gate acts before the matmul, so each step needs
   * r before its second GEMM; it runs on composed ops (a teaching and import path, not the fast one).
   */
  linearBeforeReset?: boolean;
}

const GATES: Record<Kind, number> = { rnn: 1, lstm: 4, gru: 3 };

function sizeErr(op: string, name: string, want: string, t: Tensor): never {
  throw new Error(`Kiln: ${op}: ${name} must have shape ${want}, got ${formatShape(t.shape)}`);
}

/** Validated geometry of a recurrence call. */
interface Plan {
  kind: Kind;
  T: number;
  B: number;
  I: number;
  H: number;
  /** Size of h (projSize or H). */
  P: number;
  G: number;
  dtype: 'float32' | 'float64';
  /** Rows active at step t (rows sorted by length, longest first). */
  active: Int32Array;
  /** perm[i] = original row of sorted row i; null when already sorted. */
  perm: Int32Array | null;
  reverse: boolean;
  /** Input and output are `[B, T, *]`. */
  batchFirst: boolean;
}

function plan(kind: Kind, a: RecurrenceCommon & { c0?: Tensor | null; weightHr?: Tensor | null; peephole?: Tensor | null }): Plan {
  const batchFirst = a.batchFirst === true;
  const op = kind;
  checkTensor(op, 'input', a.input);
  checkTensor(op, 'weightIh', a.weightIh);
  checkTensor(op, 'weightHh', a.weightHh);
  const x = a.input;
  if (x.ndim !== 3) throw new Error(`Kiln: ${op}: input must be 3-d ${batchFirst ? '[B, T, inputSize]' : '[T, B, inputSize]'}, got ${formatShape(x.shape)}`);
  const [s0, s1, I] = x.shape as [number, number, number];
  const [T, B] = batchFirst ? [s1, s0] : [s0, s1];
  const G = GATES[kind];
  const wih = a.weightIh;
  if (wih.ndim !== 2 || wih.shape[1] !== I || wih.shape[0]! % G !== 0 || wih.shape[0] === 0) {
    sizeErr(op, 'weightIh', `[${G}·hidden,${I}]`, wih);
  }
  const H = wih.shape[0]! / G;
  const P = a.weightHr ? a.weightHr.shape[0]! : H;
  if (a.weightHr && (a.weightHr.ndim !== 2 || a.weightHr.shape[1] !== H)) sizeErr(op, 'weightHr', `[projSize,${H}]`, a.weightHr);
  if (a.weightHh.ndim !== 2 || a.weightHh.shape[0] !== G * H || a.weightHh.shape[1] !== P) sizeErr(op, 'weightHh', `[${G * H},${P}]`, a.weightHh);
  for (const [name, b] of [['biasIh', a.biasIh], ['biasHh', a.biasHh]] as const) {
    if (b != null && (b.ndim !== 1 || b.shape[0] !== G * H)) sizeErr(op, name, `[${G * H}]`, b);
  }
  if (a.h0 != null && (a.h0.ndim !== 2 || a.h0.shape[0] !== B || a.h0.shape[1] !== P)) sizeErr(op, 'h0', `[${B},${P}]`, a.h0);
  if (a.c0 != null && (a.c0.ndim !== 2 || a.c0.shape[0] !== B || a.c0.shape[1] !== H)) sizeErr(op, 'c0', `[${B},${H}]`, a.c0);
  if (a.peephole != null && (a.peephole.ndim !== 1 || a.peephole.shape[0] !== 3 * H)) sizeErr(op, 'peephole', `[${3 * H}]`, a.peephole);
  const dtype = floatDType(op, [x, wih, a.weightHh, a.biasIh, a.biasHh, a.h0, a.c0, a.weightHr, a.peephole]);
  const active = new Int32Array(T).fill(B);
  let perm: Int32Array | null = null;
  if (a.lengths != null) {
    const lens = Array.from(a.lengths);
    if (lens.length !== B) throw new Error(`Kiln: ${op}: lengths has ${lens.length} entries for a batch of ${B}`);
    lens.forEach((l, b) => {
      if (!Number.isInteger(l) || l < 1 || l > T) {
        throw new Error(`Kiln: ${op}: lengths[${b}] = ${l} is outside 1..${T} (the input's sequence length, input ${formatShape(x.shape)})`);
      }
    });
    const order = lens.map((_, i) => i).sort((p, q) => lens[q]! - lens[p]! || p - q);
    if (order.some((o, i) => o !== i)) perm = Int32Array.from(order);
    for (let t = 0; t < T; t++) active[t] = lens.filter((l) => l > t).length;
  }
  return { kind, T, B, I, H, P, G, dtype, active, perm, reverse: a.reverse ?? false, batchFirst };
}

/** The data of `t` in `dtype` (a copy only when it differs). */
function dataOf(t: Tensor | null | undefined, dtype: 'float32' | 'float64'): Float | null {
  if (t == null) return null;
  return (t.dtype === dtype ? t._data : t.to(dtype)._data) as Float;
}

/** Reorders dim `dim` of a `[.., B, ..]` array by `index` (rows sorted ↔ original). */
function permuteRows(data: Float, shape: number[], dim: number, index: Int32Array): Float {
  const out = allocate(data instanceof Float64Array ? 'float64' : 'float32', data.length) as Float;
  kernels().indexSelect(data, shape, dim, index, out);
  return out;
}

function inverse(perm: Int32Array): Int32Array {
  const inv = new Int32Array(perm.length);
  perm.forEach((p, i) => { inv[p] = i; });
  return inv;
}

/** C (m×n) = op(A)·op(B) (+ C) on dense row-major blocks at the given offsets. */
function mm(a: Float, aOff: number, b: Float, bOff: number, c: Float, cOff: number, m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean): void {
  if (m === 0 || n === 0) return;
  kernels().gemm({
    batch: 1, m, n, k, transA, transB, a, aOffset: aOff, aBatchStride: 0, b, bOffset: bOff, bBatchStride: 0,
    c, cOffset: cOff, cBatchStride: 0, accumulate,
  });
}

/** Writes `row` `[n]` into every row of `out` `[rows, n]` (typed-array copies, memcpy speed). */
function fillRows(out: Float, row: Float, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) out.set(row, r * n);
}

/** Σ over rows of `[rows, n]` into `out` `[n]`. */
function sumRows(src: Float, rows: number, n: number, out: Float): void {
  if (rows > 0) kernels().reduce('sum', src, [rows, n], [0], out);
}

/**
 * Multi-output ops on a single-output tape: the op's node produces one flat tensor holding
 * every output; each output is a view of its segment whose backward places its gradient
 * there (the tape sums the segments).
 */
function link(out: Tensor, op: string, inputs: Tensor[], backward: GradNode['backward']): void {
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out._node = { op, inputs, backward, versions: [...inputs.map((t) => versionOf(t._data)), versionOf(out._data)] };
  }
}

function unpack(packed: Tensor, op: string, shapes: number[][]): Tensor[] {
  let off = 0;
  return shapes.map((shape) => {
    const n = shape.reduce((p, q) => p * q, 1);
    const start = off;
    off += n;
    const t = new Tensor(packed._data.subarray(start, start + n), shape, packed.dtype);
    link(t, `${op}.output`, [packed], (g) => {
      const full = new Tensor(allocate(packed.dtype, packed._data.length), packed.shape, packed.dtype);
      full._data.set(g._data, start);
      return [full];
    });
    return t;
  });
}

type Args = RnnRecurrenceArgs & LstmRecurrenceArgs;

function run(kind: Kind, a: Args): Tensor[] {
  const p = plan(kind, a);
  const { T, B, I, H, P, G, dtype, active, perm, reverse, batchFirst } = p;
  const TB = T * B;
  const alloc = (n: number): Float => allocate(dtype, n) as Float;
  const nl: RnnNonlinearity = a.nonlinearity ?? 'tanh';
  if (nl !== 'tanh' && nl !== 'relu') throw new Error(`Kiln: ${kind}: nonlinearity must be 'tanh' or 'relu', got '${String(nl)}'`);
  const k = kernels();

  let xs = dataOf(a.input, dtype)!;
  if (batchFirst) xs = toTimeMajor(xs, B, T, I, perm);
  else if (perm) xs = permuteRows(xs, [T, B, I], 1, perm);
  const wIh = dataOf(a.weightIh, dtype)!;
  const wHh = dataOf(a.weightHh, dtype)!;
  const bIh = dataOf(a.biasIh, dtype);
  const bHh = dataOf(a.biasHh, dtype);
  const wHr = dataOf(a.weightHr, dtype);
  const peep = dataOf(a.peephole, dtype);
  const hCur = alloc(B * P);
  const cCur = alloc(kind === 'lstm' ? B * H : 0);
  const h0 = dataOf(a.h0, dtype);
  const c0 = dataOf(a.c0, dtype);
  if (h0) hCur.set(perm ? permuteRows(h0, [B, P], 0, perm) : h0);
  if (c0) cCur.set(perm ? permuteRows(c0, [B, H], 0, perm) : c0);

  // The input projection of every step: one GEMM (biases preloaded; GRU keeps b_hh apart). The
  // LSTM's sequence kernel does its own.
  // A float32 LSTM's saved arrays live in the backend's memory when it has room (recurrent-saved.ts).
  const recording = isGradEnabled() && [a.input, a.h0, a.c0, a.weightIh, a.weightHh, a.biasIh, a.biasHh].some((t) => t?.requiresGrad === true);
  const resident = kind === 'lstm' && dtype === 'float32' && !wHr && !peep && recording
    ? residentLstmSaved(k, [TB * G * H, TB * P, TB * H, TB * H]) : null;
  const xg = resident ? resident.saved.act : alloc(TB * G * H);
  const biasRow = kind !== 'lstm' && (bIh || (bHh && kind !== 'gru')) ? alloc(G * H) : null;
  if (biasRow) {
    if (bIh) biasRow.set(bIh);
    if (bHh && kind !== 'gru') for (let j = 0; j < G * H; j++) biasRow[j] = biasRow[j]! + bHh[j]!;
    fillRows(xg, biasRow, TB, G * H);
  }
  if (kind !== 'lstm') mm(xs, 0, wIh, 0, xg, 0, TB, G * H, I, false, true, biasRow !== null);

  // Saved for the backward pass (rows past a step's active count stay zero).
  // Outputs are packed into one buffer (see unpack); without reordering, steps write into it directly.
  const total = TB * P + B * P + (kind === 'lstm' ? B * H : 0);
  const packedData = alloc(total);
  const y = perm || batchFirst ? alloc(TB * P) : packedData.subarray(0, TB * P);
  const hPrevAll = resident ? resident.saved.hPrev : alloc(TB * P);
  const cPrevAll = resident ? resident.saved.cPrev : alloc(kind === 'lstm' ? TB * H : 0);
  const cAll = resident ? resident.saved.cAll : alloc(kind === 'lstm' ? TB * H : 0);
  // Reused memory: rows a step leaves alone must still read as zeros, as in fresh arrays.
  if (resident && active.some((b) => b !== B)) for (const s of [hPrevAll, cPrevAll, cAll]) s.fill(0);
  const mAll = alloc(wHr ? TB * H : 0);
  const act = kind === 'gru' ? alloc(TB * 4 * H) : xg; // the LSTM/RNN gates are activated in place
  const hg = alloc(kind === 'gru' ? B * 3 * H : 0);

  const steps: number[] = [];
  for (let s = 0; s < T; s++) steps.push(reverse ? T - 1 - s : s);
  if (kind === 'lstm') {
    k.lstmSequence({
      steps: T, batch: B, hidden: H, stateSize: P, inputSize: I, active, reverse, input: xs, weightIh: wIh, weightHh: wHh,
      biasIh: bIh, biasHh: bHh, weightHr: wHr, peep, h: hCur, c: cCur, act: xg, output: y, hPrev: hPrevAll, cPrev: cPrevAll,
      cAll, mAll: wHr ? mAll : null,
    });
  }
  for (const t of kind === 'lstm' ? [] : steps) {
    const bt = active[t]!;
    if (bt === 0) continue;
    const hPrev = hPrevAll.subarray(t * B * P, (t * B + bt) * P);
    hPrev.set(hCur.subarray(0, bt * P));
    const yt = y.subarray(t * B * P, (t * B + bt) * P);
    if (kind === 'gru') {
      const hgs = hg.subarray(0, bt * 3 * H);
      if (bHh) fillRows(hgs, bHh, bt, 3 * H);
      mm(hPrev, 0, wHh, 0, hgs, 0, bt, 3 * H, H, false, true, bHh !== null);
      const gOff = t * B * 3 * H;
      k.gruCell({
        batch: bt, hidden: H, xGates: xg.subarray(gOff, gOff + bt * 3 * H), hGates: hgs, hPrev,
        act: act.subarray(t * B * 4 * H, (t * B + bt) * 4 * H), h: yt,
      });
    } else {
      const gOff = t * B * H;
      mm(hPrev, 0, wHh, 0, xg, gOff, bt, H, H, false, true, true);
      k.rnnCell({ batch: bt, hidden: H, nonlinearity: nl, pre: xg.subarray(gOff, gOff + bt * H), h: yt });
    }
    hCur.set(yt, 0);
  }

  // Outputs in the caller's row order, packed into one tensor (see unpack).
  const inv = perm ? inverse(perm) : null;
  const outY = batchFirst ? toBatchFirst(y, T, B, P, inv, packedData) : inv ? permuteRows(y, [T, B, P], 1, inv) : y;
  const outH = inv ? permuteRows(hCur, [B, P], 0, inv) : hCur;
  const outC = kind === 'lstm' ? (inv ? permuteRows(cCur, [B, H], 0, inv) : cCur) : null;
  const packed = new Tensor(packedData, [total], dtype);
  if (perm && !batchFirst) packedData.set(outY, 0);
  packed._data.set(outH, TB * P);
  if (outC) packed._data.set(outC, TB * P + B * P);

  const named: Array<[string, Tensor | null | undefined]> = [
    ['input', a.input], ['h0', a.h0], ['c0', kind === 'lstm' ? a.c0 : null], ['weightIh', a.weightIh], ['weightHh', a.weightHh],
    ['biasIh', a.biasIh], ['biasHh', a.biasHh], ['weightHr', kind === 'lstm' ? a.weightHr : null], ['peephole', kind === 'lstm' ? a.peephole : null],
  ];
  const inputs = named.filter(([, t]) => t != null).map(([, t]) => t!);
  const names = named.filter(([, t]) => t != null).map(([n]) => n);

  link(packed, kind, inputs, (grad) => {
    const g = (grad.dtype === dtype ? grad._data : grad.to(dtype)._data) as Float;
    let gY = g.subarray(0, TB * P);
    let dhCur = g.slice(TB * P, TB * P + B * P) as Float;
    let dcCur = (kind === 'lstm' ? g.slice(TB * P + B * P, TB * P + B * P + B * H) : alloc(0)) as Float;
    if (batchFirst) gY = toTimeMajor(gY, B, T, P, perm);
    else if (perm) gY = permuteRows(gY, [T, B, P], 1, perm);
    if (perm) {
      dhCur = permuteRows(dhCur, [B, P], 0, perm);
      if (kind === 'lstm') dcCur = permuteRows(dcCur, [B, H], 0, perm);
    }
    const wrap = (data: Float, shape: readonly number[]): Tensor => new Tensor(data, shape, dtype);
    /** The input's gradient, from the kernels' sorted time-major rows to the input's layout and order. */
    const inputOrder = (d: Float): Float => (batchFirst ? toBatchFirst(d, T, B, I, inv) : inv ? permuteRows(d, [T, B, I], 1, inv) : d);
    const grads: Record<string, Tensor | null> = {};
    const want = (name: string): boolean => inputs[names.indexOf(name)]?.requiresGrad ?? false;
    const dX = alloc(kind === 'lstm' ? 0 : TB * G * H);
    const dHg = kind === 'gru' ? alloc(TB * 3 * H) : dX;
    const dPeep = peep ? alloc(3 * H) : null;
    if (kind === 'lstm') {
      const out = (name: string, n: number): Float | null => (want(name) ? alloc(n) : null);
      const dBias = want('biasIh') || want('biasHh') ? alloc(G * H) : null;
      const lg = {
        dInput: out('input', TB * I), dWeightIh: out('weightIh', G * H * I), dWeightHh: out('weightHh', G * H * P), dBias,
        dWeightHr: out('weightHr', P * H),
      };
      k.lstmSequenceBackward({
        steps: T, batch: B, hidden: H, stateSize: P, inputSize: I, active, reverse, input: xs, weightIh: wIh, weightHh: wHh,
        weightHr: wHr, peep, dOutput: gY, dh: dhCur, dc: dcCur, mAll: wHr ? mAll : null,
        // Read now: a resident set reused by a later forward has left copies in `saved`.
        ...(resident ? resident.saved : { act, hPrev: hPrevAll, cPrev: cPrevAll, cAll }),
        ...lg, dPeep,
      });
      if (lg.dInput) grads.input = wrap(inputOrder(lg.dInput), a.input.shape);
      if (lg.dWeightIh) grads.weightIh = wrap(lg.dWeightIh, [G * H, I]);
      if (lg.dWeightHh) grads.weightHh = wrap(lg.dWeightHh, [G * H, P]);
      if (dBias && want('biasIh')) grads.biasIh = wrap(dBias, [G * H]);
      if (dBias && want('biasHh')) grads.biasHh = wrap(want('biasIh') ? dBias.slice() as Float : dBias, [G * H]);
      if (lg.dWeightHr) grads.weightHr = wrap(lg.dWeightHr, [P, H]);
    }
    const dhT = alloc(kind === 'lstm' ? 0 : B * P);
    for (let s = kind === 'lstm' ? -1 : steps.length - 1; s >= 0; s--) {
      const t = steps[s]!;
      const bt = active[t]!;
      if (bt === 0) continue;
      const dh = dhT.subarray(0, bt * P);
      const gyt = gY.subarray(t * B * P, (t * B + bt) * P);
      for (let i = 0; i < bt * P; i++) dh[i] = dhCur[i]! + gyt[i]!;
      const dhPrev = dhCur.subarray(0, bt * P);
      if (kind === 'gru') {
        const gOff = t * B * 3 * H;
        const dHt = dHg.subarray(gOff, gOff + bt * 3 * H);
        k.gruCellBackward({
          batch: bt, hidden: H, dh, act: act.subarray(t * B * 4 * H, (t * B + bt) * 4 * H),
          hPrev: hPrevAll.subarray(t * B * P, (t * B + bt) * P), dxGates: dX.subarray(gOff, gOff + bt * 3 * H), dhGates: dHt, dhPrev,
        });
        mm(dHt, 0, wHh, 0, dhPrev, 0, bt, H, 3 * H, false, false, true);
      } else {
        const gOff = t * B * H;
        const dPre = dX.subarray(gOff, gOff + bt * H);
        k.rnnCellBackward({ batch: bt, hidden: H, nonlinearity: nl, dh, h: y.subarray(t * B * P, (t * B + bt) * P), dPre });
        mm(dPre, 0, wHh, 0, dhPrev, 0, bt, H, H, false, false, false);
      }
    }
    if (kind !== 'lstm' && want('input')) {
      const dx = alloc(TB * I);
      mm(dX, 0, wIh, 0, dx, 0, TB, I, G * H, false, false, false);
      grads.input = wrap(inputOrder(dx), a.input.shape);
    }
    if (want('h0')) grads.h0 = wrap(inv ? permuteRows(dhCur, [B, P], 0, inv) : dhCur, [B, P]);
    if (want('c0')) grads.c0 = wrap(inv ? permuteRows(dcCur, [B, H], 0, inv) : dcCur, [B, H]);
    if (kind !== 'lstm' && want('weightIh')) {
      const dw = alloc(G * H * I);
      mm(dX, 0, xs, 0, dw, 0, G * H, I, TB, true, false, false);
      grads.weightIh = wrap(dw, [G * H, I]);
    }
    if (kind !== 'lstm' && want('weightHh')) {
      const dw = alloc(G * H * P);
      mm(dHg, 0, hPrevAll, 0, dw, 0, G * H, P, TB, true, false, false);
      grads.weightHh = wrap(dw, [G * H, P]);
    }
    if (kind !== 'lstm' && want('biasIh')) {
      const db = alloc(G * H);
      sumRows(dX, TB, G * H, db);
      grads.biasIh = wrap(db, [G * H]);
    }
    if (kind !== 'lstm' && want('biasHh')) {
      const db = alloc(G * H);
      sumRows(dHg, TB, G * H, db);
      grads.biasHh = wrap(db, [G * H]);
    }
    if (want('peephole')) grads.peephole = wrap(dPeep!, [3 * H]);
    return names.map((n) => {
      const gr = grads[n] ?? null;
      const src = inputs[names.indexOf(n)]!;
      return gr && src.dtype !== dtype ? gr.to(src.dtype) : gr;
    });
  });
  resident?.own(packed);

  const yShape = batchFirst ? [B, T, P] : [T, B, P];
  const outs = unpack(packed, kind, kind === 'lstm' ? [yShape, [B, P], [B, H]] : [yShape, [B, P]]);
  const attrs: Record<string, unknown> = { hiddenSize: H, reverse, lengths: a.lengths ? Array.from(a.lengths) : null };
  if (kind === 'rnn') attrs.nonlinearity = nl;
  if (kind === 'lstm') attrs.projSize = wHr ? P : 0;
  if (batchFirst) attrs.batchFirst = true;
  emit(kind, inputs, outs, attrs);
  return outs;
}

/** An Elman RNN layer direction: h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh). Returns [output, hN]. */
export function rnnRecurrence(args: RnnRecurrenceArgs): [Tensor, Tensor] {
  return run('rnn', args) as [Tensor, Tensor];
}

/** An LSTM layer direction (equations at `LstmCellArgs` in backend.ts). Returns [output, hN, cN]. */
export function lstmRecurrence(args: LstmRecurrenceArgs): [Tensor, Tensor, Tensor] {
  return run('lstm', args) as [Tensor, Tensor, Tensor];
}

/** A GRU layer direction, PyTorch's form (equations at `GruCellArgs` in backend.ts). Returns [output, hN]. */
export function gruRecurrence(args: GruRecurrenceArgs): [Tensor, Tensor] {
  if (args.linearBeforeReset === false) {
    if (!args.batchFirst) return gruResetFirst(args);
    const [out, hN] = gruResetFirst({ ...args, input: args.input.transpose(0, 1), batchFirst: false });
    return [out.transpose(0, 1), hN];
  }
  return run('gru', args) as [Tensor, Tensor];
}

/**
 * The GRU with the reset gate before W_hn (linear_before_reset = 0), from primitives:
 *   r = σ(x_r + W_hr·h + b_hr), z = σ(x_z + W_hz·h + b_hz),
 *   n = tanh(x_n + W_hn·(r⊙h) + b_hn), h' = (1 − z)⊙n + z⊙h = n + z⊙(h − n)
 * with x_* = W_i*·x + b_i* for all steps in one GEMM. Lengths mask the update per row.
 */
function gruResetFirst(a: GruRecurrenceArgs): [Tensor, Tensor] {
  const p = plan('gru', a);
  const { T, B, H, dtype } = p;
  const cast = (t: Tensor | null | undefined): Tensor | null => (t == null ? null : t.dtype === dtype ? t : t.to(dtype));
  const wHh = cast(a.weightHh)!;
  const bHh = cast(a.biasHh);
  const xp = split(linear(cast(a.input)!, cast(a.weightIh)!, cast(a.biasIh)), 1, 0).map((t) => reshape(t, [B, 3 * H]));
  const wRZ = narrow(wHh, 0, 0, 2 * H);
  const wN = narrow(wHh, 0, 2 * H, H);
  const bRZ = bHh ? narrow(bHh, 0, 0, 2 * H) : null;
  const bN = bHh ? narrow(bHh, 0, 2 * H, H) : null;
  let h = cast(a.h0) ?? zeros([B, H], { dtype });
  const lens = a.lengths ? Array.from(a.lengths) : null;
  const outs = new Array<Tensor>(T);
  for (let s = 0; s < T; s++) {
    const t = p.reverse ? T - 1 - s : s;
    const x = xp[t]!;
    const rz = sigmoid(add(narrow(x, 1, 0, 2 * H), linear(h, wRZ, bRZ)));
    const r = narrow(rz, 1, 0, H);
    const z = narrow(rz, 1, H, H);
    const n = tanh(add(narrow(x, 1, 2 * H, H), linear(mul(r, h), wN, bN)));
    let next = add(n, mul(z, sub(h, n)));
    if (lens) {
      // Rows past their length keep their state (in reverse they start at their own end) and output zeros.
      const mask = tensor(Float64Array.from(lens, (l) => (t < l ? 1 : 0)), { shape: [B, 1], dtype });
      next = add(h, mul(sub(next, h), mask));
      outs[t] = mul(next, mask);
    } else {
      outs[t] = next;
    }
    h = next;
  }
  return [stack(outs, 0), h];
}
