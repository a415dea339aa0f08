/**
 * Runs runtime/train-small.mjs (which imports the built @kiln/tensor) under Node, Bun and Deno
 * and checks that the three final losses agree to 1e-6, each on the threaded wasm backend.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, 'train-small.mjs');
const require = createRequire(import.meta.url);

/** Bun's binary lives in an optional platform package (@oven/bun-<os>-<arch>[-baseline]). */
function bunBinary(): string {
  const exe = process.platform === 'win32' ? 'bun.exe' : 'bun';
  try {
    const pkg = require.resolve(`@oven/bun-${process.platform}-${process.arch}/package.json`);
    const bin = join(dirname(pkg), 'bin', exe);
    if (existsSync(bin)) return bin;
  } catch {
    // fall through to searching node_modules
  }
  for (let dir = here; ; dir = dirname(dir)) {
    const oven = join(dir, 'node_modules', '@oven');
    if (existsSync(oven)) {
      for (const name of readdirSync(oven)) {
        const bin = join(oven, name, 'bin', exe);
        if (name.startsWith(`bun-${process.platform}-`) && existsSync(bin)) return bin;
      }
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error('Kiln tests: no Bun binary found under node_modules/@oven (is the bun devDependency installed?)');
}

/** The deno npm package's launcher (a Node script that finds its platform binary). */
function denoCommand(): string[] {
  const pkg = require.resolve('deno/package.json');
  const { bin } = require(pkg) as { bin: string | Record<string, string> };
  const rel = typeof bin === 'string' ? bin : bin.deno!;
  return [process.execPath, join(dirname(pkg), rel)];
}

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
