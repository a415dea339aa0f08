/**
 * Neural style transfer (course 4, 4.4.2) end to end: repaints a generated content image (coloured
 * shapes) in the style of a generated texture, and writes the result plus a panel
 * content | style | result as PNGs. With `--weights vgg16.safetensors` (torchvision's VGG-16
 * weights converted to safetensors, see loadTorchvisionWeights) it uses VGG-16's conv1_1 … conv5_1
 * for style and conv4_2 for content on ImageNet-normalised inputs, as Gatys et al.; without, a
 * small random-weight conv net (random filters still capture colour and texture statistics).
 *
 *   npx turbo run build --filter=@kiln/vision...   (once: the example runs on the built packages)
 *   cd packages/vision && npx tsc -p examples/tsconfig.json && node examples/dist/style-transfer.js [--steps 300] [--size 64] [--out examples/out] [--beta 10000] [--tv 0] [--weights vgg16.safetensors]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, stack, Tensor } from '@kiln/tensor';
import { Conv2d, MaxPool2d, ReLU, Sequential, type Module } from '@kiln/nn';
import { colorShapes } from '@kiln/data';
import { IMAGENET_MEAN, IMAGENET_STD, loadTorchvisionWeights, saveImageGrid, styleTransfer, vgg16, type StyleLayers } from '@kiln/vision';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** A wavy two-colour texture with thin dark lines: strong, easily seen style statistics. */
function texture(size: number): Tensor {
  const d = new Float32Array(3 * size * size);
  const warm = [0.95, 0.55, 0.1], cool = [0.1, 0.35, 0.75];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = Math.sin((x + 3 * Math.sin(y / 4)) / 2.2);
      const line = Math.abs(v) < 0.18 ? 0.15 : 1;
      const c = v > 0 ? warm : cool;
      for (let k = 0; k < 3; k++) d[k * size * size + y * size + x] = c[k]! * line;
    }
  }
  return new Tensor(d, [3, size, size], 'float32');
}

function smallNet(): Sequential {
  return new Sequential(
    new Conv2d(3, 32, 3, { padding: 1 }), new ReLU(),
    new Conv2d(32, 32, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2),
    new Conv2d(32, 64, 3, { padding: 1 }), new ReLU(),
    new Conv2d(64, 64, 3, { padding: 1 }), new ReLU(),
  );
}

async function main(): Promise<void> {
  const steps = Number(arg('steps', '300')), beta = Number(arg('beta', '10000')), tvWeight = Number(arg('tv', '0')), size = Number(arg('size', '64')), out = arg('out', 'examples/out'), weights = arg('weights', '');
  mkdirSync(out, { recursive: true });
  manualSeed(0);
  const content = colorShapes(1, { size, seed: 7 }).x.squeeze(0), style = texture(size);
  let model: Module, layers: StyleLayers, norm = {};
  if (weights) {
    model = vgg16();
    await loadTorchvisionWeights(model, weights);
    // conv1_1, conv2_1, conv3_1, conv4_1, conv5_1 (after ReLU) for style; conv4_2 for content
    layers = { content: 'features.20', style: ['features.1', 'features.6', 'features.11', 'features.18', 'features.25'] };
    norm = { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
  } else {
    model = smallNet();
    layers = { content: '6', style: { '1': 0.3, '3': 0.3, '6': 0.2, '8': 0.2 } };
  }
  const t0 = Date.now();
  const r = await styleTransfer({
    content, style, model, layers, steps, lr: 0.03, beta, tvWeight, output: join(out, 'styled.png'), progressEvery: 50, ...norm,
    onProgress: (p) => console.log(`step ${String(p.step).padStart(4)}: J ${p.total.toExponential(3)} (content ${p.content.toExponential(3)}, style ${p.style.toExponential(3)})`),
  });
  await saveImageGrid(join(out, 'style-transfer-panel.png'), stack([content, style, r.image]), { nrow: 3, padding: 2, padValue: 1, scale: Math.max(1, Math.round(192 / size)) });
  console.log(`style cost: content image ${r.contentImageStyleCost.toExponential(3)} → result ${r.finalStyleCost.toExponential(3)} (÷${(r.contentImageStyleCost / r.finalStyleCost).toFixed(0)}) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`wrote ${join(out, 'styled.png')} and ${join(out, 'style-transfer-panel.png')} (content | style | result)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
