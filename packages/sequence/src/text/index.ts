/** Tokenisers, vocabularies and text utilities. */
export { Vocab, PAD, UNK, BOS, EOS, DEFAULT_SPECIALS, type VocabOptions, type EncodeOptions, type VocabJSON } from './vocab.js';
export {
  Tokenizer, charTokenize, wordTokenize, detokenize, splitSentences, type TokenizerKind, type TokenizerOptions, type TokenizerJSON,
} from './tokenize.js';
export { parseWordnetData, type WordnetSynset } from './wordnet.js';
