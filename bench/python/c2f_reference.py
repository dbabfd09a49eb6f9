#!/usr/bin/env python3
"""The same coarse-to-fine inference as c2f-segment, in plain numpy + PyTorch: the yardstick
c2f-bench measures the C++ engine against (same TorchScript checkpoints, same cases).

Reads cases from a c2f HDF5 case store (/cases/<id>/image, float32 HU, [z, y, x], canonical RAS)
and writes /masks/<id> (uint8, [z, y, x]) to an HDF5 file. Paper defaults: 3-slice inputs,
per-view average of the predictions containing each voxel, mean fusion, threshold 0.5, frame 15
voxels, stop when d(t) > 0.95 or t = 10. Prints a JSON line with the seconds spent.

    c2f_reference.py STORE MODELS OUT.h5 [--batch 8] [--threads N]
"""
import argparse
import json
import os
import sys
import time

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "examples", "python")]  # installed beside it, or the source tree
from c2f_models import load_checkpoint  # noqa: E402

VIEWS = ("coronal", "sagittal", "axial")
# For a volume indexed [z, y, x]: the axis each view slices along, and the transpose that puts it
# first with the slice's rows and columns in c2f's (v, u) order.
SLICE_ORDER = {"axial": (0, 1, 2), "coronal": (1, 0, 2), "sagittal": (2, 0, 1)}


def view_probability(net, vol, view, box, batch):
    """The view's map on box (z0, z1, y0, y1, x0, x1): each voxel averages its 3-slice predictions."""
    order = SLICE_ORDER[view]
    v = vol.transpose(order)                      # [depth, rows, cols]
    lo = [box[0], box[2], box[4]]
    hi = [box[1], box[3], box[5]]
    k0, k1 = lo[order[0]], hi[order[0]]
    r0, r1 = lo[order[1]], hi[order[1]]
    c0, c1 = lo[order[2]], hi[order[2]]
    depth = v.shape[0]
    total = np.zeros((k1 - k0, r1 - r0, c1 - c0), np.float32)
    count = np.zeros(k1 - k0, np.float32)
    n = k1 - k0
    batches = (n + batch - 1) // batch
    with torch.inference_mode():
        for b in range(batches):
            a, e = k0 + n * b // batches, k0 + n * (b + 1) // batches
            idx = np.stack([np.clip(np.arange(a, e) + d, 0, depth - 1) for d in (-1, 0, 1)], axis=1)
            x = np.ascontiguousarray(v[idx][:, :, r0:r1, c0:c1])
            p = torch.sigmoid(net(torch.from_numpy(x))).numpy()
            for i, k in enumerate(range(a, e)):
                for c in range(3):
                    j = k - 1 + c
                    if k0 <= j < k1:
                        total[j - k0] += p[i, c]
                        count[j - k0] += 1
    total /= count[:, None, None]
    return total.transpose(np.argsort(order))    # back to [z, y, x]


def fused_mask(nets, vol, box, batch):
    maps = [view_probability(nets[v], vol, v, box, batch).astype(np.float64) for v in VIEWS]
    fused = ((maps[0] + maps[1] + maps[2]) / 3.0).astype(np.float32)
    region = fused >= 0.5
    out = np.zeros(vol.shape, np.uint8)
    out[box[0]:box[1], box[2]:box[3], box[4]:box[5]] = region
    return out


def dsc(a, b):
    sa, sb = int(a.sum()), int(b.sum())
    return 1.0 if sa + sb == 0 else 2.0 * int(np.logical_and(a, b).sum()) / (sa + sb)


def frame_box(mask, frame):
    nz = np.nonzero(mask)
    if len(nz[0]) == 0:
        return (0, mask.shape[0], 0, mask.shape[1], 0, mask.shape[2])
    box = []
    for axis in range(3):
        box += [max(0, int(nz[axis].min()) - frame), min(mask.shape[axis], int(nz[axis].max()) + 1 + frame)]
    return tuple(box)


def segment(nets, hu, window, batch, frame=15, stop=0.95, most=10):
    vol = np.clip((hu - window[0]) * np.float32(1.0 / (window[1] - window[0])), 0.0, 1.0).astype(np.float32)
    whole = (0, vol.shape[0], 0, vol.shape[1], 0, vol.shape[2])
    s = fused_mask(nets["coarse"], vol, whole, batch)
    for t in range(1, most + 1):
        nxt = fused_mask(nets["fine"], vol, frame_box(s, frame), batch)
        d = dsc(s, nxt)
        s = nxt
        if d > stop:
            break
    return s, t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store")
    ap.add_argument("models")
    ap.add_argument("out")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads or os.cpu_count())
    start = time.perf_counter()
    nets = {"coarse": {}, "fine": {}}
    window = None
    for scale in nets:
        for view in VIEWS:
            net, info = load_checkpoint(os.path.join(args.models, f"{scale}_{view}.pt"))
            nets[scale][view] = net
            window = tuple(info["window_hu"])
    loaded = time.perf_counter()
    iterations = {}
    tmp = args.out + ".partial"
    with h5py.File(args.store, "r") as store, h5py.File(tmp, "w") as out:
        for case in sorted(store["cases"].keys()):
            hu = store["cases"][case]["image"][...].astype(np.float32)
            mask, t = segment(nets, hu, window, args.batch)
            out.create_dataset(f"masks/{case}", data=mask, compression="gzip", compression_opts=1)
            iterations[case] = t
    os.replace(tmp, args.out)
    end = time.perf_counter()
    print(json.dumps({"seconds": end - start, "load_seconds": loaded - start, "iterations": iterations,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
