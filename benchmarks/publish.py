"""Assemble benchmarks/out/*.md into the book's appendix page book/performance.md, with a plot
of the B1 ratios (book/performance_b1.png) and the targets of issue 8 checked against the numbers.

    python benchmarks/publish.py
"""
from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
OUT, BOOK = HERE / "out", HERE.parent / "book"


def table_rows(text: str) -> list[list[str]]:
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|")]
    return [r for r in rows[2:] if r]  # skip the header and the --- line


def demote(text: str) -> str:
    return "\n".join("#" + line if line.startswith("# ") else line for line in text.splitlines())


def b1_verdicts(rows: list[list[str]]) -> tuple[list[str], dict]:
    cases: dict[tuple[str, str], dict[str, float]] = {}
    for data, batch, method, median, _spread, _ratio in rows:
        cases.setdefault((data, batch), {})[method] = float(median)
    lines = []
    for (data, batch), t in cases.items():
        r_floor, r_loader = t["dgmlib.fit"] / t["compute floor"], t["dgmlib.fit"] / t["DataLoader loop"]
        lines.append(f"| {data} | {batch} | {r_floor:.3f} ({'met' if r_floor <= 1.15 else 'missed'}) | "
                     f"{r_loader:.3f} ({'met' if r_loader <= 1.0 else 'missed'}) |")
    return lines, cases


def plot_b1(cases: dict) -> None:
    labels = [f"{d.split()[0]} {d.split(', ')[-1].split()[0]}\nbatch {b}" for d, b in cases]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.38
    for i, method in enumerate(("dgmlib.fit", "DataLoader loop")):
        ratios = [t[method] / t["compute floor"] for t in cases.values()]
        ax.bar([j + (i - 0.5) * width for j in range(len(ratios))], ratios, width, label=method)
    ax.axhline(1.0, color="k", lw=1, label="compute floor")
    ax.axhline(1.15, color="C3", ls="--", lw=1, label="target for dgmlib.fit (1.15)")
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set(ylabel="epoch time / compute floor", xlabel="data (digits or 60000 random 28x28), model, batch size",
           title="B1: training epoch against the compute floor (CPU)", ylim=(0, 1.5))
    ax.legend(fontsize=8, loc="upper right", ncol=2)
    fig.tight_layout()
    fig.savefig(BOOK / "performance_b1.png", dpi=110)


def main() -> None:
    parts = {name: (OUT / f"{name}.md").read_text() for name in ("train", "eval", "book")
             if (OUT / f"{name}.md").exists()}
    text = ["# Performance", "",
            "How fast dgmlib trains and evaluates, measured by `make bench` (benchmarks/) on the machine "
            "named in each table; speeds are measured here and never asserted in a test.", ""]
    if "train" in parts:
        verdicts, cases = b1_verdicts(table_rows(parts["train"]))
        plot_b1(cases)
        text += [demote(parts["train"]), "", "![B1 ratios](performance_b1.png)", "",
                 "Targets: dgmlib.fit within 1.15x of the compute floor, and no slower than the DataLoader loop.", "",
                 "| data and model | batch | fit / floor | fit / DataLoader |", "|---|---|---|---|", *verdicts, ""]
    if "eval" in parts:
        rows = table_rows(parts["eval"])
        speedup = float(rows[1][1]) / float(rows[0][1])
        text += [demote(parts["eval"]), "",
                 f"Target: at least 20x faster than the per-data-point loop: {speedup:.2f}x, "
                 f"{'met' if speedup >= 20 else 'missed'}. On a CPU the loop's passes are not small: each "
                 "holds all K = 5000 samples of its data point, so the arithmetic is the same and batching over "
                 "data points saves only the Python overhead of one call per point; the cost per sample is flat "
                 "in K and in N (linear scaling, table above). What the batched estimator buys is bounded "
                 "memory: its peak stays flat as K grows, while the loop's grows linearly with K (last table). "
                 "Its other gain, full use of a GPU by passes of 64k rows, needs a GPU, which this machine "
                 "does not have.", ""]
    if "book" in parts:
        text += [demote(parts["book"]), ""]
    ci = HERE.parent / "_build" / "ci-timings.txt"
    if ci.exists():
        text += ["## CI stages", "", "`.ci/run` on 2 CPU cores (Chromium, a fresh virtual environment, `make test`, `make book`, `make test-site`), "
                 "seconds, as recorded by its last run on this machine:", "", "| stage | s |", "|---|---|"]
        text += [f"| {stage.strip()} | {secs.strip().rstrip('s')} |" for stage, secs in
                 (line.rsplit(":", 1) for line in ci.read_text().splitlines() if ":" in line)]
        text.append("")
    (BOOK / "performance.md").write_text("\n".join(text))
    print(f"wrote {BOOK / 'performance.md'}")


if __name__ == "__main__":
    main()
