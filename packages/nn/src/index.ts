export { Tensor } from '@kiln/tensor';
