/**
 * nonMaxSuppression follows ONNX NonMaxSuppression: compared with ONNX Runtime's kernel (the op
 * exported alone) on crowded random boxes — corner pairs in any order, zero-area boxes, NaN
 * scores, scores equal to the (strict) threshold, a per-class cap, centre-point boxes — and with
 * batchedNms per image and class, ties included (ORT leaves the order of equal scores open, so
 * ties are compared with batchedNms only).
 */
import { describe, expect, it } from 'vitest';
import { createSession, exportOnnx, runSession } from '@kiln/onnx';
import { manualSeed, noGrad, rand, tensor, type Tensor } from '@kiln/tensor';
import { batchedNms } from './nms.js';
import { nonMaxSuppression, type NonMaxSuppressionOptions } from './non-max-suppression.js';

const B = 2, C = 3, N = 60;

/** Boxes [B, N, 4] clustered so that many overlap: corners within a 40-px square, sides 2–14 px. */
function crowdedBoxes(integer: boolean): Float32Array {
  const u = rand([B * N, 4]).dataSync(), out = new Float32Array(B * N * 4);
  for (let i = 0; i < B * N; i++) {
    const r = (v: number) => (integer ? Math.round(v) : v);
    const x = r(u[4 * i]! * 40), y = r(u[4 * i + 1]! * 40), w = r(2 + u[4 * i + 2]! * 12), h = r(2 + u[4 * i + 3]! * 12);
    out.set([x, y, x + w, y + h], 4 * i);
  }
  return out;
}

async function onOrt(boxes: Tensor, scores: Tensor, options: NonMaxSuppressionOptions): Promise<{ ort: number[]; kiln: number[] }> {
  const op = { forward: (b: Tensor, s: Tensor) => nonMaxSuppression(b, s, options) };
  const bytes = exportOnnx(op, [boxes, scores], { opset: 18, inputNames: ['boxes', 'scores'], dynamicAxes: { output: { 0: 'k' } } });
  const ort = (await runSession(await createSession(bytes), { boxes, scores })).output!;
  expect(ort.dtype).toBe('int32');
  return { ort: Array.from(ort.dataSync()), kiln: Array.from(noGrad(() => op.forward(boxes, scores)).dataSync()) };
}

describe('nonMaxSuppression (ONNX semantics)', () => {
  it('matches ONNX Runtime row for row', async () => {
    manualSeed(7);
    const bx = crowdedBoxes(false);
    for (let i = 0; i < B * N; i += 7) bx.set([bx[4 * i + 2]!, bx[4 * i + 3]!, bx[4 * i]!, bx[4 * i + 1]!], 4 * i); // corners swapped
    for (let i = 3; i < B * N; i += 11) bx[4 * i + 2] = bx[4 * i]!; // zero width: never suppresses or is suppressed
    const sc = rand([B, C, N]).dataSync().slice();
    sc[5] = NaN; sc[N + 9] = NaN;
    const thr = Math.fround(0.25);
    for (let i = 1; i < sc.length; i += 13) sc[i] = thr; // equal to the threshold: not candidates (strict >)
    const boxes = tensor(bx, { shape: [B, N, 4] }), scores = tensor(sc, { shape: [B, C, N] });
    const cases: NonMaxSuppressionOptions[] = [
      { iouThreshold: 0.3, scoreThreshold: thr, maxOutputBoxesPerClass: 100 },
      { iouThreshold: 0.5, scoreThreshold: 0.6, maxOutputBoxesPerClass: 3 },
      { iouThreshold: 0, scoreThreshold: 0.1 },
      { iouThreshold: 0.45, scoreThreshold: thr, centerPointBox: 1 },
    ];
    let rows = 0;
    for (const o of cases) {
      const { ort, kiln } = await onOrt(boxes, scores, o);
      expect(kiln, JSON.stringify(o)).toEqual(ort);
      rows += kiln.length / 3;
      for (let r = 0; r < kiln.length; r += 3) expect(sc[(kiln[r]! * C + kiln[r + 1]!) * N + kiln[r + 2]!]!).toBeGreaterThan(o.scoreThreshold!);
    }
    const capped = (await onOrt(boxes, scores, cases[1]!)).kiln;
    for (let g = 0; g < B * C; g++) expect(capped.filter((_, r) => r % 3 === 0 && capped[r]! * C + capped[r + 1]! === g).length).toBeLessThanOrEqual(3);
    console.log(`nonMaxSuppression: ${rows} selected rows over ${cases.length} option sets, identical to ONNX Runtime's`);
    expect(rows).toBeGreaterThan(60);
  });

  it('equals batchedNms per image and class, equal scores keeping the lower index first', () => {
    manualSeed(8);
    const bx = crowdedBoxes(true);
    // scores on a coarse grid: many ties
    const sc = rand([B, C, N]).dataSync().map((v) => Math.round(v * 8) / 8);
    const boxes = tensor(bx, { shape: [B, N, 4] }), scores = tensor(sc, { shape: [B, C, N] });
    const got = Array.from(nonMaxSuppression(boxes, scores, { iouThreshold: 0.45, scoreThreshold: 0.3 }).dataSync());
    const want: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        const cand = Array.from({ length: N }, (_, i) => i).filter((i) => sc[(b * C + c) * N + i]! > 0.3);
        const keep = batchedNms(
          tensor(Float64Array.from(cand.flatMap((i) => Array.from(bx.subarray((b * N + i) * 4, (b * N + i) * 4 + 4)))), { shape: [cand.length, 4] }),
          tensor(Float64Array.from(cand.map((i) => sc[(b * C + c) * N + i]!))), tensor(new Int32Array(cand.length), { dtype: 'int32' }), 0.45,
        ).dataSync();
        for (const k of keep) want.push(b, c, cand[k]!);
      }
    }
    expect(got).toEqual(want);
    expect(got.length / 3).toBeGreaterThan(20);
  });

  it('bad input names the function and the shapes', () => {
    expect(() => nonMaxSuppression(tensor(Float32Array.of(1, 2, 3, 4), { shape: [1, 4] }), tensor(Float32Array.of(1), { shape: [1, 1, 1] }))).toThrow('Kiln: nonMaxSuppression: boxes must be [B, N, 4], got [1, 4]');
    expect(() => nonMaxSuppression(tensor(Float32Array.of(1, 2, 3, 4), { shape: [1, 1, 4] }), tensor(Float32Array.of(1, 1), { shape: [1, 1, 2] }))).toThrow('Kiln: nonMaxSuppression: scores must be [B, C, N] = [1, C, 1] to match boxes [1, 1, 4], got [1, 1, 2]');
    expect(() => nonMaxSuppression(tensor(Float32Array.of(1, 2, 3, 4), { shape: [1, 1, 4] }), tensor(Float32Array.of(1), { shape: [1, 1, 1] }), { iouThreshold: 1.5 })).toThrow("Kiln: nonMaxSuppression: option 'iouThreshold' must be a number in [0, 1], got 1.5");
  });
});
