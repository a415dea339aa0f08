export { decodeModel, encodeModel, DataType, AttributeType } from './proto.js';
export type { ModelProto, GraphProto, NodeProto, TensorProto, AttributeProto, ValueInfoProto, Dim } from './proto.js';
