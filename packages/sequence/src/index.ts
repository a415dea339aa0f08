/** @kiln/sequence — recurrent layers, tokenisers, language models and sampling. */
export {};
export * from './text/index.js';
