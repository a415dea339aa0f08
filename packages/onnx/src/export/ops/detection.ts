/**
 * Detection ops with an ONNX equivalent: `nonMaxSuppression` (reported by @kiln/vision's
 * `nonMaxSuppression`) → NonMaxSuppression, whose int64 selected_indices are cast to the traced
 * output's dtype so the rest of the graph sees what Kiln computed.
 */
import { onnxDataType } from '../../tensor-proto.js';
import type { OpExporter } from './index.js';

export const detectionOps: Record<string, OpExporter> = {
  nonMaxSuppression: (b, r) => {
    // ONNX NonMaxSuppression takes float32 boxes and scores only.
    const float = (i: number) => (r.inputs[i]!.dtype === 'float32' ? b.name(r.inputs[i]!) : b.tmp('Cast', [b.name(r.inputs[i]!)], { to: 1 }));
    const inputs = [float(0), float(1), b.int64([Number(r.attrs.maxOutputBoxesPerClass)], 'max_output_boxes_per_class', true),
      b.floatScalar(Number(r.attrs.iouThreshold), 'float32', 'iou_threshold')];
    if (typeof r.attrs.scoreThreshold === 'number') inputs.push(b.floatScalar(r.attrs.scoreThreshold, 'float32', 'score_threshold'));
    const selected = b.tmp('NonMaxSuppression', inputs, { center_point_box: Number(r.attrs.centerPointBox) });
    b.node('Cast', [selected], [b.output(r.outputs[0]!, 'selected_indices')], { to: onnxDataType(r.outputs[0]!.dtype) });
  },
};
