/**
 * Runs runtime/train-small.mjs (which imports the built @kiln/tensor) under Node, Bun and Deno
 * and checks that the three final losses agree to 1e-6, each on the threaded wasm backend.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bunBinary, denoCommand } from '../runtimes.js';

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, 'train-small.mjs');

interface Result {
  loss: number;
  dtype: string;
  backend: string;
  wasm: { build: string; maxThreadsUsed: number } | null;
}

function run(cmd: string, args: string[]): Result {
  const out = execFileSync(cmd, args, { cwd: here, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  const line = out.trim().split('\n').pop()!;
  return JSON.parse(line) as Result;
}

describe('the same training script on Node, Bun and Deno', () => {
  it('gives the same float32 loss to 1e-6 on every runtime', () => {
    const node = run(process.execPath, [script]);
    const bun = run(bunBinary(), [script]);
    const [denoNode, denoCli] = denoCommand();
    const deno = run(denoNode!, [denoCli!, 'run', '--allow-read', '--allow-env', script]);
    for (const r of [node, bun, deno]) {
      expect(r.dtype).toBe('float32');
      // Every runtime has Wasm SIMD and shared memory: the wasm backend, threaded.
      expect(r.backend).toBe('wasm');
      expect(r.wasm?.build).toMatch(/simd\+threads$/);
      expect(r.wasm?.maxThreadsUsed).toBe(2);
      expect(Number.isFinite(r.loss)).toBe(true);
    }
    // Training must actually have lowered the loss from ln(3) ≈ 1.0986 at chance.
    expect(node.loss).toBeLessThan(1.05);
    expect(Math.abs(bun.loss - node.loss)).toBeLessThan(1e-6);
    expect(Math.abs(deno.loss - node.loss)).toBeLessThan(1e-6);
  });
});
