"""B2: evaluation speed of dgmlib.log_marginal_likelihood against per-data-point loops.

    python benchmarks/bench_eval.py [--n 10000] [--K 5000] [--repeats 3] [--device cpu]

Four ways to compute the same K-sample importance estimate of log p(x) on N points (the
64-100-100-20 tanh VAE on the digits' test split, repeated to N points), timed in interleaved
rounds so that drifts in machine speed hit every method alike:

* ``batched``: dgmlib.log_marginal_likelihood, batched over data points and samples, chunked;
* ``library loop``: the loop of common VAE libraries (the pattern of pythae's ``VAE.get_nll``):
  for each data point, K/100 passes over 100 copies of it (the encoder runs on every copy) and
  one host sync (``.item()``) per point; timed on ``--n-library`` points (default 1000) and
  scaled to N, since its cost per point is constant;
* ``lean loop``: one data point at a time, but all K samples in one pass (encoder once per point);
* ``arithmetic floor``: only the decoder and log p(x|z) on latent samples drawn beforehand, in
  passes of the estimator's size: the arithmetic no estimator can skip.

Also measured: the peak memory of each (in a fresh process, above what it holds after loading
the model and data: the peak resident set on Linux, the peak allocated memory on CUDA), the cost
against K and against N (seconds per 10^6 samples x points: flat when the cost is linear) and the
peak memory against K. Writes benchmarks/out/eval.md and eval.json (raw times); never asserts a
time.
"""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import statistics
import subprocess
import sys
import time

import torch

import dgmlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from machine import describe  # noqa: E402
from rounds import per_round, spread  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent / "out"
LIBRARY_PASS = 100  # samples per pass in the library loop (pythae's default batch_size)
METHODS = {
    "batched": "dgmlib.log_marginal_likelihood (batched over points and samples, chunked)",
    "library loop": f"per-point loop of common libraries ({LIBRARY_PASS} copies of the point per pass, "
                    "encoder on every copy, .item() per point)",
    "lean loop": "per-point loop, all K samples in one pass (encoder once per point)",
    "arithmetic floor": "arithmetic floor: decoder and log p(x|z) only, on samples drawn beforehand",
}


def library_loop(model, x: torch.Tensor, K: int) -> torch.Tensor:
    """The per-data-point estimate of common VAE libraries (e.g. pythae's ``VAE.get_nll``): for each
    point, K / 100 passes over 100 copies of it, each copy encoded and given one sample, and the
    point's log-sum-exp read back to the host (``.item()``)."""
    if K % LIBRARY_PASS:
        raise ValueError(f"the library loop needs K divisible by {LIBRARY_PASS}, got K={K}")
    out = []
    with torch.no_grad():
        for xi in x:
            copies = xi[None].repeat(LIBRARY_PASS, 1)
            log_w = torch.cat([model.log_weights(copies, 1)[0] for _ in range(K // LIBRARY_PASS)])
            out.append((torch.logsumexp(log_w, 0) - math.log(K)).item())
    return torch.tensor(out)


def lean_loop(model, x: torch.Tensor, K: int) -> torch.Tensor:
    """One data point at a time, all K samples in one pass."""
    with torch.no_grad():
        return torch.stack([torch.logsumexp(model.log_weights(xi[None], K), 0)[0] - math.log(K)
                            for xi in x])


def arithmetic_floor(model, x: torch.Tensor, K: int, chunk: int | None = None) -> None:
    """The decoder and log p(x|z) for K samples of every point, in passes of the estimator's size
    (the same ``chunk`` and points per pass as :func:`dgmlib.log_marginal_likelihood`), on one set
    of samples drawn once at the start: no sampling inside the passes, no encoder, no log q(z|x),
    no log p(z), no log-sum-exp."""
    rows = dgmlib.metrics.default_pass_rows(x.device)
    chunk = min(K, rows) if chunk is None else chunk
    points = max(1, rows // chunk)
    z = torch.randn(chunk, points, model.z_dim, device=x.device, dtype=x.dtype)
    with torch.no_grad():
        for xb in torch.split(x, points):
            for start in range(0, K, chunk):
                zs = z[:min(chunk, K - start), :xb.shape[0]]
                model.likelihood.log_prob(xb, model.decoder(zs))


def setup(n: int, device: torch.device):
    data = dgmlib.load("digits", device=device)
    x = data.test.repeat(math.ceil(n / len(data.test)), 1)[:n]
    dgmlib.seed_everything(0)
    model = dgmlib.build_vae(64, 20, hidden=(100, 100), activation="tanh").to(device).eval()
    return model, x


def runner(method: str, model, x: torch.Tensor, K: int, chunk: int | None = None):
    return {"batched": lambda: dgmlib.log_marginal_likelihood(model, x, K=K, chunk=chunk),
            "library loop": lambda: library_loop(model, x, K),
            "lean loop": lambda: lean_loop(model, x, K),
            "arithmetic floor": lambda: arithmetic_floor(model, x, K, chunk)}[method]


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
    run = runner(method, model, x, K, chunk or None)
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


def peak_memory(method: str, n: int, K: int, chunk: int | None, device: torch.device) -> float:
    """Peak memory (MiB) of ``method`` beyond loading the model and data, in a fresh process."""
    out = subprocess.run([sys.executable, __file__, "--child", method, "--n", str(n), "--K", str(K),
                          "--chunk", str(chunk or 0), "--device", str(device),
                          "--threads", str(torch.get_num_threads())],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["peak"] / 2 ** 20


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=10000, help="data points (digits: test split repeated)")
    p.add_argument("--n-library", type=int, default=1000,
                   help="points the library loop is timed on (its cost per point is constant)")
    p.add_argument("--K", type=int, default=5000)
    p.add_argument("--chunk", type=int, default=None, help="samples per pass (default: dgmlib's)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default=str(dgmlib.device()))
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.K % LIBRARY_PASS or args.K < 2 * LIBRARY_PASS:
        p.error(f"--K must be a multiple of {LIBRARY_PASS} (the library loop's pass) and at least "
                f"{2 * LIBRARY_PASS}, got {args.K}")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.child:
        child(args.child, args.n, args.K, args.chunk, device)
        return
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    model, x = setup(args.n, device)
    points = {m: (min(args.n, args.n_library) if m == "library loop" else args.n) for m in METHODS}
    for m in METHODS:  # warm-up: allocator, kernels, lazy initialization
        runner(m, model, x[:2], 2 * LIBRARY_PASS)()
    times: dict[str, list[float]] = {m: [] for m in METHODS}
    for r in range(args.repeats):  # interleaved rounds
        for m in METHODS:
            sync()
            start = time.perf_counter()
            runner(m, model, x[:points[m]], args.K, args.chunk)()
            sync()
            times[m].append((time.perf_counter() - start) * args.n / points[m])  # seconds for N points
            print(f"round {r}: {m}: {times[m][-1]:.2f} s for {args.n} points", flush=True)
    # speed-up of the batched estimator against each other method, per round (same round, same machine state)
    ratios = {m: spread(per_round(times[m], times["batched"])) for m in METHODS if m != "batched"}
    # memory does not depend on N (every method holds a fixed number of rows per pass): on 100 points
    memory = {m: peak_memory(m, min(args.n, 100), args.K, args.chunk, device) for m in METHODS}
    scaling = []
    n_scale = min(args.n, 1000)
    for K, n in [(K, n_scale) for K in (625, 1250, 2500, 5000)] + [(5000, n) for n in (250, 500, 2000)]:
        xs = x[:n] if n <= len(x) else x.repeat(math.ceil(n / len(x)), 1)[:n]
        t = []
        for _ in range(args.repeats):
            sync()
            start = time.perf_counter()
            dgmlib.log_marginal_likelihood(model, xs, K=K)
            sync()
            t.append(time.perf_counter() - start)
        scaling.append({"K": K, "n": n, "seconds": statistics.median(t)})
    # against K: 2 points suffice (no method's memory grows with N), and keep the library loop's
    # 3000 passes per point at K = 300000 short
    memory_k = [{"K": K, "n": 2, **{m: peak_memory(m, 2, K, args.chunk, device)
                            for m in ("batched", "library loop", "lean loop")}}
                for K in (10000, 100000, 300000)]
    result = {"machine": describe(device), "device": device.type, "K": args.K, "n": args.n, "points": points,
              "repeats": args.repeats, "model": "64-100-100-20 (tanh)", "methods": METHODS,
              "seconds": times, "speedup": ratios, "memory_mib": memory, "scaling": scaling,
              "memory_against_k": memory_k}
    OUT.mkdir(exist_ok=True)
    (OUT / "eval.json").write_text(json.dumps(result, indent=1))
    text = render(result)
    (OUT / "eval.md").write_text(text)
    print(text)


def render(r: dict) -> str:
    """The B2 tables in Markdown, from the JSON result."""
    lines = [f"# B2: log p(x) by importance sampling, K={r['K']}, N={r['n']}", "",
             f"{r['machine']}; model {r['model']}; {r['repeats']} interleaved rounds", "",
             f"| method | points timed | median s for {r['n']} points | min-max s | time / the batched "
             "estimator's (median, min-max over rounds) | peak memory MiB |",
             "|---|---|---|---|---|---|"]
    for m, label in r["methods"].items():
        t, s = spread(r["seconds"][m]), r["speedup"].get(m)
        ratio = "1 (reference)" if s is None else f"{s['median']:.2f}x ({s['min']:.2f}-{s['max']:.2f})"
        lines.append(f"| {label} | {r['points'][m]} | {t['median']:.2f} | {t['min']:.2f}-{t['max']:.2f} | "
                     f"{ratio} | {r['memory_mib'][m]:.0f} |")
    lines += ["", "## Scaling (batched estimator)", "",
              "| K | N | median s | s per 10^6 samples x points |", "|---|---|---|---|"]
    lines += [f"| {s['K']} | {s['n']} | {s['seconds']:.3f} | {1e6 * s['seconds'] / (s['K'] * s['n']):.3f} |"
              for s in r["scaling"]]
    lines += ["", f"## Peak memory against K (N = {r['memory_against_k'][0]['n']} points; MiB above what the "
              "process holds after loading the model and the data)", "",
              "| K | batched (default passes) | library loop | lean loop |", "|---|---|---|---|"]
    lines += [f"| {m['K']} | {m['batched']:.0f} | {m['library loop']:.0f} | {m['lean loop']:.0f} |"
              for m in r["memory_against_k"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
