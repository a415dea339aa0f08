import { setNumThreads } from '@kiln/tensor';

// One kernel thread per test file. vision and sequence run two test files at a time, and CI runs them
// beside the other packages on 2 cores, so a second kernel thread finds no idle core: it only adds
// spin-waiting at every parallel kernel's barrier. Measured on the loaded 2-core machine, the
// Transformer reverse training takes 6.8 s of CPU with one thread against 14.4 s with two, with the
// same result. The threaded kernels are tested in @kiln/tensor.
setNumThreads(1);
