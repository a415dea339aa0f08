import { kernels } from './backend.js';
import type { Tensor } from './tensor.js';

export interface MakeResidentOptions {
  /** Also give each tensor a gradient slot there (default true: what an optimizer needs). */
  gradSlots?: boolean;
}

/**
 * Moves float32 leaf tensors into the active backend's own memory where it has one (the wasm
 * backend's resident storage): their values back to back in one block, and (unless
 * `gradSlots: false`) a gradient slot for each back to back in a second. Kernels then read the
 * values in place, backward writes gradients into the slots, and a fused optimizer update runs
 * over both blocks without a copy. Optimizers do this for their parameters, `fuseConvBn` for the
 * weights it folds, and `Module.eval()` for a model's parameters without slots (inference reads
 * the weights in place instead of copying them in on every call). Values already moved stay
 * where they are, and a later call with slots only adds the slots; without room (or without
 * such a backend) everything stays in the JS heap.
 */
export function makeResident(tensors: readonly Tensor[], options: MakeResidentOptions = {}): void {
  const k = kernels();
  if (!k.residentArrays) return;
  const floats = tensors.filter((t) => t.dtype === 'float32' && t.isLeaf);
  const move = floats.filter((t) => !t._residentValues);
  const data = move.length ? k.residentArrays(move.map((t) => t.numel())) : [];
  if (!data) return;
  move.forEach((t, i) => t._adoptResident(data[i]!, null));
  if (options.gradSlots === false) return;
  const need = floats.filter((t) => t._gradSlot === null);
  const slots = need.length ? k.residentArrays(need.map((t) => t.numel())) : [];
  if (!slots) return;
  need.forEach((t, i) => t._adoptResident(null, slots[i]!));
}
