import { Generator, tensor } from '@kiln/tensor';
import { checkGeneratorArgs, type LabelledSet } from './shapes.js';

export const BEAT_CLASSES = ['normal', 'pvc', 'st-elevation'] as const;

export interface EcgBeatsOptions {
  /** Samples per beat window (default 128; the window spans about one second). */
  length?: number;
  seed?: number;
  /** Standard deviation of the white measurement noise (default 0.04). */
  noise?: number;
}

/** A Gaussian bump of height `a` centred at `mu` with width `w` (seconds). */
const bump = (t: number, a: number, mu: number, w: number): number => a * Math.exp(-0.5 * ((t - mu) / w) ** 2);

/**
 * Seeded ECG-like single-beat windows for 1-D CNNs: x [N, 1, length] float32, y [N] int32
 * (label i is i mod 3, so every prefix is balanced):
 * - 0 `normal`: P wave, narrow QRS complex, upright T wave;
 * - 1 `pvc` (premature ventricular contraction): no P wave, a wide, tall QRS and an inverted T;
 * - 2 `st-elevation`: a normal beat whose ST segment (between S and T) is raised.
 * Every beat gets a random R-peak position, heart-rate stretch (±15%), amplitude (±20%),
 * slow baseline wander and white noise, so the class is in the morphology, not in a fixed sample.
 */
export function ecgBeats(n: number, options: EcgBeatsOptions = {}): LabelledSet {
  checkGeneratorArgs('ecgBeats', n, options, { length: { min: 16, max: 65536, integer: true }, seed: { min: 0, max: 2 ** 32, integer: true }, noise: { min: 0, max: 1 } });
  const len = options.length ?? 128, noise = options.noise ?? 0.04;
  const g = new Generator(options.seed ?? 0);
  const x = new Float32Array(n * len), y = new Int32Array(n);
  const u = (lo: number, hi: number): number => lo + (hi - lo) * g.random();
  for (let i = 0; i < n; i++) {
    const label = i % 3;
    y[i] = label;
    const r = u(0.3, 0.45), stretch = u(0.85, 1.15), amp = u(0.8, 1.2);
    const wanderA = u(0, 0.12), wanderF = u(0.1, 0.5), wanderP = u(0, 2 * Math.PI);
    const stLift = u(0.18, 0.3);
    for (let k = 0; k < len; k++) {
      const sec = k / len;
      const t = (sec - r) / stretch; // seconds relative to the R peak, in beat time
      let v: number;
      if (label === 1) {
        v = bump(t, -0.15, -0.05, 0.02) + bump(t, 1.6, 0, 0.035) + bump(t, -0.45, 0.07, 0.03) + bump(t, -0.4, 0.28, 0.06);
      } else {
        v = bump(t, 0.15, -0.2, 0.025) + bump(t, -0.12, -0.03, 0.01) + bump(t, 1, 0, 0.012) + bump(t, -0.25, 0.03, 0.012) + bump(t, 0.3, 0.25, 0.05);
        // ST elevation: a plateau from just after S into the T wave, with soft edges
        if (label === 2) v += stLift / ((1 + Math.exp(-(t - 0.05) / 0.008)) * (1 + Math.exp((t - 0.22) / 0.02)));
      }
      x[i * len + k] = amp * v + wanderA * Math.sin(2 * Math.PI * wanderF * sec + wanderP) + noise * g.normal();
    }
  }
  return { x: tensor(x, { shape: [n, 1, len] }), y: tensor(y, { dtype: 'int32' }), classes: BEAT_CLASSES };
}
