/**
 * In-graph decoding + NonMaxSuppression: a seeded TinyYolo exported with `yoloNmsGraph` gives, on
 * ONNX Runtime, the detections Kiln's TypeScript path (decodeYolo + postprocessYolo, i.e.
 * batchedNms) gives — same classes and order, boxes and scores to 1e-5 — including images with
 * no detection above the threshold; Kiln's eager run of the same graph gives ORT's
 * selected_indices row for row; the model has the structure the other exports have (opset 18,
 * symbolic batch and detection count) and runs at any batch size from one session.
 * (The trained detector is checked the same way in detector.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { createSession, decodeModel, exportOnnx, runSession } from '@kiln/onnx';
import { detectionShapes } from '@kiln/data';
import { cat, manualSeed, noGrad, zeros, type Tensor } from '@kiln/tensor';
import { tinyYolo } from './tiny-yolo.js';
import { decodeYolo, postprocessYolo, type Detections, type YoloConfig } from './yolo.js';
import { detectionsFromNms, yoloNmsGraph } from './yolo-nms-graph.js';

const cfg: YoloConfig = { gridSize: 4, anchors: [[8, 8], [14, 10]], numClasses: 3, imageSize: 32 };

/** Largest |difference| of box coordinates and of scores; throws unless labels and counts agree. */
function compare(got: Detections[], want: Detections[]): { boxes: number; scores: number; count: number } {
  expect(got.length).toBe(want.length);
  let boxes = 0, scores = 0, count = 0;
  got.forEach((g, i) => {
    const w = want[i]!;
    expect(Array.from(g.labels.dataSync()), `image ${i} labels`).toEqual(Array.from(w.labels.dataSync()));
    const gb = g.boxes.dataSync(), wb = w.boxes.dataSync(), gs = g.scores.dataSync(), ws = w.scores.dataSync();
    for (let k = 0; k < wb.length; k++) boxes = Math.max(boxes, Math.abs(gb[k]! - wb[k]!));
    for (let k = 0; k < ws.length; k++) scores = Math.max(scores, Math.abs(gs[k]! - ws[k]!));
    count += ws.length;
  });
  return { boxes, scores, count };
}

describe('yoloNmsGraph: decoding and NonMaxSuppression in the ONNX graph', () => {
  it('ONNX Runtime returns the detections of decodeYolo + postprocessYolo', async () => {
    manualSeed(3);
    const model = tinyYolo({ numClasses: 3, numAnchors: 2, width: 8, batchNorm: true });
    model.eval();
    // 23 generated images and a blank one
    const x = cat([detectionShapes(23, { seed: 5, maxObjects: 3 }).x, zeros([1, 3, 32, 32])], 0);
    const head = noGrad(() => model.forward(x));
    // A threshold between the two lowest per-image best scores: one image keeps no detection.
    const best = postprocessYolo(decodeYolo(head, cfg), cfg, { scoreThreshold: 0, maxDetections: 1 }).map((d) => d.scores.dataSync()[0]!).sort((a, b) => a - b);
    const opts = { scoreThreshold: (best[0]! + best[1]!) / 2, iouThreshold: 0.4, maxDetections: 50 };
    const want = postprocessYolo(decodeYolo(head, cfg), cfg, opts);

    const graph = yoloNmsGraph(model, cfg, opts);
    const bytes = exportOnnx(graph, x.narrow(0, 0, 2), { opset: 18, ...graph.exportOptions });
    const proto = decodeModel(bytes);
    expect(proto.opsetImport![0]!.version).toBe(18);
    expect(proto.graph!.node!.map((n) => n.opType)).toEqual(expect.arrayContaining(['NonMaxSuppression', 'Gather', 'ArgMax', 'Sigmoid', 'Exp', 'Clip']));
    expect(proto.graph!.input!.map((v) => v.type!.tensorType!.shape!.dim![0]!.dimParam)).toEqual(['batch']);
    expect(proto.graph!.output!.map((v) => [v.name, v.type!.tensorType!.shape!.dim![0]!.dimParam])).toEqual([['boxes', 'detections'], ['scores', 'detections'], ['selected_indices', 'detections']]);
    expect(proto.graph!.initializer!.map((t) => t.name)).toEqual(expect.arrayContaining(model.namedParameters().map(([k]) => k)));

    const session = await createSession(bytes);
    const run = async (images: Tensor) => {
      const o = await runSession(session, { input: images });
      return { outputs: o, dets: detectionsFromNms(o.boxes!, o.scores!, o.selected_indices!, images.shape[0]!, { maxDetections: opts.maxDetections }) };
    };
    const ort = await run(x);
    const d = compare(ort.dets, want);
    const empty = want.filter((w) => w.labels.shape[0] === 0).length;
    console.log(`yoloNmsGraph on ONNX Runtime (seeded TinyYolo, 24 images, score threshold ${opts.scoreThreshold.toFixed(4)}): ${d.count} detections, ${empty} images with none; same classes and order as postprocessYolo, boxes within ${d.boxes.toExponential(2)} px, scores within ${d.scores.toExponential(2)}`);
    expect(empty).toBeGreaterThanOrEqual(1);
    expect(d.count).toBeGreaterThan(48);
    expect(d.boxes).toBeLessThan(1e-5 * cfg.imageSize);
    expect(d.scores).toBeLessThan(1e-5);

    // Kiln's eager run of the graph: the same selected_indices, in ONNX's order (image, class, score)
    const eager = noGrad(() => graph.forward(x));
    expect(Array.from(eager[2]!.dataSync())).toEqual(Array.from(ort.outputs.selected_indices!.dataSync()));
    expect(compare(detectionsFromNms(eager[0]!, eager[1]!, eager[2]!, 24, { maxDetections: opts.maxDetections }), want).scores).toBeLessThan(1e-6);

    // One image at a time from the same session: the same detections as in the batch
    for (const i of [0, 23]) {
      const one = await run(x.narrow(0, i, 1));
      expect(compare(one.dets, [want[i]!]).scores).toBeLessThan(1e-5);
    }
  });

  it('bad input: options and outputs of the wrong shape are errors naming the function', () => {
    const model = tinyYolo({ numClasses: 3, numAnchors: 2, width: 4 });
    expect(() => yoloNmsGraph(model, cfg, { scoreThreshold: 2 })).toThrow("Kiln: yoloNmsGraph: option 'scoreThreshold' must be a number in [0, 1], got 2");
    expect(() => yoloNmsGraph(model, { ...cfg, anchors: [] })).toThrow('yoloNmsGraph: config.anchors');
    expect(() => detectionsFromNms(zeros([2, 4]), zeros([3]), zeros([2, 3], { dtype: 'int32' }), 1)).toThrow('Kiln: detectionsFromNms: want boxes [K, 4], scores [K] and selectedIndices [K, 3], got [2, 4], [3] and [2, 3]');
  });
});
