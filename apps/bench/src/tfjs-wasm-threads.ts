// Lets @tensorflow/tfjs-backend-wasm 4.22 run its threaded-SIMD build under Node, so the
// tfjs-wasm anchor has a 2-thread figure (the approach of ../shared/bench-anchors/README.md,
// "tfjs-backend-wasm threads in Node"). Three obstacles, three patches, all made before
// tf.setBackend('wasm') and only in a tfjs job process:
//  1. The backend reports no thread support when it sees Node (flag WASM_HAS_MULTITHREAD_SUPPORT).
//     We set the flag.
//  2. It gives Emscripten its pthread worker script and its main script as Blobs turned into
//     `blob:` URLs, which node:worker_threads cannot start or import. We remember the text of
//     every string Blob; URL.createObjectURL writes a remembered Blob to a file and returns its
//     path, and the `load` message a pthread worker gets carries that path instead of the Blob
//     (the worker script imports a string `urlOrBlob` with importScripts = read + eval).
//     The main script is the factory's source text alone; it refers to module-level names of
//     the rollup bundle (require$$0.., commonjsGlobal, __dirname), which a prelude defines.
//  3. The backend caps its pool at logical cores / 2 (it assumes 2-way SMT), i.e. 1 thread on a
//     2-vCPU machine. Emscripten reads the core count from os.cpus() in Node: during the
//     backend's initialisation os.cpus() reports twice the real list.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

interface FlagEnv { env(): { set(flag: string, value: boolean): void } }

const MAIN_SCRIPT_START = 'var WasmBackendModuleThreadedSimd';
const PRELUDE = "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks'),require$$4=require('os');" +
  'var commonjsGlobal=globalThis;';

/** Installs the patches; call `done()` once tf.setBackend('wasm') has resolved. */
export function enableTfjsWasmThreads(tf: FlagEnv): { done(): void } {
  const dir = path.join(os.tmpdir(), `kiln-bench-tfjs-wasm-${process.getuid?.() ?? 'user'}`);
  fs.mkdirSync(dir, { recursive: true });
  const texts = new WeakMap<Blob, string>();
  const files = new WeakMap<Blob, string>();

  // Content-addressed file name; written to a temp name then renamed, so a concurrent run never
  // reads half a file and reruns do not pile files up.
  const fileFor = (blob: Blob): string | undefined => {
    const known = files.get(blob);
    if (known) return known;
    let text = texts.get(blob);
    if (text === undefined) return undefined;
    if (text.startsWith(MAIN_SCRIPT_START)) text = `${PRELUDE}var __dirname=${JSON.stringify(dir)};\n${text}`;
    const file = path.join(dir, `${createHash('sha256').update(text).digest('hex').slice(0, 16)}.js`);
    if (!fs.existsSync(file)) {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, file);
    }
    files.set(blob, file);
    return file;
  };

  const NativeBlob = globalThis.Blob;
  globalThis.Blob = class RememberingBlob extends NativeBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (Array.isArray(parts) && parts.every((p) => typeof p === 'string')) texts.set(this, parts.join(''));
    }
  };

  const nativeCreateObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob): string => (obj instanceof NativeBlob && fileFor(obj)) || nativeCreateObjectURL(obj);

  const nativePost = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function postMessage(this: Worker, msg: unknown, transfer?: readonly unknown[]) {
    const m = msg as { cmd?: unknown; urlOrBlob?: unknown } | null;
    if (m && m.cmd === 'load' && m.urlOrBlob instanceof NativeBlob) {
      const file = fileFor(m.urlOrBlob);
      if (file) msg = { ...m, urlOrBlob: file };
    }
    return nativePost.call(this, msg, transfer as Parameters<typeof nativePost>[1]);
  };

  const nativeCpus = os.cpus;
  os.cpus = () => { const c = nativeCpus(); return [...c, ...c]; };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  return { done() { os.cpus = nativeCpus; } };
}
