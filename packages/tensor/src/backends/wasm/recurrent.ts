/**
 * Recurrent cells on Wasm SIMD (assembly/recurrent.ts): one LSTM or GRU time step's gate
 * nonlinearities and their adjoints for float32 arrays, staged into Wasm memory and back (a few
 * hundred KiB a step, at memcpy speed) — V8 runs the reference's Math.exp/Math.tanh loops at
 * several ns an element. float64, peephole LSTMs and the plain RNN cell use the fallback.
 */
import type { Kernels } from '../../backend.js';
import { align, type WasmRuntime } from './runtime.js';

type RecurrentKernels = Pick<Kernels, 'lstmCell' | 'lstmCellBackward' | 'gruCell' | 'gruCellBackward'>;
type Arr = Float32Array | Float64Array;

const isF32 = (...xs: Arr[]): boolean => xs.every((x) => x instanceof Float32Array);

export interface RecurrentExports {
  lstmCellF32(B: number, H: number, gates: number, cPrev: number, c: number, h: number): void;
  lstmCellBackwardF32(B: number, H: number, dh: number, dc: number, act: number, cPrev: number, c: number, dGates: number, dcPrev: number): void;
  gruCellF32(B: number, H: number, xGates: number, hGates: number, hPrev: number, act: number, h: number): void;
  gruCellBackwardF32(B: number, H: number, dh: number, act: number, hPrev: number, dxGates: number, dhGates: number, dhPrev: number): void;
}

export function makeRecurrent(rt: WasmRuntime, fallback: RecurrentKernels): RecurrentKernels {
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
  return {
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
  };
}
