/** @kiln/sequence — recurrent layers, tokenisers, language models and sampling. */
export {};
