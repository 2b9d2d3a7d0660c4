"""B3: wall time of every book notebook in quick and in full mode.

    python benchmarks/bench_book.py [--modes quick full] [--jobs N]

Executes each notebook in book/ from its own folder (as the book build does), with one CPU
thread per kernel and DGMLIB_QUICK set for quick mode, ``--jobs`` kernels at a time (as many as
there are free cores: `make book` runs its kernels in parallel too), and writes
benchmarks/out/book.md. The
CI stage times are added by publish.py from _build/ci-timings.txt (written by .ci/run).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import nbformat
from nbclient import NotebookClient

import dgmlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = pathlib.Path(__file__).resolve().parent / "out"
TARGETS = {"quick": 60.0, "full": 180.0}  # seconds per notebook (the developers' guide: 3 min in full mode)


def run_notebook(path: pathlib.Path, quick: bool) -> float:
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, "DGMLIB_QUICK": "1" if quick else "0", "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    client = NotebookClient(nb, timeout=1200, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute(env=env)                   # the kernel gets its own environment (kernels run in parallel)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--modes", nargs="+", default=["quick", "full"], choices=["quick", "full"])
    p.add_argument("--jobs", type=int, default=1, help="kernels at a time (default 1)")
    args = p.parse_args()
    if args.jobs < 1:
        p.error(f"--jobs must be >= 1, got {args.jobs}")
    notebooks = sorted((ROOT / "book").glob("*.ipynb"))
    times = {}
    with ThreadPoolExecutor(args.jobs) as pool:             # the kernels are separate processes
        for m in args.modes:
            seconds = pool.map(lambda nb: run_notebook(nb, m == "quick"), notebooks)
            times[m] = dict(zip((nb.name for nb in notebooks), seconds))
    lines = ["# B3: the book's notebooks, wall seconds (one CPU thread per kernel)\n",   # book/colab.md includes from here
             describe(dgmlib.device()).replace("torch threads", f"torch threads here, 1 per kernel, {args.jobs} "
                                               "kernel(s) at a time") + "\n",
             "| notebook | " + " | ".join(f"{m} mode s (target < {TARGETS[m]:.0f})" for m in args.modes) + " |",
             "|---|" + "---|" * len(args.modes)]
    for nb in notebooks:
        cells = []
        for m in args.modes:
            t = times[m][nb.name]
            cells.append(f"{t:.0f} {'ok' if t < TARGETS[m] else 'OVER'}")
        lines.append(f"| {nb.stem} | " + " | ".join(cells) + " |")
    OUT.mkdir(exist_ok=True)
    (OUT / "book.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
