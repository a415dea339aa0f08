/**
 * The safetensors format: 8-byte little-endian header length N, then N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {string: string} }`
 * (padded with spaces to a multiple of 8), then the raw little-endian tensor bytes.
 */
import { Tensor, type DType, type TypedArray } from '@kiln/tensor';
import type { StateDict } from '../module.js';

const TO_ST: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };
const FROM_ST: Record<string, { dtype: DType; bytes: number }> = {
  F32: { dtype: 'float32', bytes: 4 }, F64: { dtype: 'float64', bytes: 8 }, I32: { dtype: 'int32', bytes: 4 }, BOOL: { dtype: 'bool', bytes: 1 },
};

function bytesOf(t: Tensor): Uint8Array {
  const d = t.dataSync();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Encodes a state dict (and optional string metadata) as safetensors bytes. */
export function serializeSafetensors(sd: StateDict, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
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

/** Decodes safetensors bytes; throws `Kiln: parseSafetensors: ...` on truncated or corrupt data. */
export function parseSafetensors(bytes: Uint8Array): SafetensorsContents {
  const fail = (msg: string): never => { throw new Error(`Kiln: parseSafetensors: ${msg}`); };
  if (bytes.byteLength < 8) fail(`file is truncated: ${bytes.byteLength} bytes, need at least 8 for the header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.byteLength - 8) fail(`file is truncated or corrupt: header claims ${n} bytes but only ${bytes.byteLength - 8} follow`);
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
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') { metadata = info as Record<string, string>; continue; }
    const e = info as { dtype?: string; shape?: number[]; data_offsets?: number[] };
    const spec = FROM_ST[e?.dtype ?? ''];
    if (!spec) fail(`tensor '${name}' has unsupported dtype '${e?.dtype}' (supported: F32, F64, I32, BOOL)`);
    const shape = e.shape;
    const offs = e.data_offsets;
    if (!Array.isArray(shape) || shape.some((d) => !(Number.isInteger(d) && d >= 0))) fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offs) || offs.length !== 2) fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    const [b, end] = offs as [number, number];
    const count = shape!.reduce((a, d) => a * d, 1);
    if (end - b !== count * spec!.bytes || b < 0) fail(`tensor '${name}': data_offsets [${b}, ${end}] do not fit shape [${shape!.join(',')}] of ${e.dtype}`);
    if (end > dataLen) fail(`file is truncated: tensor '${name}' needs bytes up to ${end} but the data section has ${dataLen}`);
    const raw = bytes.slice(dataStart + b, dataStart + end); // copy: aligned, and owned by the tensor
    let data: TypedArray;
    switch (spec!.dtype) {
      case 'float32': data = new Float32Array(raw.buffer, 0, count); break;
      case 'float64': data = new Float64Array(raw.buffer, 0, count); break;
      case 'int32': data = new Int32Array(raw.buffer, 0, count); break;
      default: data = raw;
    }
    tensors[name] = new Tensor(data, shape!, spec!.dtype);
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
