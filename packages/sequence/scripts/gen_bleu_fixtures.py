"""Corpus-BLEU fixtures from NLTK's corpus_bleu (Debian python3-nltk 3.8), for @kiln/sequence's bleu().

Run with /usr/bin/python3 from packages/sequence:
    /usr/bin/python3 scripts/gen_bleu_fixtures.py
Writes fixtures/bleu/corpus_bleu.json: a list of cases, each with token lists, the n-gram order
(uniform weights 1/maxN), the smoothing method name and NLTK's score (floats as repr, so exact).
"""
import json
import os
import random
import warnings

import nltk
from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu

warnings.simplefilter("ignore")  # method0 warns on zero n-gram matches; the score is what we record
rng = random.Random(1234)
sf = SmoothingFunction()
METHODS = {"none": None, "method0": sf.method0, "method1": sf.method1, "method2": sf.method2, "method3": sf.method3, "method4": sf.method4}
WORDS = "the cat sat on mat a dog ran in park it is was big small red".split()


def sentence(n, vocab):
    return [rng.choice(vocab) for _ in range(n)]


def noisy_copy(ref, p):
    """The reference with each token dropped, replaced or kept (so n-grams partly match)."""
    out = []
    for t in ref:
        r = rng.random()
        if r < p / 2:
            continue
        out.append(rng.choice(WORDS) if r < p else t)
    if rng.random() < p:
        out += sentence(rng.randint(1, 3), WORDS)
    return out


def random_corpus(n_sent, n_refs, p, min_len=0, max_len=14, vocab=WORDS):
    cands, refs = [], []
    for _ in range(n_sent):
        base = sentence(rng.randint(max(min_len, 1), max_len), vocab)
        rs = [base] + [noisy_copy(base, 0.3) for _ in range(n_refs - 1)]
        rng.shuffle(rs)
        cands.append(noisy_copy(base, p)[: rng.randint(min_len, max_len)])
        refs.append(rs)
    return cands, refs


cases = []


def add(name, cands, refs, max_n=4, methods=METHODS):
    weights = tuple([1.0 / max_n] * max_n)
    for mname, fn in methods.items():
        score = corpus_bleu(refs, cands, weights=weights, smoothing_function=fn)
        cases.append({"name": name, "maxN": max_n, "smoothing": mname, "candidates": cands, "references": refs, "score": float(score)})


# hand-made: the classic NLTK docstring example, a perfect match, short and empty candidates, no overlap
hyp1 = "It is a guide to action which ensures that the military always obeys the commands of the party".split()
ref1a = "It is a guide to action that ensures that the military will forever heed Party commands".split()
ref1b = "It is the guiding principle which guarantees the military forces always being under the command of the Party".split()
ref1c = "It is the practical guide for the army always to heed the directions of the party".split()
hyp2 = "he read the book because he was interested in world history".split()
ref2a = "he was interested in world history because he read the book".split()
add("nltk docstring corpus", [hyp1, hyp2], [[ref1a, ref1b, ref1c], [ref2a]])
add("perfect match", [ref2a, ref1a], [[ref2a], [ref1a, ref1b]])
add("short candidates (1-3 tokens)", [["the"], ["the", "cat"], ["cat", "sat", "on"]], [[["the", "cat", "sat"]], [["the", "cat", "is", "big"]], [["a", "cat", "sat", "on", "the", "mat"]]])
add("one empty candidate", [[], ["the", "cat", "sat", "on", "the", "mat"]], [[["a", "cat"]], [["the", "cat", "sat", "on", "a", "mat"]]])
add("no unigram overlap", [["x", "y", "z"]], [[["the", "cat", "sat"]]])
add("no 4-gram overlap", [["the", "cat", "sat", "in", "the", "park"]], [[["the", "cat", "sat", "on", "the", "mat"]]])
add("clipping (the the the)", [["the"] * 7], [[["the", "cat", "is", "on", "the", "mat"], ["there", "is", "a", "cat", "on", "the", "mat"]]])
add("closest reference length tie picks the shorter", [["a", "b", "c", "d", "e"]], [[["a", "b", "c", "d"], ["a", "b", "c", "d", "e", "f"]]])
add("longer than every reference", [["the", "cat", "sat", "on", "the", "mat", "in", "the", "park"]], [[["the", "cat", "sat"], ["the", "cat", "sat", "on"]]])

# random corpora: 1-4 references, varied noise, short candidates, each order 1..4
for k in range(14):
    n_refs = 1 + k % 4
    p = [0.1, 0.3, 0.6, 0.9][k % 4]
    max_len = 4 if k % 5 == 0 else 14
    cands, refs = random_corpus(rng.randint(1, 12), n_refs, p, min_len=0, max_len=max_len)
    for max_n in (1, 2, 3, 4) if k % 3 == 0 else (4,):
        add(f"random {k} (refs {n_refs}, noise {p}, max length {max_len})", cands, refs, max_n=max_n)

os.makedirs("fixtures/bleu", exist_ok=True)
out = {"generator": "scripts/gen_bleu_fixtures.py", "nltk": nltk.__version__, "cases": cases}
tmp = "fixtures/bleu/corpus_bleu.json.tmp"
with open(tmp, "w") as f:
    json.dump(out, f, separators=(",", ":"))
os.replace(tmp, "fixtures/bleu/corpus_bleu.json")
print(f"{len(cases)} cases, nltk {nltk.__version__}, scores {sorted(set(round(c['score'], 4) for c in cases))[:8]}...")
