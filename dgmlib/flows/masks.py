r"""Coupling masks for images (Dinh et al., 2017): a checkerboard over the pixels and a split of
the channels. 1 marks the entries a coupling passes through unchanged (and conditions on)."""
from __future__ import annotations

import torch
from torch import Tensor


def checkerboard_mask(height: int, width: int, parity: int = 0, *, dtype: torch.dtype | None = None,
                      device: torch.device | str | None = None) -> Tensor:
    r"""The checkerboard :math:`b_{hw} = [(h + w + \text{parity}) \bmod 2 = 0]`.

    Shapes:
        -> [1, 1, height, width] (broadcasts over batch and channels)
    Example:
        >>> checkerboard_mask(2, 2).flatten().tolist()
        [1.0, 0.0, 0.0, 1.0]
    """
    if int(height) < 1 or int(width) < 1:
        raise ValueError(f"a checkerboard needs a positive height and width, got {height}x{width}")
    h = torch.arange(int(height), device=device)[:, None]
    w = torch.arange(int(width), device=device)[None, :]
    mask = ((h + w + int(parity)) % 2 == 0).to(dtype or torch.get_default_dtype())
    return mask.reshape(1, 1, int(height), int(width))


def channel_mask(channels: int, parity: int = 0, *, dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None) -> Tensor:
    """The first half of the channels (``parity`` 1: the second half) set to 1.

    Shapes:
        -> [1, channels, 1, 1]
    Example:
        >>> channel_mask(4).flatten().tolist()
        [1.0, 1.0, 0.0, 0.0]
    """
    if int(channels) < 2:
        raise ValueError(f"a channel mask needs at least 2 channels, got {channels}")
    first = torch.arange(int(channels), device=device) < int(channels) // 2
    mask = (first ^ bool(parity)).to(dtype or torch.get_default_dtype())
    return mask.reshape(1, int(channels), 1, 1)
