/**
 * A YOLO detector with its decoding and NMS inside the exported ONNX graph, so that ONNX Runtime
 * returns final detections. `yoloNmsGraph(model, config)` wraps a detector whose forward gives
 * the head output [N, B·(5 + C), S, S]; give the wrapper and its `exportOptions` to `exportOnnx`.
 * The graph computes what `postprocessYolo(decodeYolo(head), config)` computes:
 *   boxes  = decodeYolo's xyxy boxes clipped to [0, imageSize]            [N, M, 4]  (M = S·S·B)
 *   scores = objectness × class probability, for each anchor's most probable class only (the
 *            others get −1, below any threshold), laid out [N, C, M]
 *   selected_indices = NonMaxSuppression(boxes, scores, maxDetections per class, IoU, score)
 * and gathers each selected row's box and score. ONNX's score threshold is strict (>) while
 * `postprocessYolo` keeps score >= threshold, so the graph holds the largest float32 below the
 * threshold. Outputs, K detections over the whole batch, ordered by image, then class, then
 * decreasing score: `boxes` [K, 4], `scores` [K], `selected_indices` [K, 3] int32 (image, class,
 * anchor). `detectionsFromNms` turns them into `postprocessYolo`'s per-image `Detections`.
 */
import type { Module } from '@kiln/nn';
import { checkOptions, tensor, type Tensor } from '@kiln/tensor';
import { nonMaxSuppression } from '../ops/non-max-suppression.js';
import { intTensor } from '../ops/boxes.js';
import { checkConfig, decodeYolo, type Detections, type PostprocessOptions, type YoloConfig } from './yolo.js';

/** The names and dynamic dims `exportOnnx` needs for a `YoloNmsGraph`. */
export interface YoloNmsExportOptions {
  inputNames: string[];
  outputNames: string[];
  dynamicAxes: Record<string, Record<number, string>>;
}

/** An exportable detector with in-graph decoding and NMS (see `yoloNmsGraph`). */
export interface YoloNmsGraph {
  /** [boxes [K, 4], scores [K], selected_indices [K, 3] int32] for images [N, C, H, W]. */
  forward(x: Tensor): Tensor[];
  namedParameters(): [string, Tensor][];
  namedBuffers(): [string, Tensor][];
  eval(): unknown;
  train(mode?: boolean): unknown;
  readonly training: boolean;
  /** Pass to exportOnnx: input `input`, outputs `boxes`, `scores`, `selected_indices`, dynamic batch and detection count. */
  readonly exportOptions: YoloNmsExportOptions;
}

/** The largest float32 strictly below `x`: `s > it` ⇔ `s >= x` for every float32 score s. */
function float32Below(x: number): number {
  const f = new Float32Array([x]), bits = new Int32Array(f.buffer);
  if (f[0]! < x) return f[0]!;
  if (f[0] === 0) return -1.401298464324817e-45;
  bits[0]! += f[0]! > 0 ? -1 : 1;
  return f[0]!;
}

/**
 * Wraps `model` (head output [N, B·(5 + C), S, S] for `config`) so that its ONNX export ends in
 * decoding and per-class NonMaxSuppression. Options as `postprocessYolo`'s (scoreThreshold 0.3,
 * iouThreshold 0.5, maxDetections 100 — used as ONNX's max_output_boxes_per_class, so after
 * `detectionsFromNms` keeps the best `maxDetections` per image the result is the same).
 */
export function yoloNmsGraph(model: Module, config: YoloConfig, options: PostprocessOptions = {}): YoloNmsGraph {
  checkConfig('yoloNmsGraph', config);
  checkOptions('yoloNmsGraph', options, { scoreThreshold: 'prob', iouThreshold: 'prob', maxDetections: 'posint' });
  if (typeof model?.forward !== 'function') throw new Error(`Kiln: yoloNmsGraph: model must be a Module with a forward, got ${typeof model}`);
  const scoreThreshold = float32Below(options.scoreThreshold ?? 0.3), iouThreshold = options.iouThreshold ?? 0.5;
  const maxPerClass = options.maxDetections ?? 100, c = config.numClasses;
  const classIds = intTensor(Array.from({ length: c }, (_, k) => k));
  const detections = { 0: 'detections' };
  return {
    forward(x: Tensor): Tensor[] {
      const d = decodeYolo(model.forward(x) as Tensor, config);
      const m = d.boxes.shape[1]!;
      const boxes = d.boxes.clamp(0, config.imageSize);
      // argmax keeps the first of equal probabilities, as postprocessYolo does
      const isBest = d.classProbs.argmax(2, true).eq(classIds);
      const scores = d.classProbs.mul(d.objectness.unsqueeze(2)).where(isBest, -1);
      const selected = nonMaxSuppression(boxes, scores.permute(0, 2, 1), { maxOutputBoxesPerClass: maxPerClass, iouThreshold, scoreThreshold });
      const column = (k: number) => selected.narrow(1, k, 1).squeeze(1);
      const row = column(0).mul(m).add(column(2));
      return [boxes.flatten(0, 1).indexSelect(0, row), scores.flatten().indexSelect(0, row.mul(c).add(column(1))), selected];
    },
    namedParameters: () => model.namedParameters(),
    namedBuffers: () => model.namedBuffers(),
    eval: () => model.eval(),
    train: (mode = true) => model.train(mode),
    get training() { return model.training; },
    exportOptions: {
      inputNames: ['input'],
      outputNames: ['boxes', 'scores', 'selected_indices'],
      dynamicAxes: { input: { 0: 'batch' }, boxes: detections, scores: detections, selected_indices: detections },
    },
  };
}

/**
 * Per-image detections from a `YoloNmsGraph`'s outputs (from ONNX Runtime or Kiln): each image's
 * rows by decreasing score (equal scores: lower anchor index first), at most `maxDetections`
 * (default 100) — `postprocessYolo`'s order and result.
 */
export function detectionsFromNms(boxes: Tensor, scores: Tensor, selectedIndices: Tensor, numImages: number, options: { maxDetections?: number } = {}): Detections[] {
  checkOptions('detectionsFromNms', options, { maxDetections: 'posint' });
  const k = selectedIndices?.shape?.[0];
  if (selectedIndices?.ndim !== 2 || selectedIndices.shape[1] !== 3 || boxes?.ndim !== 2 || boxes.shape[0] !== k || boxes.shape[1] !== 4 || scores?.ndim !== 1 || scores.shape[0] !== k) {
    throw new Error(`Kiln: detectionsFromNms: want boxes [K, 4], scores [K] and selectedIndices [K, 3], got [${boxes?.shape?.join(', ')}], [${scores?.shape?.join(', ')}] and [${selectedIndices?.shape?.join(', ')}]`);
  }
  if (!Number.isInteger(numImages) || numImages < 0) throw new Error(`Kiln: detectionsFromNms: numImages must be a non-negative integer, got ${numImages}`);
  const maxDet = options.maxDetections ?? 100;
  const b = boxes.dataSync(), s = scores.dataSync(), sel = selectedIndices.dataSync();
  const perImage: number[][] = Array.from({ length: numImages }, () => []);
  for (let r = 0; r < k!; r++) {
    const img = Number(sel[3 * r]);
    if (!(img >= 0 && img < numImages)) throw new Error(`Kiln: detectionsFromNms: selectedIndices row ${r} names image ${img}, outside [0, ${numImages})`);
    perImage[img]!.push(r);
  }
  return perImage.map((rows) => {
    const keep = rows.sort((p, q) => s[q]! - s[p]! || Number(sel[3 * p + 2]) - Number(sel[3 * q + 2])).slice(0, maxDet);
    return {
      boxes: tensor(Float64Array.from(keep.flatMap((r) => [b[4 * r]!, b[4 * r + 1]!, b[4 * r + 2]!, b[4 * r + 3]!])), { shape: [keep.length, 4] }),
      scores: tensor(Float64Array.from(keep.map((r) => s[r]!)), { shape: [keep.length] }),
      labels: intTensor(keep.map((r) => Number(sel[3 * r + 1]))),
    };
  });
}
