/**
 * The ONNX protobuf codec: decode/encode `ModelProto` bytes with the bindings generated at build
 * time from proto/onnx.proto. The API uses plain objects with int64 fields as JavaScript numbers
 * (no `Long` leaks out) and bytes as `Uint8Array`.
 */
import { onnx } from './generated/onnx.js';

export const DataType = onnx.TensorProto.DataType;
export const AttributeType = onnx.AttributeProto.AttributeType;

export interface Dim { dimValue?: number; dimParam?: string }
export interface TensorProto {
  name?: string; dims?: number[]; dataType?: number; rawData?: Uint8Array;
  floatData?: number[]; int32Data?: number[]; int64Data?: number[]; doubleData?: number[];
  externalData?: { key?: string; value?: string }[]; dataLocation?: number;
}
export interface AttributeProto {
  name?: string; type?: number; f?: number; i?: number; s?: Uint8Array; t?: TensorProto;
  floats?: number[]; ints?: number[]; strings?: Uint8Array[]; g?: GraphProto;
}
export interface NodeProto {
  input?: string[]; output?: string[]; name?: string; opType?: string; domain?: string;
  attribute?: AttributeProto[];
}
export interface ValueInfoProto {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: Dim[] } } };
}
export interface GraphProto {
  node?: NodeProto[]; name?: string; initializer?: TensorProto[];
  input?: ValueInfoProto[]; output?: ValueInfoProto[]; valueInfo?: ValueInfoProto[];
}
export interface ModelProto {
  irVersion?: number; opsetImport?: { domain?: string; version?: number }[];
  producerName?: string; producerVersion?: string; domain?: string; modelVersion?: number;
  docString?: string; graph?: GraphProto; metadataProps?: { key?: string; value?: string }[];
}

const CONVERT = { longs: Number, enums: Number, bytes: Uint8Array, defaults: false, arrays: true, oneofs: false } as const;

/** Decodes ONNX model bytes; malformed or truncated input throws `Kiln: onnx decode: ...`. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) throw new Error(`Kiln: onnx decode expects a Uint8Array, got ${typeof bytes}`);
  let msg: onnx.ModelProto;
  try {
    msg = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`Kiln: onnx decode: malformed or truncated ModelProto (${bytes.length} bytes): ${(e as Error).message}`);
  }
  try {
    return normalizeBytes(onnx.ModelProto.toObject(msg, CONVERT)) as ModelProto;
  } catch (e) {
    // e.g. subgraphs nested deeper than the stack allows
    throw new Error(`Kiln: onnx decode: ModelProto (${bytes.length} bytes) cannot be converted: ${(e as Error).message}`);
  }
}

/** Decodes one serialized TensorProto (e.g. an ONNX test-data `input_0.pb`); errors name `what`. */
export function decodeTensorProto(bytes: Uint8Array, what = 'TensorProto'): TensorProto {
  let msg: onnx.TensorProto;
  try {
    msg = onnx.TensorProto.decode(bytes);
  } catch (e) {
    throw new Error(`Kiln: onnx decode: malformed or truncated ${what} (${bytes.length} bytes): ${(e as Error).message}`);
  }
  return normalizeBytes(onnx.TensorProto.toObject(msg, CONVERT)) as TensorProto;
}

/** Encodes a ModelProto object to bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  const msg = onnx.ModelProto.fromObject(model as Record<string, unknown>);
  // A plain Uint8Array: protobufjs hands out Node Buffers, whose slice() is a view, not a copy.
  return new Uint8Array(onnx.ModelProto.encode(msg).finish());
}

// toObject with bytes: Uint8Array may hand back Node Buffers that alias the input; copy them so
// callers can make aligned typed-array views and the input buffer can be reused.
function normalizeBytes(v: unknown): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) { for (let i = 0; i < v.length; i++) v[i] = normalizeBytes(v[i]); return v; }
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = normalizeBytes(o[k]);
  }
  return v;
}
