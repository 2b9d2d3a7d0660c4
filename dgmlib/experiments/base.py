"""What every results experiment shares: the base settings, the :class:`Experiment` record of the
registry, the one-model training helper and the table helpers.

An experiment is a list of independent tasks (one trained model each: a setting and a seed); its
``run_task(settings, ..., device)`` returns one JSON row, and its ``table(record)`` turns the rows of a
result record into the (caption, DataFrame) that the chapter and the appendix show.
"""
from __future__ import annotations

import dataclasses
import functools
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
    #: The data protocol, :func:`dgmlib.data.load`'s ``binarize`` ("dynamic": the papers' MNIST
    #: protocol); None: the loader's default (a fixed threshold).
    binarize: str | None = None
    #: Early stopping: stop after this many epochs without a better validation score and keep the
    #: best state (``epochs`` is then the cap); None: train ``epochs`` epochs.
    patience: int | None = None
    #: Test log p(x) at each of these numbers of importance samples (the largest is the table's;
    #: two a factor >= 5 apart show whether the estimate has converged); None: one K.
    eval_Ks: tuple[int, ...] | None = None
    #: The MLPs' weight initialization (:func:`dgmlib.nets.mlp`: "he"); None: PyTorch's default.
    init: str | None = None


#: The settings fields a quick run of a variant takes over from the variant's full settings (the
#: protocol, as opposed to the sizes): binarization, weight and pseudo-input initialization, the
#: warm-up models' state selection, the semi-supervised baseline's training.
PROTOCOL_FIELDS = ("binarize", "init", "pseudo_init", "select_after_warmup", "matched_baseline")


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
        keep: ``keep(task)`` -> the name of the kept trained model of a task (e.g. ``"vae-k50"``
            for seed 0 of a setting the chapter shows), None for the others. A run with a
            ``keep_dir`` passes ``keep=<path>`` to those tasks' runner, which saves the model there
            (:func:`keep_model`); :func:`dgmlib.experiments.trained` loads it back.
        upcoming: a variant's settings under the papers' protocol (issue 25: dynamic binarization,
            early stopping, a K sweep, kept models) that replace ``variants[dataset]`` once their
            result file is computed (``make tables DATASET=mnist5k UPCOMING=1``); until then the
            committed file holds the variant's settings and the chapters read it. A data set only
            here (no variant yet: the hierarchical and M2 tables) is run with ``upcoming=True``
            alone; once its result file is computed it becomes a variant as well.
        upcoming_quick: quick settings of an upcoming variant where the derived ones do not fit
            (e.g. another settings class).
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
    keep: Callable[[tuple], str | None] | None = None
    upcoming: Mapping[str, Settings] = dataclasses.field(default_factory=dict)
    upcoming_quick: Mapping[str, Settings] = dataclasses.field(default_factory=dict)

    @property
    def datasets(self) -> tuple[str, ...]:
        """The data sets this table is computed on: the default settings' (digits), then the
        variants' (e.g. "mnist5k"; "mnist" where it can be downloaded)."""
        return (getattr(self.settings, "dataset", "digits"), *self.variants)

    def _quick_like(self, full: Settings, dataset: str) -> Settings:
        """Quick settings that follow ``full``'s protocol: the quick sizes in ``full``'s settings
        class (its extra fields keep their defaults) on ``dataset``, with ``full``'s binarization,
        init, pseudo-input init, warm-up selection and baseline training (the fields of
        :data:`PROTOCOL_FIELDS` it has), and early stopping and a K sweep where ``full`` has them."""
        quick_settings = self.quick_variants.get(dataset, self.quick)
        protocol = {f: getattr(full, f) for f in PROTOCOL_FIELDS if hasattr(full, f)}
        return type(full)(**{**dataclasses.asdict(quick_settings), "dataset": dataset, **protocol,
                             "patience": full.patience and 2, "eval_Ks": full.eval_Ks and (5, 25)})

    def settings_for(self, dataset: str | None = None, quick: bool = False, upcoming: bool = False) -> Settings:
        """The full (or quick) settings of the table on ``dataset`` (default: the default settings').
        Quick settings on another data set are ``quick_variants[dataset]`` where given, else the
        quick ones with that ``dataset`` (in the variant's settings class, whose extra fields keep
        their defaults): the same code path, on the variant's data. ``upcoming``: the variant's
        ``upcoming`` settings where there are some."""
        default = self.datasets[0]
        dataset = default if dataset is None else dataset
        if dataset not in self.datasets and not (upcoming and dataset in self.upcoming):
            raise ValueError(f"experiment {self.name!r} has no settings for data set {dataset!r}; "
                             f"choose one of {', '.join(self.datasets)}")
        if upcoming and dataset in self.upcoming:
            full = self.upcoming[dataset]
            if not quick:
                return full
            if dataset in self.upcoming_quick:
                return self.upcoming_quick[dataset]
            return self._quick_like(full, dataset)
        if quick:
            if dataset == default:
                return self.quick
            if dataset in self.quick_variants:
                return self.quick_variants[dataset]
            return self._quick_like(self.variants[dataset], dataset)
        return self.settings if dataset == default else self.variants[dataset]


def settings_record(settings: Settings) -> dict[str, Any]:
    """Settings as they are stored in a result file (JSON types: tuples become lists). Fields left
    at None (protocol options not used) are omitted, so records written before those options
    existed still match their settings."""
    return json.loads(json.dumps({k: v for k, v in dataclasses.asdict(settings).items() if v is not None}))


def load_data(s: Settings, device: str):
    """The settings' data set (``s.dataset``) under their protocol (``s.binarize``), on ``device``;
    the grey levels themselves for tables of grey-level models (settings whose class sets
    ``grey = True``, e.g. the dequantization table)."""
    from .. import load

    binarize = False if getattr(type(s), "grey", False) else s.binarize or "threshold"
    return load(getattr(s, "dataset", "digits"), binarize=binarize, device=device)


def convergence(history) -> dict[str, Any]:
    """What a result row records of a training run: the epochs run, the best validated epoch and
    the curve ``[[epoch, train objective, validation score], ...]`` at the validated epochs."""
    import math

    curve = [[e, round(t, 3), round(v, 3)] for e, t, v in zip(history.epoch, history.train, history.val)
             if not math.isnan(v)]
    return {"epochs_run": len(history.epoch), "best_epoch": history.best_epoch, "val_curve": curve}


def likelihoods(model, data, s: Settings, seed: int, eval_K: int | None = None) -> dict[str, Any]:
    """Test and training -log p(x) by importance sampling, and the test and training -ELBO (with
    ``s.elbo_K`` samples where the settings have it, else 100).

    -log p(x) is estimated at every K of ``s.eval_Ks`` (else ``eval_K``) on the test split; the
    largest K is ``test_nll`` and also estimates the first ``len(test)`` images of the training
    split (its fixed copy), so ``train_nll`` and ``test_nll`` measure the over-fitting. Seeded
    with ``10_000 + seed``.

    Returns:
        {"test_nll", "test_nll_by_K": {K: value}, "train_nll", "test_neg_elbo", "train_neg_elbo"}
    """
    import torch

    from .. import elbo, evaluate, log_marginal_likelihood, seed_everything
    from ..metrics import default_pass_rows

    Ks = sorted(s.eval_Ks or (eval_K if eval_K is not None else s.eval_K,))
    train = data.train[:len(data.test)]
    elbo_K = getattr(s, "elbo_K", 100)
    # the ELBO's passes hold about as many rows as log_marginal_likelihood's (a PixelCNN decoder's
    # activations at 500 images x 100 samples would not fit in memory)
    per_pass = max(1, default_pass_rows(data.test.device) // elbo_K)
    seed_everything(10_000 + seed)
    with torch.no_grad():
        by_K = {str(K): -log_marginal_likelihood(model, data.test, K=K).mean().item() for K in Ks}
        train_nll = -log_marginal_likelihood(model, train, K=Ks[-1]).mean().item()
        test_elbo, train_elbo = (evaluate(model, x, functools.partial(elbo, K=elbo_K), batch_size=per_pass)
                                 for x in (data.test, train))
    return {"test_nll": by_K[str(Ks[-1])], "test_nll_by_K": by_K, "train_nll": train_nll,
            "test_neg_elbo": -test_elbo, "train_neg_elbo": -train_elbo}


def convergence_note(record: Record) -> str | None:
    """One sentence on how the runs of an early-stopped record ended: the best validated epoch and
    the epochs run, per run, and the runs whose best epoch lay within ``patience`` of the cap (their
    validation curve had not flattened when the budget ended). None for records without the
    convergence fields (fixed-length runs)."""
    s, rows = record["settings"], record["rows"]
    if not rows or s.get("patience") is None or any("epochs_run" not in r for r in rows):
        return None
    cap, patience = s["epochs"], s["patience"]
    open_runs = [r for r in rows if r["epochs_run"] >= cap and r["best_epoch"] is not None
                 and r["best_epoch"] > cap - patience]
    best = [r["best_epoch"] for r in rows if r["best_epoch"] is not None]
    note = (f"Early stopping (patience {patience} epochs, at most {cap}): best validation epoch "
            f"{min(best)}-{max(best)}, epochs run {min(r['epochs_run'] for r in rows)}-"
            f"{max(r['epochs_run'] for r in rows)}. ")
    if not open_runs:
        return note + "Every run stopped on a flat validation curve."
    if len(open_runs) == len(rows):
        return note + f"Still improving when the budget ended: all {len(rows)} runs."
    keys = [k for k in ("model", "objective", "k", "posterior", "kind", "setting", "z_dim") if k in open_runs[0]]
    names = ", ".join(" ".join(str(r[k]) for k in keys) + f" (seed {r['seed']})" for r in open_runs)
    return note + f"Still improving when the budget ended ({len(open_runs)} of {len(rows)} runs): {names}."


def last_gain(curve, span: int) -> float:
    """What a run's validation score still gained at its end: the best score of the curve minus
    the best score before its last ``span`` epochs,

        gain = max_{e} v_e - max_{e <= E - span} v_e,   E the last validated epoch,

    for a curve ``[[epoch, train objective, validation score], ...]`` (a row's ``val_curve``;
    higher scores are better). Near 0: the curve had flattened; nan: the run is not longer than
    ``span`` epochs."""
    if span < 0:
        raise ValueError(f"last_gain: span must be >= 0, got {span}")
    if not len(curve):
        raise ValueError("last_gain: curve is empty")
    last = curve[-1][0]
    before = [v for e, _, v in curve if e <= last - span]
    return max(v for _, _, v in curve) - max(before) if before else float("nan")


def convergence_table(runs, settings: dict[str, Any]):
    """Per run of an early-stopped record (``runs``: its rows as a DataFrame; ``settings``: its
    settings), how far its numbers can be trusted: the best validated epoch, the epochs run, the
    validation gain of the last ``patience`` epochs (:func:`last_gain`), the change of the test
    -log p(x) from the smallest to the largest K of ``eval_Ks``, the test minus the training
    -log p(x) (over-fitting) and, where the rows have it, the test -ELBO minus -log p(x) (the
    ELBO's gap). A DataFrame with the index of ``runs``, nats per image."""
    import pandas as pd

    missing = [c for c in ("best_epoch", "epochs_run", "val_curve", "test_nll_by_K", "test_nll", "train_nll")
               if c not in runs.columns]
    if missing:
        raise ValueError(f"convergence_table: runs has no column {missing[0]!r} (not an early-stopped record?)")
    if settings.get("patience") is None or len(settings.get("eval_Ks") or ()) < 2:
        raise ValueError("convergence_table: settings need a patience and at least two eval_Ks")
    span = settings["patience"]
    k_lo, k_hi = (str(K) for K in (min(settings["eval_Ks"]), max(settings["eval_Ks"])))
    table = pd.DataFrame({
        "best epoch": runs.best_epoch, "epochs run": runs.epochs_run,
        f"val. gain, last {span} epochs": runs.val_curve.map(lambda c: last_gain(c, span)),
        f"NLL, K = {k_lo} minus K = {k_hi}": runs.test_nll_by_K.map(lambda v: v[k_lo] - v[k_hi]),
        "test - train NLL": runs.test_nll - runs.train_nll,
    })
    if "test_neg_elbo" in runs.columns:
        table["test -ELBO - NLL"] = runs.test_neg_elbo - runs.test_nll
    return table


#: The kept trained models' check: -log p(x) of the first CHECK_N test images ...
CHECK_N = 100
#: ... with CHECK_K importance samples ...
CHECK_K = 100
#: ... drawn after seeding with CHECK_SEED.
CHECK_SEED = 123


def kept_check(model, data) -> float:
    """The mean -log p(x) of the first :data:`CHECK_N` test images with :data:`CHECK_K` importance
    samples, seeded with :data:`CHECK_SEED` (a kept checkpoint must reproduce it)."""
    import torch

    from .. import log_marginal_likelihood, seed_everything

    seed_everything(CHECK_SEED)
    with torch.no_grad():
        return -log_marginal_likelihood(model, data.test[:CHECK_N], K=CHECK_K).mean().item()


def keep_model(model, data, path, history=None, storage_dtype: str = "float16") -> dict[str, Any]:
    """Save a trained model as a kept checkpoint (content-hashed; ``storage_dtype`` "float16" by
    default, "float32" for models whose log-determinants a float16 rounding would move) at ``path``
    and verify it: reloaded, it gives back its dtype and its :func:`kept_check` moves by less than
    0.05 nats. Where float16 storage moves the check by more, the model is stored again in float32
    (a larger file that the kept-model size tests see) rather than the run lost.

    Returns:
        the row entry ``{"file": name, "check_nll": value of the reloaded model, "check_shift": ...,
        "sha256": the stored content hash}``
    Raises:
        RuntimeError: the storage moved the check by 0.05 nats or more.
    """
    import pathlib

    import torch

    from ..checkpoints import load, save

    before = kept_check(model, data)
    p = next(model.parameters())

    def stored(dtype: str):
        save(path, model, history, storage_dtype=getattr(torch, dtype))
        again, _ = load(path, device=p.device)
        return again, kept_check(again, data)

    again, after = stored(storage_dtype)
    if abs(after - before) >= 0.05 and storage_dtype == "float16" and p.dtype != torch.float16:
        storage_dtype = "float32"          # float16 rounding moved the check: keep full precision
        again, after = stored(storage_dtype)
    if again.training or next(again.parameters()).dtype != p.dtype or abs(after - before) >= 0.05:
        pathlib.Path(path).unlink(missing_ok=True)      # no unverified model stays where trained() looks
        raise RuntimeError(f"the kept checkpoint {path} does not reproduce the model: check -log p(x) "
                           f"{before:.4f} before, {after:.4f} after {storage_dtype} storage")
    sha = torch.load(path, map_location="cpu", weights_only=False)["sha256"]
    return {"file": pathlib.Path(path).name, "check_nll": after, "check_shift": after - before, "sha256": sha}


def train_vae(s: Settings, data, seed: int, objective: Callable, device: str, *, val_every: int,
              z_dim: int | None = None, **model_options):
    """Seed, build ``build_vae(data.dim, z_dim, hidden=s.hidden, activation=s.activation,
    **model_options)`` on ``device`` and train it with :func:`timed_fit`.

    Returns:
        (model, its History, training seconds)
    """
    from .. import build_vae, seed_everything

    seed_everything(seed)   # the model's initialization
    model = build_vae(data.dim, s.z_dim if z_dim is None else z_dim, hidden=s.hidden,
                      activation=s.activation, init=s.init or "torch", **model_options).to(device)
    history, seconds = timed_fit(model, data, s, seed, objective, val_every=val_every)
    return model, history, seconds


def timed_fit(model, data, s: Settings, seed: int, objective: Callable, **fit_options):
    """:func:`dgmlib.train.fit` for ``s.epochs`` epochs at ``s.lr`` and ``s.batch_size``, no progress bar;
    with ``s.patience``, early stopping on the validation score and the best state kept.

    Returns:
        (History, wall seconds of the training)
    """
    from .. import fit

    if s.patience is not None:
        fit_options = {"keep_best": True, "patience": s.patience, **fit_options}
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
