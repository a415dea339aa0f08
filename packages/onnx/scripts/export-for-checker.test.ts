/** Writes every checker case's export (default opset and 17) to KILN_CHECKER_DIR (default /tmp/kiln-checker) — see check-exports.sh. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'vitest';
import { exportOnnx } from '../src/export/export.js';
import { checkerCases } from './checker-cases.js';

const DIR = process.env.KILN_CHECKER_DIR ?? '/tmp/kiln-checker';

it('exports every layer and zoo model', () => {
  mkdirSync(DIR, { recursive: true });
  const manifest: Record<string, { layer: string; file: string | null; error?: string }> = {};
  // Each case at Kiln's default opset (18) and at 17, the newest opset onnx 1.12's checker knows.
  checkerCases().forEach((c, i) => {
    for (const opset of [undefined, 17]) {
      if (opset !== undefined && c.options?.opset !== undefined) continue;
      const name = opset ? `${c.name} @17` : c.name;
      const file = `${String(i).padStart(3, '0')}${opset ? '-17' : ''}.onnx`;
      try {
        const m = c.make();
        (m as { eval?: () => unknown }).eval?.();
        writeFileSync(join(DIR, file), exportOnnx(m, c.input(), { ...c.options, ...(opset ? { opset } : {}) }));
        manifest[name] = { layer: c.layer, file };
      } catch (e) {
        manifest[name] = { layer: c.layer, file: null, error: (e as Error).message.split('\n')[0]! };
      }
    }
  });
  writeFileSync(join(DIR, 'manifest.json'), JSON.stringify(manifest, null, 1));
  console.log(Object.entries(manifest).filter(([, v]) => v.error).map(([k, v]) => `${k}: ${v.error}`).join('\n'));
}, 600_000);
