"""Reference outputs of torchvision 0.14's tensor transforms and of PIL's PNG/JPEG decoders for
@kiln/vision's transform and image tests.

Run with Debian's interpreter (torch 1.13, torchvision 0.14, Pillow):
    /usr/bin/python3 packages/vision/scripts/gen_transform_fixtures.py
Writes packages/vision/fixtures/transforms/{transforms.safetensors, *.png, *.jpg, images.safetensors}.
Safetensors are written by hand (8-byte little-endian header length, JSON header, raw data).
"""
import json
import os
import struct

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "transforms")
os.makedirs(OUT, exist_ok=True)


def save_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t)
        dtype = {np.float32: "F32", np.float64: "F64", np.int32: "I32", np.uint8: "U8"}[a.dtype.type]
        raw = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


torch.manual_seed(0)
# a smooth image plus fine detail, so antialiasing visibly matters
yy, xx = torch.meshgrid(torch.linspace(0, 1, 37), torch.linspace(0, 1, 53), indexing="ij")
img = torch.stack([xx, yy, 0.5 * (xx + yy)]) * 0.6 + 0.4 * torch.rand(3, 37, 53)
out = {"input": img}
cases = {
    "resize_short20": (20, False), "resize_short20_aa": (20, True),
    "resize_24x31": ([24, 31], False), "resize_24x31_aa": ([24, 31], True),
    "resize_up50x70": ([50, 70], False), "resize_up50x70_aa": ([50, 70], True),
    "resize_9x5_aa": ([9, 5], True),
}
for name, (size, aa) in cases.items():
    out[name] = F.resize(img, size, antialias=aa)
out["resize_short30_max40"] = F.resize(img, 30, max_size=40)
out["crop_16x20"] = F.center_crop(img, [16, 20])
out["crop_21"] = F.center_crop(img, 21)
out["crop_36x52"] = F.center_crop(img, [36, 52])  # offsets round(0.5) = 0 (half to even)
out["crop_40x60"] = F.center_crop(img, [40, 60])  # larger than the image: zero-padded
out["normalize_imagenet"] = F.normalize(img, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
pipeline = T.Compose([T.Resize(24, antialias=True), T.CenterCrop(20), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
out["compose"] = pipeline(img)
save_safetensors(os.path.join(OUT, "transforms.safetensors"), out, {"torch": torch.__version__, "torchvision": __import__("torchvision").__version__})

# images: PIL writes, PIL decodes; the tests decode the same files with pngjs / jpeg-js
rng = np.random.default_rng(0)
base = (np.stack([np.tile(np.linspace(0, 255, 24), (16, 1)), np.tile(np.linspace(0, 255, 16)[:, None], (1, 24)),
                  np.full((16, 24), 128.0)], -1) * 0.7 + rng.integers(0, 77, (16, 24, 3))).astype(np.uint8)
rgba = np.concatenate([base, rng.integers(0, 256, (16, 24, 1)).astype(np.uint8)], -1)
Image.fromarray(base, "RGB").save(os.path.join(OUT, "rgb.png"))
Image.fromarray(base[:, :, 0], "L").save(os.path.join(OUT, "grey.png"))
Image.fromarray(rgba, "RGBA").save(os.path.join(OUT, "rgba.png"))
Image.fromarray(base, "RGB").save(os.path.join(OUT, "rgb.jpg"), quality=90, subsampling=0)  # 4:4:4: no chroma upsampling, where decoders differ most
decoded = {
    "rgb_png": np.asarray(Image.open(os.path.join(OUT, "rgb.png"))),
    "grey_png": np.asarray(Image.open(os.path.join(OUT, "grey.png"))),
    "rgba_png": np.asarray(Image.open(os.path.join(OUT, "rgba.png"))),
    "rgb_jpg": np.asarray(Image.open(os.path.join(OUT, "rgb.jpg")).convert("RGB")),
    "rgb_png_to_tensor": F.to_tensor(Image.open(os.path.join(OUT, "rgb.png"))),
}
save_safetensors(os.path.join(OUT, "images.safetensors"), decoded)
print("wrote", sorted(os.listdir(OUT)))
