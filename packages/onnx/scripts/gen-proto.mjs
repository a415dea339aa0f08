// Generates the protobuf bindings for proto/onnx.proto at build time (never committed):
// src/generated/onnx.js (pbjs static-module, ES module) + onnx.d.ts (pbts).
// `--copy-to-dist` copies the generated JavaScript next to tsc's output, since tsc only
// consumes the .d.ts and does not emit the .js.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gen = join(root, 'src', 'generated');
const require = createRequire(import.meta.url);
const cli = dirname(require.resolve('protobufjs-cli/package.json'));

if (process.argv.includes('--copy-to-dist')) {
  mkdirSync(join(root, 'dist', 'generated'), { recursive: true });
  copyFileSync(join(gen, 'onnx.js'), join(root, 'dist', 'generated', 'onnx.js'));
  copyFileSync(join(gen, 'onnx.d.ts'), join(root, 'dist', 'generated', 'onnx.d.ts'));
} else {
  mkdirSync(gen, { recursive: true });
  const header = '// GENERATED at build time from proto/onnx.proto by scripts/gen-proto.mjs — do not edit or commit.\n';
  // Temp files live outside src/: build and typecheck run this concurrently under turbo, and a
  // tsc globbing src/ must never see another process's half-written or vanishing temp file.
  const scratch = mkdtempSync(join(root, '.gen-proto-'));
  try {
    const js = join(scratch, 'onnx.js');
    execFileSync(process.execPath, [join(cli, 'bin', 'pbjs'), '-t', 'static-module', '-w', 'es6', '--no-delimited',
      '--no-verify', '--no-typeurl', join(root, 'proto', 'onnx.proto'), '-o', js], { stdio: 'inherit' });
    const dts = join(scratch, 'onnx.d.ts');
    execFileSync(process.execPath, [join(cli, 'bin', 'pbts'), js, '-o', dts], { stdio: 'inherit' });
    for (const [tmp, out] of [[js, join(gen, 'onnx.js')], [dts, join(gen, 'onnx.d.ts')]]) {
      writeFileSync(tmp, header + readFileSync(tmp, 'utf8'));
      renameSync(tmp, out);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
