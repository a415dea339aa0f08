/**
 * "What are deep ConvNets learning?" (Zeiler & Fergus): look at a layer's feature maps for one
 * image, and at the dataset patches — the receptive-field crops — that excite chosen units most.
 */
import { checkOptions, noGrad, tensor, Tensor } from '@kiln/tensor';
import type { Module } from '@kiln/nn';
import { makeGrid, type GridOptions } from './grid.js';
import { findModule, receptiveField, type ReceptiveField } from './receptive-field.js';
import { toImage } from '../transforms/functional.js';
import { writeImage } from '../image/io.js';

/**
 * Runs `model` on `x` (eval mode, no gradients) and returns the output of `layer` (a dotted
 * module name such as 'features.3', or the module). The model's own output is discarded.
 */
export function layerOutput(model: Module, layer: string | Module, x: Tensor): Tensor {
  const [name, target] = findModule(model, layer, 'layerOutput');
  let captured: Tensor | null = null;
  const own = Object.getOwnPropertyDescriptor(target, 'forward')!;
  const inner = target.forward.bind(target);
  Object.defineProperty(target, 'forward', { ...own, value: (...args: unknown[]) => { const y = inner(...args) as Tensor; captured = y; return y; } });
  const wasTraining = model.training;
  try {
    model.eval();
    noGrad(() => model.forward(x));
  } finally {
    Object.defineProperty(target, 'forward', own);
    model.train(wasTraining);
  }
  if (!captured) throw new Error(`Kiln: layerOutput: layer '${name}' did not run in ${model.constructor.name}.forward`);
  const out = captured as Tensor;
  if (!(out instanceof Tensor)) throw new Error(`Kiln: layerOutput: layer '${name}' returned a ${typeof out}, not a Tensor`);
  return out;
}

export interface FeatureMapOptions extends Omit<GridOptions, 'normalize'> {
  /** At most this many maps (the first channels; default all). */
  maxMaps?: number;
}

/**
 * The feature maps of `layer` for one image [C, H, W] as a grid [1, H', W'] — each map scaled
 * to its own min–max range (so weak maps stay visible), `scale`d up (default: to about 48 px).
 */
export function featureMapGrid(model: Module, layer: string | Module, image: Tensor, options: FeatureMapOptions = {}): Tensor {
  // makeGrid checks the grid options' kinds; `normalize` is not one here (each map is scaled on its own), so it is unknown
  const byMakeGrid = () => null;
  checkOptions('featureMapGrid', options, { maxMaps: 'posint', nrow: byMakeGrid, padding: byMakeGrid, padValue: byMakeGrid, scale: byMakeGrid });
  if (!(image instanceof Tensor) || image.ndim !== 3) throw new Error(`Kiln: featureMapGrid: expected one image [C, H, W], got ${image instanceof Tensor ? `shape [${image.shape.join(', ')}]` : String(image)}`);
  const out = layerOutput(model, layer, image.unsqueeze(0));
  if (out.ndim !== 4) throw new Error(`Kiln: featureMapGrid: layer output has shape [${out.shape.join(', ')}], expected feature maps [1, C, h, w]`);
  const { maxMaps, ...grid } = options;
  const c = Math.min(out.shape[1]!, maxMaps ?? Infinity), h = out.shape[2]!;
  const maps = out.squeeze(0).narrow(0, 0, c);
  return makeGrid(maps, { nrow: Math.ceil(Math.sqrt(c)), padding: 1, padValue: 1, scale: Math.max(1, Math.round(48 / h)), ...grid, normalize: 'each' });
}

/** Saves featureMapGrid as a PNG. */
export async function saveFeatureMaps(path: string, model: Module, layer: string | Module, image: Tensor, options: FeatureMapOptions = {}): Promise<void> {
  await writeImage(path, toImage(featureMapGrid(model, layer, image, options)));
}

export interface TopPatchesOptions {
  /** Patches per unit (default 8); each image gives at most one patch per unit. */
  k?: number;
  /** Batch size for the forward passes (default 128). */
  batchSize?: number;
  /** Images to crop from, if the model's inputs are not viewable (e.g. normalised); same [N, C, H, W] grid. */
  display?: Tensor;
  /** The layer's receptive field, for models receptiveField cannot follow (see measuredReceptiveField). */
  field?: ReceptiveField;
}

export interface TopPatches {
  /** Shape [units · k, C, fieldH, fieldW]; row u of the grid is unit units[u], strongest first (zeros outside the image). */
  patches: Tensor;
  /** [units][k] the activations, and the image index and unit position (y, x) they came from. */
  hits: { value: number; image: number; y: number; x: number }[][];
  field: ReceptiveField;
}

/**
 * For each unit (channel) in `units` of `layer`, finds the `k` images whose maximal activation of
 * that channel is highest, and crops from each the receptive field of the winning position.
 */
export function topActivatingPatches(model: Module, layer: string | Module, images: Tensor, units: readonly number[], options: TopPatchesOptions = {}): TopPatches {
  const op = 'topActivatingPatches';
  checkOptions(op, options, {
    k: 'posint', batchSize: 'posint', field: 'object',
    display: (v) => (v instanceof Tensor ? null : 'a Tensor'),
  });
  if (!(images instanceof Tensor) || images.ndim !== 4) throw new Error(`Kiln: ${op}: expected images [N, C, H, W], got ${images instanceof Tensor ? `shape [${images.shape.join(', ')}]` : String(images)}`);
  const k = options.k ?? 8, bs = options.batchSize ?? 128, display = options.display ?? images;
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`Kiln: ${op}: k must be a positive integer, got ${k}`);
  if (display.ndim !== 4 || display.shape[0] !== images.shape[0] || display.shape[2] !== images.shape[2] || display.shape[3] !== images.shape[3]) {
    throw new Error(`Kiln: ${op}: display must have the images' count and size [${images.shape[0]}, C, ${images.shape[2]}, ${images.shape[3]}], got [${display.shape.join(', ')}]`);
  }
  const field = options.field ?? receptiveField(model, layer);
  const n = images.shape[0]!;
  const best: TopPatches['hits'] = units.map(() => []);
  for (let s = 0; s < n; s += bs) {
    const out = layerOutput(model, layer, images.narrow(0, s, Math.min(bs, n - s)));
    const [b, c, h, w] = out.shape as [number, number, number, number];
    for (const u of units) if (!(Number.isInteger(u) && u >= 0 && u < c)) throw new Error(`Kiln: ${op}: unit ${u} out of range for a layer with ${c} channels`);
    const d = out.dataSync();
    units.forEach((u, ui) => {
      for (let i = 0; i < b; i++) {
        let value = -Infinity, at = 0;
        const base = (i * c + u) * h * w;
        for (let p = 0; p < h * w; p++) if (Number(d[base + p]) > value) { value = Number(d[base + p]); at = p; }
        best[ui]!.push({ value, image: s + i, y: Math.floor(at / w), x: at % w });
      }
      best[ui]!.sort((a, z) => z.value - a.value);
      best[ui]!.length = Math.min(best[ui]!.length, k);
    });
  }
  const fh = Math.round(field.size[0]), fw = Math.round(field.size[1]), C = display.shape[1]!, H = display.shape[2]!, W = display.shape[3]!;
  const src = display.dataSync(), out = new Float32Array(units.length * k * C * fh * fw);
  best.forEach((list, ui) => list.forEach((hit, j) => {
    const top = Math.round(field.start[0] + hit.y * field.jump[0] - (fh - 1) / 2);
    const left = Math.round(field.start[1] + hit.x * field.jump[1] - (fw - 1) / 2);
    const base = (ui * k + j) * C * fh * fw;
    for (let ch = 0; ch < C; ch++) {
      for (let y = 0; y < fh; y++) {
        const iy = top + y;
        if (iy < 0 || iy >= H) continue;
        for (let x = 0; x < fw; x++) {
          const ix = left + x;
          if (ix >= 0 && ix < W) out[base + ch * fh * fw + y * fw + x] = Number(src[((hit.image * C + ch) * H + iy) * W + ix]);
        }
      }
    }
  }));
  return { patches: tensor(out, { shape: [units.length * k, C, fh, fw] }), hits: best, field };
}

/** Saves the top patches as a grid PNG: one row per unit, strongest patch first. */
export async function saveTopPatches(path: string, top: TopPatches, options: Omit<GridOptions, 'nrow'> = {}): Promise<void> {
  // the grid has one row per unit, so `nrow` is not an option here; makeGrid checks the kinds
  const byMakeGrid = () => null;
  checkOptions('saveTopPatches', options, { padding: byMakeGrid, padValue: byMakeGrid, scale: byMakeGrid, normalize: byMakeGrid });
  const k = top.hits.reduce((a, h) => Math.max(a, h.length), 1);
  const scale = options.scale ?? Math.max(1, Math.round(32 / top.field.size[0]));
  await writeImage(path, toImage(makeGrid(top.patches, { padding: 2, padValue: 1, ...options, scale, nrow: k })));
}
