"""The book's expensive results tables: a registry of experiments, one module per chapter's table.

    python -m dgmlib.experiments iwae --quick            # the same code path with tiny settings
    python -m dgmlib.experiments iwae --out results/     # full settings -> results/iwae.json

A chapter calls :func:`get`: in full mode (the book build) it reads the committed result file
(``dgmlib/experiments/results/<name>.json``, package data), which records the seeds, the settings
and the code version that made it; in quick mode (``DGMLIB_QUICK=1``, the test suite) it reruns
the same code path with the quick settings, so a broken experiment fails CI even though the book
shows the committed numbers. The library only reads the committed files: ``tools/tables.py`` in
the repository recomputes them (stamping the git commit) and writes the appendix page.

Each experiment module (:mod:`~dgmlib.experiments.iwae`, ``surgery``, ``flows``, ``dequantization``,
``priors``, ``collapse``, ``disentanglement``, ``gaps``, ``hierarchical``, ``semisupervised``) has
the same names: a settings dataclass derived from
:class:`~dgmlib.experiments.base.Settings`, ``QUICK`` (its quick settings), ``PAPER`` (the papers'
numbers, where comparable), ``tasks(settings)``, ``run_task(settings, ..., device)``,
``table(record)`` and ``EXPERIMENT``, its :class:`~dgmlib.experiments.base.Experiment`. Each
training run is an independent task (a model, a seed, an objective); ``workers`` runs them in
parallel processes, one CPU thread each.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import pathlib
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable

from . import (collapse, dequantization, disentanglement, flows, gaps, hierarchical, iwae, priors,
               semisupervised, surgery)
from .base import Experiment, Record, Settings, mean_std, settings_record

#: The folder of the committed result files (package data), or $DGMLIB_RESULTS_DIR when set.
RESULTS_DIR = pathlib.Path(os.environ.get("DGMLIB_RESULTS_DIR")
                           or pathlib.Path(__file__).resolve().parent / "results")

#: Every experiment with a committed results table, in the order of the chapters.
EXPERIMENTS: dict[str, Experiment] = {m.EXPERIMENT.name: m.EXPERIMENT for m in (
    iwae, surgery, flows, dequantization, priors, collapse, disentanglement, gaps, hierarchical,
    semisupervised)}


def names() -> list[str]:
    """The names of the registered experiments, sorted."""
    return sorted(EXPERIMENTS)


def spec(name: str) -> Experiment:
    """The :class:`~dgmlib.experiments.base.Experiment` registered as ``name``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(names())}")
    return EXPERIMENTS[name]


def code_version() -> dict[str, str]:
    """The versions of dgmlib and torch (a repository checkout adds its git commit: tools/tables.py)."""
    import torch

    from .. import __version__
    return {"dgmlib": __version__, "torch": torch.__version__}


def _call(run: Callable, args: tuple, device: str, keep: str | None = None) -> dict[str, Any]:
    import torch
    torch.set_num_threads(1)
    return run(*args, device) if keep is None else run(*args, device, keep=keep)


def file_name(name: str, dataset: str | None = None) -> str:
    """The result file of experiment ``name`` on ``dataset``: ``<name>.json`` on the default data
    set (digits), ``<name>-<dataset>.json`` on a variant's."""
    experiment = spec(name)
    dataset = experiment.datasets[0] if dataset is None else dataset
    experiment.settings_for(dataset, upcoming=True)   # an unknown data set fails here
    return f"{name}.json" if dataset == experiment.datasets[0] else f"{name}-{dataset}.json"


def run(name: str, quick: bool = False, workers: int = 1, device: str = "cpu",
        dataset: str | None = None, keep_dir: str | os.PathLike | None = None, upcoming: bool = False,
        partial_dir: str | os.PathLike | None = None) -> Record:
    """Run experiment ``name`` with its full (or quick) settings.

    Arguments:
        dataset: the data set of the table (default: the experiment's default, the digits);
            another one must be among the experiment's ``variants`` (e.g. "mnist5k").
        workers: parallel processes (spawned, one torch thread each); 1 runs the tasks here.
        device: where the models train, e.g. "cpu" or "cuda".
        keep_dir: where the tasks that the experiment keeps (its ``keep``) save their trained
            model, as ``<name>-<dataset>-<label>.pt`` (None: nothing is saved).
        upcoming: run the data set's upcoming settings (the papers' protocol) where it has some.
        partial_dir: a folder where each task's row is written as soon as the task is done
            (``task-<i>.json``, with the settings and the task it belongs to). A rerun with the
            same folder takes those rows instead of training again, so a table that was stopped
            (a session that ends, a killed process) resumes where it stopped; a kept model's task
            is rerun if its model file is missing or is not the one the row measured (content hash).
    Returns:
        the result record: name, quick, settings, code versions, device, workers, created,
        wall_seconds and one row per task (and ``resumed``, the number of rows taken from
        ``partial_dir``, where there were any).
    Raises:
        ValueError: ``partial_dir`` holds rows of other settings, another task list or device.
        RuntimeError: a task failed (after the other tasks ran, their rows saved in ``partial_dir``).
    """
    experiment = spec(name)
    settings = experiment.settings_for(dataset, quick=quick, upcoming=upcoming)
    tasks = experiment.tasks(settings)
    data_name = getattr(settings, "dataset", "digits")
    keeps = [None if keep_dir is None or experiment.keep is None or experiment.keep(t) is None
             else str(pathlib.Path(keep_dir) / trained_file(name, experiment.keep(t), data_name)) for t in tasks]
    stamps = json.loads(json.dumps([{"name": name, "settings": settings_record(settings), "task": repr(t[1:]),
                                     "device": device, "keep": k and pathlib.Path(k).name}
                                    for t, k in zip(tasks, keeps)]))   # as the files hold them
    rows: list[dict[str, Any] | None] = [None] * len(tasks)
    if partial_dir is not None:
        rows = [_partial_row(pathlib.Path(partial_dir) / f"task-{i:03d}.json", stamp, keep)
                for i, (stamp, keep) in enumerate(zip(stamps, keeps))]
    todo = [i for i, row in enumerate(rows) if row is None]
    resumed = len(tasks) - len(todo)

    def done(i: int, row: dict[str, Any]) -> None:
        rows[i] = row
        if partial_dir is not None:
            save({**stamps[i], "row": row}, pathlib.Path(partial_dir) / f"task-{i:03d}.json")

    start = time.perf_counter()
    failed: dict[int, BaseException] = {}
    if workers > 1 and todo:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_call, experiment.run, tasks[i], device, keeps[i]): i for i in todo}
            for future in as_completed(futures):   # a failed task does not stop the others (their rows are saved)
                try:
                    done(futures[future], future.result())
                except Exception as err:            # noqa: BLE001 - raised below, with the task
                    failed[futures[future]] = err
    else:
        for i in todo:
            try:
                done(i, _call(experiment.run, tasks[i], device, keeps[i]))
            except Exception as err:                # noqa: BLE001 - raised below, with the task
                failed[i] = err
    if failed:
        first = min(failed)
        raise RuntimeError(f"{len(failed)} of {len(tasks)} tasks of {name!r} failed, first task {tasks[first][1:]!r}: "
                           f"{failed[first]!r}" + ("; the other tasks' rows are saved in partial_dir"
                                                   if partial_dir is not None else "")) from failed[first]
    record = {"name": name, "quick": quick, "dataset": getattr(settings, "dataset", None),
              "settings": settings_record(settings), "code": code_version(), "device": device, "workers": workers,
              "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
              "wall_seconds": round(time.perf_counter() - start, 1), "rows": rows}
    if resumed:
        record["resumed"] = resumed
    return record


def _partial_row(path: pathlib.Path, stamp: dict[str, Any], keep: str | None) -> dict[str, Any] | None:
    """The row that an earlier run saved at ``path`` for the task ``stamp`` (None: there is none, or
    its kept model file is missing)."""
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())
    if {k: saved.get(k) for k in stamp} != stamp:
        raise ValueError(f"{path} holds the row of another run ({saved.get('name')}, task {saved.get('task')}, "
                         f"device {saved.get('device')}, or other settings) than this one ({stamp['name']}, "
                         f"task {stamp['task']}); use another partial_dir or remove it")
    if keep is not None:      # the kept model must be the one the row was measured on
        sha = saved["row"].get("kept", {}).get("sha256")
        if not pathlib.Path(keep).is_file() or sha is None or _stored_sha(keep) != sha:
            return None
    return saved["row"]


def _stored_sha(path: str | os.PathLike) -> str | None:
    """The content hash a checkpoint file records (None: not a readable checkpoint)."""
    import torch
    try:
        return torch.load(path, map_location="cpu", weights_only=False).get("sha256")
    except Exception:          # noqa: BLE001 - any unreadable file counts as missing
        return None


#: The kept trained models' folder (package data; :func:`trained` loads them). Not "trained": a
#: folder of that name is importable as a namespace package, which would replace the function.
TRAINED_DIR = pathlib.Path(__file__).resolve().parent / "trained_models"


def trained_file(name: str, setting: str, dataset: str) -> str:
    """The file name of a kept trained model: ``<name>-<dataset>-<setting>.pt``."""
    return f"{name}-{dataset}-{setting}.pt"


def trained(name: str, setting: str, dataset: str = "mnist5k", device: str | None = None,
            folder: str | os.PathLike | None = None):
    """A kept trained model of a results table, loaded offline and verified (content hash), in
    eval mode, in the dtype it was trained in: the seed-0 model of ``setting`` that
    ``make tables`` kept beside the result file, e.g. ``trained("iwae", "iwae-k50")``.

    Arguments:
        name: the experiment, e.g. "iwae", "priors".
        setting: the kept model's name (:func:`kept` lists them).
        dataset: the table's data set.
        folder: where to look (default: the package's kept models, :data:`TRAINED_DIR`).
    Raises:
        FileNotFoundError: no such kept model (the message lists the kept ones).
    """
    from ..checkpoints import load as load_checkpoint

    folder = pathlib.Path(folder) if folder else TRAINED_DIR
    path = folder / trained_file(name, setting, dataset)
    if not path.is_file():
        have = ", ".join(kept(folder)) or "none"
        raise FileNotFoundError(f"no kept model {setting!r} of table {name!r} on {dataset!r} in {folder} "
                                f"(kept: {have}); `make tables DATASET={dataset} TABLES={name}` keeps them")
    model, _ = load_checkpoint(path, device=device)
    return model


def kept(folder: str | os.PathLike | None = None) -> list[str]:
    """The kept trained models, as ``<name>-<dataset>-<setting>`` file stems."""
    folder = pathlib.Path(folder) if folder else TRAINED_DIR
    return sorted(p.stem for p in folder.glob("*.pt")) if folder.is_dir() else []


def save(record: Record, path: str | os.PathLike) -> pathlib.Path:
    """Write a result record as JSON to ``path`` (atomically: a temporary file, then a rename)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def load(name: str, path: str | os.PathLike | None = None, dataset: str | None = None) -> Record:
    """The result record of experiment ``name`` (on ``dataset``, default the digits): the committed
    one, or the file at ``path``."""
    path = pathlib.Path(path) if path else RESULTS_DIR / file_name(name, dataset)
    if not path.is_file():
        option = f" --dataset {dataset}" if dataset and dataset != spec(name).datasets[0] else ""
        raise FileNotFoundError(f"no results for {name!r} at {path}; compute them with "
                                f"`python tools/tables.py run {name}{option}` in the repository "
                                f"(or `python -m dgmlib.experiments {name}{option} --out <folder>`)")
    record = json.loads(path.read_text())
    if record.get("name") != name or "rows" not in record:
        raise ValueError(f"{path} does not hold results of experiment {name!r}")
    return record


def get(name: str, dataset: str | None = None) -> Record:
    """What a chapter shows: in quick mode a fresh quick run of the same code path, otherwise
    the committed full-mode results (on ``dataset``, default the digits)."""
    from .. import is_quick
    return run(name, quick=True, dataset=dataset) if is_quick() else load(name, dataset=dataset)


def available(name: str, results: str | os.PathLike | None = None) -> list[str]:
    """The data sets of experiment ``name`` whose result files exist (in ``results``, default the
    committed ones), in the experiment's order."""
    folder = pathlib.Path(results) if results else RESULTS_DIR
    return [d for d in spec(name).datasets if (folder / file_name(name, d)).is_file()]


def table(name: str, record: Record):
    """(caption, DataFrame) of experiment ``name`` as the book shows it, with the papers' numbers."""
    return spec(name).table(record)

