/**
 * Receptive fields of the units of a layer, computed from the layer chain that feeds it:
 * each window layer with kernel k (dilated: d·(k−1)+1), stride s and padding p grows the field
 * by (k−1)·jump, moves the first unit's centre by ((k−1)/2 − p)·jump and multiplies the jump
 * (the input distance between neighbouring units) by s. Elementwise and normalisation layers
 * leave all three unchanged. Works through Sequential containers; a layer that mixes paths
 * (a residual block) is an error, since its field is not a single window.
 */
import { checkOptions, randn, type Tensor } from '@kiln/tensor';
import { Module, Sequential, Conv2d, MaxPool2d, AvgPool2d } from '@kiln/nn';

export interface ReceptiveField {
  /** Field size [h, w] in input pixels. */
  size: [number, number];
  /** Input distance [h, w] between neighbouring units. */
  jump: [number, number];
  /** Input coordinates [y, x] of the centre of unit (0, 0) (may be fractional or negative). */
  start: [number, number];
}

/** Layers that do not change where a unit looks. */
const POINTWISE = new Set([
  'ReLU', 'ReLU6', 'LeakyReLU', 'ELU', 'GELU', 'SiLU', 'Sigmoid', 'Tanh', 'Hardswish', 'Hardsigmoid', 'Softmax', 'LogSoftmax',
  'BatchNorm2d', 'GroupNorm', 'LocalResponseNorm', 'LayerNorm', 'Dropout', 'Dropout2d', 'Identity', 'StochasticDepth',
]);

const pair = (v: unknown, dflt: number): [number, number] => {
  if (v === undefined || v === null) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0]!, a[1] ?? a[0]!];
};

function windowOf(m: Module): { k: [number, number]; s: [number, number]; p: [number, number]; d: [number, number] } | null {
  if (m instanceof Conv2d) {
    const k = pair(m.kernelSize, 1), d = pair(m.options.dilation, 1), s = pair(m.options.stride, 1);
    const pad = m.options.padding;
    const p: [number, number] = pad === 'valid' ? [0, 0]
      : pad === 'same' ? [Math.floor((d[0] * (k[0] - 1)) / 2), Math.floor((d[1] * (k[1] - 1)) / 2)]
        : pair(pad, 0);
    return { k, s, p, d };
  }
  if (m instanceof MaxPool2d || m instanceof AvgPool2d) {
    const k = pair(m.kernelSize, 1), o = m.options as { stride?: unknown; padding?: unknown; dilation?: unknown };
    return { k, s: pair(o.stride, 0).map((v, i) => v || k[i]!) as [number, number], p: pair(o.padding, 0), d: pair(o.dilation, 1) };
  }
  return null;
}

/** The modules that run, in order, from the model's input up to and including `target`. */
function chainTo(model: Module, target: Module, path: string): Module[] | null {
  if (model === target) return [model];
  if (!(model instanceof Sequential)) {
    if (model.modules().includes(target)) {
      throw new Error(`Kiln: receptiveField: cannot follow the path to '${path}' through ${model.constructor.name} (only Sequential chains of conv, pool, elementwise and norm layers)`);
    }
    return null;
  }
  const out: Module[] = [];
  for (const child of model.children()) {
    const sub = chainTo(child, target, path);
    if (sub) return [...out, ...sub];
    out.push(child);
  }
  return null;
}

function leaves(m: Module, out: Module[] = []): Module[] {
  if (m instanceof Sequential) for (const c of m.children()) leaves(c, out);
  else out.push(m);
  return out;
}

/** Finds a submodule by dotted name ('' or the module itself for the whole model). */
export function findModule(model: Module, layer: string | Module, op: string): [string, Module] {
  for (const [name, m] of model.namedModules()) if (m === layer || name === layer) return [name, m];
  const names = model.namedModules().map(([n]) => n).filter(Boolean);
  throw new Error(`Kiln: ${op}: no layer ${typeof layer === 'string' ? `'${layer}'` : layer.constructor.name} in ${model.constructor.name} (layers: ${names.slice(0, 30).join(', ')}${names.length > 30 ? ', ...' : ''})`);
}

/** The receptive field of the units of `layer` (a dotted name or the module) of `model`, on 2-D images. */
export function receptiveField(model: Module, layer: string | Module): ReceptiveField {
  const [name, target] = findModule(model, layer, 'receptiveField');
  const chain = chainTo(model, target, name)!;
  let size: [number, number] = [1, 1], jump: [number, number] = [1, 1], start: [number, number] = [0, 0];
  for (const m of chain.flatMap((c) => leaves(c))) {
    const w = windowOf(m);
    if (!w) {
      if (POINTWISE.has(m.constructor.name)) continue;
      throw new Error(`Kiln: receptiveField: cannot compute a receptive field through ${m.constructor.name} on the way to '${name}' (supported: Conv2d, MaxPool2d, AvgPool2d and elementwise/norm layers)`);
    }
    for (const i of [0, 1] as const) {
      const ke = w.d[i] * (w.k[i] - 1) + 1;
      size[i] += (ke - 1) * jump[i];
      start[i] += ((ke - 1) / 2 - w.p[i]) * jump[i];
      jump[i] *= w.s[i];
    }
    size = [...size]; jump = [...jump]; start = [...start];
  }
  return { size, jump, start };
}

/**
 * A receptive field measured instead of derived, for models that are not plain chains (residual
 * blocks, branches): backpropagates from the centre unit of `layer` on `trials` random inputs of
 * `inputShape` [C, H, W] (eval mode) and takes the box around every input pixel whose gradient
 * was non-zero. It can come out smaller than the theoretical field where ReLUs or max-pooling
 * block every path to the border pixels; several trials make that unlikely.
 */
export function measuredReceptiveField(model: Module, layer: string | Module, inputShape: readonly [number, number, number], options: { trials?: number } = {}): ReceptiveField {
  checkOptions('measuredReceptiveField', options, { trials: 'posint' });
  const [name, target] = findModule(model, layer, 'measuredReceptiveField');
  const [c, h, w] = inputShape;
  const trials = options.trials ?? 4;
  let captured: Tensor | null = null;
  const own = Object.getOwnPropertyDescriptor(target, 'forward')!;
  const inner = target.forward.bind(target);
  Object.defineProperty(target, 'forward', { ...own, value: (...args: unknown[]) => { const y = inner(...args) as Tensor; captured = y; return y; } });
  const wasTraining = model.training;
  const hit = new Uint8Array(h * w);
  let oh = 0, ow = 0;
  try {
    model.eval();
    for (let t = 0; t < trials; t++) {
      const x = randn([1, c, h, w], { requiresGrad: true });
      captured = null;
      model.forward(x);
      const out = captured as Tensor | null;
      if (!out || out.ndim !== 4) throw new Error(`Kiln: measuredReceptiveField: layer '${name}' gave no 4-d feature maps`);
      oh = out.shape[2]!; ow = out.shape[3]!;
      out.narrow(2, oh >> 1, 1).narrow(3, ow >> 1, 1).sum().backward();
      const g = x.grad!.dataSync();
      for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) if (g[ch * h * w + p] !== 0) hit[p] = 1;
    }
  } finally {
    Object.defineProperty(target, 'forward', own);
    model.train(wasTraining);
    for (const p of model.parameters()) p.grad = null;
  }
  let y0 = h, y1 = -1, x0 = w, x1 = -1;
  hit.forEach((v, p) => { if (v) { const yy = Math.floor(p / w), xx = p % w; y0 = Math.min(y0, yy); y1 = Math.max(y1, yy); x0 = Math.min(x0, xx); x1 = Math.max(x1, xx); } });
  if (y1 < 0) throw new Error(`Kiln: measuredReceptiveField: no input pixel reaches the centre unit of '${name}'`);
  const jump: [number, number] = [h / oh, w / ow];
  return {
    size: [y1 - y0 + 1, x1 - x0 + 1],
    jump,
    start: [(y0 + y1) / 2 - (oh >> 1) * jump[0], (x0 + x1) / 2 - (ow >> 1) * jump[1]],
  };
}
