"""The PyTorch mirror of the CPU recipe that measured issue 11's levers on a borrowed GPU.

Not part of the project (PyTorch is not one of its dependencies): kept so that the figures in
README.md beside it can be re-made. pack.py writes pack96.npz beside this file first; then
`python mirror.py OUT.jsonl SPEC...` trains one network per JSON spec and appends its validation
scores to OUT.jsonl. Spec keys: name, arch ("compact" or "res"), widths, phases ([[size, epochs],
...]), lr, wd, ls (label smoothing), ema, dropout, batch, aug ([degrees, shear, zoom, shift]),
test_res (sizes to read the validation photos at), seed. Example:
`python mirror.py out.jsonl '{"name": "base", "phases": [[64, 8.2]], "test_res": [64, 80]}'`
"""

import copy
import io
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DEV = "cuda" if torch.cuda.is_available() else "cpu"


def _decode(args):
    blob, res = args
    im = Image.open(io.BytesIO(blob)).convert("RGB")
    if res != im.size[0]:
        im = im.resize((res, res), Image.LANCZOS)
    return np.asarray(im)


def load(res_list):
    pack_path = os.path.join(HERE, "pack96.npz")
    pack = np.load(pack_path)
    data, lengths = pack["data"].tobytes(), pack["lengths"]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    blobs = [data[offsets[i] : offsets[i + 1]] for i in range(len(lengths))]
    # Decoded arrays are cached per size and per pack: a repacked pack96.npz gets fresh ones.
    stamp = f"{os.path.getsize(pack_path)}-{os.path.getmtime(pack_path):.0f}"
    out = {}
    for res in sorted(set(res_list)):
        cache = f"/tmp/res{res}-{stamp}.npy"
        if os.path.exists(cache):
            out[res] = np.load(cache)
        else:
            with ProcessPoolExecutor(8) as pool:
                arr = np.stack(list(pool.map(_decode, [(b, res) for b in blobs], chunksize=256)))
            np.save(cache + ".tmp.npy", arr)
            os.replace(cache + ".tmp.npy", cache)
            out[res] = arr
    return out, pack["label"].astype("int64"), pack["val"].astype(bool)


class ConvBN(nn.Module):
    """Conv (no bias), optional max-pool, BN (Keras momentum 0.9, eps 1e-3), ReLU."""

    def __init__(self, cin, cout, stride=1, pool=False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        nn.init.xavier_uniform_(self.conv.weight)
        self.pool = pool
        self.bn = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1)

    def forward(self, x):
        x = self.conv(x)
        if self.pool:
            x = F.max_pool2d(x, 2)
        return F.relu(self.bn(x))


class Residual(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.a, self.b = ConvBN(w, w), ConvBN(w, w)

    def forward(self, x):
        return x + self.b(self.a(x))


def build(spec):
    arch = spec.get("arch", "compact")
    layers, cin = [], 3
    if arch == "compact":
        for widths in spec.get("widths", [[32], [64], [128], [256, 256]]):
            for i, w in enumerate(widths):
                layers.append(ConvBN(cin, w, pool=(i == len(widths) - 1)))
                cin = w
    elif arch == "res":
        stem = spec.get("stem", 32)
        layers.append(
            ConvBN(3, stem, stride=spec.get("stem_stride", 1), pool=spec.get("stem_pool", True))
        )
        cin = stem
        for w in spec.get("widths", [64, 128, 256]):
            layers += [ConvBN(cin, w, pool=True), Residual(w)]
            cin = w
    head = nn.Linear(cin, 2)
    nn.init.xavier_uniform_(head.weight)
    nn.init.zeros_(head.bias)
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(spec.get("dropout", 0.3)), head
    )


def augment(x, gen, rot=15, shear=0.1, zoom=0.2, shift=0.1):
    """The project's RandomAffine (rotation 15 deg, shear 0.1, zoom 0.2, shift 0.1, flip)."""
    n = x.shape[0]

    def u(lim):
        return (torch.rand(n, device=x.device, generator=gen) * 2 - 1) * lim

    angle, shx, shy, scale = u(rot * math.pi / 180), u(shear), u(shear), 1 + u(zoom)
    flip = torch.where(torch.rand(n, device=x.device, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    a00 = (cos - sin * shy) * scale * flip
    a01 = (cos * shx - sin) * scale
    a10 = (sin + cos * shy) * scale * flip
    a11 = (sin * shx + cos) * scale
    tx, ty = u(shift) * 2, u(shift) * 2  # normalized coords span 2
    theta = torch.stack([torch.stack([a00, a01, tx], 1), torch.stack([a10, a11, ty], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def run(spec, images, labels, val):
    seed = spec.get("seed", 42)
    torch.manual_seed(seed)
    gen = torch.Generator(device=DEV).manual_seed(seed)
    rng = np.random.default_rng(seed)
    batch = spec.get("batch", 64)
    train_idx = np.flatnonzero(~val)
    steps_per_epoch = len(train_idx) // batch + 1
    phase_steps = [int(round(e * steps_per_epoch)) for _, e in spec["phases"]]
    total = sum(phase_steps)
    warm = min(steps_per_epoch, total // 4)
    peak = spec.get("lr", 1e-3)
    model = build(spec).to(DEV).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(
        model.parameters(), lr=peak, weight_decay=spec.get("wd", 0.05), eps=1e-7
    )
    ema = copy.deepcopy(model) if spec.get("ema") else None
    ema_m = spec.get("ema_momentum", 0.999)
    ls = spec.get("ls", 0.0)
    gpu = {r: torch.from_numpy(a).to(DEV) for r, a in images.items()}
    y_all = torch.from_numpy(labels).to(DEV)
    step = 0
    t0 = time.time()
    model.train()
    for (res, _), steps in zip(spec["phases"], phase_steps, strict=True):
        done = 0
        while done < steps:
            order = rng.permutation(train_idx)
            for start in range(0, len(order) - batch + 1, batch):
                if done == steps:
                    break
                lr = (
                    peak * step / warm
                    if step < warm
                    else peak * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))
                )
                for g in opt.param_groups:
                    g["lr"] = lr
                idx = torch.from_numpy(order[start : start + batch]).to(DEV)
                x = (
                    gpu[res][idx]
                    .permute(0, 3, 1, 2)
                    .float()
                    .div_(255)
                    .contiguous(memory_format=torch.channels_last)
                )
                x = augment(x, gen, *spec.get("aug", [15, 0.1, 0.2, 0.1]))
                loss = F.cross_entropy(model(x), y_all[idx], label_smoothing=ls)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if ema is not None:
                    with torch.no_grad():
                        for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
                            pe.lerp_(pm, 1 - ema_m)
                        for be, bm in zip(ema.buffers(), model.buffers(), strict=True):
                            be.copy_(bm)
                step += 1
                done += 1
    seconds = time.time() - t0
    result = dict(
        spec,
        steps=total,
        seconds=round(seconds, 1),
        params=sum(p.numel() for p in model.parameters()),
    )
    y = labels[val]
    for tag_model, net in (("", model), ("_ema", ema)):
        if net is None:
            continue
        net.eval()
        for res in val_sizes(spec):
            xv = gpu[res][torch.from_numpy(np.flatnonzero(val)).to(DEV)]
            with torch.no_grad():
                ps, pfs = [], []
                for s in range(0, len(xv), 512):
                    xb = (
                        xv[s : s + 512]
                        .permute(0, 3, 1, 2)
                        .float()
                        .div_(255)
                        .contiguous(memory_format=torch.channels_last)
                    )
                    ps.append(F.softmax(net(xb), 1)[:, 1])
                    pfs.append(F.softmax(net(xb.flip(3)), 1)[:, 1])
                p, pf = torch.cat(ps).cpu().numpy(), torch.cat(pfs).cpu().numpy()
            for tag, q in (("", p), ("_flip", (p + pf) / 2)):
                q = np.clip(q, 1e-7, 1 - 1e-7)
                result[f"acc{res}{tag}{tag_model}"] = round(float(((q > 0.5) == y).mean()), 4)
                result[f"ll{res}{tag}{tag_model}"] = round(
                    float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))), 4
                )
    return result


def val_sizes(spec):
    """The sizes a spec reads the validation photos at: its last training size by default."""
    return spec.get("test_res", [spec["phases"][-1][0]])


def sizes_needed(spec):
    """The sizes a spec trains at and reads the validation photos at."""
    return {p[0] for p in spec["phases"]} | set(val_sizes(spec))


def main():
    out_path, specs = sys.argv[1], [json.loads(s) for s in sys.argv[2:]]
    # One load for every spec: the pack is read and each size decoded once, not once per spec.
    images, labels, val = load(set().union(*map(sizes_needed, specs)))
    for spec in specs:
        result = run(spec, {res: images[res] for res in sizes_needed(spec)}, labels, val)
        print(json.dumps(result), flush=True)
        with open(out_path, "a") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
