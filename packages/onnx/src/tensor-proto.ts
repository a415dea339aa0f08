/** Conversions between Kiln tensors and ONNX TensorProto (raw_data, little-endian). */
import { Tensor, bfloat16BitsToNumber, float16BitsToNumber, numberToFloat16Bits, type DType } from '@kiln/tensor';
import { AttributeType, DataType, type NodeProto, type TensorProto } from './proto.js';

const ONNX_OF: Record<DType, number> = { float32: DataType.FLOAT, float64: DataType.DOUBLE, int32: DataType.INT32, bool: DataType.BOOL };

export function onnxDataType(dtype: DType): number {
  const t = ONNX_OF[dtype];
  if (t === undefined) throw new Error(`Kiln: onnx: dtype '${dtype}' has no ONNX equivalent`);
  return t;
}

/** Encodes a tensor as a TensorProto with little-endian raw_data, dims and layout unchanged. */
export function tensorToProto(name: string, t: Tensor): TensorProto {
  const data = t.dataSync();
  const n = data.length;
  let raw: Uint8Array;
  switch (t.dtype) {
    case 'float32': { raw = new Uint8Array(n * 4); const v = new DataView(raw.buffer); for (let i = 0; i < n; i++) v.setFloat32(i * 4, data[i] as number, true); break; }
    case 'float64': { raw = new Uint8Array(n * 8); const v = new DataView(raw.buffer); for (let i = 0; i < n; i++) v.setFloat64(i * 8, data[i] as number, true); break; }
    case 'int32': { raw = new Uint8Array(n * 4); const v = new DataView(raw.buffer); for (let i = 0; i < n; i++) v.setInt32(i * 4, data[i] as number, true); break; }
    case 'bool': { raw = new Uint8Array(n); for (let i = 0; i < n; i++) raw[i] = data[i] ? 1 : 0; break; }
    default: throw new Error(`Kiln: onnx: cannot encode dtype '${String(t.dtype)}'`);
  }
  return { name, dims: [...t.shape], dataType: onnxDataType(t.dtype), rawData: raw };
}

/** An int64 TensorProto (shape/axes operands) from plain numbers. */
export function int64Proto(name: string, values: readonly number[], dims: number[] = [values.length]): TensorProto {
  const raw = new Uint8Array(values.length * 8);
  const v = new DataView(raw.buffer);
  values.forEach((x, i) => v.setBigInt64(i * 8, BigInt(x), true));
  return { name, dims, dataType: DataType.INT64, rawData: raw };
}

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(DataType).map(([k, v]) => [v as number, k]));

/**
 * Decodes a TensorProto into a Kiln tensor. INT64/UINT8/INT8/... become int32 (values beyond
 * ±2^31 throw), FLOAT16 is widened to float32. External data is refused with a clear error.
 */
export function protoToTensor(p: TensorProto, where = 'initializer'): Tensor {
  const dims = (p.dims ?? []).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const type = p.dataType ?? 0;
  const label = `${where} '${p.name ?? ''}'`;
  if (p.dataLocation === 1 || (p.externalData?.length ?? 0) > 0) {
    throw new Error(`Kiln: onnx: ${label} stores its data externally (${JSON.stringify(p.externalData ?? [])}); load the model with its data embedded`);
  }
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`Kiln: onnx: ${label} has invalid dims [${dims.join(', ')}]`);
  const raw = p.rawData && p.rawData.length > 0 ? p.rawData : null;
  // Copy so views are aligned (decoded bytes may sit at any offset).
  // Uint8Array's slice copies; a Node Buffer's slice() would alias the whole pooled buffer.
  const view = raw ? new DataView(Uint8Array.prototype.slice.call(raw).buffer) : null;
  const fromList = (list: number[] | undefined, kind: string) => {
    const l = list ?? [];
    if (l.length !== n) throw new Error(`Kiln: onnx: ${label} has ${l.length} ${kind} values, expected ${n} for dims [${dims.join(', ')}]`);
    return l;
  };
  /** Checks the stored size against the dims before anything is allocated (dims alone may claim 10¹² elements). */
  const need = (bytes: number, list: number[] | undefined, kind: string) => {
    if (view) {
      if (view.byteLength !== n * bytes) throw new Error(`Kiln: onnx: ${label} raw_data has ${view.byteLength} bytes, expected ${n * bytes} for dims [${dims.join(', ')}] of ${NAMES[type]}`);
    } else fromList(list, kind);
  };
  switch (type) {
    case DataType.FLOAT: {
      need(4, p.floatData, 'float_data');
      const out = new Float32Array(n);
      if (view) for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      else out.set(fromList(p.floatData, 'float_data'));
      return new Tensor(out, dims, 'float32');
    }
    case DataType.DOUBLE: {
      need(8, p.doubleData, 'double_data');
      const out = new Float64Array(n);
      if (view) for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      else out.set(fromList(p.doubleData, 'double_data'));
      return new Tensor(out, dims, 'float64');
    }
    case DataType.FLOAT16: case DataType.BFLOAT16: {
      // 16-bit floats are stored by Kiln as float32 (exact); int32_data holds one pattern per value.
      need(2, p.int32Data, 'int32_data');
      const out = new Float32Array(n);
      const decode = type === DataType.FLOAT16 ? float16BitsToNumber : bfloat16BitsToNumber;
      const list = view ? null : fromList(p.int32Data, 'int32_data');
      for (let i = 0; i < n; i++) out[i] = decode(view ? view.getUint16(i * 2, true) : list![i]! & 0xffff);
      return new Tensor(out, dims, 'float32');
    }
    case DataType.INT64: case DataType.INT32: case DataType.INT16: case DataType.INT8: case DataType.UINT8: case DataType.UINT16:
    case DataType.UINT32: case DataType.UINT64: {
      const size = type === DataType.INT64 || type === DataType.UINT64 ? 8 : type === DataType.INT32 || type === DataType.UINT32 ? 4
        : type === DataType.INT16 || type === DataType.UINT16 ? 2 : 1;
      const ilist = type === DataType.INT64 ? p.int64Data : type === DataType.UINT64 ? (p as { uint64Data?: number[] }).uint64Data : p.int32Data;
      const ikind = type === DataType.INT64 ? 'int64_data' : type === DataType.UINT64 ? 'uint64_data' : 'int32_data';
      need(size, ilist, ikind);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        let x: number;
        if (view) {
          x = size === 8 ? Number(type === DataType.UINT64 ? view.getBigUint64(i * 8, true) : view.getBigInt64(i * 8, true))
            : size === 4 ? (type === DataType.UINT32 ? view.getUint32(i * 4, true) : view.getInt32(i * 4, true))
            : size === 2 ? (type === DataType.INT16 ? view.getInt16(i * 2, true) : view.getUint16(i * 2, true))
            : type === DataType.INT8 ? view.getInt8(i) : view.getUint8(i);
        } else {
          x = ilist![i]!;
        }
        // INT64 extremes (e.g. Slice's INT64_MAX "to the end") are clamped into int32 range.
        out[i] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, x));
      }
      return new Tensor(out, dims, 'int32');
    }
    case DataType.BOOL: {
      need(1, p.int32Data, 'int32_data');
      const out = new Uint8Array(n);
      if (view) for (let i = 0; i < n; i++) out[i] = view.getUint8(i) ? 1 : 0;
      else fromList(p.int32Data, 'int32_data').forEach((v, i) => (out[i] = v ? 1 : 0));
      return new Tensor(out, dims, 'bool');
    }
    default:
      throw new Error(`Kiln: onnx: ${label} has data type ${NAMES[type] ?? type}, which Kiln does not support`);
  }
}

/**
 * Re-stores FLOAT initializers as FLOAT16 (rounded to nearest even) under the same names, each
 * followed by a Cast to FLOAT whose output replaces it in the nodes, so the graph still computes in
 * float32 and the initializer names stay the state-dict keys.
 */
export function storeInitializersAs(nodes: NodeProto[], inits: TensorProto[], storage: 'float16'): { node: NodeProto[]; initializer: TensorProto[] } {
  const renamed = new Map<string, string>();
  const casts: NodeProto[] = [];
  const initializer = inits.map((t) => {
    if (t.dataType !== DataType.FLOAT || !t.rawData) return t;
    const src = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    const n = t.rawData.byteLength / 4;
    const raw = new Uint8Array(n * 2);
    const dst = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) dst.setUint16(i * 2, numberToFloat16Bits(src.getFloat32(i * 4, true)), true);
    const name = t.name ?? '';
    const f32 = `${name}__float32`;
    renamed.set(name, f32);
    casts.push({ opType: 'Cast', name: `Cast_${name}`, input: [name], output: [f32], attribute: [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }] });
    return { ...t, dataType: storage === 'float16' ? DataType.FLOAT16 : t.dataType, rawData: raw };
  });
  const node = nodes.map((nd) => ({ ...nd, input: (nd.input ?? []).map((x) => renamed.get(x) ?? x) }));
  return { node: [...casts, ...node], initializer };
}
