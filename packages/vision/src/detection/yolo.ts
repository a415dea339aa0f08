/**
 * YOLO-style detection (course 4, 4.3.1.5–9; the YOLOv2 parametrisation): an S×S grid, B anchor
 * boxes per cell and C classes. The head's output [N, B·(5 + C), S, S] holds, per anchor b, the
 * channels b·(5 + C) + [tx, ty, tw, th, to, class logits…]. A box decodes as
 *   cx = (col + σ(tx)) · cell, cy = (row + σ(ty)) · cell, w = anchorW · e^tw, h = anchorH · e^th
 * (pixels), its objectness is σ(to) and its score objectness × the largest class probability.
 * Each ground-truth object is the responsibility of the cell holding its centre and, there,
 * of the anchor whose shape (aligned at the centre) has the highest IoU with its box.
 */
import { binaryCrossEntropyWithLogits } from '@kiln/nn';
import { cat, checkOptions, tensor, type Tensor } from '@kiln/tensor';
import { batchedNms } from '../ops/nms.js';
import { checkBoxShape, intTensor } from '../ops/boxes.js';

export interface YoloConfig {
  /** S: the grid is S×S cells. */
  gridSize: number;
  /** B anchor shapes [width, height] in pixels. */
  anchors: readonly (readonly [number, number])[];
  /** C. */
  numClasses: number;
  /** Side of the (square) input image in pixels; the cell side is imageSize / gridSize. */
  imageSize: number;
}

/** @internal Validates a config, naming `fn`. */
export function checkConfig(fn: string, config: YoloConfig): void {
  checkOptions(fn, config, { gridSize: 'posint', anchors: (v) => (Array.isArray(v) ? null : 'an array of [width, height] pairs'), numClasses: 'posint', imageSize: 'number' }, 'config');
  for (const k of ['gridSize', 'anchors', 'numClasses', 'imageSize'] as const) {
    if (config[k] === undefined) throw new Error(`Kiln: ${fn}: config.${k} is required`);
  }
  if (!Array.isArray(config.anchors) || config.anchors.length === 0 || !config.anchors.every((a) => Array.isArray(a) && a.length === 2 && a.every((v) => Number.isFinite(v) && v > 0))) {
    throw new Error(`Kiln: ${fn}: config.anchors must be a non-empty array of [width, height] pairs of positive numbers, got ${JSON.stringify(config.anchors)}`);
  }
  if (!(config.imageSize > 0)) throw new Error(`Kiln: ${fn}: config.imageSize must be positive, got ${config.imageSize}`);
}

/** @internal Checks the head output against the config; returns the [N, S, S, B, 5 + C] view. */
export function yoloView(fn: string, output: Tensor, config: YoloConfig): Tensor {
  checkConfig(fn, config);
  const { gridSize: s, numClasses: c } = config, b = config.anchors.length;
  if (output.ndim !== 4) throw new Error(`Kiln: ${fn}: head output must be [N, B·(5 + C), S, S], got [${output.shape.join(', ')}]`);
  if (output.shape[1] !== b * (5 + c)) {
    throw new Error(`Kiln: ${fn}: head output has ${output.shape[1]} channels but ${b} anchors × (5 + ${c} classes) = ${b * (5 + c)}: the anchors or classes do not match the head (output [${output.shape.join(', ')}])`);
  }
  if (output.shape[2] !== s || output.shape[3] !== s) {
    throw new Error(`Kiln: ${fn}: head output grid is ${output.shape[2]}×${output.shape[3]} but config.gridSize is ${s} (output [${output.shape.join(', ')}])`);
  }
  const n = output.shape[0]!;
  return output.reshape(n, b, 5 + c, s, s).permute(0, 3, 4, 1, 2);
}

/** IoU of two boxes of sizes (w1, h1) and (w2, h2) sharing a centre. */
export function shapeIou(w1: number, h1: number, w2: number, h2: number): number {
  const inter = Math.min(w1, w2) * Math.min(h1, h2);
  return inter / (w1 * h1 + w2 * h2 - inter);
}

export interface YoloTargets {
  /** [N, S, S, B, 5 + C] float32: [σ-space offsets tx*, ty* in [0, 1), log(w/aw), log(h/ah), 1, one-hot class] where an object is assigned, zeros elsewhere. */
  target: Tensor;
  /** Objects that found no free anchor in their cell (more objects in one cell than anchors). */
  dropped: number;
}

/**
 * Encodes per-image ground truth (xyxy pixel boxes [k, 4], class ids [k]) as the YOLO target.
 * An object goes to the cell holding its centre and its best-IoU anchor; when that anchor is
 * already taken in that cell, to the next best free one; with none free it is dropped (counted).
 */
export function encodeYoloTargets(boxes: readonly Tensor[], labels: readonly Tensor[], config: YoloConfig): YoloTargets {
  checkConfig('encodeYoloTargets', config);
  if (!Array.isArray(boxes) || !Array.isArray(labels) || boxes.length !== labels.length) {
    throw new Error(`Kiln: encodeYoloTargets: boxes and labels must be arrays of one tensor per image of the same length, got ${Array.isArray(boxes) ? boxes.length : typeof boxes} and ${Array.isArray(labels) ? labels.length : typeof labels}`);
  }
  const { gridSize: s, numClasses: c, imageSize } = config, anchors = config.anchors, nb = anchors.length, d = 5 + c;
  const cell = imageSize / s;
  const out = new Float32Array(boxes.length * s * s * nb * d);
  let dropped = 0;
  boxes.forEach((bt, i) => {
    checkBoxShape('encodeYoloTargets', `boxes[${i}]`, bt);
    const lt = labels[i]!;
    if (lt.ndim !== 1 || lt.shape[0] !== bt.shape[0]) throw new Error(`Kiln: encodeYoloTargets: labels[${i}] must have shape [${bt.shape[0]}] to match boxes[${i}] [${bt.shape.join(', ')}], got [${lt.shape.join(', ')}]`);
    const b = bt.dataSync(), l = lt.dataSync();
    for (let k = 0; k < l.length; k++) {
      const [x1, y1, x2, y2] = [b[4 * k]!, b[4 * k + 1]!, b[4 * k + 2]!, b[4 * k + 3]!];
      if (!(x2 > x1 && y2 > y1)) throw new Error(`Kiln: encodeYoloTargets: boxes[${i}] row ${k} must be xyxy with positive width and height, got [${x1}, ${y1}, ${x2}, ${y2}]`);
      const cls = Number(l[k]);
      if (!Number.isInteger(cls) || cls < 0 || cls >= c) throw new Error(`Kiln: encodeYoloTargets: labels[${i}][${k}] = ${cls} is not a class id in [0, ${c})`);
      const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2, w = x2 - x1, h = y2 - y1;
      const col = Math.min(s - 1, Math.max(0, Math.floor(cx / cell))), row = Math.min(s - 1, Math.max(0, Math.floor(cy / cell)));
      const order = anchors.map((a, j) => [shapeIou(w, h, a[0], a[1]), j] as const).sort((p, q) => q[0] - p[0] || p[1] - q[1]);
      const free = order.find(([, j]) => out[((((i * s + row) * s + col) * nb + j) * d) + 4] === 0);
      if (!free) { dropped++; continue; }
      const j = free[1], o = (((i * s + row) * s + col) * nb + j) * d;
      out.set([cx / cell - col, cy / cell - row, Math.log(w / anchors[j]![0]), Math.log(h / anchors[j]![1]), 1], o);
      out[o + 5 + cls] = 1;
    }
  });
  return { target: tensor(out, { shape: [boxes.length, s, s, nb, d] }), dropped };
}

export interface YoloLossOptions {
  /** Weight of the coordinate term (default 5, as YOLOv1's λ_coord). */
  lambdaCoord?: number;
  /** Weight of the no-object term (default 0.5, as YOLOv1's λ_noobj). */
  lambdaNoObj?: number;
}

export interface YoloLoss {
  /** lambdaCoord · coord + obj + lambdaNoObj · noobj + cls. */
  total: Tensor;
  /** Responsible anchors: squared error of (σ(tx), σ(ty)) and (tw, th) against the targets. */
  coord: Tensor;
  /** Responsible anchors: binary cross-entropy of σ(to) against 1. */
  obj: Tensor;
  /** All other anchors: binary cross-entropy of σ(to) against 0. */
  noobj: Tensor;
  /** Responsible anchors: cross-entropy of the class logits. */
  cls: Tensor;
}

/** The YOLO loss of head output [N, B·(5 + C), S, S] against `encodeYoloTargets`' target; every term is a sum over anchors divided by N. */
export function yoloLoss(output: Tensor, target: Tensor, config: YoloConfig, options: YoloLossOptions = {}): YoloLoss {
  const v = yoloView('yoloLoss', output, config);
  checkOptions('yoloLoss', options, { lambdaCoord: 'finite', lambdaNoObj: 'finite' });
  if (target.ndim !== 5 || target.shape.some((d, i) => d !== v.shape[i])) {
    throw new Error(`Kiln: yoloLoss: target must have shape [${v.shape.join(', ')}] (N, S, S, B, 5 + C) to match the head output, got [${target.shape.join(', ')}]`);
  }
  const n = output.shape[0]!, c = config.numClasses;
  const t = target.to(output.dtype);
  const mask = t.narrow(4, 4, 1).squeeze(4);
  const xy = v.narrow(4, 0, 2).sigmoid().sub(t.narrow(4, 0, 2)).square().sum(4);
  const wh = v.narrow(4, 2, 2).sub(t.narrow(4, 2, 2)).square().sum(4);
  const coord = xy.add(wh).mul(mask).sum().div(n);
  const bce = binaryCrossEntropyWithLogits(v.narrow(4, 4, 1).squeeze(4), mask, { reduction: 'none' });
  const obj = bce.mul(mask).sum().div(n);
  const noobj = bce.mul(mask.neg().add(1)).sum().div(n);
  const cls = v.narrow(4, 5, c).logSoftmax(4).mul(t.narrow(4, 5, c)).sum(4).neg().mul(mask).sum().div(n);
  const total = coord.mul(options.lambdaCoord ?? 5).add(obj).add(noobj.mul(options.lambdaNoObj ?? 0.5)).add(cls);
  return { total, coord, obj, noobj, cls };
}

export interface YoloDecoded {
  /** xyxy pixel boxes [N, S·S·B, 4] (row-major cells, then anchors). */
  boxes: Tensor;
  /** σ(to) [N, S·S·B]. */
  objectness: Tensor;
  /** softmax of the class logits [N, S·S·B, C]. */
  classProbs: Tensor;
}

/** Decodes the head output into boxes, objectness and class probabilities (differentiable). */
export function decodeYolo(output: Tensor, config: YoloConfig): YoloDecoded {
  const v = yoloView('decodeYolo', output, config);
  const { gridSize: s, numClasses: c, imageSize } = config, nb = config.anchors.length, n = output.shape[0]!;
  const cell = imageSize / s;
  const grid = new Float32Array(s * s * nb * 2), anc = new Float32Array(s * s * nb * 2);
  for (let r = 0; r < s; r++) for (let q = 0; q < s; q++) for (let j = 0; j < nb; j++) {
    const o = ((r * s + q) * nb + j) * 2;
    grid[o] = q; grid[o + 1] = r;
    anc[o] = config.anchors[j]![0]; anc[o + 1] = config.anchors[j]![1];
  }
  const dt = output.dtype;
  const g = tensor(grid, { shape: [1, s, s, nb, 2] }).to(dt), a = tensor(anc, { shape: [1, s, s, nb, 2] }).to(dt);
  const centre = v.narrow(4, 0, 2).sigmoid().add(g).mul(cell);
  const half = v.narrow(4, 2, 2).exp().mul(a).mul(0.5);
  const xyxy = cat([centre.sub(half), centre.add(half)], 4).reshape(n, s * s * nb, 4);
  return {
    boxes: xyxy,
    objectness: v.narrow(4, 4, 1).sigmoid().reshape(n, s * s * nb),
    classProbs: v.narrow(4, 5, c).softmax(4).reshape(n, s * s * nb, c),
  };
}

export interface Detections {
  /** xyxy pixel boxes [k, 4], clipped to the image. */
  boxes: Tensor;
  /** objectness × class probability [k]. */
  scores: Tensor;
  /** class ids [k] int32. */
  labels: Tensor;
}

export interface PostprocessOptions {
  /** Keep boxes whose score is >= this (default 0.3). */
  scoreThreshold?: number;
  /** Per-class NMS IoU threshold (default 0.5). */
  iouThreshold?: number;
  /** At most this many detections per image, best first (default 100). */
  maxDetections?: number;
}

/**
 * Detections per image from decoded YOLO output: score = objectness × the top class
 * probability, boxes clipped to the image, scores below the threshold dropped, then per-class
 * NMS. Runs on plain arrays (not differentiable), so it also serves ONNX Runtime's output.
 */
export function postprocessYolo(decoded: YoloDecoded, config: YoloConfig, options: PostprocessOptions = {}): Detections[] {
  checkOptions('postprocessYolo', options, { scoreThreshold: 'number', iouThreshold: 'number', maxDetections: 'posint' });
  const thr = options.scoreThreshold ?? 0.3, iouThr = options.iouThreshold ?? 0.5, maxDet = options.maxDetections ?? 100;
  const [n, m, c] = decoded.classProbs.shape as [number, number, number];
  const bx = decoded.boxes.dataSync(), ob = decoded.objectness.dataSync(), cp = decoded.classProbs.dataSync();
  const lim = config.imageSize;
  const result: Detections[] = [];
  for (let i = 0; i < n; i++) {
    const kb: number[] = [], ks: number[] = [], kl: number[] = [];
    for (let a = 0; a < m; a++) {
      let best = 0;
      for (let k = 1; k < c; k++) if (cp[(i * m + a) * c + k]! > cp[(i * m + a) * c + best]!) best = k;
      const score = ob[i * m + a]! * cp[(i * m + a) * c + best]!;
      if (!(score >= thr)) continue;
      const o = (i * m + a) * 4;
      kb.push(...[bx[o]!, bx[o + 1]!, bx[o + 2]!, bx[o + 3]!].map((v) => Math.min(lim, Math.max(0, v))));
      ks.push(score);
      kl.push(best);
    }
    const boxes = tensor(Float64Array.from(kb), { shape: [ks.length, 4] }), scores = tensor(Float64Array.from(ks), { shape: [ks.length] });
    const keep = Array.from(batchedNms(boxes, scores, intTensor(kl), iouThr).dataSync()).slice(0, maxDet);
    result.push({
      boxes: tensor(Float64Array.from(keep.flatMap((k) => kb.slice(4 * k, 4 * k + 4))), { shape: [keep.length, 4] }),
      scores: tensor(Float64Array.from(keep.map((k) => ks[k]!)), { shape: [keep.length] }),
      labels: intTensor(keep.map((k) => kl[k]!)),
    });
  }
  return result;
}
