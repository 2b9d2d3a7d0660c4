"""B1: one training epoch of dgmlib.fit against the compute floor and a DataLoader loop.

    python benchmarks/bench_train.py [--repeats 3] [--device cpu] [--quick]

* compute floor: the same model's forward, backward and Adam steps on batches sliced beforehand
  (no shuffling, no data pipeline, no bookkeeping);
* dgmlib.fit: one epoch (data resident on the device, shuffled per epoch, one host sync);
* DataLoader: the conventional ``DataLoader(TensorDataset(x), batch_size, shuffle=True)`` loop;
* on a GPU also dgmlib.fit with ``mixed_precision=True`` (bfloat16 networks).

Data: the binarized digits (1297 x 64, MLP 64-256-256-8) and MNIST-sized random binary data
(60000 x 784, MLP 784-400-20 and the small conv model). The methods are timed in interleaved
rounds; each ratio is taken within a round (same machine state) and reported as the median and
min-max over rounds. Writes benchmarks/out/train.md and train.json (raw times); never asserts a
time.
"""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import statistics
import sys
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

import dgmlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from machine import describe  # noqa: E402
from rounds import fmt, per_round  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent / "out"


def floor_epoch(model, batches, opt):
    for xb in batches:
        loss = -dgmlib.elbo(model, xb).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def loader_epoch(model, loader, opt):
    for (xb,) in loader:
        loss = -dgmlib.elbo(model, xb).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def measure(name, x, make_model, batch_size, repeats, device, sync):
    model = make_model().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    pre_sliced = list(torch.split(x, batch_size))
    loader = DataLoader(TensorDataset(x), batch_size=batch_size, shuffle=True)
    methods = {
        "compute floor": lambda: floor_epoch(model, pre_sliced, opt),
        "dgmlib.fit": lambda: dgmlib.fit(model, x, epochs=1, batch_size=batch_size, optimizer=opt,
                                         progress=False),
        "DataLoader loop": lambda: loader_epoch(model, loader, opt),
    }
    if device.type == "cuda" and torch.cuda.get_device_capability(device)[0] >= 8:  # bfloat16 arithmetic
        methods["dgmlib.fit, bf16 mixed precision"] = lambda: dgmlib.fit(
            model, x, epochs=1, batch_size=batch_size, optimizer=opt, progress=False, mixed_precision=True)
    times = {m: [] for m in methods}
    sync()
    start = time.perf_counter()
    methods["compute floor"]()  # warm-up (allocator, kernels), and a first estimate of an epoch
    sync()
    # time at least ~0.5 s per measurement: tiny epochs (digits: ~20 ms) are repeated inside it
    inner = max(1, math.ceil(0.5 / max(time.perf_counter() - start, 1e-6)))
    for _ in range(repeats):  # interleaved, so drifts in machine speed hit every method alike
        for m, fn in methods.items():
            sync()
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            sync()
            times[m].append((time.perf_counter() - start) / inner)
    return {"data": name, "batch": batch_size, "inner": inner, "seconds": times}


def render(result: dict) -> str:
    lines = [f"# B1: one training epoch (seconds), {result['repeats']} interleaved rounds "
             "(each times at least 0.5 s of epochs)", "", result["machine"], "",
             "| data and model | batch | method | median s | min-max s | / floor (median, min-max over rounds) |",
             "|---|---|---|---|---|---|"]
    for case in result["cases"]:
        for m, t in case["seconds"].items():
            r = per_round(t, case["seconds"]["compute floor"])
            lines.append(f"| {case['data']} | {case['batch']} | {m} | {statistics.median(t):.3f} | "
                         f"{min(t):.3f}-{max(t):.3f} | {fmt(r)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default=str(dgmlib.device()))
    p.add_argument("--quick", action="store_true", help="small MNIST-sized subset, for a smoke test")
    args = p.parse_args()
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    dgmlib.seed_everything(0)
    digits = dgmlib.load("digits", device=device).train
    n_big = 2000 if args.quick else 60000
    big = torch.bernoulli(torch.full((n_big, 784), 0.13)).to(device)
    cases = [(f"digits {len(digits)}x64, MLP 64-256-256-8", digits, lambda: dgmlib.build_vae(64, 8)),
             (f"random {n_big}x784, MLP 784-400-20", big, lambda: dgmlib.build_vae(784, 20, hidden=(400,))),
             (f"random {n_big}x784, conv", big, lambda: dgmlib.build_vae(784, 20, arch="conv"))]
    results = []
    for name, x, make in cases:
        for bs in (128, 1024):
            results.append(measure(name, x, make, bs, args.repeats, device, sync))
            print(name, bs, {m: round(statistics.median(t), 4) for m, t in results[-1]["seconds"].items()},
                  flush=True)
    result = {"machine": describe(device), "device": device.type, "repeats": args.repeats, "cases": results}
    OUT.mkdir(exist_ok=True)
    (OUT / "train.json").write_text(json.dumps(result, indent=1))
    text = render(result)
    (OUT / "train.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
