/**
 * The safetensors format: 8-byte little-endian header length N, then N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {string: string} }`
 * (padded with spaces to a multiple of 8), then the raw little-endian tensor bytes.
 */
import { Tensor, bfloat16ToFloat32, float16ToFloat32, type DType, type TypedArray } from '@kiln/tensor';
import type { StateDict } from '../module.js';

const TO_ST: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };
/**
 * Stored dtype → Kiln dtype. Kiln has no 16-bit floats or 64/8/16-bit integers, so:
 * F16/BF16 decode to float32 (exact); I64/U64 load as int32 when every value fits (PyTorch's
 * `num_batches_tracked`, index buffers), else the load fails naming the tensor and the value — never a
 * silent wrap; I8/U8/I16/U16 widen to int32.
 */
const FROM_ST: Record<string, { dtype: DType; bytes: number }> = {
  F32: { dtype: 'float32', bytes: 4 }, F64: { dtype: 'float64', bytes: 8 }, I32: { dtype: 'int32', bytes: 4 }, BOOL: { dtype: 'bool', bytes: 1 },
  F16: { dtype: 'float32', bytes: 2 }, BF16: { dtype: 'float32', bytes: 2 },
  I64: { dtype: 'int32', bytes: 8 }, U64: { dtype: 'int32', bytes: 8 }, U32: { dtype: 'int32', bytes: 4 },
  I16: { dtype: 'int32', bytes: 2 }, U16: { dtype: 'int32', bytes: 2 }, I8: { dtype: 'int32', bytes: 1 }, U8: { dtype: 'int32', bytes: 1 },
};
const SUPPORTED = Object.keys(FROM_ST).join(', ');
/** Larger headers are refused before decoding (the reference implementation's limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** Converts the raw little-endian bytes (`raw` is an aligned copy) of a stored dtype to Kiln data. */
function decode(st: string, raw: Uint8Array, count: number, fail: (m: string) => never): TypedArray {
  const buf = raw.buffer;
  switch (st) {
    case 'F32': return new Float32Array(buf, 0, count);
    case 'F64': return new Float64Array(buf, 0, count);
    case 'I32': return new Int32Array(buf, 0, count);
    case 'BOOL': {
      for (let i = 0; i < count; i++) if (raw[i]! > 1) fail(`BOOL value ${raw[i]} at index ${i} is not 0 or 1`);
      return raw;
    }
    case 'F16': return float16ToFloat32(new Uint16Array(buf, 0, count));
    case 'BF16': return bfloat16ToFloat32(new Uint16Array(buf, 0, count));
    case 'I16': return Int32Array.from(new Int16Array(buf, 0, count));
    case 'U16': return Int32Array.from(new Uint16Array(buf, 0, count));
    case 'I8': return Int32Array.from(new Int8Array(buf, 0, count));
    case 'U8': return Int32Array.from(raw);
    case 'U32': {
      const src = new Uint32Array(buf, 0, count);
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        if (src[i]! > 0x7fffffff) fail(`U32 value ${src[i]} at index ${i} does not fit int32 (Kiln's integer dtype)`);
        out[i] = src[i]!;
      }
      return out;
    }
    default: { // I64, U64
      const src = st === 'I64' ? new BigInt64Array(buf, 0, count) : new BigUint64Array(buf, 0, count);
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = src[i]!;
        if (v > 2147483647n || v < -2147483648n) fail(`${st} value ${v} at index ${i} does not fit int32 (Kiln's integer dtype)`);
        out[i] = Number(v);
      }
      return out;
    }
  }
}

function bytesOf(t: Tensor): Uint8Array {
  const d = t.dataSync();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Encodes a state dict (and optional string metadata) as safetensors bytes. */
export function serializeSafetensors(sd: StateDict, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  // a string or array here would be written as a __metadata__ no reader accepts (a corrupt file)
  if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new Error(`Kiln: serializeSafetensors: metadata must be an object of strings, got ${Array.isArray(metadata) ? 'an array' : JSON.stringify(metadata)}`);
  }
  if (sd === null || typeof sd !== 'object' || Array.isArray(sd) || sd instanceof Tensor) {
    throw new Error(`Kiln: serializeSafetensors: expected a state dict { name: Tensor } (e.g. model.stateDict()), got ${sd instanceof Tensor ? 'a Tensor' : Array.isArray(sd) ? 'an array' : String(sd)}`);
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`Kiln: serializeSafetensors: metadata value '${k}' must be a string`);
    }
    header.__metadata__ = metadata;
  }
  const entries = Object.entries(sd).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let offset = 0;
  for (const [name, t] of entries) {
    if (!(t instanceof Tensor)) throw new Error(`Kiln: serializeSafetensors: '${name}' is not a Tensor`);
    const n = bytesOf(t).byteLength;
    header[name] = { dtype: TO_ST[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - (hb.byteLength % 8)) % 8;
  if (pad) { json += ' '.repeat(pad); hb = enc.encode(json); }
  const out = new Uint8Array(8 + hb.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.byteLength), true);
  out.set(hb, 8);
  let p = 8 + hb.byteLength;
  for (const [, t] of entries) {
    const b = bytesOf(t);
    out.set(b, p);
    p += b.byteLength;
  }
  return out;
}

export interface SafetensorsContents {
  tensors: StateDict;
  metadata: Record<string, string>;
}

/**
 * Decodes safetensors bytes; throws `Kiln: parseSafetensors: ...` naming the header field or tensor at
 * fault on truncated or corrupt data. Never allocates more than the file's own size for tensor data
 * (a shape's element count must match its byte range, which must lie inside the file), and refuses
 * overlapping byte ranges (two tensors silently sharing bytes).
 */
export function parseSafetensors(bytes: Uint8Array): SafetensorsContents {
  const fail = (msg: string): never => { throw new Error(`Kiln: parseSafetensors: ${msg}`); };
  if (!(bytes instanceof Uint8Array)) fail(`expects a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  if (bytes.byteLength < 8) fail(`file is truncated: ${bytes.byteLength} bytes, need at least 8 for the header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const big = view.getBigUint64(0, true);
  if (big > BigInt(bytes.byteLength - 8)) fail(`file is truncated or corrupt: header claims ${big} bytes but only ${bytes.byteLength - 8} follow`);
  const n = Number(big);
  if (n > MAX_HEADER_BYTES) fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  const tensors: StateDict = {};
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`__metadata__ must be an object of strings, got ${JSON.stringify(info)}`);
      for (const [k, v] of Object.entries(info as object)) if (typeof v !== 'string') fail(`__metadata__ value '${k}' must be a string, got ${JSON.stringify(v)}`);
      metadata = { ...(info as Record<string, string>) };
      continue;
    }
    if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`tensor '${name}': entry must be an object, got ${JSON.stringify(info)}`);
    const e = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const st = typeof e.dtype === 'string' ? e.dtype : '';
    const spec = Object.hasOwn(FROM_ST, st) ? FROM_ST[st] : undefined;
    if (!spec) return fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${SUPPORTED})`);
    const shape = e.shape;
    const offs = e.data_offsets;
    if (!Array.isArray(shape) || shape.some((d) => !(Number.isSafeInteger(d) && d >= 0))) fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !(Number.isSafeInteger(o) && o >= 0))) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)} (want two non-negative integers)`);
    }
    const [b, end] = offs as [number, number];
    const count = (shape as number[]).reduce((a, d) => a * d, 1); // may be huge or inexact: only compared, never allocated
    if (end < b || end - b !== count * spec.bytes) fail(`tensor '${name}': data_offsets [${b}, ${end}] do not fit shape [${(shape as number[]).join(',')}] of ${st}`);
    if (end > dataLen) fail(`file is truncated: tensor '${name}' needs bytes up to ${end} but the data section has ${dataLen}`);
    ranges.push([b, end, name]);
    // A copy (aligned, owned by the tensor) even when `bytes` is a Node Buffer, whose slice() is a view.
    const raw = Uint8Array.prototype.slice.call(bytes, dataStart + b, dataStart + end);
    const data = decode(st, raw, count, (m) => fail(`tensor '${name}': ${m}`));
    // defineProperty: a tensor named '__proto__' must become an entry, not the object's prototype
    Object.defineProperty(tensors, name, { value: new Tensor(data, shape as number[], spec.dtype), enumerable: true, writable: true, configurable: true });
  }
  ranges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let last: [number, number, string] | undefined; // the non-empty range reaching furthest so far
  for (const r of ranges) {
    if (r[1] === r[0]) continue;
    if (last && r[0] < last[1]) fail(`tensors '${last[2]}' [${last[0]}, ${last[1]}] and '${r[2]}' [${r[0]}, ${r[1]}] have overlapping data_offsets`);
    if (!last || r[1] > last[1]) last = r;
  }
  return { tensors, metadata };
}

/** Writes `sd` to `path` atomically: a temp file in the same directory, then rename. */
export async function saveSafetensors(path: string, sd: StateDict, metadata?: Record<string, string>): Promise<void> {
  const bytes = serializeSafetensors(sd, metadata);
  await writeFileAtomic(path, bytes, 'saveSafetensors');
}

/** Reads a safetensors file written by Kiln, PyTorch (`safetensors.torch.save_file`) or others. */
export async function loadSafetensors(path: string): Promise<SafetensorsContents> {
  const fs = await import('node:fs/promises');
  const buf = await fs.readFile(path);
  try {
    return parseSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  } catch (e) {
    throw new Error(`${(e as Error).message} (file ${path})`);
  }
}

/**
 * Temp file next to the target + rename, so readers never see a partial file and a failure leaves
 * the old one (and no temp file). `op` names the caller in the error.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, op = 'writeFileAtomic'): Promise<void> {
  const fs = await import('node:fs/promises');
  const { dirname, basename, join } = await import('node:path');
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new Error(`Kiln: ${op}: could not write ${path}: ${(e as Error).message}`);
  }
}
