/**
 * The mobile-network activations (MobileNetV2/V3, EfficientNet), written once from primitives:
 * ReLU6, hard sigmoid, hard swish and SiLU. Each is a composite, so an exporter with a direct
 * ONNX op (HardSigmoid, HardSwish) takes it whole and sees its primitives otherwise.
 */
import { floatingOf } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { composite } from '../trace.js';
import { checkTensor } from './core.js';

/** min(max(x, 0), 6), as PyTorch's relu6 (exported as Clip(0, 6)). */
export function relu6(x: Tensor): Tensor {
  checkTensor('relu6', 'input', x);
  return x.to(floatingOf(x.dtype)).clamp(0, 6);
}

/** relu6(x + 3) / 6: 0 below −3, 1 above 3, linear between (PyTorch's hardsigmoid). */
export function hardsigmoid(x: Tensor): Tensor {
  checkTensor('hardsigmoid', 'input', x);
  return composite('hardsigmoid', [x], {}, () => x.to(floatingOf(x.dtype)).add(3).clamp(0, 6).div(6));
}

/** x · relu6(x + 3) / 6 (PyTorch's hardswish, MobileNetV3). */
export function hardswish(x: Tensor): Tensor {
  checkTensor('hardswish', 'input', x);
  return composite('hardswish', [x], {}, () => {
    const xf = x.to(floatingOf(x.dtype));
    return xf.mul(xf.add(3).clamp(0, 6)).div(6);
  });
}

/** x · sigmoid(x), also called swish (PyTorch's silu). */
export function silu(x: Tensor): Tensor {
  checkTensor('silu', 'input', x);
  return composite('silu', [x], {}, () => {
    const xf = x.to(floatingOf(x.dtype));
    return xf.mul(xf.sigmoid());
  });
}
