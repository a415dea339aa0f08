export { type Image, checkImage, convertChannels } from './image.js';
export { decodePng, encodePng, type DecodeOptions } from './png.js';
export { decodeJpeg, encodeJpeg } from './jpeg.js';
export { decodeImage, readImage, writeImage } from './io.js';
