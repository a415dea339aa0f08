export { decodeModel, encodeModel, DataType, AttributeType } from './proto.js';
export type { ModelProto, GraphProto, NodeProto, TensorProto, AttributeProto, ValueInfoProto, Dim } from './proto.js';
export { tensorToProto, protoToTensor } from './tensor-proto.js';
export { exportOnnx, buildModel, saveOnnx, KILN_VERSION, type Exportable, type ExportOptions } from './export/export.js';
export { createSession, runSession, type KilnSession, type SessionOptions, type Backend, type ProviderFallback } from './runtime/session.js';
export { compareWithOrt, type OrtComparison } from './compare.js';
export { importOnnx, OnnxModule } from './import/import.js';
