r"""Interactive latent explorers (ipywidgets) and the static figures that stand in for them.

A rendered book page without a running kernel shows a widget only when the widget JavaScript
loads, and then only in the state that was saved with the page. So every explorer here comes with
a static figure of the same content: :func:`static_traversals` draws latent traversals

.. math:: x_{j, t} = \mathbb E\big[x \mid z = \bar z + (t - \bar z_j)\, e_j\big],
          \qquad t \in \{t_1, \dots, t_m\},

(one row per latent dimension j, one column per value t) for several models side by side, and
:func:`latent_explorer` lets a reader move the same coordinates with sliders and switch between
the models (e.g. one per beta).
"""
from __future__ import annotations

import io
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from .plot import image_grid

#: Pixels per image pixel in the explorer's picture.
ZOOM = 8


@torch.no_grad()
def latent_order(model: nn.Module, x: Tensor) -> Tensor:
    """Latent dimensions sorted by the variance of their posterior means over ``x``, largest
    first (the active units of Burda et al., 2016, come first). Shapes: x [N, D] -> [d] int64."""
    mu = model.encoder(x)[0]
    return torch.argsort(mu.var(0, unbiased=False), descending=True)


@torch.no_grad()
def traversal_grid(model: nn.Module, z: Tensor, dims: Sequence[int], values: Sequence[float]) -> Tensor:
    r"""Decoded means along axis-aligned lines through the code ``z``: entry (j, t) is the mean of
    :math:`p(x \mid z')` with :math:`z'` equal to z except :math:`z'_{d_j} = v_t`.

    Shapes:
        z: [d] -> [len(dims), len(values), D]
    """
    if z.dim() != 1 or z.shape[0] != model.z_dim:
        raise ValueError(f"z must be one code of size {model.z_dim}, got shape {tuple(z.shape)}")
    dims = [int(j) for j in dims]
    if any(not 0 <= j < model.z_dim for j in dims):
        raise ValueError(f"dims must lie in [0, {model.z_dim}), got {dims}")
    vals = torch.as_tensor(list(values), dtype=z.dtype, device=z.device)
    codes = z.expand(len(dims), len(vals), -1).clone()                  # [J, T, d]
    rows = torch.arange(len(dims), device=z.device)
    codes[rows, :, torch.as_tensor(dims, device=z.device)] = vals
    return model.decode_mean(codes.reshape(-1, model.z_dim)).reshape(len(dims), len(vals), -1)


def montage(grid: Tensor, shape: tuple[int, int], pad: int = 1) -> np.ndarray:
    """A [rows, cols, D] tensor of images as one 2-D array with ``pad`` blank pixels between."""
    rows, cols, D = grid.shape
    return 1.0 - image_grid(grid.reshape(rows * cols, D), shape, ncols=cols, pad=pad)


def static_traversals(panels: Mapping[str, Tensor], shape: tuple[int, int], values: Sequence[float],
                      dims: Mapping[str, Sequence[int]] | None = None, title: str | None = None):
    """One panel per model: its traversal grid (rows: latent dimensions, columns: values).

    Arguments:
        panels: label -> [rows, cols, D] grid from :func:`traversal_grid`.
        shape: image shape (H, W).
        values: the traversal values (column labels).
        dims: label -> the latent dimensions of the rows (row labels; default 0, 1, ...).
    Returns:
        a matplotlib Figure with ``len(panels)`` axes, titled by the labels.
    """
    import matplotlib.pyplot as plt

    if not panels:
        raise ValueError("give at least one panel")
    h, w = shape
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False)
    for ax, (label, grid) in zip(axes[0], panels.items()):
        rows, cols, _ = grid.shape
        ax.imshow(montage(grid, shape), cmap="gray", vmin=0, vmax=1)
        ax.set_title(label)
        ax.set_xticks([c * (w + 1) + w / 2 for c in range(cols)], [f"{v:.3g}" for v in values], fontsize=7)
        row_dims = list(dims[label]) if dims is not None else list(range(rows))
        ax.set_yticks([r * (h + 1) + h / 2 for r in range(rows)], [f"z{j}" for j in row_dims], fontsize=8)
        ax.set_xlabel("value of the latent")
    axes[0][0].set_ylabel("latent dimension (most active first)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _png(image: np.ndarray) -> bytes:
    """A 2-D array in [0, 1] (1 = ink) as PNG bytes, zoomed by :data:`ZOOM`, ink dark."""
    import matplotlib.image

    big = np.kron(1.0 - np.clip(image, 0, 1), np.ones((ZOOM, ZOOM)))
    buf = io.BytesIO()
    matplotlib.image.imsave(buf, big, cmap="gray", vmin=0, vmax=1, format="png")
    return buf.getvalue()


def latent_explorer(models: Mapping[str, nn.Module], shape: tuple[int, int], x: Tensor,
                    sliders: int = 5, limit: float = 3.0):
    r"""An ipywidgets explorer: a model selector (e.g. one model per beta), ``sliders`` sliders for
    the selected model's most active latent dimensions (ordered by :func:`latent_order` on x),
    starting at the average code :math:`\bar z = \frac1N \sum_n \mu_\phi(x_n)`, and the decoded
    image. The image is a ``widgets.Image`` whose PNG is part of the widget state, so a saved
    notebook keeps the last picture.

    Arguments:
        models: label -> trained VAE.
        shape: image shape (H, W).
        x: [N, D] data that sets the reference code and the slider order.
        sliders: number of latent sliders (at most the latent size).
        limit: slider range [-limit, limit].
    Returns:
        an ``ipywidgets.VBox``; attributes ``model_selector``, ``sliders``, ``image`` and
        ``update()`` let code (and tests) drive it.
    Raises:
        ImportError: ipywidgets is not installed (use :func:`static_traversals` instead).
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        raise ImportError("latent_explorer needs ipywidgets (pip install ipywidgets); "
                          "static_traversals draws the same content without it") from None
    if not models:
        raise ValueError("give at least one model")
    labels = list(models)
    z_dim = min(m.z_dim for m in models.values())
    n = max(1, min(int(sliders), z_dim))
    with torch.no_grad():
        refs = {k: m.encoder(x)[0].mean(0) for k, m in models.items()}
    orders = {k: latent_order(m, x)[:n].tolist() for k, m in models.items()}
    selector = widgets.ToggleButtons(options=labels, value=labels[0], description="model")
    bars = [widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=0.25, description=f"slot {i + 1}",
                                continuous_update=False) for i in range(n)]
    image = widgets.Image(format="png", width=shape[1] * ZOOM, height=shape[0] * ZOOM)
    caption = widgets.HTML()

    def update(*_):
        label = selector.value
        model, z = models[label], refs[label].clone()
        for bar, j in zip(bars, orders[label]):
            bar.description = f"z{j}"
            z[j] = bar.value
        with torch.no_grad():
            img = model.decode_mean(z[None])[0].reshape(shape).cpu().double().numpy()
        image.value = _png(img)
        caption.value = f"<small>{label}: sliders move the {n} latent dimensions with the largest Var[mu(x)]; " \
                        f"the others stay at the data average</small>"

    def reset(*_):
        label = selector.value
        for bar, j in zip(bars, orders[label]):
            bar.value = float(refs[label][j])
        update()

    selector.observe(reset, names="value")
    for bar in bars:
        bar.observe(update, names="value")
    reset()
    box = widgets.VBox([selector, widgets.HBox([widgets.VBox(bars), image]), caption])
    box.model_selector, box.sliders, box.image, box.update = selector, bars, image, update
    return box


def fallback_note(static: str = "the static figure above"):
    """The note shown under an explorer in the online book: where the same content is when the
    widget cannot render (no JavaScript, the widget library's CDN out of reach, no kernel).

    Returns:
        an ``IPython.display.HTML`` paragraph with class ``widget-fallback`` (the site test looks
        for it beside every widget view).
    """
    from IPython.display import HTML
    return HTML(f'<p class="widget-fallback"><small>Interactive explorer: it renders when the page '
                f'can load the ipywidgets JavaScript and reacts only with a running kernel (open the '
                f'chapter in Colab). Without it, {static} shows the same content.</small></p>')


__all__ = ["latent_order", "traversal_grid", "montage", "static_traversals", "latent_explorer",
           "fallback_note"]
