/**
 * Sliding windows, convolutionally (course 4, 4.3.1.4; OverFeat). A classifier trained on k×k
 * crops — convolutions and pools, then Flatten and fully-connected layers — becomes a fully
 * convolutional net: the first Linear after Flatten turns into a convolution whose kernel
 * covers the whole flattened feature map (h×w), each further Linear into a 1×1 convolution.
 * Run over a larger image, it gives at every output position (i, j) exactly the classifier's
 * output for the crop at (i·stride, j·stride), sharing the work of overlapping windows.
 * Exact only for valid (unpadded) convolutions and pools before Flatten: with padding, a crop's
 * border sees zeros where the large image has pixels.
 */
import { Conv2d, Flatten, Linear, Sequential, type Module } from '@kiln/nn';
import { noGrad, zeros, type Tensor } from '@kiln/tensor';

const ELEMENTWISE = new Set(['ReLU', 'LeakyReLU', 'Sigmoid', 'Tanh', 'ELU', 'GELU', 'ReLU6', 'Hardsigmoid', 'Hardswish', 'SiLU', 'Identity', 'Dropout']);
const GLOBAL = new Set(['AdaptiveAvgPool2d', 'AdaptiveMaxPool2d']);

function leaves(m: Module): Module[] {
  return m instanceof Sequential ? m.children().flatMap(leaves) : [m];
}

/**
 * The fully convolutional equivalent of `classifier` (a Sequential, possibly nested, of
 * feature layers, Flatten, then Linear layers and elementwise activations) for crops of
 * `inputShape` = [C, H, W]. The feature layers are shared (same modules, same parameters); the
 * Linear layers' weights are copied into new Conv2d layers. The result maps [N, C, H', W'] to
 * [N, classes, (H' − H)/stride + 1, (W' − W)/stride + 1].
 */
export function convolutionalize(classifier: Sequential, inputShape: readonly [number, number, number]): Sequential {
  const fn = 'convolutionalize';
  if (!(classifier instanceof Sequential)) throw new Error(`Kiln: ${fn}: classifier must be a Sequential, got ${classifier === null ? 'null' : (classifier as object)?.constructor?.name ?? typeof classifier}`);
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || !inputShape.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`Kiln: ${fn}: inputShape must be [C, H, W] of positive integers, got ${JSON.stringify(inputShape)}`);
  }
  const layers = leaves(classifier);
  const flat = layers.findIndex((m) => m instanceof Flatten);
  if (flat < 0) throw new Error(`Kiln: ${fn}: the classifier has no Flatten layer, so there is no fully-connected head to convert`);
  const features = layers.slice(0, flat);
  for (const [i, m] of features.entries()) {
    if (GLOBAL.has(m.constructor.name)) throw new Error(`Kiln: ${fn}: layer ${i} (${m.constructor.name}) pools the whole feature map, so the classifier is not a sliding window; remove it (train on crops whose features reach Flatten at their natural size)`);
  }
  let shape = noGrad(() => features.reduce((y: Tensor, m) => m.forward(y) as Tensor, zeros([1, ...inputShape], { dtype: dtypeOf(classifier) }))).shape;
  if (shape.length !== 4) throw new Error(`Kiln: ${fn}: the layers before Flatten must give [N, C, h, w], got [${shape.join(', ')}]`);
  const out: Module[] = [...features];
  let first = true;
  for (const [i, m] of layers.slice(flat + 1).entries()) {
    if (m instanceof Linear) {
      const [, c, h, w] = first ? shape : [1, shape[1]!, 1, 1];
      if (m.inFeatures !== c! * h! * w!) {
        throw new Error(`Kiln: ${fn}: Linear at head position ${i} expects ${m.inFeatures} inputs but receives ${c}×${h}×${w} = ${c! * h! * w!} for inputShape [${inputShape.join(', ')}]`);
      }
      const conv = new Conv2d(c!, m.outFeatures, [h!, w!], { bias: m.bias !== null, dtype: m.weight.dtype as 'float32' | 'float64' });
      noGrad(() => {
        conv.weight.dataSync().set(m.weight.dataSync());
        if (m.bias) conv.bias!.dataSync().set(m.bias.dataSync());
      });
      conv.weight.markModified();
      conv.bias?.markModified();
      out.push(conv);
      shape = [1, m.outFeatures, 1, 1];
      first = false;
    } else if (ELEMENTWISE.has(m.constructor.name)) {
      out.push(m);
    } else {
      throw new Error(`Kiln: ${fn}: cannot convert ${m.constructor.name} at head position ${i} (after Flatten only Linear and elementwise layers: ${[...ELEMENTWISE].join(', ')})`);
    }
  }
  return new Sequential(...out);
}

function dtypeOf(m: Module): 'float32' | 'float64' {
  const p = m.parameters()[0];
  return p?.dtype === 'float64' ? 'float64' : 'float32';
}
