"""Goldens for Kiln's Adagrad: torch.optim.Adagrad trajectories on fixed weights and gradients.

Run with /usr/bin/python3 (torch 1.13): writes fixtures/adagrad.json. npm test never runs this.
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)
W0 = [0.5, -1.2, 2.0, 0.0]
GRADS = [[0.3, -0.8, 1.5, 0.0], [-0.2, 0.4, 0.9, 1e-3], [0.7, 0.1, -1.1, -2.0], [0.05, -0.6, 0.2, 0.5], [1.0, -1.0, 0.0, 0.3]]
CASES = [
    {},
    {"lr": 0.1},
    {"lr": 0.05, "lr_decay": 0.3},
    {"lr": 0.1, "weight_decay": 0.2},
    {"lr": 0.2, "initial_accumulator_value": 0.5, "eps": 1e-3},
    {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.05, "initial_accumulator_value": 0.1, "eps": 1e-6},
]

out = {"torch": torch.__version__, "w0": W0, "grads": GRADS, "cases": []}
for kwargs in CASES:
    p = torch.tensor(W0, requires_grad=True)
    opt = torch.optim.Adagrad([p], **kwargs)
    traj = []
    for g in GRADS:
        p.grad = torch.tensor(g)
        opt.step()
        traj.append(p.detach().tolist())
    out["cases"].append({"options": kwargs, "trajectory": traj, "sum": opt.state[p]["sum"].tolist()})

path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "adagrad.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)
