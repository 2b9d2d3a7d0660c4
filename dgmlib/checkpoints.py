"""Checkpoints: a model's config and weights (and its training history) in one file.

``save`` writes atomically (a temporary file beside the target, renamed over it); ``load``
rebuilds the model from the stored config with :func:`dgmlib.builders.from_config`, so every
model kind of the registry ``dgmlib.builders.MODELS`` (VAE, HierarchicalVAE, DequantizedFlow,
DeepHierarchicalVAE, SemiSupervisedVAE, CrossModalVAE) loads back.
"""
from __future__ import annotations

import hashlib
import os
import tempfile

import torch
from torch import Tensor

from .builders import from_config
from .history import History
from .models import Model

CHECKPOINT_FORMAT = "dgmlib-checkpoint"
CHECKPOINT_VERSION = 2   # 2: content hash, model class and dtype stored


def content_hash(state: dict[str, Tensor]) -> str:
    """SHA-256 of a state dict: every key, dtype, shape and the raw bytes of every tensor, in key order."""
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key].detach().cpu().contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def save(path: str | os.PathLike, model: Model, history: History | None = None,
         storage_dtype: torch.dtype | None = None) -> None:
    """Save the model's config and weights (and the history) to ``path``, atomically: the file is
    written beside the target and renamed over it, so an interrupted save never leaves a
    half-written checkpoint and an earlier one at ``path`` stays intact until the new one is complete.
    A temporary file that a killed save of the same ``path`` left behind is removed.

    Arguments:
        storage_dtype: store the floating-point weights in this dtype (e.g. ``torch.float16``, half
            the file); the content hash covers what is stored, and :func:`load` gives the model
            back in the dtype it had when saved.
    """
    config = getattr(model, "config", None)
    if config is None:
        raise ValueError(f"this {type(model).__name__} has no config to rebuild it from; build it with a "
                         "builder (dgmlib.build_vae, dgmlib.HierarchicalVAE, dgmlib.build_dequantized_flow, "
                         "dgmlib.build(...)) to save it, or save model.state_dict() yourself")
    from . import __version__
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if storage_dtype is not None:
        if not isinstance(storage_dtype, torch.dtype) or not storage_dtype.is_floating_point:
            raise ValueError(f"storage_dtype must be a floating-point torch dtype, got {storage_dtype!r}")
        state = {k: v.to(storage_dtype) if v.is_floating_point() else v for k, v in state.items()}
    p = next(model.parameters())
    payload = {
        "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "dgmlib": __version__,
        "config": dict(config), "model_class": type(model).__name__, "dtype": str(p.dtype).removeprefix("torch."),
        "state_dict": state, "sha256": content_hash(state),
        "history": history.as_dict() if history is not None else None,
    }
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    prefix = f".{os.path.basename(path)}.ckpt-"
    for stale in os.listdir(folder):      # left by a save of this file that was killed mid-write
        if stale.startswith(prefix) and stale.endswith(".tmp"):
            os.remove(os.path.join(folder, stale))
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load(path: str | os.PathLike, model: Model | None = None,
         device: torch.device | str | None = None) -> tuple[Model, History | None]:
    """Load a checkpoint written by :func:`save`.

    Arguments:
        model: load the weights into this model (its config must match the file's); by default
            a new model is built from the stored config.
        device: where to put a newly built model (default CPU); it gets the dtype it was saved in.
    Returns:
        (model in eval mode, History or None)
    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is corrupt (its content hash does not match) or truncated, not a dgmlib
            checkpoint, or does not match ``model``.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"{path!r} is not a readable checkpoint (corrupt or truncated?): "
                         f"{type(err).__name__}: {err}") from err
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path!r} is not a dgmlib checkpoint (no '{CHECKPOINT_FORMAT}' header)")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path!r} has checkpoint version {payload.get('version')}, "
                         f"this dgmlib reads version {CHECKPOINT_VERSION}")
    state = payload.get("state_dict")
    if not isinstance(state, dict) or payload.get("sha256") != content_hash(state):
        raise ValueError(f"{path!r} is corrupt: its weights do not match the content hash stored with them")
    config = payload["config"]
    if model is None:
        model = from_config(config)
        if payload.get("model_class") not in (None, type(model).__name__):
            raise ValueError(f"{path!r} holds a {payload['model_class']}, but its config builds a "
                             f"{type(model).__name__}")
        dtype = getattr(torch, payload.get("dtype", "float32"))
        model = model.to(device=device or "cpu", dtype=dtype)
    elif getattr(model, "config", None) != config:
        raise ValueError(f"{path!r} holds a model with config {config}, which does not match the "
                         f"given model's config {getattr(model, 'config', None)}")
    p = next(model.parameters())
    state = {k: v.to(device=p.device, dtype=p.dtype if v.is_floating_point() else v.dtype)
             for k, v in state.items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"the weights in {path!r} do not fit the model: {err}") from err
    history = History.from_dict(payload["history"]) if payload.get("history") else None
    return model.eval(), history
