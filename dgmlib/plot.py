"""Figures for the book: image grids, reconstructions, latent scatter, training curves.

Every function draws on a given (or new) matplotlib Axes, gives it a title and axis labels, and
returns the Axes (or the Figure for multi-panel plots).
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import Tensor

from .history import History


def _to_numpy(x: Tensor) -> np.ndarray:
    return x.detach().to("cpu", torch.float64).numpy()


def image_grid(images: Tensor, shape: Sequence[int], ncols: int = 10, pad: int = 1) -> np.ndarray:
    """Tile flat images [n, D] (values in [0, 1]) into one 2-D array with ``pad`` pixels between;
    separators and empty cells are 0, which the grids draw white (``cmap="gray_r"``)."""
    h, w = shape
    imgs = _to_numpy(images).reshape(-1, h, w)
    n = len(imgs)
    nrows = int(np.ceil(n / ncols))
    grid = np.zeros((nrows * (h + pad) - pad, ncols * (w + pad) - pad))
    for i, img in enumerate(imgs):
        r, c = divmod(i, ncols)
        grid[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = img
    return grid


def sample_grid(images: Tensor, shape: Sequence[int], ncols: int = 10, title: str = "Samples",
                ax: plt.Axes | None = None) -> plt.Axes:
    """Show flat images [n, D] as a grid (white separators)."""
    ax = ax or plt.subplots(figsize=(ncols * 0.6, 0.6 * np.ceil(len(images) / ncols) + 0.5))[1]
    ax.imshow(image_grid(images, shape, ncols), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title)
    ax.set_xlabel(f"{len(images)} images of {shape[0]}x{shape[1]} pixels")
    ax.set_xticks([]), ax.set_yticks([])
    return ax


def reconstructions(model, x: Tensor, shape: Sequence[int], n: int = 10,
                    title: str = "Data (top) and reconstructions (bottom)",
                    ax: plt.Axes | None = None) -> plt.Axes:
    """The first n images of x above the model's reconstructions (decoder mean at the posterior mean)."""
    x = x[:n]
    both = torch.cat([x, model.reconstruct(x)])
    return sample_grid(both, shape, ncols=len(x), title=title, ax=ax)


@torch.no_grad()
def latent_scatter(model, x: Tensor, labels: Tensor, dims: tuple[int, int] = (0, 1),
                   title: str = "Posterior means coloured by label",
                   ax: plt.Axes | None = None) -> plt.Axes:
    """Scatter of the posterior means of two latent dimensions, coloured by class label."""
    ax = ax or plt.subplots(figsize=(5, 4.5))[1]
    mu = _to_numpy(model.encoder(x)[0])
    sc = ax.scatter(mu[:, dims[0]], mu[:, dims[1]], c=_to_numpy(labels), cmap="tab10", s=8,
                    vmin=-0.5, vmax=9.5)
    plt.colorbar(sc, ax=ax, ticks=range(10), label="label")
    ax.set_title(title)
    ax.set_xlabel(f"$\\mu_{{{dims[0] + 1}}}(x)$")
    ax.set_ylabel(f"$\\mu_{{{dims[1] + 1}}}(x)$")
    return ax


def training_curves(history: History, title: str = "Training curves",
                    ax: plt.Axes | None = None) -> plt.Axes:
    """Training and validation objective (nats per example) against the epoch."""
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    ax.plot(history.epoch, history.train, label=f"train {history.objective}")
    val = np.asarray(history.val, dtype=float)
    if np.isfinite(val).any():
        ok = np.isfinite(val)
        ax.plot(np.asarray(history.epoch)[ok], val[ok], label=f"validation {history.objective}")
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats per example (higher is better)")
    ax.legend()
    return ax


def warped_grid(layers: Sequence[torch.nn.Module], lim: float = 3.0, lines: int = 11,
                title: str = "A grid pushed through a flow, layer by layer",
                axes: Sequence[plt.Axes] | None = None) -> plt.Figure:
    r"""Draw a square grid and its images after each layer of a 2-D flow: panel t shows
    :math:`f_t \circ \dots \circ f_1` applied to the grid lines (panel 0: the grid itself).

    Arguments:
        layers: 2-D flows, each mapping z [..., 2] to (f(z) [..., 2], log|det| [...]).
        lim: the grid covers [-lim, lim]^2 with ``lines`` lines in each direction.
        axes: len(layers) + 1 Axes to draw on (new ones in one row when None).
    Returns:
        the Figure.
    """
    t = torch.linspace(-lim, lim, 200)
    ticks = torch.linspace(-lim, lim, lines)
    curves = [torch.stack([t, torch.full_like(t, c)], -1) for c in ticks]     # horizontal lines
    curves += [torch.stack([torch.full_like(t, c), t], -1) for c in ticks]    # vertical lines
    z = torch.stack(curves)                                                   # [2 * lines, 200, 2]
    if axes is None:
        fig, axes = plt.subplots(1, len(layers) + 1, figsize=(2.6 * (len(layers) + 1), 2.8),
                                 squeeze=False)
        axes = axes[0]
    fig = axes[0].figure
    with torch.no_grad():
        for step, ax in enumerate(axes):
            if step > 0:
                z = layers[step - 1](z.to(next(iter(layers[step - 1].parameters()), z).dtype))[0]
            for i, curve in enumerate(_to_numpy(z)):
                ax.plot(curve[:, 0], curve[:, 1], lw=0.7, color="C0" if i < lines else "C1")
            ax.set(aspect="equal", xlabel="$z_1$", ylabel="$z_2$" if step == 0 else "",
                   title="grid" if step == 0 else f"after layer {step}")
    fig.suptitle(title)
    return fig
