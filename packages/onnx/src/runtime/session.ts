/**
 * ONNX Runtime helpers with Kiln tensors in and out. onnxruntime-node / onnxruntime-web are
 * imported lazily, so @kiln/onnx loads in browsers and Bun without the native addon.
 */
import { Tensor, type DType } from '@kiln/tensor';

export type Backend = 'node' | 'web';

export interface SessionOptions {
  /** 'node' (default on Node) uses onnxruntime-node; 'web' uses onnxruntime-web (Wasm / WebGPU). */
  backend?: Backend;
  /** e.g. ['cpu'], ['cuda', 'cpu'] (node), ['wasm'], ['webgpu', 'wasm'] (web). */
  executionProviders?: string[];
}

/** Minimal view of an ORT InferenceSession shared by both packages. */
interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { type: string; dims: readonly number[]; data: unknown }>>;
  release?(): Promise<void>;
}
interface OrtModule {
  InferenceSession: { create(model: Uint8Array | string, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => unknown;
}

export interface KilnSession {
  readonly backend: Backend;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** @internal */ readonly ort: OrtModule;
  /** @internal */ readonly session: OrtSession;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && !(process.versions as Record<string, string>).bun;

async function loadOrt(backend: Backend): Promise<OrtModule> {
  const mod = backend === 'node' ? await import('onnxruntime-node') : await import('onnxruntime-web');
  return ((mod as { default?: OrtModule }).default ?? mod) as unknown as OrtModule;
}

/** Creates an inference session from model bytes or (Node only) a file path. */
export async function createSession(model: Uint8Array | string, options: SessionOptions = {}): Promise<KilnSession> {
  const backend = options.backend ?? (isNode ? 'node' : 'web');
  if (backend !== 'node' && backend !== 'web') throw new Error(`Kiln: createSession: backend must be 'node' or 'web', got '${String(backend)}'`);
  const ort = await loadOrt(backend);
  let source: Uint8Array | string = model;
  if (typeof model === 'string' && backend === 'web') {
    const { readFile } = await import('node:fs/promises');
    source = new Uint8Array(await readFile(model));
  }
  const providers = options.executionProviders
    ?? (backend === 'web' && typeof navigator !== 'undefined' && (navigator as { gpu?: unknown }).gpu ? ['webgpu', 'wasm'] : undefined);
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(source, providers ? { executionProviders: providers } : {});
  } catch (e) {
    throw new Error(`Kiln: createSession (${backend}): ONNX Runtime rejected the model: ${(e as Error).message}`);
  }
  return { backend, inputNames: session.inputNames, outputNames: session.outputNames, ort, session };
}

const ORT_TYPE: Record<DType, string> = { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'bool' };

/** Runs a session; inputs and outputs are keyed by graph value name. */
export async function runSession(s: KilnSession, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const feeds: Record<string, unknown> = {};
  for (const name of s.inputNames) {
    const t = inputs[name];
    if (!t) throw new Error(`Kiln: runSession: missing input '${name}' (model inputs: ${s.inputNames.join(', ')}; given: ${Object.keys(inputs).join(', ')})`);
    const data = t.dtype === 'bool' ? new Uint8Array(t.dataSync() as Uint8Array) : t.dataSync().slice();
    feeds[name] = new s.ort.Tensor(ORT_TYPE[t.dtype], data, [...t.shape]);
  }
  const results = await s.session.run(feeds);
  const out: Record<string, Tensor> = {};
  for (const [name, v] of Object.entries(results)) out[name] = fromOrt(name, v);
  return out;
}

function fromOrt(name: string, v: { type: string; dims: readonly number[]; data: unknown }): Tensor {
  const dims = [...v.dims].map(Number);
  switch (v.type) {
    case 'float32': return new Tensor(new Float32Array(v.data as Float32Array), dims, 'float32');
    case 'float64': return new Tensor(new Float64Array(v.data as Float64Array), dims, 'float64');
    case 'int32': return new Tensor(new Int32Array(v.data as Int32Array), dims, 'int32');
    case 'int64': return new Tensor(Int32Array.from(v.data as BigInt64Array, (x) => Number(x)), dims, 'int32');
    case 'bool': return new Tensor(new Uint8Array(v.data as Uint8Array), dims, 'bool');
    default: throw new Error(`Kiln: runSession: output '${name}' has type ${v.type}, which Kiln does not support`);
  }
}
