"""The book's expensive results tables: one function per table, one command to rerun them all.

    python -m dgmlib.experiments iwae surgery        # full settings -> dgmlib/results/<name>.json
    python -m dgmlib.experiments iwae --quick         # the same code path with tiny settings

A chapter calls :func:`get`: in full mode (the book build) it reads the committed result file,
which records the seeds, the settings and the code version that made it; in quick mode
(``DGMLIB_QUICK=1``, the test suite) it reruns the same code path with the quick settings, so a
broken experiment fails CI even though the book shows the committed numbers.

Each training run is an independent task (a model, a seed, an objective); ``workers`` runs them
in parallel processes, one CPU thread each.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import multiprocessing
import os
import pathlib
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable

import torch

from .config import is_quick, seed_everything

#: The folder of the result files (the package's results/ folder, or $DGMLIB_RESULTS_DIR when set).
RESULTS_DIR = pathlib.Path(os.environ.get("DGMLIB_RESULTS_DIR")
                           or pathlib.Path(__file__).resolve().parent / "results")


# ---------------------------------------------------------------------------------------------
# The experiments: settings and one task per trained model

@dataclasses.dataclass(frozen=True)
class IWAESettings:
    """Burda et al. (2016), Table 1, on binarized digits: VAE and IWAE trained with k samples."""
    seeds: tuple[int, ...] = (0, 1, 2)
    ks: tuple[int, ...] = (1, 5, 50)
    z_dim: int = 20
    hidden: tuple[int, ...] = (100, 100)
    activation: str = "tanh"
    epochs: int = 500
    batch_size: int = 100
    lr: float = 1e-3
    eval_K: int = 5000
    dataset: str = "digits"


IWAE_QUICK = IWAESettings(seeds=(0,), ks=(1, 5), z_dim=8, hidden=(32,), epochs=3, eval_K=50)


@dataclasses.dataclass(frozen=True)
class SurgerySettings:
    """Hoffman & Johnson (2016), Table 1, on binarized digits: VAEs with several latent sizes."""
    seeds: tuple[int, ...] = (0, 1, 2)
    z_dims: tuple[int, ...] = (2, 10, 20)
    hidden: tuple[int, ...] = (256, 256)
    activation: str = "relu"
    epochs: int = 300
    batch_size: int = 100
    lr: float = 1e-3
    samples: int = 10
    dataset: str = "digits"


SURGERY_QUICK = SurgerySettings(seeds=(0,), z_dims=(2, 4), hidden=(32,), epochs=3, samples=2)


@dataclasses.dataclass(frozen=True)
class FlowSettings:
    """van den Berg et al. (2018), Table 1, on binarized digits: VAEs with flow posteriors."""
    seeds: tuple[int, ...] = (0, 1, 2)
    posteriors: tuple[str, ...] = ("gaussian", "planar", "radial", "householder", "sylvester_orthogonal",
                                   "sylvester_householder", "sylvester_triangular", "iaf")
    z_dim: int = 8
    flow_length: int = 8
    hidden: tuple[int, ...] = (100, 100)
    activation: str = "tanh"
    epochs: int = 500
    batch_size: int = 100
    lr: float = 1e-3
    eval_K: int = 5000
    elbo_K: int = 100
    dataset: str = "digits"


FLOWS_QUICK = FlowSettings(seeds=(0,), posteriors=("gaussian", "planar", "sylvester_orthogonal"),
                           z_dim=4, flow_length=2, hidden=(32,), epochs=3, eval_K=50, elbo_K=10)


def _train(dataset: str, z_dim: int, hidden, activation: str, epochs: int, batch_size: int,
           lr: float, seed: int, objective: Callable, device: str, **model_options):
    from .data import load
    from .builders import build_vae
    from .train import fit

    data = load(dataset, device=device)
    seed_everything(seed)
    model = build_vae(data.dim, z_dim, hidden=hidden, activation=activation, **model_options).to(device)
    start = time.perf_counter()
    history = fit(model, data, epochs=epochs, objective=objective, lr=lr, batch_size=batch_size,
                  seed=seed, val_every=max(1, epochs // 10), progress=False)
    return data, model, history, time.perf_counter() - start


def _iwae_task(s: IWAESettings, objective: str, k: int, seed: int, device: str) -> dict[str, Any]:
    from .metrics import active_units, log_marginal_likelihood
    from .objectives import elbo, iwae_bound

    train_objective = (functools.partial(elbo, K=k) if objective == "vae"
                       else functools.partial(iwae_bound, K=k))
    data, model, history, seconds = _train(s.dataset, s.z_dim, s.hidden, s.activation, s.epochs,
                                           s.batch_size, s.lr, seed, train_objective, device)
    seed_everything(10_000 + seed)
    with torch.no_grad():
        ll = log_marginal_likelihood(model, data.test, K=s.eval_K)
        test_elbo = elbo(model, data.test, K=100).mean().item()
    return {"objective": objective, "k": k, "seed": seed, "test_nll": -ll.mean().item(),
            "test_elbo": test_elbo, "active_units": active_units(model, data.test).count,
            "final_val_objective": history.val[-1], "train_seconds": round(seconds, 1)}


def _iwae_tasks(s: IWAESettings) -> list[tuple]:
    # k = 1: the VAE and the IWAE objectives are the same function, so one run serves both rows
    return [(s, obj, k, seed) for seed in s.seeds for k in s.ks for obj in ("vae", "iwae")
            if not (obj == "iwae" and k == 1)]


def _surgery_task(s: SurgerySettings, z_dim: int, seed: int, device: str) -> dict[str, Any]:
    from .metrics import elbo_surgery
    from .objectives import elbo

    data, model, history, seconds = _train(s.dataset, z_dim, s.hidden, s.activation, s.epochs,
                                           s.batch_size, s.lr, seed, elbo, device)
    seed_everything(10_000 + seed)
    surgery = elbo_surgery(model, data.train, samples=s.samples)
    return {"z_dim": z_dim, "seed": seed, **surgery._asdict(),
            "identity_residual": surgery.avg_kl - surgery.mutual_info - surgery.marginal_kl,
            "train_seconds": round(seconds, 1)}


def _surgery_tasks(s: SurgerySettings) -> list[tuple]:
    return [(s, z, seed) for seed in s.seeds for z in s.z_dims]


def _flow_task(s: FlowSettings, posterior: str, seed: int, device: str) -> dict[str, Any]:
    from .metrics import log_marginal_likelihood
    from .objectives import elbo

    flow = None if posterior == "gaussian" else posterior
    data, model, history, seconds = _train(s.dataset, s.z_dim, s.hidden, s.activation, s.epochs,
                                           s.batch_size, s.lr, seed, elbo, device,
                                           flow=flow, flow_length=s.flow_length)
    seed_everything(10_000 + seed)
    with torch.no_grad():
        train_elbo = elbo(model, data.train, K=s.elbo_K).mean().item()
        test_elbo = elbo(model, data.test, K=s.elbo_K).mean().item()
        ll = log_marginal_likelihood(model, data.test, K=s.eval_K).mean().item()
    return {"posterior": posterior, "seed": seed, "train_neg_elbo": -train_elbo,
            "test_neg_elbo": -test_elbo, "test_nll": -ll,
            "parameters": sum(p.numel() for p in model.parameters()),
            "train_seconds": round(seconds, 1)}


def _flow_tasks(s: FlowSettings) -> list[tuple]:
    return [(s, posterior, seed) for seed in s.seeds for posterior in s.posteriors]



# ---------------------------------------------------------------------------------------------
# The tables as the book shows them: one function per experiment, used by the chapter and by the
# appendix page "Results tables" (python -m dgmlib.experiments --publish)

def mean_std(values, digits: int = 2) -> str:
    """'mean ± std' over seeds (sample std), or the single value for one seed."""
    import numpy as np
    v = np.asarray(list(values), dtype=float)
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}" if len(v) > 1 else f"{v[0]:.{digits}f}"


#: Burda et al. (2016), Table 1, MNIST, one stochastic layer: k -> (VAE NLL, IWAE NLL, VAE AU, IWAE AU).
IWAE_PAPER = {1: (86.76, 86.76, 19, 19), 5: (86.47, 85.54, 20, 22), 50: (86.35, 84.78, 20, 25)}


def iwae_table(record: dict[str, Any]):
    """(caption, DataFrame indexed by k): test NLL and active units of the VAE and the IWAE."""
    import pandas as pd
    s, runs = record["settings"], pd.DataFrame(record["rows"])
    def of(objective, k):   # k = 1: one run serves both objectives
        return runs[(runs.objective == ("vae" if k == 1 else objective)) & (runs.k == k)]
    rows = []
    for k in s["ks"]:
        vae, iwae = of("vae", k), of("iwae", k)
        paper = IWAE_PAPER.get(k, ("–",) * 4)
        rows.append({"k": k, "VAE NLL": mean_std(vae.test_nll), "IWAE NLL": mean_std(iwae.test_nll),
                     "VAE AU": mean_std(vae.active_units, 1), "IWAE AU": mean_std(iwae.active_units, 1),
                     "paper VAE NLL": paper[0], "paper IWAE NLL": paper[1],
                     "paper VAE AU": paper[2], "paper IWAE AU": paper[3]})
    caption = (f"Test NLL (nats per image, lower is better) and active units (of {s['z_dim']}; paper: of 50), "
               f"mean ± std over {len(s['seeds'])} seed(s). Ours: binarized 8x8 digits, test split. "
               "Paper: Burda et al. (2016), Table 1, MNIST (784 pixels), one stochastic layer.")
    return caption, pd.DataFrame(rows).set_index("k")


#: Hoffman & Johnson (2016), Table 1, MNIST (N = 60000): d -> ELBO, average KL, mutual information, marginal KL.
SURGERY_PAPER = {2: (-129.63, 7.41, 7.20, 0.21), 10: (-88.95, 19.17, 10.82, 8.35), 20: (-87.45, 20.20, 10.67, 9.53)}


def surgery_table(record: dict[str, Any]):
    """(caption, DataFrame indexed by (d, data)): the ELBO-surgery terms, ours beside the paper's."""
    import math
    import pandas as pd
    runs = pd.DataFrame(record["rows"])
    terms = {"elbo": "ELBO", "avg_kl": "avg KL", "mutual_info": "mutual info", "marginal_kl": "marginal KL"}
    log_n, paper_log_n = runs.log_n.iloc[0], math.log(60_000)
    rows = []
    for d, group in runs.groupby("z_dim"):
        ours = {terms[t]: mean_std(group[t]) for t in terms}
        ours.update({"log N": f"{log_n:.2f}", "MI / log N": f"{group.mutual_info.mean() / log_n:.2f}"})
        rows.append({"d": d, "data": f"8x8 digits, N = {round(math.exp(log_n))}", **ours})
        if d in SURGERY_PAPER:
            p = dict(zip(terms.values(), SURGERY_PAPER[d]))
            rows.append({"d": d, "data": "MNIST, N = 60000", **{k: f"{v:.2f}" for k, v in p.items()},
                         "log N": f"{paper_log_n:.2f}", "MI / log N": f"{p['mutual info'] / paper_log_n:.2f}"})
    caption = (f"ELBO surgery on the training split; nats per image. Digits: binarized 8x8, mean ± std over "
               f"seeds {record['settings']['seeds']}; MNIST: Hoffman & Johnson (2016), Table 1.")
    return caption, pd.DataFrame(rows).set_index(["d", "data"])


#: van den Berg et al. (2018), Table 1, statically binarized MNIST: posterior -> (-ELBO, NLL), mean ± std.
FLOWS_PAPER = {"gaussian": ("86.55 ± 0.06", "82.14 ± 0.07"), "planar": ("86.06 ± 0.31", "81.91 ± 0.22"),
               "iaf": ("84.20 ± 0.17", "80.79 ± 0.12"), "sylvester_orthogonal": ("83.32 ± 0.06", "80.22 ± 0.03"),
               "sylvester_householder": ("83.40 ± 0.01", "80.29 ± 0.02"),
               "sylvester_triangular": ("83.40 ± 0.10", "80.28 ± 0.06")}


def flows_table(record: dict[str, Any]):
    """(caption, DataFrame indexed by posterior): -ELBO and NLL of VAEs with flow posteriors."""
    import pandas as pd
    s, runs = record["settings"], pd.DataFrame(record["rows"])
    stats = runs.groupby("posterior", sort=False)
    table = pd.DataFrame({"train -ELBO": stats.train_neg_elbo.apply(mean_std),
                          "test -ELBO": stats.test_neg_elbo.apply(mean_std),
                          "test NLL": stats.test_nll.apply(mean_std), "parameters": stats.parameters.first(),
                          "paper -ELBO": {p: FLOWS_PAPER.get(p, ("", ""))[0] for p in s["posteriors"]},
                          "paper NLL": {p: FLOWS_PAPER.get(p, ("", ""))[1] for p in s["posteriors"]}}
                         ).loc[s["posteriors"]]
    caption = (f"Nats per image (lower is better), mean ± std over {len(s['seeds'])} seed(s). Ours: binarized "
               f"8x8 digits (64 pixels), z_dim {s['z_dim']}, flow length {s['flow_length']}, {s['epochs']} epochs. "
               "Paper: van den Berg et al. (2018), Table 1, statically binarized MNIST (784 pixels); "
               "blank = not in that table.")
    table.index.name = "posterior"
    return caption, table


EXPERIMENTS: dict[str, dict[str, Any]] = {
    "iwae": {"settings": IWAESettings(), "quick": IWAE_QUICK, "tasks": _iwae_tasks, "run": _iwae_task,
             "table": iwae_table, "chapter": "book/03_iwae", "title": "IWAE vs VAE (Burda et al., 2016)"},
    "surgery": {"settings": SurgerySettings(), "quick": SURGERY_QUICK, "tasks": _surgery_tasks,
                "run": _surgery_task, "table": surgery_table, "chapter": "book/04_elbo_surgery",
                "title": "ELBO surgery (Hoffman & Johnson, 2016)"},
    "flows": {"settings": FlowSettings(), "quick": FLOWS_QUICK, "tasks": _flow_tasks, "run": _flow_task,
              "table": flows_table, "chapter": "book/05_flows",
              "title": "Flow posteriors in VAEs (van den Berg et al., 2018)"},
}


#: The experiments whose code lives next to a chapter's library code (name -> module that defines
#: ``EXPERIMENT``, a dict with "settings", "quick", "tasks", "run" as above), imported on demand.
CHAPTER_EXPERIMENTS: dict[str, str] = {
    "priors": "dgmlib.prior_experiments",
    "collapse": "dgmlib.collapse_experiments",
    "disentanglement": "dgmlib.disentanglement_experiments",
    "dequantization": "dgmlib.dequantization_experiments",
}


def names() -> list[str]:
    """Every experiment with a committed results table, sorted."""
    return sorted(set(EXPERIMENTS) | set(CHAPTER_EXPERIMENTS))


def spec(name: str) -> dict[str, Any]:
    """Settings, quick settings, task list and task runner of experiment ``name``."""
    if name in EXPERIMENTS:
        return EXPERIMENTS[name]
    if name in CHAPTER_EXPERIMENTS:
        import importlib
        return importlib.import_module(CHAPTER_EXPERIMENTS[name]).EXPERIMENT
    raise ValueError(f"unknown experiment {name!r}; choose one of {names()}")


# ---------------------------------------------------------------------------------------------
# Running, saving, loading

def code_version() -> dict[str, Any]:
    """dgmlib's version and, inside a git checkout, the commit (and whether the tree was dirty)."""
    from . import __version__
    info: dict[str, Any] = {"dgmlib": __version__, "torch": torch.__version__}
    root = pathlib.Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        # the library's code, not the result files that runs write next to it
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "dgmlib", ":!dgmlib/results"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if commit:
            info.update(commit=commit, dgmlib_dirty=bool(dirty))
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def settings_record(settings) -> dict[str, Any]:
    """Settings as they are stored in a result file (JSON types: tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(settings)))


def _call(run: Callable, args: tuple, device: str) -> dict[str, Any]:
    torch.set_num_threads(1)
    return run(*args, device)


def run(name: str, quick: bool = False, workers: int = 1, device: str = "cpu") -> dict[str, Any]:
    """Run experiment ``name`` with its full (or quick) settings; returns the result record."""
    experiment = spec(name)
    settings = experiment["quick"] if quick else experiment["settings"]
    tasks = experiment["tasks"](settings)
    start = time.perf_counter()
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers,
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            rows = list(pool.map(_call, [experiment["run"]] * len(tasks), tasks, [device] * len(tasks)))
    else:
        rows = [experiment["run"](*t, device) for t in tasks]
    return {"name": name, "quick": quick, "settings": settings_record(settings),
            "code": code_version(), "device": device, "workers": workers,
            "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "wall_seconds": round(time.perf_counter() - start, 1), "rows": rows}


def save(result: dict[str, Any], path: str | os.PathLike | None = None) -> pathlib.Path:
    """Write a result record as JSON (atomically) to ``path`` or dgmlib/results/<name>.json."""
    path = pathlib.Path(path) if path else RESULTS_DIR / f"{result['name']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def load(name: str, path: str | os.PathLike | None = None) -> dict[str, Any]:
    """The committed result record of experiment ``name``."""
    path = pathlib.Path(path) if path else RESULTS_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no results for {name!r} at {path}; compute them with "
                                f"`python -m dgmlib.experiments {name}`")
    result = json.loads(path.read_text())
    if result.get("name") != name or "rows" not in result:
        raise ValueError(f"{path} does not hold results of experiment {name!r}")
    return result


def get(name: str) -> dict[str, Any]:
    """What a chapter shows: in quick mode a fresh quick run of the same code path, otherwise
    the committed full-mode results."""
    return run(name, quick=True) if is_quick() else load(name)


def table(name: str, record: dict[str, Any]):
    """(caption, DataFrame) of experiment ``name`` as the book shows it, with the paper's numbers."""
    experiment = spec(name)
    if "table" not in experiment:
        raise ValueError(f"experiment {name!r} defines no table")
    return experiment["table"](record)


#: The appendix page that :func:`publish` writes.
RESULTS_PAGE = pathlib.Path(__file__).resolve().parents[1] / "book" / "results.md"


def results_page(records: dict[str, dict[str, Any]]) -> str:
    """The appendix page "Results tables": every committed table with its settings and provenance."""
    from .report import markdown_table
    out = ["# Results tables", "",
           "Every expensive table of the book, in one place, as the chapters show it: each comes from",
           "`dgmlib/results/<name>.json`, written by `make tables` (`python -m dgmlib.experiments`), which",
           "reruns the experiments with the seeds and settings recorded below. The papers' numbers stand",
           "beside ours; they were measured on MNIST-sized data, ours on the 8x8 digits (see each chapter",
           "for why they differ). This page is generated by `python -m dgmlib.experiments --publish`; a",
           "test checks that it matches the committed result files.", ""]
    for name, record in records.items():
        experiment = spec(name)
        caption, frame = table(name, record)
        chapter = pathlib.Path(experiment.get("chapter", "")).name
        code = record.get("code", {})
        out += [f"## {experiment.get('title', name)}", ""]
        if chapter:
            out += [f"Chapter: {{doc}}`{chapter}`. Experiment `{name}`.", ""]
        out += [caption, "", markdown_table(frame), ""]
        out += [f"Seeds {record['settings'].get('seeds')}; {len(record['rows'])} training runs in "
                f"{record.get('wall_seconds')} s on {record.get('device')} ({record.get('workers')} worker(s)), "
                f"{record.get('created')}; dgmlib {code.get('dgmlib')}, torch {code.get('torch')}, commit "
                f"`{str(code.get('commit', 'unknown'))[:12]}`" + (" (library modified)" if code.get("dgmlib_dirty") else "")
                + ".", "",
                "```{dropdown} Settings", "", json.dumps(record["settings"], indent=1), "```", ""]
    return "\n".join(out)


def publish(path: str | os.PathLike | None = None) -> pathlib.Path:
    """Write :func:`results_page` of every committed result file to ``path`` (default book/results.md)."""
    ready = [n for n in names() if _available(n) and (RESULTS_DIR / f"{n}.json").is_file() and "table" in spec(n)]
    records = {n: load(n) for n in sorted(ready, key=lambda n: spec(n).get("chapter", n))}
    path = pathlib.Path(path) if path else RESULTS_PAGE
    path.write_text(results_page(records))
    return path


def _available(name: str) -> bool:
    """Whether the code of experiment ``name`` exists (a chapter's module may not be written yet)."""
    import importlib.util
    return name in EXPERIMENTS or importlib.util.find_spec(CHAPTER_EXPERIMENTS[name]) is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dgmlib.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=None, help="experiments to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny settings (a smoke test)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None,
                        help="folder for the JSON files (default: dgmlib/results; with --quick: none, "
                             "so a smoke test never overwrites the committed results)")
    parser.add_argument("--publish", nargs="?", const="", default=None, metavar="PAGE",
                        help="only write the appendix page of the committed tables (default book/results.md)")
    args = parser.parse_args(argv)
    if args.publish is not None:
        print(f"results page -> {publish(args.publish or None)}")
        return 0
    for name in args.names or [n for n in names() if _available(n)]:
        result = run(name, quick=args.quick, workers=args.workers, device=args.device)
        if args.quick and not args.out:
            print(json.dumps(result["rows"], indent=1))
            print(f"{name}: {len(result['rows'])} quick runs in {result['wall_seconds']} s (not saved)")
            continue
        path = save(result, pathlib.Path(args.out) / f"{name}.json" if args.out else None)
        print(f"{name}: {len(result['rows'])} runs in {result['wall_seconds']} s -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
