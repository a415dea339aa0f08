/**
 * The wasm backend ships four builds (relaxed-SIMD FMA or plain SIMD; shared memory with threads
 * or a plain memory for pages without cross-origin isolation). Each must load and agree with the
 * reference; the environment variables force the ones this runtime would not pick by itself.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = join(dirname(fileURLToPath(import.meta.url)), 'wasm-builds.mjs');

const builds: [Record<string, string>, string][] = [
  [{}, 'relaxed-simd+threads'],
  [{ KILN_WASM_RELAXED: '0' }, 'simd+threads'],
  [{ KILN_WASM_SHARED: '0' }, 'relaxed-simd'],
  [{ KILN_WASM_RELAXED: '0', KILN_WASM_SHARED: '0' }, 'simd'],
];

describe('every wasm build matches the reference', () => {
  for (const [env, build] of builds) {
    it(build, () => {
      const out = execFileSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { build: string; worst: number };
      expect(r.build).toBe(build);
      expect(r.worst).toBeLessThan(1e-4);
    });
  }
});
