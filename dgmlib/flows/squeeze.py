r"""Squeeze (space-to-depth) and its inverse: the change of resolution of multi-scale image flows
(Dinh et al., 2017)."""
from __future__ import annotations

from torch import Tensor

from .base import Flow, check_image


def squeeze(z: Tensor) -> Tensor:
    r"""Space-to-depth: each 2x2 patch of every channel becomes 4 channels at one pixel,
    :math:`y_{4c + 2i + j,\, h, w} = z_{c,\, 2h + i,\, 2w + j}` (a permutation of the entries).

    Shapes:
        z: [B, C, H, W] (H, W even) -> [B, 4C, H/2, W/2]
    """
    check_image(z, None, "squeeze")
    b, c, h, w = z.shape
    if h % 2 or w % 2:
        raise ValueError(f"squeeze needs an even height and width, got {h}x{w}")
    z = z.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return z.reshape(b, 4 * c, h // 2, w // 2)


def unsqueeze(y: Tensor) -> Tensor:
    """Depth-to-space, the inverse of :func:`squeeze`. Shapes: [B, 4C, H, W] -> [B, C, 2H, 2W]."""
    check_image(y, None, "unsqueeze")
    b, c, h, w = y.shape
    if c % 4:
        raise ValueError(f"unsqueeze needs a multiple of 4 channels, got {c}")
    y = y.reshape(b, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
    return y.reshape(b, c // 4, 2 * h, 2 * w)


class Squeeze(Flow):
    r""":func:`squeeze` as a flow: a permutation, :math:`\log|\det| = 0`.

    Shapes:
        z: [B, C, H, W] -> (y: [B, 4C, H/2, W/2], log|det|: [B] zeros); ``inverse`` undoes it.
    Example:
        >>> y, log_det = Squeeze()(torch.randn(2, 1, 4, 4))     # y: [2, 4, 2, 2]
    """

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return squeeze(z), z.new_zeros(z.shape[0])

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return unsqueeze(y), y.new_zeros(y.shape[0])


class Unsqueeze(Flow):
    r""":func:`unsqueeze` (depth-to-space) as a flow, the inverse of :class:`Squeeze`.

    Shapes:
        z: [B, 4C, H, W] -> (y: [B, C, 2H, 2W], log|det|: [B] zeros)
    """

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return unsqueeze(z), z.new_zeros(z.shape[0])

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return squeeze(y), y.new_zeros(y.shape[0])
