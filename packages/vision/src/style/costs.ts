/**
 * Neural style transfer costs (Gatys et al. 2015, as taught in deeplearning.ai course 4):
 * Gram matrices, content and style costs, total variation, and J(G) = α·J_content + β·J_style.
 * All are compositions of differentiable tensor ops, so gradients flow to the generated image.
 */
import { checkOptions, Tensor } from '@kiln/tensor';

const dims = (t: Tensor) => `[${t.shape.join(',')}]`;

function checkMaps(fn: string, name: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor) || (t.ndim !== 4 && t.ndim !== 3)) {
    throw new Error(`Kiln: ${fn}: ${name} must be feature maps [N, C, H, W] or [C, H, W], got ${t instanceof Tensor ? dims(t) : String(t)}`);
  }
}

function samePair(fn: string, a: Tensor, b: Tensor, na: string, nb: string): void {
  checkMaps(fn, na, a);
  checkMaps(fn, nb, b);
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) throw new Error(`Kiln: ${fn}: ${na} ${dims(a)} and ${nb} ${dims(b)} must have the same shape`);
}

const as4d = (t: Tensor): Tensor => (t.ndim === 3 ? t.unsqueeze(0) : t);

export interface GramOptions {
  /** Divide by C·H·W (as in PyTorch's style-transfer tutorial); default false (the plain F·Fᵀ). */
  normalize?: boolean;
}

/**
 * Gram matrix of feature maps: F [N, C, H, W] unrolled to [N, C, H·W], G = F·Fᵀ [N, C, C]
 * (G_ij = correlation of channels i and j over positions). [C, H, W] gives [C, C].
 */
export function gramMatrix(features: Tensor, options: GramOptions = {}): Tensor {
  checkOptions('gramMatrix', options, { normalize: 'boolean' });
  checkMaps('gramMatrix', 'features', features);
  const f = as4d(features);
  const [n, c, h, w] = f.shape as [number, number, number, number];
  const m = f.reshape([n, c, h * w]);
  let g = m.matmul(m.transpose(1, 2));
  if (options.normalize) g = g.div(c * h * w);
  return features.ndim === 3 ? g.squeeze(0) : g;
}

/** J_content(C, G) = Σ (a_C − a_G)² / (4·n_H·n_W·n_C), over all elements (batch included). */
export function contentCost(aC: Tensor, aG: Tensor): Tensor {
  samePair('contentCost', aC, aG, 'content activations', 'generated activations');
  const [, c, h, w] = as4d(aC).shape as [number, number, number, number];
  return aC.sub(aG).square().sum().div(4 * c * h * w);
}

/** One layer's style cost: Σ (G_S − G_G)² / (4·n_C²·(n_H·n_W)²), with G the (plain) Gram matrices. */
export function styleLayerCost(aS: Tensor, aG: Tensor): Tensor {
  samePair('styleLayerCost', aS, aG, 'style activations', 'generated activations');
  const [, c, h, w] = as4d(aS).shape as [number, number, number, number];
  return gramMatrix(aS).sub(gramMatrix(aG)).square().sum().div(4 * c * c * (h * w) ** 2);
}

/**
 * J_style = Σ_l λ_l · styleLayerCost(a_S[l], a_G[l]) over the layers named in `weights`
 * (λ_l; e.g. 0.2 each for five layers). `styleFeatures` and `generatedFeatures` map layer
 * names to activations (as returned by a featureExtractor).
 */
export function styleCost(styleFeatures: Record<string, Tensor>, generatedFeatures: Record<string, Tensor>, weights: Record<string, number>): Tensor {
  const names = Object.keys(weights);
  if (names.length === 0) throw new Error('Kiln: styleCost: weights must name at least one layer');
  let total: Tensor | null = null;
  for (const name of names) {
    const lambda = weights[name]!;
    if (typeof lambda !== 'number' || !Number.isFinite(lambda)) throw new Error(`Kiln: styleCost: weight of layer '${name}' must be a finite number, got ${String(lambda)}`);
    const s = styleFeatures[name], g = generatedFeatures[name];
    if (!s || !g) {
      throw new Error(`Kiln: styleCost: layer '${name}' is missing from the ${!s ? 'style' : 'generated'} features (have: ${Object.keys(!s ? styleFeatures : generatedFeatures).join(', ')})`);
    }
    const term = styleLayerCost(s, g).mul(lambda);
    total = total ? total.add(term) : term;
  }
  return total!;
}

export interface TotalVariationOptions {
  /** 1: Σ|Δ| (default, as tf.image.total_variation); 2: Σ Δ² (smooth). */
  p?: 1 | 2;
}

/** Total variation of images [N, C, H, W] or [C, H, W]: Σ |x[i+1, j] − x[i, j]|^p + |x[i, j+1] − x[i, j]|^p. */
export function totalVariation(x: Tensor, options: TotalVariationOptions = {}): Tensor {
  checkOptions('totalVariation', options, { p: (v) => (v === 1 || v === 2 ? null : '1 or 2') });
  checkMaps('totalVariation', 'images', x);
  const t = as4d(x);
  const [, , h, w] = t.shape as [number, number, number, number];
  const dh = t.narrow(2, 1, h - 1).sub(t.narrow(2, 0, h - 1));
  const dw = t.narrow(3, 1, w - 1).sub(t.narrow(3, 0, w - 1));
  const f = (d: Tensor) => ((options.p ?? 1) === 1 ? d.abs() : d.square()).sum();
  return f(dh).add(f(dw));
}

/** J(G) = α·J_content + β·J_style (the course's α = 10, β = 40 by default). */
export function totalCost(jContent: Tensor, jStyle: Tensor, alpha = 10, beta = 40): Tensor {
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) throw new Error(`Kiln: totalCost: alpha and beta must be finite numbers, got ${alpha} and ${beta}`);
  return jContent.mul(alpha).add(jStyle.mul(beta));
}
