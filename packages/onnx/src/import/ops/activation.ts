/** Activations added for the vision zoo: HardSwish (opset 14) onto Kiln's hardswish composite. */
import * as K from '@kiln/tensor';
import type { OpHandler } from '../context.js';

export const activationOps: Record<string, OpHandler> = {
  HardSwish: (c) => K.hardswish(c.input(0)),
};
