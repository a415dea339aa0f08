import { describe, expect, it } from 'vitest';
import { GloVe, Word2Vec, type WordVectors } from '../index.js';

// A third of WordNet's synsets (every third one of each part of speech, so countries stay in),
// about 55 000 sentences and 584 000 tokens; the evaluation is the demo's (11 relations, WordNet
// similarity pairs, 500 of each grade) over the 3000 most frequent words. Together about 41 s CPU;
// the generous timeouts are for a loaded CI machine, not the work.
const { wordnetSentences } = await import('../../demo/embeddings-data.js');
const { evaluateAnalogies, evaluateSimilarity, overall } = await import('../../demo/embeddings-eval.js');
const sentences = wordnetSentences({ every: 3 }).sentences;
const TOP = 3000;

function evaluate(wv: WordVectors) {
  const rows = evaluateAnalogies(wv, { restrictVocab: TOP, maxQuestions: 300 });
  const continent = rows.find((r) => r.relation === 'country→continent')!.result;
  return { all: overall(rows), continent, similarity: evaluateSimilarity(wv, TOP, 500) };
}

describe('embeddings trained on a third of WordNet: analogies and similarity above chance', () => {
  it('GloVe (dim 32, 5 epochs)', () => {
    const { vectors } = GloVe.train(sentences, { dim: 32, window: 10, epochs: 5, batchSize: 8192, seed: 1 });
    const { all, continent, similarity } = evaluate(vectors);
    // measured: 2.7% top-5 over 2332 questions (chance 0.17%), country→continent 27% top-5 (136 questions), ρ 0.24 on 900 pairs
    expect(all.total).toBeGreaterThan(2000);
    expect(all.add5).toBeGreaterThan(8 * all.chanceTopK);
    expect(continent.total).toBeGreaterThan(100);
    expect(continent['3CosAdd'].accuracyTopK).toBeGreaterThan(60 * continent.chanceTopK);
    expect(similarity.rho).toBeGreaterThan(5 * similarity.chanceSd);
  });

  it('word2vec skip-gram (dim 32, 3 epochs, sub-sampling 1e-4, input + output vectors)', () => {
    const { vectors } = Word2Vec.train(sentences, { dim: 32, epochs: 3, sample: 1e-4, batchSize: 2048, seed: 1, vectors: 'input+output' });
    const { all, continent, similarity } = evaluate(vectors);
    // measured (900 similarity pairs): ρ 0.111, 3.3 chance SDs; the input vectors alone scored at chance on the full corpus
    expect(all.add5).toBeGreaterThan(8 * all.chanceTopK);
    expect(continent['3CosAdd'].accuracyTopK).toBeGreaterThan(60 * continent.chanceTopK);
    expect(similarity.rho).toBeGreaterThan(3 * similarity.chanceSd);
  });
});
