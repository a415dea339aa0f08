/** Conversions between Kiln tensors and ONNX TensorProto (raw_data, little-endian). */
import { Tensor, type DType } from '@kiln/tensor';
import { DataType, type TensorProto } from './proto.js';

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
  const view = raw ? new DataView(raw.slice().buffer) : null;
  const need = (bytes: number) => {
    if (view && view.byteLength !== n * bytes) throw new Error(`Kiln: onnx: ${label} raw_data has ${view.byteLength} bytes, expected ${n * bytes} for dims [${dims.join(', ')}] of ${NAMES[type]}`);
  };
  const fromList = (list: number[] | undefined, kind: string) => {
    const l = list ?? [];
    if (l.length !== n) throw new Error(`Kiln: onnx: ${label} has ${l.length} ${kind} values, expected ${n}`);
    return l;
  };
  switch (type) {
    case DataType.FLOAT: {
      need(4);
      const out = new Float32Array(n);
      if (view) for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      else out.set(fromList(p.floatData, 'float_data'));
      return new Tensor(out, dims, 'float32');
    }
    case DataType.DOUBLE: {
      need(8);
      const out = new Float64Array(n);
      if (view) for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      else out.set(fromList(p.doubleData, 'double_data'));
      return new Tensor(out, dims, 'float64');
    }
    case DataType.FLOAT16: {
      need(2);
      const out = new Float32Array(n);
      const src = view ? Array.from({ length: n }, (_, i) => view.getUint16(i * 2, true)) : fromList(p.int32Data, 'int32_data');
      for (let i = 0; i < n; i++) out[i] = halfToFloat(src[i]!);
      return new Tensor(out, dims, 'float32');
    }
    case DataType.INT64: case DataType.INT32: case DataType.INT16: case DataType.INT8: case DataType.UINT8: case DataType.UINT16: {
      const size = type === DataType.INT64 ? 8 : type === DataType.INT32 ? 4 : type === DataType.INT16 || type === DataType.UINT16 ? 2 : 1;
      need(size);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        let x: number;
        if (view) {
          x = size === 8 ? Number(view.getBigInt64(i * 8, true)) : size === 4 ? view.getInt32(i * 4, true)
            : size === 2 ? (type === DataType.INT16 ? view.getInt16(i * 2, true) : view.getUint16(i * 2, true))
            : type === DataType.INT8 ? view.getInt8(i) : view.getUint8(i);
        } else {
          x = (type === DataType.INT64 ? fromList(p.int64Data, 'int64_data') : fromList(p.int32Data, 'int32_data'))[i]!;
        }
        // INT64 extremes (e.g. Slice's INT64_MAX "to the end") are clamped into int32 range.
        out[i] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, x));
      }
      return new Tensor(out, dims, 'int32');
    }
    case DataType.BOOL: {
      need(1);
      const out = new Uint8Array(n);
      if (view) for (let i = 0; i < n; i++) out[i] = view.getUint8(i) ? 1 : 0;
      else fromList(p.int32Data, 'int32_data').forEach((v, i) => (out[i] = v ? 1 : 0));
      return new Tensor(out, dims, 'bool');
    }
    default:
      throw new Error(`Kiln: onnx: ${label} has data type ${NAMES[type] ?? type}, which Kiln does not support`);
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
