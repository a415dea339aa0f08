/**
 * Real-input DFT: X[k] = Σ_n x[n]·e^(−2πi·kn/N), for k = 0 … N−1.
 *
 * Power-of-two sizes go straight to fft.js (radix-4, real transform). Any other size (400 = 25 ms
 * at 16 kHz is the usual speech frame) goes through Bluestein's chirp-z identity
 * kn = (k² + n² − (k−n)²)/2, which turns the DFT into a circular convolution of power-of-two
 * length M ≥ 2N−1, done with fft.js too; the chirp angles are taken from k² mod 2N so they stay
 * exact for large k.
 */
import FFT from 'fft.js';

/** A reusable plan for one transform size (keeps its scratch buffers; not reentrant). */
export class RealFFT {
  readonly size: number;
  private readonly pow2: FFT | null;
  private readonly out: Float64Array;
  // Bluestein state (sizes that are not powers of two).
  private readonly conv: FFT | null = null;
  private readonly chirpRe: Float64Array = new Float64Array(0);
  private readonly chirpIm: Float64Array = new Float64Array(0);
  private readonly kernel: Float64Array = new Float64Array(0);
  private readonly a: Float64Array = new Float64Array(0);
  private readonly b: Float64Array = new Float64Array(0);

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`Kiln: RealFFT: size must be a positive integer, got ${String(size)}`);
    this.size = size;
    const isPow2 = size >= 2 && (size & (size - 1)) === 0;
    this.pow2 = isPow2 ? new FFT(size) : null;
    this.out = new Float64Array(isPow2 ? 2 * size : 0);
    if (isPow2 || size === 1) return;
    let m = 2;
    while (m < 2 * size - 1) m *= 2;
    this.conv = new FFT(m);
    this.chirpRe = new Float64Array(size);
    this.chirpIm = new Float64Array(size);
    for (let n = 0; n < size; n++) {
      const angle = (Math.PI * ((n * n) % (2 * size))) / size;
      this.chirpRe[n] = Math.cos(angle);
      this.chirpIm[n] = Math.sin(angle);
    }
    // Kernel b[j] = e^(+iπj²/N) for j = −(N−1) … N−1, laid out circularly in length M.
    const b = new Float64Array(2 * m);
    for (let n = 0; n < size; n++) {
      b[2 * n] = this.chirpRe[n]!;
      b[2 * n + 1] = this.chirpIm[n]!;
      if (n > 0) {
        b[2 * (m - n)] = this.chirpRe[n]!;
        b[2 * (m - n) + 1] = this.chirpIm[n]!;
      }
    }
    this.kernel = new Float64Array(2 * m);
    this.conv.transform(this.kernel, b);
    this.a = new Float64Array(2 * m);
    this.b = new Float64Array(2 * m);
  }

  /**
   * Writes bins 0 … `bins`−1 (at most `size`) of the DFT of `input` (length `size`) into `re`/`im`
   * starting at `offset`, with stride `stride` between bins.
   */
  transform(input: Float64Array, re: Float64Array, im: Float64Array, bins: number, offset = 0, stride = 1): void {
    const n = this.size;
    if (n === 1) {
      re[offset] = input[0]!;
      im[offset] = 0;
      return;
    }
    if (this.pow2) {
      const out = this.out;
      this.pow2.realTransform(out, input);
      const half = n >> 1;
      for (let k = 0; k < bins; k++) {
        // fft.js fills bins 0 … N/2; the rest follow from conjugate symmetry X[N−k] = conj(X[k]).
        const src = k <= half ? k : n - k;
        re[offset + k * stride] = out[2 * src]!;
        im[offset + k * stride] = k <= half ? out[2 * src + 1]! : -out[2 * src + 1]!;
      }
      return;
    }
    const { chirpRe: cr, chirpIm: ci, a, b } = this;
    a.fill(0);
    for (let j = 0; j < n; j++) {
      // a[j] = x[j]·e^(−iπj²/N)
      a[2 * j] = input[j]! * cr[j]!;
      a[2 * j + 1] = -input[j]! * ci[j]!;
    }
    const conv = this.conv!;
    conv.transform(b, a);
    const kern = this.kernel;
    for (let j = 0; j < b.length; j += 2) {
      const xr = b[j]!, xi = b[j + 1]!, kr = kern[j]!, ki = kern[j + 1]!;
      b[j] = xr * kr - xi * ki;
      b[j + 1] = xr * ki + xi * kr;
    }
    conv.inverseTransform(a, b);
    for (let k = 0; k < bins; k++) {
      // X[k] = e^(−iπk²/N)·(a ⊛ b)[k]
      const yr = a[2 * k]!, yi = a[2 * k + 1]!;
      re[offset + k * stride] = yr * cr[k]! + yi * ci[k]!;
      im[offset + k * stride] = yi * cr[k]! - yr * ci[k]!;
    }
  }
}

const plans = new Map<number, RealFFT>();

/** The cached plan for `size` (plans are small; sizes used by one program are few). */
export function fftPlan(size: number): RealFFT {
  let p = plans.get(size);
  if (!p) {
    p = new RealFFT(size);
    if (plans.size > 64) plans.clear();
    plans.set(size, p);
  }
  return p;
}

/** The one-sided DFT of a real signal: bins 0 … ⌊N/2⌋ as `{ re, im }` (like numpy.fft.rfft). */
export function rfft(signal: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = signal.length;
  if (n < 1) throw new Error('Kiln: rfft: the signal is empty');
  const x = Float64Array.from(signal);
  const bins = Math.floor(n / 2) + 1;
  const re = new Float64Array(bins), im = new Float64Array(bins);
  fftPlan(n).transform(x, re, im, bins);
  return { re, im };
}
