"""B2: evaluation speed of dgmlib.log_marginal_likelihood against a per-data-point loop.

    python benchmarks/bench_eval.py [--n 10000] [--K 5000] [--repeats 3] [--device cpu]

Writes benchmarks/out/eval.md (markdown tables with the machine, torch version and device in
the header): the two methods at equal K (median, min, max over repeats), the peak memory of each
(in a fresh process, above what it holds after loading the model and data: the peak resident set
on Linux, the peak allocated memory on CUDA; on 100 points, since neither method's memory grows
with N), the cost against K and against N (seconds per 10^6 samples x points: flat when the cost is
linear) and the peak memory against K (flat for the batched estimator, whose passes hold a fixed
number of rows; linear for the loop, which holds all K samples of a point at once). Never asserts
a time.
"""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import platform
import statistics
import subprocess
import sys
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


def setup(n: int, device: torch.device):
    data = dgmlib.load("digits", device=device)
    x = data.test.repeat(math.ceil(n / len(data.test)), 1)[:n]
    dgmlib.seed_everything(0)
    model = dgmlib.build_vae(64, 20, hidden=(100, 100), activation="tanh").to(device).eval()
    return model, x


def _status_kb(field: str) -> int:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def child(method: str, n: int, K: int, chunk: int, device: torch.device) -> None:
    """Run one method in this (fresh) process and print, as JSON, its peak memory in bytes above
    the memory held after loading the model and the data: on CUDA the peak allocated memory, on
    Linux the peak resident set (VmHWM, reset after loading via /proc/self/clear_refs)."""
    model, x = setup(n, device)
    run = {"batched": lambda: dgmlib.log_marginal_likelihood(model, x, K=K, chunk=chunk or None),
           "loop": lambda: per_point_loop(model, x, K), "none": lambda: None}[method]
    if device.type == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        run()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        base = _status_kb("VmRSS")
        pathlib.Path("/proc/self/clear_refs").write_text("5")   # VmHWM := VmRSS
        run()
        peak = (_status_kb("VmHWM") - base) * 1024
    print(json.dumps({"peak": peak}))


def peak_memory(method: str, n: int, K: int, chunk: int, device: torch.device) -> float:
    """Peak memory (MiB) of ``method`` beyond loading the model and data, in a fresh process."""
    out = subprocess.run([sys.executable, __file__, "--child", method, "--n", str(n), "--K", str(K),
                          "--chunk", str(chunk or 0), "--device", str(device)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["peak"] / 2 ** 20


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=10000, help="data points (digits: test split repeated)")
    p.add_argument("--K", type=int, default=5000)
    p.add_argument("--chunk", type=int, default=None, help="samples per pass (default: dgmlib's)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default=str(dgmlib.device()))
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    device = torch.device(args.device)
    if args.child:
        child(args.child, args.n, args.K, args.chunk, device)
        return
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    model, x = setup(args.n, device)
    rows = []
    for name, fn in [("dgmlib.log_marginal_likelihood (batched, chunked)",
                      lambda: dgmlib.log_marginal_likelihood(model, x, K=args.K)),
                     ("per-data-point loop", lambda: per_point_loop(model, x, args.K))]:
        t = timed(fn, args.repeats, sync)
        rows.append((name, statistics.median(t), min(t), max(t)))
    ratio = rows[1][1] / rows[0][1]
    # memory does not depend on N (both hold a fixed number of rows per pass): measured on 100 points
    memory = [peak_memory(m, min(args.n, 100), args.K, args.chunk, device) for m in ("batched", "loop")]
    header = (f"# B2: log p(x) by importance sampling, K={args.K}, N={args.n}\n\n"
              f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads; "
              f"torch {torch.__version__}; device {device}; model 64-100-100-20 (tanh)\n\n")
    table = "| method | median s | min s | max s | peak memory MiB |\n|---|---|---|---|---|\n"
    table += "".join(f"| {n} | {m:.2f} | {lo:.2f} | {hi:.2f} | {mem:.0f} |\n"
                     for (n, m, lo, hi), mem in zip(rows, memory))
    text = header + table + f"\nspeed-up of the batched estimator: {ratio:.2f}x (median over {args.repeats} runs)\n"
    # cost against K (N fixed) and against N (K fixed): seconds per 10^6 (sample, point) pairs
    n_scale = min(args.n, 1000)
    scaling = "\n## Scaling (batched estimator)\n\n| K | N | median s | s per 10^6 samples x points |\n|---|---|---|---|\n"
    for K, n in [(K, n_scale) for K in (625, 1250, 2500, 5000)] + [(5000, n) for n in (250, 500, 2000)]:
        xs = x[:n] if n <= len(x) else x.repeat(math.ceil(n / len(x)), 1)[:n]
        t = statistics.median(timed(lambda: dgmlib.log_marginal_likelihood(model, xs, K=K), args.repeats, sync))
        scaling += f"| {K} | {n} | {t:.3f} | {1e6 * t / (K * n):.3f} |\n"
    memory_k = ("\n## Peak memory against K (N = 20 points; MiB above what the process holds after loading "
                "the model and the data)\n\n"
                "| K | batched (default passes) | per-data-point loop |\n|---|---|---|\n")
    for K in (10000, 100000, 300000):
        memory_k += (f"| {K} | {peak_memory('batched', 20, K, args.chunk, device):.0f} | "
                     f"{peak_memory('loop', 20, K, args.chunk, device):.0f} |\n")
    text += scaling + memory_k
    OUT.mkdir(exist_ok=True)
    (OUT / "eval.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
