/** The sequence architectures of course 5.1.3.3 as small building blocks. */
export { ManyToOne } from './many-to-one.js';
export { ManyToMany } from './many-to-many.js';
export { Seq2Seq } from './seq2seq.js';
export { OneToMany } from './one-to-many.js';
export { Decoder, type DecoderState } from './decoder.js';
export { type CellKind, type RecurrentSpec, finalFeatures } from './common.js';
