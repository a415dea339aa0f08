/**
 * loadTorchvisionWeights: loads a torchvision state dict saved as safetensors into a zoo model.
 * Turn any torchvision checkpoint into that file with one line of Python (see the README):
 *   python3 -c "import torch,torchvision;from safetensors.torch import save_file;save_file(torchvision.models.resnet18(weights='DEFAULT').state_dict(),'resnet18.safetensors')"
 * F16/BF16 weights load as float32 and torch's I64 `num_batches_tracked` as int32 (the reader in
 * @kiln/nn converts them). Every key and shape is checked before anything is copied.
 */
import { loadSafetensors, parseSafetensors, type Module, type StateDict } from '@kiln/nn';

export interface LoadTorchvisionWeightsResult {
  /** Number of tensors copied into the model. */
  loaded: number;
  /** The file's `__metadata__` strings. */
  metadata: Record<string, string>;
}

const LIST = 8;

function modelName(model: Module): string {
  const n = (model as unknown as { _name?: unknown })._name;
  return typeof n === 'string' ? n : model.constructor.name;
}

function listed(keys: string[]): string {
  return keys.slice(0, LIST).join(', ') + (keys.length > LIST ? ` … (${keys.length} in all)` : '');
}

/**
 * Checks `sd` against `model`'s state dict — same keys (a torch `module.` prefix on every key is
 * dropped; a missing `num_batches_tracked` is allowed, as PyTorch allows it) and same shapes —
 * then copies it in. Throws `Kiln: loadTorchvisionWeights: <model>: ...` naming the missing,
 * unexpected and mis-shaped keys, leaving the model untouched.
 */
export function loadTorchvisionStateDict(model: Module, sd: StateDict, source = 'state dict'): number {
  const name = modelName(model);
  let entries = Object.entries(sd);
  if (entries.length && entries.every(([k]) => k.startsWith('module.'))) entries = entries.map(([k, t]) => [k.slice(7), t]);
  const given = Object.fromEntries(entries) as StateDict;
  const own = model.stateDict();
  const missing = Object.keys(own).filter((k) => !(k in given) && !k.endsWith('num_batches_tracked'));
  const unexpected = Object.keys(given).filter((k) => !(k in own));
  const misShaped = Object.keys(own).filter((k) => k in given && (given[k]!.shape.length !== own[k]!.shape.length
    || given[k]!.shape.some((d, i) => d !== own[k]!.shape[i])));
  if (missing.length || unexpected.length || misShaped.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys: ${listed(missing)}`);
    if (unexpected.length) parts.push(`unexpected keys: ${listed(unexpected)}`);
    if (misShaped.length) {
      parts.push(`shape mismatch: ${misShaped.slice(0, LIST).map((k) => `'${k}' is [${given[k]!.shape.join(',')}] in the file, [${own[k]!.shape.join(',')}] in the model`).join('; ')}${misShaped.length > LIST ? ` … (${misShaped.length} in all)` : ''}`);
    }
    throw new Error(`Kiln: loadTorchvisionWeights: ${name}: ${source} does not fit the model (nothing was loaded): ${parts.join('; ')}`);
  }
  const toLoad: StateDict = {};
  for (const k of Object.keys(own)) if (k in given) toLoad[k] = given[k]!;
  model.loadStateDict(toLoad, { strict: false });
  return Object.keys(toLoad).length;
}

/** Loads a safetensors file (a path, or its bytes) of torchvision weights into `model`. */
export async function loadTorchvisionWeights(model: Module, file: string | Uint8Array): Promise<LoadTorchvisionWeightsResult> {
  const { tensors, metadata } = typeof file === 'string' ? await loadSafetensors(file) : parseSafetensors(file);
  const loaded = loadTorchvisionStateDict(model, tensors, typeof file === 'string' ? `file ${file}` : 'the safetensors bytes');
  return { loaded, metadata };
}
