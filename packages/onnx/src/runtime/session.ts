/**
 * ONNX Runtime helpers with Kiln tensors in and out. onnxruntime-node / onnxruntime-web are
 * optional peer dependencies, imported on the first createSession, so @kiln/onnx installs and
 * loads without them (export and import need neither).
 */
import { Tensor, checkOptions, type DType } from '@kiln/tensor';

export type Backend = 'node' | 'web';

export interface SessionOptions {
  /** 'node' (default on Node) uses onnxruntime-node; 'web' uses onnxruntime-web (Wasm / WebGPU). */
  backend?: Backend;
  /** e.g. ['cpu'], ['cuda', 'cpu'] (node), ['wasm'], ['webgpu', 'wasm'] (web). */
  executionProviders?: string[];
  /** ORT's log level: 0 verbose … 2 warnings (ORT's default) … 4 fatal only. */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
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

/** An execution provider that was asked for but could not start, and why. */
export interface ProviderFallback { provider: string; reason: string }

export interface KilnSession {
  readonly backend: Backend;
  /**
   * The execution providers the session actually runs with, in priority order (ONNX Runtime
   * gives each node to the first that supports it): the requested list less any that could
   * not start here, e.g. ['cpu'] after ['cuda', 'cpu'] on a machine without CUDA.
   */
  readonly providers: readonly string[];
  /** Requested providers that were skipped, with the reason (empty when all started). */
  readonly fallbacks: readonly ProviderFallback[];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** @internal */ readonly ort: OrtModule;
  /** @internal */ readonly session: OrtSession;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && !(process.versions as Record<string, string>).bun;

/** The ONNX Runtime package behind each backend (optional peer dependencies of @kiln/onnx). */
export const ORT_PACKAGE: Record<Backend, 'onnxruntime-node' | 'onnxruntime-web'> = { node: 'onnxruntime-node', web: 'onnxruntime-web' };

/** Imports an ONNX Runtime package; a parameter of {@link loadOrt} so tests can make it fail. */
export type OrtImporter = (pkg: 'onnxruntime-node' | 'onnxruntime-web') => Promise<unknown>;
const importOrt: OrtImporter = (pkg) => (pkg === 'onnxruntime-node' ? import('onnxruntime-node') : import('onnxruntime-web'));

/** True when `e` says that `pkg` itself could not be found (Node, Bun and Deno word it differently). */
function isMissingPackage(e: unknown, pkg: string): boolean {
  const err = e as { code?: string; message?: string };
  const msg = String(err?.message ?? e);
  if (!msg.includes(`'${pkg}'`) && !msg.includes(`"${pkg}"`)) return false; // not a package *inside* it
  return err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND' || /(cannot|could not) (find|resolve) (module|package)|not found/i.test(msg);
}

/**
 * Loads onnxruntime-node or onnxruntime-web on first use. They are optional peer dependencies,
 * so a missing one is an error that names the package to install.
 * @internal
 */
export async function loadOrt(backend: Backend, importer: OrtImporter = importOrt): Promise<OrtModule> {
  const pkg = ORT_PACKAGE[backend];
  let mod: unknown;
  try {
    mod = await importer(pkg);
  } catch (e) {
    if (isMissingPackage(e, pkg)) {
      throw new Error(`Kiln: createSession: backend '${backend}' needs the optional peer dependency ${pkg}, which is not installed; add it with \`npm install ${pkg}\` (ONNX export and import work without it)`);
    }
    throw new Error(`Kiln: createSession: backend '${backend}' could not load ${pkg}: ${(e as Error)?.message ?? String(e)}`);
  }
  return ((mod as { default?: OrtModule }).default ?? mod) as unknown as OrtModule;
}

/** Creates an inference session from model bytes or (Node only) a file path. */
export async function createSession(model: Uint8Array | string, options: SessionOptions = {}): Promise<KilnSession> {
  checkOptions('createSession', options, {
    backend: 'string', executionProviders: 'names',
    logSeverityLevel: (v) => ([0, 1, 2, 3, 4].includes(v as number) ? null : 'one of 0, 1, 2, 3, 4'),
  });
  const backend = options.backend ?? (isNode ? 'node' : 'web');
  if (backend !== 'node' && backend !== 'web') throw new Error(`Kiln: createSession: backend must be 'node' or 'web', got '${String(backend)}'`);
  const ort = await loadOrt(backend);
  let source: Uint8Array | string = model;
  if (typeof model === 'string' && backend === 'web') {
    const { readFile } = await import('node:fs/promises');
    source = new Uint8Array(await readFile(model));
  }
  const requested = options.executionProviders
    ?? (backend === 'web' && typeof navigator !== 'undefined' && (navigator as { gpu?: unknown }).gpu ? ['webgpu', 'wasm'] : undefined);
  let candidates = requested?.length ? [...requested] : [backend === 'node' ? 'cpu' : 'wasm'];
  const fallbacks: ProviderFallback[] = [];
  // onnxruntime-web quietly drops a WebGPU provider without an adapter, so ask first and report it
  if (backend === 'web' && candidates.length > 1 && candidates.includes('webgpu')) {
    const why = await webgpuUnavailable();
    if (why) { fallbacks.push({ provider: 'webgpu', reason: why }); candidates = candidates.filter((p) => p !== 'webgpu'); }
  }
  let session: OrtSession | undefined;
  let providers: string[] = candidates;
  // falls back along the list: a provider that cannot start (no CUDA libraries, no adapter) is skipped
  for (let i = 0; !session; i++) {
    providers = candidates.slice(i);
    try {
      const sessionOptions: Record<string, unknown> = { executionProviders: providers };
      if (options.logSeverityLevel !== undefined) sessionOptions.logSeverityLevel = options.logSeverityLevel;
      session = await ort.InferenceSession.create(source, sessionOptions);
    } catch (e) {
      const message = (e as Error)?.message ?? String(e);
      if (i + 1 >= candidates.length) throw new Error(`Kiln: createSession (${backend}): ONNX Runtime rejected the model: ${message}`);
      fallbacks.push({ provider: candidates[i]!, reason: message.split('\n')[0]!.slice(0, 300) });
    }
  }
  return { backend, providers, fallbacks, inputNames: session!.inputNames, outputNames: session!.outputNames, ort, session: session! };
}

/** Why WebGPU cannot run here, or null when an adapter exists. */
async function webgpuUnavailable(): Promise<string | null> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return 'navigator.gpu is missing (no WebGPU in this runtime)';
  try {
    return (await gpu.requestAdapter()) ? null : 'navigator.gpu.requestAdapter() found no adapter';
  } catch (e) {
    return `navigator.gpu.requestAdapter() failed: ${(e as Error)?.message ?? String(e)}`;
  }
}

const ORT_TYPE: Record<DType, string> = { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'bool' };

/** Runs a session; inputs and outputs are keyed by graph value name. */
export async function runSession(s: KilnSession, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const feeds: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(inputs)) {
    // a misspelt name would be dropped here and the model fed without it
    if (!s.inputNames.includes(name)) throw new Error(`Kiln: runSession: '${name}' is not an input of the model (model inputs: ${s.inputNames.join(', ')})`);
    if (!(t instanceof Tensor)) throw new Error(`Kiln: runSession: input '${name}' must be a Tensor, got ${Array.isArray(t) ? 'an array' : typeof t}`);
  }
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
