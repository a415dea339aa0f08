/**
 * Where an LSTM direction keeps what its backward needs (gate activations, h and c before and
 * after each step: ~14 MB for T 64, batch 32, hidden 256).
 *
 * On a backend with its own memory (`residentArrays`), the arrays live there, so the sequence
 * kernels write and read them in place instead of copying them out after the forward and back in
 * before the backward. Those blocks are reused from one training step to the next rather than
 * left to the garbage collector: a finaliser only runs once a synchronous training loop yields,
 * which it may never do, so fresh blocks each step would pile up in the backend's memory.
 *
 * A set is taken over by a later forward only once nothing can read it again: its graph was
 * freed by a backward pass (the op's node was replaced). Otherwise (the graph kept with
 * `retainGraph`, or never run backward) its contents are first copied into ordinary arrays that
 * the graph then reads, so reuse never changes a gradient.
 */
import type { GradNode } from '../autograd.js';
import type { Kernels } from '../backend.js';
import type { Tensor } from '../tensor.js';

/** The arrays an LSTM direction's backward reads; fields are replaced by copies if their set is reused. */
export interface LstmSaved {
  act: Float32Array;
  hPrev: Float32Array;
  cPrev: Float32Array;
  cAll: Float32Array;
}

interface ResidentSet {
  /** Capacity views, in LstmSaved's field order. */
  arrays: Float32Array[];
  user: { saved: LstmSaved; owner: Tensor; node: GradNode | null | undefined } | null;
}

/** A two-layer bidirectional LSTM holds four sets during one step. */
const MAX_SETS = 4;
const sets: ResidentSet[] = [];
const FIELDS = ['act', 'hPrev', 'cPrev', 'cAll'] as const;

/** Hands a set back: if its graph may still run backward, that graph's arrays become copies first. */
function release(set: ResidentSet): void {
  const u = set.user;
  set.user = null;
  if (!u || u.owner._node !== u.node) return;
  for (const f of FIELDS) u.saved[f] = u.saved[f].slice();
}

/**
 * Resident arrays of the given lengths (act, hPrev, cPrev, cAll) for one forward, or null when the
 * backend has none or no room. The caller must call `own` once its output node exists.
 */
export function residentLstmSaved(k: Kernels, lengths: readonly [number, number, number, number]): { saved: LstmSaved; own: (owner: Tensor) => void } | null {
  if (!k.residentArrays) return null;
  const fits = (s: ResidentSet): boolean => s.arrays.every((a, i) => a.length >= lengths[i]!);
  const idle = (s: ResidentSet): boolean => !s.user || s.user.owner._node !== s.user.node;
  let set = sets.find((s) => fits(s) && idle(s));
  if (!set && sets.length >= MAX_SETS) {
    set = sets.find(fits);
    if (!set) {
      // Every set is too small for this shape: drop the smallest (freed once its views are collected).
      const i = sets.reduce((m, s, j) => (s.arrays[0]!.length < sets[m]!.arrays[0]!.length ? j : m), 0);
      release(sets[i]!);
      sets.splice(i, 1);
    }
  }
  if (set) {
    release(set);
  } else {
    // Grown to the largest shape seen, so a few sizes of sequence settle on one size of set.
    const want = lengths.map((n, i) => Math.max(n, ...sets.map((s) => s.arrays[i]!.length)));
    const arrays = k.residentArrays(want);
    if (!arrays) return null;
    set = { arrays, user: null };
    sets.push(set);
  }
  const s = set;
  const [act, hPrev, cPrev, cAll] = s.arrays.map((a, i) => a.subarray(0, lengths[i])) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const saved: LstmSaved = { act, hPrev, cPrev, cAll };
  return {
    saved,
    own: (owner) => {
      s.user = { saved, owner, node: owner._node };
    },
  };
}
