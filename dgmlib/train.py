"""Training loop and its history (checkpoints: :mod:`dgmlib.checkpoints`).

``fit`` keeps the data resident on the model's device, slices mini-batches there, and
synchronizes with the host once per epoch (no ``.item()`` per batch). Optionally the networks
run in bfloat16 (mixed precision) while every log-density stays in full precision.
"""
from __future__ import annotations

import contextlib
import math
import os
import time
from typing import Callable

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from . import validation
from .checkpoints import save
from .config import seed_everything
from .data import Dataset, batches
from .history import History
from .models import VAE, Model
from .nets import eval_mode
from .objectives import elbo

Objective = Callable[[nn.Module, Tensor], Tensor]


def _objective_name(objective: Objective) -> str:
    func = getattr(objective, "func", objective)  # functools.partial
    return getattr(func, "__name__", type(objective).__name__)


@torch.no_grad()
def evaluate(model: nn.Module, x: Tensor, objective: Objective = elbo, batch_size: int = 1024) -> float:
    """Mean of ``objective`` over the rows of x (nats per example), in eval mode (the model's mode
    is restored afterwards), no gradients."""
    _check_data(model, x, "x")
    value = _mean_objective(model, x, objective, validation.check_positive_int(batch_size, "batch_size"))
    if not math.isfinite(value):
        raise FloatingPointError(f"the objective is {value} on x: the model's weights or log-densities "
                                 "overflow there")
    return value


def _mean_objective(model: nn.Module, x: Tensor, objective: Objective, batch_size: int) -> float:
    """Mean of ``objective`` over the rows of checked data x: eval mode, no gradients, no value checks."""
    with eval_mode(model), validation.off(), torch.no_grad():
        total = sum(objective(model, xb).sum() for xb in batches(x, batch_size, shuffle=False))
    return float(total) / x.shape[0]


def _check_data(model: nn.Module, x: Tensor, name: str) -> None:
    """Shape, feature count, finite values and support of a whole split, once (a dgmlib model checks
    them itself; for other modules only that it is a non-empty tensor of finite values)."""
    if isinstance(model, Model):
        model.check_input(x, name)
    else:
        validation.check_tensor(x, name)
        validation.check_nonempty(x, name)
        validation.check_finite(x, name)


def _all_finite(model: nn.Module) -> bool:
    """Whether every parameter and buffer of the model is finite (one host sync)."""
    flags = [torch.isfinite(t).all() for t in model.state_dict().values() if t.is_floating_point()]
    return bool(torch.stack(flags).all()) if flags else True


def fit(model: nn.Module, data: Dataset | Tensor, epochs: int, objective: Objective = elbo,
        lr: float = 1e-3, batch_size: int = 128, seed: int = 0,
        optimizer: torch.optim.Optimizer | None = None, val_every: int = 1,
        checkpoint: str | os.PathLike | None = None, progress: bool = True,
        callback: Callable[[int, nn.Module], None] | None = None,
        mixed_precision: bool = False, keep_best: bool = False, patience: int | None = None,
        validate: Callable[[nn.Module, Tensor], float] | None = None, select_from: int = 1) -> History:
    """Maximize ``objective`` (mean over each mini-batch) with Adam, optionally selecting the
    state with the best validation score (early stopping).

    Arguments:
        model: a :class:`~dgmlib.models.VAE` (anything with the objective's interface).
        data: a :class:`~dgmlib.data.Dataset` (trains on ``.train``, validates on ``.val``) or a
            [N, D] tensor (no validation). Moved to the model's device and dtype once. A
            dynamically binarized Dataset (``load(..., binarize="dynamic")``) gives fresh training
            images every epoch (:meth:`~dgmlib.data.Dataset.training_images`, drawn on the device
            from a generator seeded by ``seed``).
        epochs: passes over the training set.
        objective: per-example objective, e.g. ``elbo`` or ``functools.partial(iwae_bound, K=5)``.
            If it has a ``set_step(step)`` method (a scheduled objective such as
            :class:`~dgmlib.objectives.AnnealedELBO`), it is called with the number of optimizer
            steps taken so far (0, 1, 2, ...) before every mini-batch.
        seed: seeds the sampling noise and the shuffling (with a fixed model initialization the
            run is bit-for-bit repeatable on the CPU).
        optimizer: default ``Adam(model.parameters(), lr)``.
        val_every: validate every this many epochs (and after the last).
        checkpoint: if given, the model and history are saved there (atomically) after every
            validated epoch (with ``keep_best``, once more at the end, in the best state).
        progress: show a tqdm progress bar over epochs.
        callback: called as ``callback(epoch, model)`` at the end of every epoch (after the
            validation), e.g. to record the KL or the active units during training.
        mixed_precision: run the encoder and decoder networks in bfloat16 during the training
            steps (``torch.autocast``; the ``autocast`` attribute of :class:`~dgmlib.models.VAE`). Sampling, flows,
            priors and every log-density stay in float32, and there is no loss scaling (bfloat16
            has float32's range), hence no host sync per step. Validation runs in full precision.
            Needs a :class:`~dgmlib.models.VAE` with float32 parameters, on a CPU or on a GPU with
            bfloat16 arithmetic (compute capability 8 or newer: not a T4). On a CPU without
            bfloat16 instructions it is slower; benchmarks/bench_train.py measures it on a GPU.
        keep_best: end in the state (parameters and buffers) of the best validation score, not
            the last. The state is copied on the model's device when the score improves (no host
            sync per batch). Needs validation data.
        patience: stop after this many epochs without a better validation score (checked at the
            validated epochs), e.g. ``val_every=10, patience=60``. Needs validation data.
        validate: ``validate(model, x_val) -> float`` (higher is better), the validation score
            instead of the mean objective, e.g. ``log p(x)`` by importance sampling; called in
            eval mode without gradients.
        select_from: the first epoch whose validation score can be the best (and so start the
            ``patience`` count); earlier scores are recorded only. E.g. the epoch after a KL
            warm-up, during which the validation ELBO (at full weight) worsens as the weight grows.
    Returns:
        the :class:`~dgmlib.history.History`; its ``best_epoch`` and ``best_val`` record the
        best validated epoch and its score (None without validation).
    Raises:
        FloatingPointError: the objective became NaN or infinite in a training batch (the message
            names the epoch and the first such batch) or a weight became non-finite; the model is
            put back in its state at the start of that epoch (finite), and no checkpoint is written
            from non-finite weights (the one on disk keeps the last finite state). A non-finite
            validation score is recorded as it is, never counts as an improvement and writes no
            checkpoint.
        ValueError: the data: empty splits, a wrong shape or feature count, NaN or infinite values,
            values outside the likelihood's support (e.g. grey levels for a Bernoulli model),
            checked once before the first step; ``batch_size``, ``epochs``, ``val_every``.
        ValueError: ``mixed_precision`` for a model or device that does not support it;
            ``keep_best`` or ``patience`` without validation data.
    """
    p = next(model.parameters())
    low_precision = _mixed_precision_dtype(model, p) if mixed_precision else None
    levels = None                                       # grey levels of a dynamically binarized set
    if isinstance(data, Dataset):
        x_train, x_val = data.train, data.val
        if data.train_levels is not None:
            levels = data.to(device=p.device, dtype=p.dtype)
    elif isinstance(data, Tensor):
        x_train, x_val = data, None
    else:
        raise TypeError(f"data must be a dgmlib Dataset or a [N, D] tensor, got {type(data).__name__}")
    x_train = x_train.to(device=p.device, dtype=p.dtype)
    x_val = None if x_val is None else x_val.to(device=p.device, dtype=p.dtype)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a whole number >= 0, got {epochs!r}")
    batch_size = validation.check_positive_int(batch_size, "batch_size")
    val_every = validation.check_positive_int(val_every, "val_every")
    select_from = validation.check_positive_int(select_from, "select_from")
    _check_data(model, x_train, "the training data")
    if x_val is not None:
        _check_data(model, x_val, "the validation data")
    if (keep_best or patience is not None or validate is not None) and x_val is None:
        raise ValueError("keep_best, patience and validate need validation data: pass a dgmlib Dataset (.val)")
    if patience is not None and patience < 1:
        raise ValueError(f"patience must be >= 1 epochs, got {patience}")
    generator = seed_everything(seed)
    draws = torch.Generator(device=p.device).manual_seed(seed) if levels is not None else None
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    history = History(objective=_objective_name(objective))
    set_step = getattr(objective, "set_step", None)
    step, best_state = 0, None
    model.train()
    bar = tqdm(range(1, epochs + 1), desc="epochs", disable=not progress, leave=False)
    for epoch in bar:
        start = time.perf_counter()
        total = torch.zeros((), device=p.device, dtype=p.dtype)
        # the epoch's starting state, on the device: what a non-finite loss sends the model back to
        restart = {k: v.detach().clone() for k, v in model.state_dict().items()}
        first_bad = torch.full((), -1, device=p.device, dtype=torch.long)   # first non-finite batch
        x_epoch = x_train if levels is None else levels.training_images(draws)   # 0/1 draws: in support
        with _networks_in(model, low_precision), validation.off():          # the data were checked once
            for index, xb in enumerate(batches(x_epoch, batch_size, shuffle=True, generator=generator)):
                if set_step is not None:
                    set_step(step)
                step += 1
                values = objective(model, xb)
                loss = -values.mean()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += values.detach().sum()
                first_bad = torch.where((first_bad < 0) & ~torch.isfinite(loss.detach()), index, first_bad)
        train_value = float(total) / x_train.shape[0]  # a host sync once per epoch, not per batch
        if not math.isfinite(train_value):
            model.load_state_dict(restart)
            raise FloatingPointError(
                f"the training objective became non-finite in epoch {epoch}, batch {int(first_bad)} (of "
                f"{-(-x_train.shape[0] // batch_size)}); the model is back in its state at the start of epoch "
                f"{epoch}. The data were checked (finite, in the likelihood's support): lower the learning "
                f"rate (lr={lr}) or bound the model's log-variances and scales")
        validated = x_val is not None and (epoch % val_every == 0 or epoch == epochs)
        val_value = _validation_score(model, x_val, objective, validate) if validated else math.nan
        if not _all_finite(model):
            model.load_state_dict(restart)
            raise FloatingPointError(
                f"a weight became non-finite in epoch {epoch}; the model is back in its state at the start of "
                f"epoch {epoch} and no checkpoint was written")
        history.epoch.append(epoch)
        history.train.append(train_value)
        history.val.append(val_value)
        history.seconds.append(time.perf_counter() - start)
        if validated and math.isfinite(val_value) and epoch >= select_from and (
                history.best_val is None or val_value > history.best_val):
            history.best_epoch, history.best_val = epoch, val_value
            if keep_best:
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        bar.set_postfix(train=f"{train_value:.2f}", val=f"{val_value:.2f}")
        if checkpoint is not None and (x_val is None or (validated and math.isfinite(val_value))):
            save(checkpoint, model, history)      # never from a non-finite validation score
        if callback is not None:
            callback(epoch, model)
            model.train()
        if validated and patience is not None and epoch - (history.best_epoch or select_from - 1) >= patience:
            break
    bar.close()
    model.eval()
    if best_state is not None:
        model.load_state_dict(best_state)
        if checkpoint is not None:
            save(checkpoint, model, history)
    return history


def _validation_score(model: nn.Module, x_val: Tensor, objective: Objective,
                      validate: Callable[[nn.Module, Tensor], float] | None) -> float:
    """The validation score of fit: ``validate(model, x_val)`` or the mean objective, in full
    precision and eval mode, without gradients."""
    with _networks_in(model, None):
        if validate is None:
            return _mean_objective(model, x_val, objective, 1024)
        with eval_mode(model), validation.off(), torch.no_grad():   # the data were checked before training
            try:
                return float(validate(model, x_val))
            except FloatingPointError:      # e.g. log_marginal_likelihood refusing non-finite rows
                return math.nan


@contextlib.contextmanager
def _networks_in(model: nn.Module, dtype: torch.dtype | None):
    """Inside the block, a VAE's encoder and decoder run in ``dtype`` (None: full precision); the
    model's own setting is restored after it. Models without mixed precision are left alone."""
    if not hasattr(model, "autocast"):
        yield
        return
    previous, model.autocast = model.autocast, dtype
    try:
        yield
    finally:
        model.autocast = previous


def _mixed_precision_dtype(model: nn.Module, p: Tensor) -> torch.dtype:
    """The low-precision dtype for ``fit(mixed_precision=True)``, or a clear error."""
    if not isinstance(model, VAE):
        raise ValueError(f"mixed_precision=True is implemented for dgmlib.VAE (its encoder and decoder "
                         f"run in bfloat16, every log-density in float32), not for {type(model).__name__}; "
                         "train this model in full precision")
    if p.dtype != torch.float32:
        raise ValueError(f"mixed_precision=True needs float32 parameters, the model's are {p.dtype}")
    if p.device.type == "cuda" and torch.cuda.get_device_capability(p.device)[0] < 8:
        raise ValueError("this GPU has no bfloat16 arithmetic (e.g. a T4); train with mixed_precision=False")
    if p.device.type not in ("cpu", "cuda"):
        raise ValueError(f"mixed_precision=True supports CPU and CUDA devices, not {p.device.type}")
    return torch.bfloat16
