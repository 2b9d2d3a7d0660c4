"""What every results experiment shares: the base settings, the :class:`Experiment` record of the
registry, the one-model training helper and the table helpers.

An experiment is a list of independent tasks (one trained model each: a setting and a seed); its
``run_task(settings, ..., device)`` returns one JSON row, and its ``table(record)`` turns the rows of a
result record into the (caption, DataFrame) that the chapter and the appendix show.
"""
from __future__ import annotations

import dataclasses
import json
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

#: A result record: the JSON object of a result file (name, quick, settings, code, rows, ...).
Record = dict[str, Any]
#: One task's row of a result record.
Row = dict[str, Any]
#: How table captions name the data sets.
DATA_NAMES = {"digits": "binarized 8x8 digits", "mnist5k": "MNIST-5k (5000 real MNIST images, binarized, 784 pixels)",
              "mnist": "MNIST (binarized, 784 pixels)", "fashion_mnist": "Fashion-MNIST (binarized, 784 pixels)"}
#: Short names of the data sets, for table rows.
SHORT_NAMES = {"digits": "8x8 digits", "mnist5k": "MNIST-5k", "mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The settings every experiment has: the seeds (one task per seed and setting) and the
    training budget of each model (Adam). Each experiment's settings subclass this one, adding
    its own fields and overriding these defaults. (The data set is not among them: six
    experiments name one of :func:`dgmlib.data.load`'s, the disentanglement one draws its shapes.)"""
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 100
    batch_size: int = 100
    lr: float = 1e-3


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One results table of the book: its settings, the tasks and their runner, the table.

    Arguments:
        name: the registry key and the result file's name (``results/<name>.json``).
        title: the heading of the table in the appendix page.
        chapter: the chapter that shows the table, e.g. ``"book/03_iwae"``.
        settings: the full settings (what the committed result file was computed with).
        quick: tiny settings that run the same code path in seconds (quick mode, tests).
        tasks: ``tasks(settings)`` -> the argument tuples of the tasks, each run as
            ``run(*task, device)``.
        run: the task runner, returning one row (a JSON-serializable dict).
        table: ``table(record)`` -> (caption, pandas DataFrame) as the book shows it.
        variants: full settings on other data sets, by data set name (e.g. ``"mnist5k"``): the
            same table at 784 pixels; each has its own result file ``results/<name>-<dataset>.json``.
        quick_variants: quick settings of a variant where the derived ones would be too slow.
    """
    name: str
    title: str
    chapter: str
    settings: Settings
    quick: Settings
    tasks: Callable[[Any], list[tuple]]
    run: Callable[..., Row]
    table: Callable[[Record], tuple[str, Any]]
    variants: Mapping[str, Settings] = dataclasses.field(default_factory=dict)
    quick_variants: Mapping[str, Settings] = dataclasses.field(default_factory=dict)

    @property
    def datasets(self) -> tuple[str, ...]:
        """The data sets this table is computed on: the default settings' (digits), then the
        variants' (e.g. "mnist5k"; "mnist" where it can be downloaded)."""
        return (getattr(self.settings, "dataset", "digits"), *self.variants)

    def settings_for(self, dataset: str | None = None, quick: bool = False) -> Settings:
        """The full (or quick) settings of the table on ``dataset`` (default: the default settings').
        Quick settings on another data set are ``quick_variants[dataset]`` where given, else the
        quick ones with that ``dataset`` (in the variant's settings class, whose extra fields keep
        their defaults): the same code path, on the variant's data."""
        default = self.datasets[0]
        dataset = default if dataset is None else dataset
        if dataset not in self.datasets:
            raise ValueError(f"experiment {self.name!r} has no settings for data set {dataset!r}; "
                             f"choose one of {', '.join(self.datasets)}")
        if quick:
            if dataset == default:
                return self.quick
            if dataset in self.quick_variants:
                return self.quick_variants[dataset]
            kind = type(self.variants[dataset])   # a variant's own settings class keeps its extra fields
            return kind(**{**dataclasses.asdict(self.quick), "dataset": dataset})
        return self.settings if dataset == default else self.variants[dataset]


def settings_record(settings: Settings) -> dict[str, Any]:
    """Settings as they are stored in a result file (JSON types: tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(settings)))


def train_vae(s: Settings, data, seed: int, objective: Callable, device: str, *, val_every: int,
              z_dim: int | None = None, **model_options):
    """Seed, build ``build_vae(data.dim, z_dim, hidden=s.hidden, activation=s.activation,
    **model_options)`` on ``device`` and train it with :func:`timed_fit`.

    Returns:
        (model, its History, training seconds)
    """
    from .. import build_vae, seed_everything

    seed_everything(seed)
    model = build_vae(data.dim, s.z_dim if z_dim is None else z_dim, hidden=s.hidden,
                      activation=s.activation, **model_options).to(device)
    history, seconds = timed_fit(model, data, s, seed, objective, val_every=val_every)
    return model, history, seconds


def timed_fit(model, data, s: Settings, seed: int, objective: Callable, **fit_options):
    """:func:`dgmlib.train.fit` for ``s.epochs`` epochs at ``s.lr`` and ``s.batch_size``, no progress bar.

    Returns:
        (History, wall seconds of the training)
    """
    from .. import fit

    start = time.perf_counter()
    history = fit(model, data, epochs=s.epochs, objective=objective, lr=s.lr, batch_size=s.batch_size,
                  seed=seed, progress=False, **fit_options)
    return history, time.perf_counter() - start


def parameters(model) -> int:
    """The number of parameters of ``model``."""
    return sum(p.numel() for p in model.parameters())


def mean_std(values: Iterable[float], digits: int = 2) -> str:
    """'mean ± std' over seeds (sample std), or the single value for one seed."""
    import numpy as np
    v = np.asarray(list(values), dtype=float)
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}" if len(v) > 1 else f"{v[0]:.{digits}f}"


def summarize(runs, by: str, columns: dict[str, tuple[str, int]], order: Sequence):
    """The rows of a table: one per value of ``runs[by]``, in ``order``; one column per entry
    ``key -> (label, digits)``, the :func:`mean_std` of ``runs[key]`` over the seeds (missing
    values left out, blank when there are none).

    Arguments:
        runs: a DataFrame of result rows.
    Returns:
        a DataFrame indexed by ``order``, columns the labels.
    """
    import pandas as pd

    def cell(v, digits: int) -> str:
        v = v.dropna()
        return mean_std(v, digits) if len(v) else ""

    stats = runs.groupby(by, sort=False)
    return pd.DataFrame({label: stats[key].apply(cell, digits=digits)
                         for key, (label, digits) in columns.items()}).loc[list(order)]
