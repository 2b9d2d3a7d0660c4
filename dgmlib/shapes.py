r"""Tiny shapes: a procedurally generated data set with known factors of variation.

A 16x16 binary image shows one shape, drawn from four independent factors, like dSprites
(Matthey et al., 2017) but small enough for a CPU:

============  ======================================  ======
factor        values                                  count
============  ======================================  ======
shape         square, disk, diamond                   3
scale         half-width r = 2, 3, 4 pixels           3
x position    centre column 4, 5, ..., 11             8
y position    centre row 4, 5, ..., 11                8
============  ======================================  ======

Every shape is symmetric about its centre pixel, so the centroid of the lit pixels *is* the
position: the factors can be read back from an image (:func:`centroids`). Images are made from a
seed, offline: the factors of each image are drawn uniformly and independently, and the pixels
are a deterministic function of them (:func:`render`, vectorized over images).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .data import Dataset

#: Side of the square images in pixels.
SIZE = 16
#: Names of the factors, in the column order of the factor tensors.
FACTOR_NAMES = ("shape", "scale", "x", "y")
#: Shape names, in the order of the "shape" factor's values.
SHAPE_NAMES = ("square", "disk", "diamond")
#: Half-widths in pixels of the "scale" factor's values.
SCALES = (2, 3, 4)
#: Centre coordinates in pixels of the "x" and "y" factors' values.
POSITIONS = tuple(range(4, 12))
#: Number of values of each factor.
FACTOR_SIZES = (len(SHAPE_NAMES), len(SCALES), len(POSITIONS), len(POSITIONS))


@dataclass(frozen=True)
class Shapes:
    """The shapes data set with its factors.

    Attributes:
        data: a :class:`dgmlib.data.Dataset` (flattened [N, 256] binary images; labels are the
            shape factor).
        train_factors: [N, 4] int64 factor indices of the training images, in the order of
            :data:`FACTOR_NAMES`.
        val_factors: the same for the validation images.
        test_factors: the same for the test images.
        factor_names: names of the four factors.
        factor_sizes: numbers of values of the four factors.
    """
    data: Dataset
    train_factors: Tensor
    val_factors: Tensor
    test_factors: Tensor
    factor_names: tuple[str, ...] = FACTOR_NAMES
    factor_sizes: tuple[int, ...] = FACTOR_SIZES

    def factors(self, split: str) -> Tensor:
        """Factor indices [N, 4] of ``split`` ("train", "val" or "test")."""
        if split not in ("train", "val", "test"):
            raise ValueError(f"unknown split {split!r}; choose 'train', 'val' or 'test'")
        return getattr(self, f"{split}_factors")


def render(factors: Tensor, dtype: torch.dtype | None = None) -> Tensor:
    r"""Images of the shapes with the given factor indices, all at once.

    With centre :math:`(c_x, c_y)`, half-width :math:`r` and offsets :math:`u = j - c_x`,
    :math:`v = i - c_y` of pixel (row i, column j), a pixel is lit when
    :math:`\max(|u|,|v|) \le r` (square), :math:`u^2 + v^2 \le (r + \tfrac12)^2` (disk) or
    :math:`|u| + |v| \le r` (diamond).

    Shapes:
        factors: [N, 4] int64 indices (shape, scale, x, y) -> [N, 256] 0/1 images
    """
    _check_factors(factors)
    dtype = dtype or torch.get_default_dtype()
    f = factors.to(torch.int64)
    scales = torch.tensor(SCALES, device=f.device)[f[:, 1]][:, None, None]
    cx = torch.tensor(POSITIONS, device=f.device)[f[:, 2]][:, None, None]
    cy = torch.tensor(POSITIONS, device=f.device)[f[:, 3]][:, None, None]
    grid = torch.arange(SIZE, device=f.device)
    u = grid[None, None, :] - cx                      # column offsets [N, 1, 16] -> broadcast
    v = grid[None, :, None] - cy                      # row offsets [N, 16, 1]
    square = torch.maximum(u.abs(), v.abs()) <= scales
    disk = 4 * (u * u + v * v) <= (2 * scales + 1) ** 2
    diamond = u.abs() + v.abs() <= scales
    kind = f[:, 0][:, None, None]
    lit = torch.where(kind == 0, square, torch.where(kind == 1, disk, diamond))
    return lit.reshape(len(f), SIZE * SIZE).to(dtype)


def centroids(images: Tensor) -> Tensor:
    """Centroid (x, y) in pixels of the lit pixels of each image.

    Shapes:
        images: [N, 256] -> [N, 2]
    """
    if images.dim() != 2 or images.shape[1] != SIZE * SIZE:
        raise ValueError(f"images must be [N, {SIZE * SIZE}], got {tuple(images.shape)}")
    img = images.reshape(-1, SIZE, SIZE)
    mass = img.sum((1, 2))
    if (mass <= 0).any():
        raise ValueError("an image has no lit pixel, so it has no centroid")
    grid = torch.arange(SIZE, dtype=images.dtype, device=images.device)
    return torch.stack([(img.sum(1) * grid).sum(1) / mass, (img.sum(2) * grid).sum(1) / mass], 1)


def sample_factors(n: int, generator: torch.Generator) -> Tensor:
    """``n`` factor vectors drawn uniformly and independently, [n, 4] int64 (CPU)."""
    cols = [torch.randint(k, (n,), generator=generator) for k in FACTOR_SIZES]
    return torch.stack(cols, 1)


def all_factors() -> Tensor:
    """Every one of the 3 * 3 * 8 * 8 = 576 factor combinations, [576, 4] int64."""
    axes = [torch.arange(k) for k in FACTOR_SIZES]
    return torch.cartesian_prod(*axes)


def load_shapes(n_train: int = 3000, n_val: int = 500, n_test: int = 500, seed: int = 0,
                device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> Shapes:
    """The tiny-shapes data set: independent uniform factors from ``seed``, rendered to 16x16.

    The same seed gives the same images and factors on every machine (the factors are drawn
    on the CPU from a seeded ``torch.Generator``).

    Arguments:
        n_train, n_val, n_test: sizes of the splits.
        seed: seed of the factor draws.
    Returns:
        :class:`Shapes` with the images on ``device`` in ``dtype`` and the factors on ``device``.
    Example:
        >>> s = load_shapes(100, 10, 10)
        >>> s.data.train.shape, s.train_factors.shape
        (torch.Size([100, 256]), torch.Size([100, 4]))
    """
    sizes = (n_train, n_val, n_test)
    if any(int(n) < 1 for n in sizes):
        raise ValueError(f"every split needs at least one image, got sizes {sizes}")
    generator = torch.Generator().manual_seed(int(seed))
    factors = sample_factors(sum(sizes), generator)
    images = render(factors, torch.float64)
    fs = torch.split(factors, list(sizes))
    xs = torch.split(images, list(sizes))
    data = Dataset("shapes", *xs, *(f[:, 0].clone() for f in fs), shape=(SIZE, SIZE), levels=2)
    data = data.to(device=device or "cpu", dtype=dtype or torch.get_default_dtype())
    return Shapes(data, *(f.to(device or "cpu") for f in fs))


def _check_factors(factors: Tensor) -> None:
    if factors.dim() != 2 or factors.shape[1] != len(FACTOR_SIZES):
        raise ValueError(f"factors must be [N, {len(FACTOR_SIZES)}] indices, got {tuple(factors.shape)}")
    if factors.is_floating_point():
        raise ValueError("factors must be integer indices (int64), not floats")
    high = torch.tensor(FACTOR_SIZES, device=factors.device)
    if (factors < 0).any() or (factors >= high).any():
        raise ValueError(f"factor indices out of range; each column must lie in [0, size) with sizes {FACTOR_SIZES}")


__all__ = ["Shapes", "load_shapes", "render", "centroids", "sample_factors", "all_factors", "pose",
           "FACTOR_NAMES", "FACTOR_SIZES", "SHAPE_NAMES", "SCALES", "POSITIONS", "SIZE"]


def pose(factors: Tensor, dtype: torch.dtype | None = None) -> Tensor:
    """The shape's geometry in pixels, (half-width r, centre x, centre y), from its factor indices:
    the continuous second modality of the cross-modal chapter (the analogue of a hand's joint
    positions beside its image; the shape type stays in the image only).

    Shapes:
        factors: [N, 4] int64 -> [N, 3] float (on the factors' device)
    """
    _check_factors(factors)
    dtype = dtype or torch.get_default_dtype()
    scales = torch.tensor(SCALES, dtype=dtype, device=factors.device)
    positions = torch.tensor(POSITIONS, dtype=dtype, device=factors.device)
    return torch.stack([scales[factors[:, 1]], positions[factors[:, 2]], positions[factors[:, 3]]], 1)
