/** @kiln/vision — the CNN zoo, image I/O and transforms, transfer learning and visualisation. */
export {};
