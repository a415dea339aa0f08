"""CTC loss fixtures from PyTorch 1.13's torch.nn.functional.ctc_loss, for @kiln/sequence's ctcLoss.

Run with /usr/bin/python3 from packages/sequence:
    /usr/bin/python3 scripts/gen_ctc_fixtures.py
Writes fixtures/ctc/ctc_loss.json: a list of cases. Each holds the logits x (float64, [T, N, C] or
[T, C] unbatched, flattened), the targets as given to PyTorch (padded [N, S] or concatenated 1-D),
the lengths, the options, and PyTorch's results: the loss (reduction applied), the gradient of
`objective` with respect to log_probs = x.log_softmax(-1) (PyTorch's own CTC backward), and the
gradient with respect to x (through log_softmax). The objective is the loss itself for 'mean' and
'sum' and Σ_n (n+1)·loss_n for 'none', so each sample's gradient is scaled differently.
Floats are written with repr (exact); Infinity and NaN as the strings "Infinity" and "NaN".
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1616)
cases = []


def num(v):
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def add(name, T, N, C, targets, input_lengths, target_lengths, scale=2.0, **opts):
    """N = None: unbatched ([T, C] input, a 1-D target, scalar lengths)."""
    shape = [T, C] if N is None else [T, N, C]
    x = (torch.randn(*shape, dtype=torch.float64) * scale).requires_grad_()
    lp = x.log_softmax(-1)
    lp.retain_grad()
    tg = torch.tensor(targets, dtype=torch.long)
    il = torch.tensor(input_lengths, dtype=torch.long)
    tl = torch.tensor(target_lengths, dtype=torch.long)
    loss = F.ctc_loss(lp, tg, il, tl, **opts)
    if opts.get("reduction") == "none":
        w = torch.arange(1, loss.numel() + 1, dtype=torch.float64).reshape(loss.shape)
        (loss * w).sum().backward()
    else:
        loss.backward()
    cases.append({
        "name": name,
        "shape": shape,
        "x": [num(v) for v in x.detach().flatten().tolist()],
        "targets": targets,
        "inputLengths": input_lengths,
        "targetLengths": target_lengths,
        "options": {k: v for k, v in {"blank": opts.get("blank"), "reduction": opts.get("reduction"), "zeroInfinity": opts.get("zero_infinity")}.items() if v is not None},
        "loss": [num(v) for v in loss.detach().flatten().tolist()],
        "gradLogProbs": [num(v) for v in lp.grad.flatten().tolist()],
        "gradX": [num(v) for v in x.grad.flatten().tolist()],
    })


# Padded targets [N, S]: "11" needs a blank between its two 1s; variable input and target lengths.
padded = [[1, 1, 2, 0], [3, 2, 0, 0], [4, 4, 4, 1], [2, 0, 0, 0]]
for red in ("mean", "sum", "none"):
    add(f"padded, repeated labels, reduction {red}", 12, 4, 5, padded, [12, 9, 10, 4], [3, 2, 4, 1], reduction=red)
# The same labels concatenated into one 1-D tensor.
concat = [1, 1, 2, 3, 2, 4, 4, 4, 1, 2]
for red in ("mean", "sum", "none"):
    add(f"concatenated, reduction {red}", 12, 4, 5, concat, [12, 9, 10, 4], [3, 2, 4, 1], reduction=red)
# Zero-length targets: loss = −Σ_t log p(blank); 'mean' divides by max(length, 1).
for red in ("mean", "none"):
    add(f"zero-length targets, reduction {red}", 7, 3, 4, [[1, 2], [0, 0], [3, 0]], [7, 5, 6], [2, 0, 1], reduction=red)
# Impossible alignments: "11" in 2 frames (needs 3), "222" in 4 (needs 5) → Infinity; zeroInfinity → 0 and zero gradients.
for red in ("none", "sum", "mean"):
    for zi in (False, True):
        add(f"impossible alignments, reduction {red}, zeroInfinity {zi}", 6, 3, 4, [[1, 1, 0], [2, 2, 2], [1, 3, 0]], [2, 4, 6], [2, 3, 2], reduction=red, zero_infinity=zi)
# A target longer than its input (3 labels, 2 frames): PyTorch gives Infinity; with zeroInfinity, 0.
add("target longer than input, zeroInfinity", 5, 2, 4, [[1, 2, 3], [3, 1, 0]], [2, 5], [3, 2], reduction="none", zero_infinity=True)
# blank ≠ 0 (the last class), with label 0 a real label.
for red in ("mean", "none"):
    add(f"blank = C-1, reduction {red}", 8, 3, 5, [[0, 0, 3], [1, 2, 0], [3, 0, 0]], [8, 6, 7], [3, 2, 1], blank=4, reduction=red)
add("blank = 2 (middle class), concatenated", 7, 2, 4, [0, 3, 3, 1], [7, 6], [3, 1], blank=2, reduction="sum")
# Unbatched [T, C] input, 1-D target, scalar lengths.
for red in ("mean", "none"):
    add(f"unbatched, reduction {red}", 9, None, 6, [5, 1, 1, 2], 9, 4, reduction=red)
# Longer sequences with peaked distributions: log-space stability.
long_t = torch.randint(1, 20, (3, 15)).tolist()
add("long: T 60, C 20, S 15, peaked", 60, 3, 20, long_t, [60, 48, 55], [15, 12, 9], scale=8.0, reduction="mean")
add("long: T 60, C 20, S 15, peaked, none", 60, 3, 20, long_t, [60, 40, 31], [15, 15, 15], scale=8.0, reduction="none")

out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "ctc", "ctc_loss.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
tmp = out + ".tmp"
with open(tmp, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
os.replace(tmp, out)
print(f"wrote {len(cases)} cases to {os.path.normpath(out)} ({os.path.getsize(out)} bytes)")
