r"""Affine coupling on images with a convolutional network (RealNVP, Dinh et al., 2017; the gated
network of Flow++, Ho et al., 2019)."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..nets import GatedConvNet
from .base import Flow, check_image
from .masks import channel_mask, checkerboard_mask

MASKS = ("checkerboard", "channel")


class ConvAffineCoupling(Flow):
    r"""Affine coupling of an image under a checkerboard or channel mask b (1 = kept):

    .. math:: f(z) = b \odot z + (1 - b) \odot \big(z \odot e^{s} + t\big),\quad
              (s, t) = \mathrm{NN}\big([\,b \odot z,\ \text{context}\,]\big),

    .. math:: \log|\det \partial f/\partial z| = \sum_{c,h,w} (1 - b_{chw})\, s_{chw} .

    NN is a :class:`~dgmlib.nets.GatedConvNet` whose last layer starts at zero, so the layer
    starts as the identity. The log-scale is bounded by a learned per-channel bound
    :math:`\beta_c = e^{\rho_c}`: :math:`s = \beta_c \tanh(\tilde s / \beta_c)` (the UvA tutorial's
    choice; :math:`\rho` starts at :math:`\log` ``scale_bound``). The inverse is one pass:
    :math:`z = b \odot y + (1 - b) \odot (y - t)\, e^{-s}`.

    Arguments:
        channels: C.
        mask: "checkerboard" (over the pixels) or "channel" (first half of the channels kept).
        parity: 1 flips the mask (stack layers with alternating parity).
        hidden: maps of the network.
        blocks: gated blocks of the network.
        context_channels: maps of an optional conditioning image [B, c, H, W], concatenated to the
            network's input (a conditional flow, e.g. the noise flow of variational dequantization).
        scale_bound: the initial bound on :math:`|s|`.
    Shapes:
        z: [B, C, H, W], context: [B, c, H, W] or None -> (f(z): [B, C, H, W], log|det|: [B])
    Example:
        >>> f = ConvAffineCoupling(1, "checkerboard", hidden=8)
        >>> y, log_det = f(torch.randn(2, 1, 4, 4))    # the identity, log_det 0, until trained
    """

    def __init__(self, channels: int, mask: str = "checkerboard", parity: int = 0, hidden: int = 32,
                 blocks: int = 2, context_channels: int | None = None, scale_bound: float = 1.0):
        super().__init__()
        if mask not in MASKS:
            raise ValueError(f"mask must be one of {', '.join(MASKS)}, got {mask!r}")
        if mask == "channel" and int(channels) < 2:
            raise ValueError(f"a channel mask needs at least 2 channels, got channels={channels}")
        if not scale_bound > 0:
            raise ValueError(f"scale_bound must be positive, got {scale_bound}")
        self.channels, self.mask_kind, self.parity = int(channels), mask, int(parity) % 2
        self.context_channels = None if context_channels is None else int(context_channels)
        self.net = GatedConvNet(self.channels + (self.context_channels or 0), hidden, 2 * self.channels, blocks)
        self.log_bound = nn.Parameter(torch.full((self.channels,), math.log(scale_bound)))

    def mask(self, z: Tensor) -> Tensor:
        """The mask for images shaped like z, in z's dtype and on its device: [1, 1, H, W] or [1, C, 1, 1]."""
        if self.mask_kind == "checkerboard":
            return checkerboard_mask(z.shape[2], z.shape[3], self.parity, dtype=z.dtype, device=z.device)
        return channel_mask(self.channels, self.parity, dtype=z.dtype, device=z.device)

    def _scale_shift(self, kept: Tensor, free: Tensor, context: Tensor | None) -> tuple[Tensor, Tensor]:
        if self.context_channels is not None:
            if context is None:
                raise ValueError(f"ConvAffineCoupling is conditional (context_channels={self.context_channels}): "
                                 f"pass context=[B, {self.context_channels}, H, W]")
            check_image(context, self.context_channels, "ConvAffineCoupling's context")
            kept = torch.cat([kept, context], dim=1)
        s, t = self.net(kept).chunk(2, dim=1)
        bound = self.log_bound.exp().reshape(1, -1, 1, 1)
        return bound * torch.tanh(s / bound) * free, t * free

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_image(z, self.channels, "ConvAffineCoupling")
        b = self.mask(z)
        s, t = self._scale_shift(z * b, 1 - b, context)
        return z * torch.exp(s) + t, s.sum(dim=(1, 2, 3))        # s = t = 0 on the kept entries

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_image(y, self.channels, "ConvAffineCoupling")
        b = self.mask(y)
        s, t = self._scale_shift(y * b, 1 - b, context)
        return (y - t) * torch.exp(-s), -s.sum(dim=(1, 2, 3))
