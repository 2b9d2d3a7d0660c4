"""B2: evaluation speed of dgmlib.log_marginal_likelihood against a per-data-point loop.

    python benchmarks/bench_eval.py [--n 1000] [--K 5000] [--repeats 3] [--device cpu]

Writes benchmarks/out/eval.md (a markdown table with the machine, torch version and device in
its header). Reports medians over repeats; never asserts a time.
"""
from __future__ import annotations

import argparse
import math
import pathlib
import platform
import statistics
import time

import torch

import dgmlib

OUT = pathlib.Path(__file__).resolve().parent / "out"


def per_point_loop(model, x: torch.Tensor, K: int) -> torch.Tensor:
    """The common library pattern: one data point at a time, all K samples in one pass."""
    with torch.no_grad():
        return torch.stack([torch.logsumexp(model.log_weights(xi[None], K), 0)[0] - math.log(K)
                            for xi in x])


def timed(fn, repeats: int, sync) -> list[float]:
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=1000, help="data points (digits: test split repeated)")
    p.add_argument("--K", type=int, default=5000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default=str(dgmlib.device()))
    args = p.parse_args()
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    data = dgmlib.load("digits", device=device)
    x = data.test.repeat(math.ceil(args.n / len(data.test)), 1)[:args.n]
    dgmlib.seed_everything(0)
    model = dgmlib.build_vae(64, 20, hidden=(100, 100), activation="tanh").to(device).eval()
    rows = []
    for name, fn in [("dgmlib.log_marginal_likelihood (batched, chunked)",
                      lambda: dgmlib.log_marginal_likelihood(model, x, K=args.K)),
                     ("per-data-point loop", lambda: per_point_loop(model, x, args.K))]:
        t = timed(fn, args.repeats, sync)
        rows.append((name, statistics.median(t), min(t), max(t)))
    ratio = rows[1][1] / rows[0][1]
    header = (f"# B2: log p(x) by importance sampling, K={args.K}, N={args.n}\n\n"
              f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads; "
              f"torch {torch.__version__}; device {device}; model 64-100-100-20 (tanh)\n\n")
    table = "| method | median s | min s | max s |\n|---|---|---|---|\n"
    table += "".join(f"| {n} | {m:.2f} | {lo:.2f} | {hi:.2f} |\n" for n, m, lo, hi in rows)
    text = header + table + f"\nspeed-up of the batched estimator: {ratio:.1f}x (median over {args.repeats} runs)\n"
    OUT.mkdir(exist_ok=True)
    (OUT / "eval.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
