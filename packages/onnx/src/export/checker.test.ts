/**
 * onnx.checker.check_model(full_check=True) (onnx 1.12) accepted every exported layer and zoo model:
 * fixtures/checker/results.json, written by scripts/check-exports.sh (cases in scripts/checker-cases.ts,
 * each at Kiln's default opset 18 and at 17). Re-run that script after changing an export mapping.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { layerExporters } from './layers/index.js';

interface Result { layer: string; ok: boolean; stage?: string; error?: string; opset?: number; ops?: string[] }
const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'checker', 'results.json');
const record = JSON.parse(readFileSync(file, 'utf8')) as { onnx: string; full_check: boolean; results: Record<string, Result> };

describe('exports pass onnx.checker (full_check)', () => {
  it('every recorded export passed the checker', () => {
    expect(record.full_check).toBe(true);
    expect(record.onnx).toMatch(/^1\.\d+/);
    const failed = Object.entries(record.results).filter(([, r]) => !r.ok).map(([n, r]) => `${n}: ${r.stage}: ${r.error}`);
    expect(failed).toEqual([]);
  });

  it('covers every layer-level export mapping, the op-level layers and the vision zoo, at opsets 18 and 17', () => {
    const layers = new Set(Object.values(record.results).map((r) => r.layer));
    for (const type of Object.keys(layerExporters)) expect(layers, type).toContain(type);
    for (const l of ['Linear', 'Conv2d', 'ConvTranspose2d', 'MaxPool2d', 'AvgPool2d', 'Upsample', 'Embedding', 'GELU', 'Softmax']) expect(layers).toContain(l);
    const zoo = ['lenet5', 'alexnet', 'vgg11', 'vgg16', 'vgg16Bn', 'resnet18', 'resnet34', 'resnet50', 'googlenet', 'mobilenetV1', 'mobilenetV2', 'efficientnetB0', 'unet'];
    for (const z of zoo) {
      expect(record.results[`zoo ${z}`]?.ok, z).toBe(true);
      expect(record.results[`zoo ${z} @17`]?.opset, z).toBe(17);
    }
    expect(record.results['zoo tinyYolo + yoloNmsGraph']?.ops).toContain('NonMaxSuppression');
    expect(record.results['zoo tinyYolo + yoloNmsGraph @17']?.ok).toBe(true);
    expect(Object.keys(record.results).length).toBeGreaterThanOrEqual(100);
  });
});
