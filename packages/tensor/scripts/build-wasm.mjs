// Compiles the AssemblyScript kernels in assembly/ at build time (never committed) into
// src/backends/wasm/generated/kernels.ts, which carries each build as base64 so the module
// loads the same way on Node, Bun, Deno and in browsers (no file or fetch access needed).
//
// Four builds: SIMD (mul+add) and relaxed SIMD (FMA), each with a shared memory (threads) and
// with a plain one (for pages without SharedArrayBuffer). The loader picks one by probing.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const asc = join(dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
const out = join(root, 'src', 'backends', 'wasm', 'generated');
const scratch = mkdtempSync(join(tmpdir(), 'kiln-wasm-'));

// Pages of 64 KiB. A shared memory must declare its maximum up front; 1 GiB of address space.
const MAX_PAGES = 16384;
const variants = {
  simd: ['--enable', 'simd', '--sharedMemory'],
  relaxed: ['--enable', 'simd', '--enable', 'relaxed-simd', '--sharedMemory'],
  simdUnshared: ['--enable', 'simd'],
  relaxedUnshared: ['--enable', 'simd', '--enable', 'relaxed-simd'],
};

// KILN_WASM_NAMES=1 keeps function names in the builds, so CPU profiles (node --cpu-prof) name Wasm functions.
const debug = process.env.KILN_WASM_NAMES === '1' ? ['--debug'] : [];

try {
  const lines = ['// GENERATED at build time from assembly/*.ts by scripts/build-wasm.mjs — do not edit or commit.'];
  for (const [name, flags] of Object.entries(variants)) {
    const file = join(scratch, `${name}.wasm`);
    execFileSync(process.execPath, [asc, join(root, 'assembly', 'index.ts'), '-o', file, '-O3', '--noAssert',
      // Static data (AssemblyScript's Math tables, 4 KiB once Math.log is used) from 8 KiB: every
      // instance re-writes its active segments when it starts, so below that they would land on
      // the task descriptor and the pool's control words at 4 KiB (runtime.ts) as a worker starts.
      '--memoryBase', '8192',
      '--runtime', 'stub', '--importMemory', '--initialMemory', '256', '--maximumMemory', String(MAX_PAGES),
      '--enable', 'threads', ...flags, ...debug], { stdio: ['ignore', 'inherit', 'inherit'] });
    lines.push(`export const ${name} = '${readFileSync(file).toString('base64')}';`);
  }
  lines.push(`export const maximumPages = ${MAX_PAGES};`, '');
  mkdirSync(out, { recursive: true });
  // No .ts extension: a concurrent tsc (build and typecheck run side by side) must not pick the temp file up.
  const tmp = join(out, `kernels.${process.pid}.tmp`);
  writeFileSync(tmp, lines.join('\n'));
  renameSync(tmp, join(out, 'kernels.ts'));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
