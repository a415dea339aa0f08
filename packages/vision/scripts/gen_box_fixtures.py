"""Reference outputs of torchvision 0.14's box operations (torchvision.ops) for @kiln/vision/ops.

Run with Debian's interpreter (torch 1.13, torchvision 0.14):
    /usr/bin/python3 packages/vision/scripts/gen_box_fixtures.py
Writes packages/vision/fixtures/boxes/boxes.json (float64 values; CI needs no Python).
Scores are distinct (no ties), so the kept order of nms is fully determined.
"""
import json
import os

import torch
import torchvision.ops as ops

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "boxes")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(14)


def random_boxes(n, size=100.0, max_wh=40.0):
    xy = torch.rand(n, 2, dtype=torch.float64) * size
    wh = torch.rand(n, 2, dtype=torch.float64) * max_wh
    return torch.cat([xy, xy + wh], 1)


def clustered_boxes(n, clusters=8):
    """Boxes jittered around a few centres, so nms has plenty to suppress at every threshold."""
    centres = random_boxes(clusters)
    idx = torch.randint(0, clusters, (n,))
    jitter = torch.randn(n, 4, dtype=torch.float64) * 4.0
    b = centres[idx] + jitter
    return torch.cat([torch.minimum(b[:, :2], b[:, 2:]), torch.maximum(b[:, :2], b[:, 2:])], 1)


def L(t):
    """Nested lists; NaN (torchvision's 0/0 IoU of two zero-area boxes) becomes null."""
    return [L(v) for v in t] if t.dim() > 0 else (None if t.isnan() else t.item())


out = {}
b1 = random_boxes(20)
b2 = random_boxes(15)
b1[3] = torch.tensor([10.0, 10.0, 10.0, 30.0], dtype=torch.float64)  # zero width
b2[5] = b1[0].clone()  # an exact duplicate: IoU 1
b2[6] = torch.tensor([50.0, 50.0, 60.0, 50.0], dtype=torch.float64)  # zero height
out["boxes1"], out["boxes2"] = L(b1), L(b2)
out["box_area"] = L(ops.box_area(b1))
out["box_iou"] = L(ops.box_iou(b1, b2))
out["generalized_box_iou"] = L(ops.generalized_box_iou(b1, b2))

# gradients of a weighted sum of the pairwise IoU / gIoU with respect to both box sets
w = torch.randn(20, 15, dtype=torch.float64)
out["grad_weights"] = L(w)
for name, fn in [("box_iou", ops.box_iou), ("generalized_box_iou", ops.generalized_box_iou)]:
    # the test skips degenerate and duplicated rows (ties in max/min: the subgradient is a choice)
    g1 = b1.clone().requires_grad_(True)
    g2 = b2.clone().requires_grad_(True)
    (fn(g1, g2) * w).sum().backward()
    out[f"{name}_grad1"], out[f"{name}_grad2"] = L(g1.grad), L(g2.grad)

fmts = ["xyxy", "xywh", "cxcywh"]
for a in fmts:
    src = ops.box_convert(b1, "xyxy", a)
    out[f"convert_xyxy_{a}"] = L(src)
    for b in fmts:
        out[f"convert_{a}_{b}"] = L(ops.box_convert(src, a, b))

nb = clustered_boxes(300)
scores = torch.randperm(300, dtype=torch.float64) / 300.0 + torch.rand(300, dtype=torch.float64) * 1e-4
classes = torch.randint(0, 4, (300,))
out["nms_boxes"], out["nms_scores"], out["nms_classes"] = L(nb), L(scores), L(classes)
for thr in [0.0, 0.3, 0.5, 0.7, 1.0]:
    out[f"nms_{thr}"] = L(ops.nms(nb, scores, thr))
    out[f"batched_nms_{thr}"] = L(ops.batched_nms(nb, scores, classes, thr))

cb = random_boxes(30, size=120.0) - 20.0
out["clip_boxes"] = L(cb)
out["clip_size"] = [50, 80]
out["clip_result"] = L(ops.clip_boxes_to_image(cb, (50, 80)))
out["small_min_size"] = 12.0
out["small_result"] = L(ops.remove_small_boxes(b1, 12.0))

with open(os.path.join(OUT, "boxes.json"), "w") as f:
    json.dump({"torchvision": "0.14", **out}, f, allow_nan=False)
print({k: (len(v) if isinstance(v, list) else v) for k, v in out.items()})
