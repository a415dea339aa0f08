/**
 * styleTransfer: optimises a generated image G (initialised from the content image plus noise)
 * with Adam to minimise J(G) = α·J_content + β·J_style (+ an optional total-variation term),
 * the network's weights fixed.
 */
import { checkOptions, Generator, noGrad, Tensor } from '@kiln/tensor';
import type { Module } from '@kiln/nn';
import { Adam } from '@kiln/optim';
import { writeImage } from '../image/io.js';
import { toImage } from '../transforms/functional.js';
import { contentCost, styleCost, totalCost, totalVariation } from './costs.js';
import { featureExtractor } from './feature-extractor.js';

export interface StyleLayers {
  /** The layer whose activations carry the content (e.g. 'features.21', VGG's conv4_2). */
  content: string;
  /** Style layers: names (equal weights summing to 1) or names → λ. */
  style: readonly string[] | Record<string, number>;
}

export interface StyleProgress { step: number; total: number; content: number; style: number; tv: number }

export interface StyleTransferOptions {
  /** Content image [3, H, W] (or [1, 3, H, W]) in [0, 1]. */
  content: Tensor;
  /** Style image, same channel count (any size the model accepts). */
  style: Tensor;
  /** The feature network (e.g. a VGG with loaded weights); put in eval mode, weights untouched. */
  model: Module;
  layers: StyleLayers;
  /** Adam steps (default 200). */
  steps?: number;
  /** Adam learning rate on the pixels (default 0.02). */
  lr?: number;
  /** Defaults 10 and 40 (the course's). */
  alpha?: number;
  beta?: number;
  /** Weight of totalVariation(G) (p = 1) in the cost (default 0). */
  tvWeight?: number;
  /** Initial G = (1 − noise)·content + noise·U(0, 1) (default 0.3). */
  noise?: number;
  /** Seed of the initial noise (default 0). */
  seed?: number;
  /** Per-channel mean/std applied to G before the model (e.g. IMAGENET_MEAN/STD); default none. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Called every `progressEvery` steps (default every 10th and the last) with the costs. */
  onProgress?: (p: StyleProgress) => void;
  progressEvery?: number;
  /** Writes the result here as a PNG (atomically) when done. */
  output?: string;
}

export interface StyleTransferResult {
  /** The generated image [3, H, W] in [0, 1]. */
  image: Tensor;
  /** The costs at step 0 and at every progress report. */
  history: StyleProgress[];
  /** J_style of the content image itself (the starting point the style cost should fall far below). */
  contentImageStyleCost: number;
  /** J_style of the result. */
  finalStyleCost: number;
}

const numbers = (v: unknown): string | null => (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? null : 'an array of finite numbers');

const SPEC = {
  content: 'object', style: 'object', model: 'object', layers: 'object', steps: 'posint', lr: 'finite', alpha: 'finite', beta: 'finite',
  tvWeight: 'finite', noise: 'prob', seed: 'nonnegint', mean: numbers, std: numbers, onProgress: 'function', progressEvery: 'posint', output: 'string',
} as const;

function asImage(name: string, t: unknown): Tensor {
  if (!(t instanceof Tensor) || !(t.ndim === 3 || (t.ndim === 4 && t.shape[0] === 1))) {
    throw new Error(`Kiln: styleTransfer: ${name} must be an image [C, H, W] or [1, C, H, W], got ${t instanceof Tensor ? `[${t.shape.join(',')}]` : String(t)}`);
  }
  return (t.ndim === 3 ? t.unsqueeze(0) : t).to('float32').detach();
}

export async function styleTransfer(options: StyleTransferOptions): Promise<StyleTransferResult> {
  checkOptions('styleTransfer', options, SPEC as never);
  const { model, layers } = options;
  const content = asImage('content', options.content), style = asImage('style', options.style);
  if (content.shape[1] !== style.shape[1]) throw new Error(`Kiln: styleTransfer: content has ${content.shape[1]} channels but style has ${style.shape[1]}`);
  if (!layers || typeof layers.content !== 'string' || !layers.style) throw new Error(`Kiln: styleTransfer: layers must be { content: string, style: string[] | Record<string, number> }, got ${JSON.stringify(layers)}`);
  const weights: Record<string, number> = Array.isArray(layers.style)
    ? Object.fromEntries((layers.style as string[]).map((n) => [n, 1 / layers.style.length]))
    : { ...(layers.style as Record<string, number>) };
  const extractor = featureExtractor(model, [...new Set([layers.content, ...Object.keys(weights)])]);
  const steps = options.steps ?? 200, alpha = options.alpha ?? 10, beta = options.beta ?? 40, tvWeight = options.tvWeight ?? 0;
  const every = options.progressEvery ?? 10, noise = options.noise ?? 0.3;
  const c = content.shape[1]!;
  for (const [k, v] of [['mean', options.mean], ['std', options.std]] as const) {
    if (v !== undefined && (!Array.isArray(v) || v.length !== c)) throw new Error(`Kiln: styleTransfer: option '${k}' must be an array of ${c} numbers, got ${JSON.stringify(v)}`);
  }
  const mean = options.mean ? new Tensor(Float32Array.from(options.mean), [1, c, 1, 1], 'float32') : null;
  const std = options.std ? new Tensor(Float32Array.from(options.std), [1, c, 1, 1], 'float32') : null;
  const prep = (x: Tensor) => { let y = x; if (mean) y = y.sub(mean); if (std) y = y.div(std); return y; };

  // the network is fixed: eval mode, no parameter gradients (restored afterwards)
  const wasTraining = model.training;
  const params = model.parameters();
  const flags = params.map((p) => p.requiresGrad);
  model.eval();
  for (const p of params) p.requiresGrad = false;
  try {
    const target = noGrad(() => ({ c: extractor.forward(prep(content)), s: extractor.forward(prep(style)) }));
    const aC = target.c[layers.content]!;
    const contentImageStyleCost = noGrad(() => styleCost(target.s, target.c, weights).item());

    const g = new Generator(options.seed ?? 0);
    const u = new Float32Array(content.numel()).map(() => g.random());
    const init = content.mul(1 - noise).add(new Tensor(u, content.shape, 'float32').mul(noise));
    const G = init.detach().requiresGrad_(true);
    const opt = new Adam([G], { lr: options.lr ?? 0.02 });
    const history: StyleProgress[] = [];
    for (let step = 0; step <= steps; step++) {
      opt.zeroGrad();
      const f = extractor.forward(prep(G));
      const jc = contentCost(aC, f[layers.content]!), js = styleCost(target.s, f, weights);
      let j = totalCost(jc, js, alpha, beta);
      const tv = tvWeight !== 0 ? totalVariation(G) : null;
      if (tv) j = j.add(tv.mul(tvWeight));
      if (step === 0 || step % every === 0 || step === steps) {
        const p = { step, total: j.item(), content: jc.item(), style: js.item(), tv: tv ? tv.item() : 0 };
        history.push(p);
        options.onProgress?.(p);
      }
      if (step === steps) break;
      j.backward();
      opt.step();
      noGrad(() => G.clamp_(0, 1));
    }
    const image = G.detach().squeeze(0);
    const finalStyleCost = noGrad(() => styleCost(target.s, extractor.forward(prep(G.detach())), weights).item());
    if (options.output) await writeImage(options.output, toImage(image));
    return { image, history, contentImageStyleCost, finalStyleCost };
  } finally {
    params.forEach((p, i) => { p.requiresGrad = flags[i]!; });
    model.train(wasTraining);
  }
}
