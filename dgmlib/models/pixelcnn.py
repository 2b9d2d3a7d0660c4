r"""A PixelCNN-style image decoder :math:`p_\theta(x \mid z) = \prod_i p_\theta(x_i \mid x_{<i}, z)`
(van den Oord et al., 2016; conditioned on z as in PixelVAE, Gulrajani et al., 2017).

Masked convolutions keep the raster order: a type-A mask (first layer) lets pixel i see only the
pixels strictly before it, type-B masks (later layers) also the position itself, whose features by
then depend only on earlier pixels. The latent code enters every layer as a learned spatial map
(a linear map of z to ``z_channels`` feature maps of the image's size, added through a 1x1
convolution), so each pixel's conditional reads z everywhere. The number of layers sets the
receptive field: with kernel k, the first layer sees ``k // 2`` rows above and columns to the
left, and each further layer ``k // 2`` more; a few layers make a weak decoder (the PixelVAE's
remedy for posterior collapse), many a strong one.

It plugs into :class:`dgmlib.models.VAE` like :class:`~dgmlib.models.ARDecoder` (its
``autoregressive`` attribute): ``decoder(z, x)`` gives every conditional at once by teacher
forcing; ``decoder.sample(z)`` draws the D pixels in turn (D passes).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .. import validation
from .autoregressive import raster_sample


class MaskedConv2d(nn.Conv2d):
    """A same-size convolution whose kernel sees only earlier raster positions: rows above, and
    columns to the left in the centre row; type "A" excludes the centre, type "B" includes it.

    Shapes:
        [N, C_in, H, W] -> [N, C_out, H, W]
    """

    def __init__(self, mask_type: str, in_channels: int, out_channels: int, kernel_size: int):
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        c = kernel_size // 2
        mask = torch.ones(kernel_size, kernel_size)
        mask[c, c + (mask_type == "B"):] = 0
        mask[c + 1:] = 0
        self.register_buffer("mask", mask.expand_as(self.weight).clone())

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)


class PixelCNNDecoder(nn.Module):
    r"""Bernoulli PixelCNN decoder conditioned on z.

    .. math:: h^{(1)} = \mathrm{relu}\big(\mathrm{conv}_A(2x - 1) + U_1 m(z)\big), \quad
              h^{(l+1)} = h^{(l)} + \mathrm{relu}\big(\mathrm{conv}_B(h^{(l)}) + U_{l+1} m(z)\big), \quad
              \mathrm{logit} = \mathrm{conv}_{1\times1}(h^{(L)}) + U_o m(z),

    with :math:`m(z) = \mathrm{reshape}(M z)` a [z_channels, H, W] map and :math:`U` 1x1
    convolutions.

    Arguments:
        shape: the image (H, W); x_dim = H * W.
        z_dim: size of z (0: a PixelCNN without a latent code).
        channels: feature maps per layer.
        layers: masked layers (the first of type A); the receptive field grows with them.
        kernel_size: odd kernel size of the masked layers.
        z_channels: maps of the latent code's spatial embedding.
    Shapes:
        forward: z [..., B, d] (e.g. [K, B, d]), x [B, H*W] -> logits [..., B, H*W]
        sample: z [..., d] -> x [..., H*W] (0/1), with ``return_log_prob`` also log p(x|z) [...]
    """

    autoregressive = True

    def __init__(self, shape: tuple[int, int], z_dim: int, channels: int = 32, layers: int = 3,
                 kernel_size: int = 5, z_channels: int = 4):
        super().__init__()
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"shape must be (height, width), got {shape}")
        validation.check_positive_int(layers, "layers")
        validation.check_positive_int(channels, "channels")
        if z_dim < 0:
            raise ValueError(f"z_dim must be >= 0, got {z_dim}")
        self.shape, self.z_dim = (int(shape[0]), int(shape[1])), int(z_dim)
        self.x_dim = self.shape[0] * self.shape[1]
        self.z_channels = int(z_channels) if z_dim else 0
        self.first = MaskedConv2d("A", 1, channels, kernel_size)
        self.rest = nn.ModuleList(MaskedConv2d("B", channels, channels, kernel_size) for _ in range(layers - 1))
        self.out = nn.Conv2d(channels, 1, 1)
        if self.z_dim:
            self.z_map = nn.Linear(self.z_dim, self.z_channels * self.x_dim)
            self.z_in = nn.ModuleList(nn.Conv2d(self.z_channels, channels, 1, bias=False) for _ in range(layers))
            self.z_out = nn.Conv2d(self.z_channels, 1, 1, bias=False)

    def _check(self, z: Tensor, x: Tensor | None = None) -> None:
        if z.shape[-1] != self.z_dim:
            raise ValueError(f"z has {z.shape[-1]} dimensions, the decoder expects z_dim={self.z_dim}")
        if x is not None and x.shape[-1] != self.x_dim:
            raise ValueError(f"x has {x.shape[-1]} pixels, the decoder expects {self.x_dim} "
                             f"({self.shape[0]}x{self.shape[1]})")

    def _logits(self, z: Tensor, x_in: Tensor) -> Tensor:
        """x_in [..., B, D] in {-1, 1} (already broadcast to z's leading shape) -> [..., B, D]."""
        lead = x_in.shape[:-1]
        H, W = self.shape
        img = x_in.reshape(-1, 1, H, W)
        m = None
        if self.z_dim:
            m = self.z_map(z).expand(*lead, -1).reshape(-1, self.z_channels, H, W)
        h = self.first(img) + (self.z_in[0](m) if m is not None else 0)
        h = torch.relu(h)
        for i, layer in enumerate(self.rest, start=1):
            h = h + torch.relu(layer(h) + (self.z_in[i](m) if m is not None else 0))
        logits = self.out(h) + (self.z_out(m) if m is not None else 0)
        return logits.reshape(*lead, self.x_dim)

    def forward(self, z: Tensor, x: Tensor) -> Tensor:
        """Bernoulli logits of every :math:`p(x_i | x_{<i}, z)` at once (teacher forcing)."""
        self._check(z, x)
        lead = torch.broadcast_shapes(z.shape[:-1], x.shape[:-1])
        return self._logits(z, (2 * x - 1).expand(*lead, self.x_dim))

    @torch.no_grad()
    def sample(self, z: Tensor, return_log_prob: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        r"""Draw :math:`x_i \sim p(x_i \mid x_{<i}, z)` in raster order (D passes).

        With ``return_log_prob`` also returns :math:`\sum_i \log p(x_i \mid x_{<i}, z)`, the same
        as ``bernoulli_log_prob(x, self(z, x))``.
        """
        self._check(z)
        return raster_sample(self._logits, z, self.x_dim, return_log_prob)


def receptive_field(layers: int, kernel_size: int) -> int:
    """Rows above a pixel (and columns either side) that a stack of masked layers can see:
    ``layers * (kernel_size // 2)``."""
    return layers * (kernel_size // 2)


def image_shape(x_dim: int) -> tuple[int, int]:
    """(side, side) of a square image with x_dim pixels, or a clear error."""
    side = math.isqrt(int(x_dim))
    if side * side != x_dim:
        raise ValueError(f"the PixelCNN decoder needs square images; {x_dim} pixels is not a square")
    return side, side
