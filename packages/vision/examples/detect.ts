/**
 * Trains a TinyYolo detector on generated shapes (32×32, 1–2 circles / squares / triangles per
 * image), reports held-out mAP, and draws its detections onto PNGs: each held-out image enlarged
 * 8×, ground truth in thin white, predictions in class colours (red circle, green square, blue
 * triangle) with their scores in the console. Also writes the ONNX model and checks ORT's boxes.
 *
 *   npx turbo run build --filter=@kiln/vision...   (once: the example runs on the built packages)
 *   cd packages/vision && npx tsc -p examples/tsconfig.json && node examples/dist/detect.js [--steps 1400] [--out examples/out]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cat, manualSeed, noGrad, stack } from '@kiln/tensor';
import { Adam, LRScheduler, cosineAnnealing } from '@kiln/optim';
import { detectionShapes } from '@kiln/data';
import { createSession, exportOnnx, runSession } from '@kiln/onnx';
import { writeFileAtomic } from '@kiln/nn';
import {
  decodeYolo, drawBoxes, encodeYoloTargets, functional, kMeansAnchors, meanAveragePrecision, postprocessYolo, saveImageGrid, tinyYolo,
  upscaleNearest, writeImage, yoloLoss, type YoloConfig,
} from '@kiln/vision';

const { toImage, toTensor } = functional;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const steps = Number(arg('steps', '1400')), out = arg('out', 'examples/out'), shown = 12;
  mkdirSync(out, { recursive: true });
  manualSeed(0);
  const data = { minRadius: 0.2, maxRadius: 0.3, maxObjects: 2 };
  const test = detectionShapes(300, { seed: 32, ...data });
  const anchors = kMeansAnchors(cat(detectionShapes(1000, { seed: 31, ...data }).boxes, 0), 2, { seed: 0 });
  const cfg: YoloConfig = { gridSize: 4, anchors, numClasses: 3, imageSize: 32 };
  console.log(`anchors (k-means, 1 − IoU): ${anchors.map((a) => a.map((v) => v.toFixed(1)).join('×')).join(', ')}`);
  const model = tinyYolo({ numClasses: 3, numAnchors: 2, batchNorm: true });
  const lr = 3e-3, opt = new Adam(model.parameters(), { lr }), sched = new LRScheduler(opt, cosineAnnealing(lr, steps, lr * 0.05));
  for (let s = 1; s <= steps; s++) {
    const batch = detectionShapes(32, { seed: 1000 + s, ...data }); // fresh images every step
    opt.zeroGrad();
    const l = yoloLoss(model.forward(batch.x), encodeYoloTargets(batch.boxes, batch.labels, cfg).target, cfg);
    l.total.backward();
    opt.step();
    sched.step();
    if (s % 100 === 0) console.log(`step ${s}: loss ${l.total.item().toFixed(3)} (coord ${l.coord.item().toFixed(3)}, obj ${l.obj.item().toFixed(3)}, noobj ${l.noobj.item().toFixed(3)}, cls ${l.cls.item().toFixed(3)})`);
  }
  model.eval();
  const raw = noGrad(() => model.forward(test.x));
  const m = meanAveragePrecision(postprocessYolo(decodeYolo(raw, cfg), cfg, { scoreThreshold: 0.05 }), test.boxes.map((b, i) => ({ boxes: b, labels: test.labels[i]! })));
  console.log(`held-out mAP@0.5 (VOC) ${m.map50.toFixed(3)}, mAP@0.5:0.95 (COCO) ${m.map.toFixed(3)}, AP per class ${m.apPerClass.map((v) => v.toFixed(3)).join(' ')}`);

  const dets = postprocessYolo(decodeYolo(raw.narrow(0, 0, shown), cfg), cfg, { scoreThreshold: 0.3 });
  const drawn = [];
  for (let i = 0; i < shown; i++) {
    let img = upscaleNearest(toImage(test.x.narrow(0, i, 1).squeeze(0)), 8);
    img = drawBoxes(img, test.boxes[i]!, { scale: 8, color: [255, 255, 255] });
    img = drawBoxes(img, dets[i]!.boxes, { scale: 8, labels: dets[i]!.labels, thickness: 2 });
    await writeImage(join(out, `detect-${i}.png`), img);
    drawn.push(toTensor(img));
    const found = Array.from(dets[i]!.labels.dataSync(), (l, k) => `${test.classes[l]} ${dets[i]!.scores.dataSync()[k]!.toFixed(2)}`);
    const truth = Array.from(test.labels[i]!.dataSync(), (l) => test.classes[l]);
    console.log(`image ${i}: truth [${truth.join(', ')}], found [${found.join(', ')}]`);
  }
  await saveImageGrid(join(out, 'detections.png'), stack(drawn, 0), { nrow: 6, padding: 4 });

  const bytes = exportOnnx(model, test.x.narrow(0, 0, 1), { opset: 18, dynamicAxes: true });
  await writeFileAtomic(join(out, 'tiny-yolo.onnx'), bytes);
  const ort = (await runSession(await createSession(bytes), { input: test.x.narrow(0, 0, shown) })).output!;
  const ortDets = postprocessYolo(decodeYolo(ort, cfg), cfg, { scoreThreshold: 0.3 });
  const same = ortDets.every((d, i) => JSON.stringify(Array.from(d.labels.dataSync())) === JSON.stringify(Array.from(dets[i]!.labels.dataSync())));
  console.log(`wrote ${out}/detections.png, detect-*.png and tiny-yolo.onnx; ONNX Runtime gives the same labels on all ${shown} images: ${same}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
