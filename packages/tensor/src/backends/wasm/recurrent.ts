/**
 * Recurrent kernels on Wasm SIMD (assembly/recurrent.ts).
 *
 * Cells: one LSTM or GRU time step's gate nonlinearities and their adjoints for float32 arrays,
 * staged into Wasm memory and back (a few hundred KiB a step, at memcpy speed) — V8 runs the
 * reference's Math.exp/Math.tanh loops at several ns an element. float64, peephole LSTMs and
 * the plain RNN cell use the fallback.
 *
 * Whole LSTM directions (lstmSequence, lstmSequenceBackward): the sequence is staged once, the
 * weights are packed once, and every step runs in Wasm on the state kept there — x·W_ihᵀ and
 * h·W_hhᵀ (a 4×8 register tile on 4-row panels of x and h) with the cell fused on each tile; the
 * backward's step computes dh and dInput from the same panels of its gate gradients and also
 * writes the weight gradients' operands already packed (dGᵀ, [hPrev | x]), so [dW_hh | dW_ih]
 * and dBias are one pass over all steps afterwards. The saved arrays are read and written in
 * place when the op made them resident (ops/recurrent-saved.ts). Threads split the batch rows (small
 * batches: the hidden units, one pool task per step, the hand-off being the barrier between steps).
 * Peepholes, projections and float64
 * compose the generic kernels (the reference's loop on the Wasm GEMM and cells).
 */
import type { Kernels, LstmSequenceArgs, LstmSequenceBackwardArgs } from '../../backend.js';
import { lstmSequenceBackwardOn, lstmSequenceOn } from '../reference/recurrent.js';
import { makeGemm } from './gemm.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, SCRATCH, type WasmRuntime } from './runtime.js';

type RecurrentKernels = Pick<Kernels, 'lstmCell' | 'lstmCellBackward' | 'gruCell' | 'gruCellBackward' | 'lstmSequence' | 'lstmSequenceBackward'>;
type CellKernels = Pick<Kernels, 'lstmCell' | 'lstmCellBackward' | 'gruCell' | 'gruCellBackward'>;
type Arr = Float32Array | Float64Array;

const isF32 = (...xs: Arr[]): boolean => xs.every((x) => x instanceof Float32Array);

export interface RecurrentExports {
  lstmCellF32(B: number, H: number, gates: number, cPrev: number, c: number, h: number): void;
  lstmCellBackwardF32(B: number, H: number, dh: number, dc: number, act: number, cPrev: number, c: number, dGates: number, dcPrev: number): void;
  gruCellF32(B: number, H: number, xGates: number, hGates: number, hPrev: number, act: number, h: number): void;
  gruCellBackwardF32(B: number, H: number, dh: number, act: number, hPrev: number, dxGates: number, dhGates: number, dhPrev: number): void;
  lstmPackForward(w: number, H: number, K: number, dst: number): void;
  lstmPackBackward(w: number, H: number, N: number, dst: number): void;
  lstmPackRows(src: number, rows: number, K: number, dst: number): void;
  columnSumsF32(src: number, rows: number, n: number, dst: number): void;
  lstmForwardTask(desc: number, tid: number, threads: number): void;
  lstmBackwardTask(desc: number, tid: number, threads: number): void;
}

/** Longest batch-1 sequence that runs step by step on matrix-vector products instead of packed weights. */
const STEPWISE_STEPS = 4;
/** Multiply-adds of one step each extra thread must get before waking it pays off. */
const WORK_PER_THREAD = 1 << 18;

export function makeRecurrent(rt: WasmRuntime, pool: WorkerPool, threads: () => number, fallback: CellKernels): RecurrentKernels {
  const ex = rt.exports as unknown as RecurrentExports;
  /** Lays out regions of the given float counts from the operand base; returns their byte offsets. */
  const layout = (...sizes: number[]): number[] => {
    const ptrs: number[] = [];
    let p = rt.operandBase;
    for (const s of sizes) {
      ptrs.push(p);
      p = align(p + s * 4, 64);
    }
    rt.ensure(p);
    return ptrs;
  };
  const put = (ptr: number, a: Arr, n: number): void => rt.f32.set((a as Float32Array).subarray(0, n), ptr >> 2);
  const get = (ptr: number, n: number, dst: Arr): void => rt.copyOut(ptr, n, dst as Float32Array);
  /** What peephole, projection and float64 sequences are composed of: the Wasm GEMM and these cells. */
  const composed = { gemm: makeGemm(rt, pool, threads), lstmCell: (x: Parameters<Kernels['lstmCell']>[0]) => cells.lstmCell(x), lstmCellBackward: (x: Parameters<Kernels['lstmCellBackward']>[0]) => cells.lstmCellBackward(x) };
  /** The Wasm sequence kernels take float32 LSTMs without peepholes or a projection. */
  const fastLstm = (a: LstmSequenceArgs | LstmSequenceBackwardArgs): boolean => a.peep === null && a.weightHr === null
    && a.stateSize === a.hidden && a.weightHh instanceof Float32Array && a.act instanceof Float32Array;
  /** Threads for one step of a direction: whole groups of 8 units each, and enough work to wake them. */
  const stepThreads = (B: number, H: number, I: number): number => Math.max(1, Math.min(threads(), (H + 7) >> 3, Math.floor((B * 4 * H * (H + I)) / WORK_PER_THREAD)));
  /**
   * How threads share a direction: by batch rows (whole 4-row panels; one task for the whole
   * sequence, no barrier per step) when that gives at least as many threads as splitting the
   * hidden units, else by units (one task per step).
   */
  const splitOf = (B: number, H: number, I: number): { n: number; rows: boolean } => {
    const byRows = Math.min(threads(), (B + 3) >> 2);
    const byUnits = stepThreads(B, H, I);
    return byRows > 1 && byRows >= byUnits ? { n: byRows, rows: true } : { n: byUnits, rows: false };
  };
  /**
   * One sequence of at most STEPWISE_STEPS steps (decoding a token at a time, sampling): the
   * whole-direction kernel would copy and pack both weight matrices for a step or two that read
   * each weight once, so the steps run composed instead — each product a matrix-vector kernel
   * over the weights where they lie (gemv.ts), then the cell.
   */
  const stepwise = (a: LstmSequenceArgs | LstmSequenceBackwardArgs): boolean => a.batch === 1 && a.steps <= STEPWISE_STEPS;
  /** Runs `task` over positions [0, end): in one call (one thread, or threads splitting rows), else one pool task per position. */
  const runPositions = (task: 'lstmForwardTask' | 'lstmBackwardTask', end: number, split: { n: number; rows: boolean }): void => {
    const d = rt.i32;
    const w = DESC >> 2;
    const n = split.n;
    if (n === 1 || split.rows) {
      d[w + 4] = 0;
      d[w + 5] = end;
      if (n === 1) ex[task](DESC, 0, 1);
      else pool.run(task, DESC, n);
      return;
    }
    for (let q = 0; q < end; q++) {
      d[w + 4] = q;
      d[w + 5] = q + 1;
      pool.run(task, DESC, n);
    }
  };
  /** Copies the active rows of every step of a `[T, B, n]` region into `dst` (one copy when all rows are). */
  const copySteps = (ptr: number, dst: Float32Array, T: number, B: number, n: number, active: Int32Array, all: boolean): void => {
    if (all) {
      rt.copyOut(ptr, T * B * n, dst);
      return;
    }
    for (let t = 0; t < T; t++) if (active[t]! > 0) rt.copyOut(ptr + t * B * n * 4, active[t]! * n, dst, t * B * n);
  };
  /** Where a saved array lives in Wasm memory: in place when it is resident (see residentArrays), else the staged region. */
  const home = (arr: Arr, staged: number): number => {
    const p = arr instanceof Float32Array ? rt.residentPtr(arr) : -1;
    return p >= 0 ? p : staged;
  };
  const writeDesc = (words: number[]): void => {
    const d = rt.i32;
    words.forEach((v, i) => { d[(DESC >> 2) + i] = v; });
  };

  const lstmSequenceWasm = (a: LstmSequenceArgs): void => {
    const { steps: T, batch: B, hidden: H, inputSize: I, active, reverse } = a;
    const G = 4 * H;
    const nug = (H + 7) >> 3;
    const B4 = (B + 3) & ~3;
    const [pw, wRaw, wiRaw, bias, x, gStaged, hpStaged, cpStaged, caStaged, y, hCur, cCur, act, hPack, xPack, pwi] = layout(
      nug * 32 * H, G * H, G * I, G, T * B * I, T * B * G, T * B * H, T * B * H, T * B * H, T * B * H, B * H, B * H, T, 2 * B4 * H,
      T * B4 * I, nug * 32 * I,
    ) as number[] as [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];
    // Saved arrays the op made resident are written in place; the others are copied out at the end.
    const gates = home(a.act, gStaged);
    const hPrev = home(a.hPrev, hpStaged);
    const cPrev = home(a.cPrev, cpStaged);
    const cAll = home(a.cAll, caStaged);
    const f32 = rt.f32;
    f32.set(a.weightHh as Float32Array, wRaw >> 2);
    ex.lstmPackForward(wRaw, H, H, pw);
    const { biasIh: bIh, biasHh: bHh } = a;
    // b_ih + b_hh rounded once, as the reference preloads them.
    if (bIh || bHh) for (let j = 0; j < G; j++) f32[(bias >> 2) + j] = (bIh ? bIh[j]! : 0) + (bHh ? bHh[j]! : 0);
    // The input projection runs in each step's GEMM, from x in 4-row panels and W_ih packed as W_hh.
    f32.set(a.weightIh as Float32Array, wiRaw >> 2);
    ex.lstmPackForward(wiRaw, H, I, pwi);
    f32.set(a.input as Float32Array, x >> 2);
    for (let t = 0; t < T; t++) ex.lstmPackRows(x + t * B * I * 4, B, I, xPack + t * B4 * I * 4);
    f32.set(a.h as Float32Array, hCur >> 2);
    f32.set(a.c as Float32Array, cCur >> 2);
    rt.i32.set(active, act >> 2);
    const t0 = reverse ? T - 1 : 0;
    f32.set((a.h as Float32Array).subarray(0, active[t0]! * H), (hPrev >> 2) + t0 * B * H);
    ex.lstmPackRows(hPrev + t0 * B * H * 4, active[t0]!, H, hPack);
    const split = splitOf(B, H, I);
    writeDesc([T, B, H, reverse ? 1 : 0, 0, 0, act, pw, gates, hPrev, cPrev, cAll, y, hCur, cCur, SCRATCH, rt.scratchPerThread, bIh || bHh ? bias : 0, hPack, xPack, pwi, I, split.rows ? 1 : 0]);
    runPositions('lstmForwardTask', T, split);
    const all = active.every((b) => b === B);
    if (gates === gStaged) copySteps(gates, a.act as Float32Array, T, B, G, active, all);
    if (hPrev === hpStaged) copySteps(hPrev, a.hPrev as Float32Array, T, B, H, active, all);
    if (cPrev === cpStaged) copySteps(cPrev, a.cPrev as Float32Array, T, B, H, active, all);
    if (cAll === caStaged) copySteps(cAll, a.cAll as Float32Array, T, B, H, active, all);
    copySteps(y, a.output as Float32Array, T, B, H, active, all);
    rt.copyOut(hCur, B * H, a.h as Float32Array);
    rt.copyOut(cCur, B * H, a.c as Float32Array);
  };

  const lstmSequenceBackwardWasm = (a: LstmSequenceBackwardArgs): void => {
    const { steps: T, batch: B, hidden: H, inputSize: I, active, reverse } = a;
    const G = 4 * H;
    const TB = T * B;
    const nug = (H + 7) >> 3;
    const weights = a.dWeightHh !== null || a.dWeightIh !== null || a.dBias !== null;
    // dGᵀ in 4-row panels and [hPrev | x] in 8-column panels, both of depth T·B (see lstmBackwardTask).
    const bCols = (nug + ((I + 7) >> 3)) * 8;
    const [pw, wRaw, actStaged, dy, cpStaged, caStaged, dh, dc, actv, hpStaged, x, wIh, dWhh, dWih, db, dIn, dgPack, pwi, aT, bPack] = layout(
      G * nug * 8, G * H, TB * G, TB * H, TB * H, TB * H, B * H, B * H, T, TB * H, TB * I, G * I, G * H, G * I, G, TB * I, 2 * ((B + 3) & ~3) * G,
      G * ((I + 7) >> 3) * 8, weights ? G * TB : 0, weights ? bCols * TB : 0,
    ) as number[] as [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];
    // The forward's saved arrays are read in place when resident, else staged.
    const act = home(a.act, actStaged);
    const cPrev = home(a.cPrev, cpStaged);
    const cAll = home(a.cAll, caStaged);
    const hPrev = home(a.hPrev, hpStaged);
    const f32 = rt.f32;
    f32.set(a.weightHh as Float32Array, wRaw >> 2);
    ex.lstmPackBackward(wRaw, H, H, pw);
    if (act === actStaged) f32.set(a.act as Float32Array, act >> 2);
    f32.set(a.dOutput as Float32Array, dy >> 2);
    if (cPrev === cpStaged) f32.set(a.cPrev as Float32Array, cPrev >> 2);
    if (cAll === caStaged) f32.set(a.cAll as Float32Array, cAll >> 2);
    f32.set(a.dh as Float32Array, dh >> 2);
    f32.set(a.dc as Float32Array, dc >> 2);
    rt.i32.set(active, actv >> 2);
    const all = active.every((b) => b === B);
    if (weights) {
      // Each position packs its rows of hPrev and x beside its gate gradients.
      if (hPrev === hpStaged) f32.set(a.hPrev as Float32Array, hPrev >> 2);
      f32.set(a.input as Float32Array, x >> 2);
      // Rows of inactive steps are never written there: zeros (the weight gradients sum over every row).
      if (!all) f32.fill(0, aT >> 2, (aT >> 2) + G * TB + bCols * TB);
    }
    // dInput = dG·W_ih is computed step by step beside dh, on the same panels of dG.
    if (a.dInput) {
      f32.set(a.weightIh as Float32Array, wIh >> 2);
      ex.lstmPackBackward(wIh, H, I, pwi);
      if (!all) f32.fill(0, dIn >> 2, (dIn >> 2) + TB * I);
    }
    const split = splitOf(B, H, I);
    writeDesc([
      T, B, H, reverse ? 1 : 0, 0, 0, actv, pw, act, dy, cPrev, cAll, hPrev, dh, dc, SCRATCH, rt.scratchPerThread, dgPack, pwi, I,
      a.dInput ? dIn : 0, split.rows ? 1 : 0, weights ? aT : 0, bPack, x, 0, dWhh, dWih, a.dBias ? db : 0,
    ]);
    runPositions('lstmBackwardTask', T + 1, split);
    rt.copyOut(dh, B * H, a.dh as Float32Array);
    rt.copyOut(dc, B * H, a.dc as Float32Array);
    if (a.dInput) rt.copyOut(dIn, TB * I, a.dInput as Float32Array);
    if (!weights) return;
    // [dW_hh | dW_ih] = dGᵀ·[hPrev | x] and dBias, threads splitting the rows of dGᵀ (phase 1).
    const n = Math.max(1, Math.min(threads(), H, Math.floor((G * bCols * TB) / WORK_PER_THREAD)));
    rt.i32[(DESC >> 2) + 25] = 1;
    if (n === 1) ex.lstmBackwardTask(DESC, 0, 1);
    else pool.run('lstmBackwardTask', DESC, n);
    rt.i32[(DESC >> 2) + 25] = 0;
    if (a.dWeightHh) rt.copyOut(dWhh, G * H, a.dWeightHh as Float32Array);
    if (a.dWeightIh) rt.copyOut(dWih, G * I, a.dWeightIh as Float32Array);
    if (a.dBias) rt.copyOut(db, G, a.dBias as Float32Array);
  };

  const cells: RecurrentKernels = {
    lstmCell(args) {
      const { batch: B, hidden: H, gates, cPrev, peep, act, c, h } = args;
      if (peep || !isF32(gates, cPrev, act, c, h)) return fallback.lstmCell(args);
      const [g, cp, cn, hn] = layout(B * 4 * H, B * H, B * H, B * H) as [number, number, number, number];
      put(g, gates, B * 4 * H);
      put(cp, cPrev, B * H);
      ex.lstmCellF32(B, H, g, cp, cn, hn);
      get(g, B * 4 * H, act);
      get(cn, B * H, c);
      get(hn, B * H, h);
    },
    lstmCellBackward(args) {
      const { batch: B, hidden: H, dh, dc, act, cPrev, c, peep, dGates, dcPrev } = args;
      if (peep || !isF32(dh, dc, act, cPrev, c, dGates, dcPrev)) return fallback.lstmCellBackward(args);
      const [pdh, pdc, pa, pcp, pc, pdg, pdcp] = layout(B * H, B * H, B * 4 * H, B * H, B * H, B * 4 * H, B * H) as number[];
      put(pdh!, dh, B * H);
      put(pdc!, dc, B * H);
      put(pa!, act, B * 4 * H);
      put(pcp!, cPrev, B * H);
      put(pc!, c, B * H);
      ex.lstmCellBackwardF32(B, H, pdh!, pdc!, pa!, pcp!, pc!, pdg!, pdcp!);
      get(pdg!, B * 4 * H, dGates);
      get(pdcp!, B * H, dcPrev);
    },
    gruCell(args) {
      const { batch: B, hidden: H, xGates, hGates, hPrev, act, h } = args;
      if (!isF32(xGates, hGates, hPrev, act, h)) return fallback.gruCell(args);
      const [px, ph, php, pa, pout] = layout(B * 3 * H, B * 3 * H, B * H, B * 4 * H, B * H) as number[];
      put(px!, xGates, B * 3 * H);
      put(ph!, hGates, B * 3 * H);
      put(php!, hPrev, B * H);
      ex.gruCellF32(B, H, px!, ph!, php!, pa!, pout!);
      get(pa!, B * 4 * H, act);
      get(pout!, B * H, h);
    },
    gruCellBackward(args) {
      const { batch: B, hidden: H, dh, act, hPrev, dxGates, dhGates, dhPrev } = args;
      if (!isF32(dh, act, hPrev, dxGates, dhGates, dhPrev)) return fallback.gruCellBackward(args);
      const [pdh, pa, php, pdx, pdhg, pdhp] = layout(B * H, B * 4 * H, B * H, B * 3 * H, B * 3 * H, B * H) as number[];
      put(pdh!, dh, B * H);
      put(pa!, act, B * 4 * H);
      put(php!, hPrev, B * H);
      ex.gruCellBackwardF32(B, H, pdh!, pa!, php!, pdx!, pdhg!, pdhp!);
      get(pdx!, B * 3 * H, dxGates);
      get(pdhg!, B * 3 * H, dhGates);
      get(pdhp!, B * H, dhPrev);
    },
    lstmSequence(args) {
      if (!fastLstm(args) || stepwise(args)) return lstmSequenceOn(composed, args);
      lstmSequenceWasm(args);
    },
    lstmSequenceBackward(args) {
      if (!fastLstm(args) || stepwise(args)) return lstmSequenceBackwardOn(composed, args);
      lstmSequenceBackwardWasm(args);
    },
  };
  return cells;
}
