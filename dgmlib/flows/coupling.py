r"""Affine coupling layer (RealNVP; Dinh, Sohl-Dickstein & Bengio, 2017)."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from ..nets import mlp
from .base import Flow, cat_context, check_context, check_dim


class AffineCoupling(Flow):
    r"""Affine coupling layer (Dinh et al., 2017). With a binary mask b (1 = kept),

    .. math:: f(z) = b \odot z + (1 - b) \odot \big(z \odot e^{s} + t\big),\quad
              (s, t) = \mathrm{NN}(b \odot z, \text{context}),

    .. math:: \log|\det \partial f/\partial z| = \sum_i (1 - b_i)\, s_i .

    The scale is soft-clamped for stability, :math:`s = c \tanh(\tilde s / c)` with
    :math:`c` = ``scale_bound``, so :math:`e^{s} \in [e^{-c}, e^{c}]`. The inverse is exact and
    takes one pass: :math:`z = b \odot y + (1 - b) \odot (y - t)\, e^{-s}` with (s, t) from
    :math:`b \odot y = b \odot z`. Stack layers with complementary masks.

    Arguments:
        dim: size of z.
        mask: d booleans, True = passed through unchanged (default: even indices).
        hidden: hidden sizes of the MLP computing (s, t).
        context_dim: size of an optional conditioning input, concatenated to the MLP input.
        scale_bound: c above.
        activation: MLP activation.
    Shapes:
        z: [..., dim] -> (f(z): [..., dim], log|det df/dz|: [...])
    Example:
        >>> f = AffineCoupling(2, mask=[True, False], hidden=(32,))
        >>> y, log_det = f(torch.randn(5, 2))
        >>> z, _ = f.inverse(y)                  # z == the input, to rounding
    """

    def __init__(self, dim: int, mask: Sequence[bool] | Tensor | None = None,
                 hidden: Sequence[int] = (64, 64), context_dim: int | None = None,
                 scale_bound: float = 3.0, activation: str = "relu"):
        super().__init__()
        self.dim = int(dim)
        self.context_dim = None if context_dim is None else int(context_dim)
        mask = torch.arange(self.dim) % 2 == 0 if mask is None else torch.as_tensor(mask).bool()
        if mask.shape != (self.dim,):
            raise ValueError(f"mask must have {self.dim} entries, got shape {tuple(mask.shape)}")
        self.register_buffer("mask", mask.to(torch.get_default_dtype()))
        self.scale_bound = float(scale_bound)
        self.net = mlp([self.dim + (self.context_dim or 0), *hidden, 2 * self.dim], activation)

    def _scale_shift(self, kept: Tensor, context: Tensor | None) -> tuple[Tensor, Tensor]:
        check_context(context, self.context_dim, "AffineCoupling")
        s, t = self.net(cat_context(kept, context)).chunk(2, -1)
        free = 1.0 - self.mask
        return self.scale_bound * torch.tanh(s / self.scale_bound) * free, t * free

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(z, self.dim, "AffineCoupling")
        s, t = self._scale_shift(z * self.mask, context)
        return z * torch.exp(s) + t, s.sum(-1)       # s = t = 0 on the kept entries

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(y, self.dim, "AffineCoupling")
        s, t = self._scale_shift(y * self.mask, context)
        return (y - t) * torch.exp(-s), -s.sum(-1)
